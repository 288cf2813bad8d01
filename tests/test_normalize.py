from engine.normalize import MAX_CHARS, mask, normalize, text_hash


def test_normalize_folds_unicode_space_and_controls() -> None:
    a = normalize("Ｈｅｌｌｏ\u200b   world\r\n\r\n\r\n\tagain\x00 ")
    assert a == "Hello world\n\nagain"
    assert normalize("x" * (MAX_CHARS * 3)) == "x" * MAX_CHARS


def test_one_wrapper_with_different_slots_gives_one_skeleton() -> None:
    wrapper = "Grade the answer below from 1 to 10.\nAnswer: {a}\nSee {u} or write to {e}. Input: {q}\n```\n{c}\n```"
    fills = [
        dict(a='"The total is 42"', u="https://example.com/a?x=1", e="bob@example.org", q="3.5", c="print(1)"),
        dict(a='"It is B, clearly"', u="www.test.io/page", e="a.b@c.co.uk", q="1,200", c="def f(x):\n  return x"),
    ]
    skeletons = {mask(normalize(wrapper.format(**f))) for f in fills}
    assert len(skeletons) == 1
    (s,) = skeletons
    for ph in ("<STR>", "<URL>", "<EMAIL>", "<NUM>", "<CODE>"):
        assert ph in s


def test_different_wrappers_keep_different_skeletons() -> None:
    assert mask(normalize("Explain your reasoning: 5 + 5")) != mask(normalize("Translate to French: 5 + 5"))


def test_long_passage_is_a_slot() -> None:
    passage = " ".join(["word"] * 60)
    assert mask(normalize(f"Summarise this:\n{passage}")) == "summarise this:\n<TEXT>"


def test_text_hash_is_stable_and_content_addressed() -> None:
    assert text_hash("abc") == text_hash("abc") != text_hash("abd")
    assert len(text_hash("abc")) == 16

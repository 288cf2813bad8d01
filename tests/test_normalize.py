from engine.text.normalize import MAX_CHARS, mask, normalize, normalize_request, text_hash


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


def _mask_unguarded(text: str) -> str:
    """The masking sequence with no guard, as it was first written: the reference ``mask`` must equal."""
    from engine.text import normalize as n

    s = n._CODE_FENCE.sub("<CODE>", text)
    s = n._INDENTED_CODE.sub("<CODE>\n", s)
    s = n._URL.sub("<URL>", s)
    s = n._EMAIL.sub("<EMAIL>", s)
    s = n._QUOTED.sub("<STR>", s)
    s = n._NUMBER.sub("<NUM>", s)
    s = "\n".join("<TEXT>" if len(line.split()) > n.LONG_LINE_WORDS else line for line in s.split("\n")).lower()
    for ph in n.PLACEHOLDERS:
        s = s.replace(ph.lower(), ph)
    return n._REPEATS.sub(r"\1", s)


def test_mask_guards_do_not_change_the_skeleton() -> None:
    # mask skips a pattern when a cheap test says it cannot match; every pattern must still fire when it can
    from engine.text.normalize import mask

    cases = {
        "See https://example.com/a?b=1 and WWW.Example.org now": "<URL>",
        "mail me at a.b+c@example.co.uk please": "<EMAIL>",
        "run ```print(1)``` then": "<CODE>",
        "code:\n    x = 1\n    y = 2\ndone": "<CODE>",
        "tabs:\n\tx = 1\n\ty = 2": "<CODE>",
        "the 3rd of 1,000 items costs $4.50, 7%": "<NUM>",
        'say "hello there" now': "<STR>",
        " ".join(["word"] * 41) + "\nshort line": "<TEXT>",
        "1, 2 and 3": "<NUM>",
        "literal <code> tag": "<CODE>",
        " ".join(["word"] * 40): "",
        "Plain Words Only": "",
    }
    for text, placeholder in cases.items():
        assert mask(text) == _mask_unguarded(text), text
        assert placeholder in mask(text), text


def test_a_long_request_keeps_its_newest_turn() -> None:
    system = "Follow the house rules. " * 1000  # 24,000 characters, as an agent framework's system prompt runs
    a, b = (system + "\n\n" + turn for turn in ("Fix the flaky test.", "Add a changelog entry."))
    at = len(system) + 2
    assert normalize(a) == normalize(b)  # cut as one string, the two requests would be one text
    na, nb = normalize_request(a, at), normalize_request(b, at)
    assert na != nb and na.endswith("\n\nFix the flaky test.") and len(na) <= 2 * MAX_CHARS + 2
    short = "Be brief.\n\n  What is 2+2?"
    assert normalize_request(short, len("Be brief.") + 2) == normalize(short)  # within the bound: unchanged
    assert normalize_request(a) == normalize(a)  # no turn offset (a flat log): unchanged

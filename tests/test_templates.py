import numpy as np

from engine.text.normalize import normalize
from engine.text.templates import mine_templates, segments

QUESTIONS = [
    "A farmer has 17 sheep and buys 5 more. How many sheep are there?",
    "Write a function that reverses a linked list.",
    "Which gas do plants absorb from the air?",
    "If all bloops are razzies, are all razzies bloops?",
    "What is the capital of Australia?",
    "Implement a queue using two stacks.",
]


def _mine(texts: list[str], accounts: list[int]):
    norm = [normalize(t) for t in texts]
    uniq = {t: i for i, t in enumerate(dict.fromkeys(norm))}
    rows = np.array([uniq[t] for t in norm])
    return mine_templates(list(uniq), rows, np.array(accounts)), rows


def test_wrapper_never_seen_before_is_found_from_the_log() -> None:
    # a wrapper in words no rule knows: found because several accounts send it around different questions
    wrap = "Kindly ponder deeply, then narrate each inference you make.\n\n{q}\n\nConclude with one line: FINAL={{x}}."
    texts = [wrap.format(q=q) for q in QUESTIONS] + ["hello there, how are you?", "plan a trip to Rome for me"]
    accounts = [0, 1, 2, 0, 1, 2, 3, 4]
    res, rows = _mine(texts, accounts)
    ids = res.template_id[rows]
    assert len(set(ids[:6])) == 1 and ids[0] != 0
    assert ids[6] == 0 and ids[7] == 0  # personal texts have no template
    t = res.template[rows[0]]
    assert "<SLOT>" in t and "kindly ponder deeply" in t
    assert res.payload[rows[1]] == normalize(QUESTIONS[1])
    assert res.payload[rows[0]] == normalize(QUESTIONS[0])  # the wrapper is not part of what it asks


def test_one_account_repeating_itself_is_not_a_shared_wrapper() -> None:
    texts = [f"My own preface that only I write. {q}" for q in QUESTIONS]
    res, rows = _mine(texts, [7] * len(texts))
    assert (res.template_id[rows] == 0).all()


def test_segments_split_lines_and_sentences() -> None:
    assert segments("Hi! Quick question: what is 2+2?\nThanks.") == [
        "Hi!",
        "Quick question:",
        "what is 2+2?",
        "Thanks.",
    ]


def test_account_counting_in_slices_gives_the_same_templates(monkeypatch) -> None:
    # the (segment, account) expansion is cut into slices to bound memory; the slice size must not matter
    from engine.text import templates

    wrap = "Think it through step by step.\n{q}\nGive only the final answer."
    texts = [wrap.format(q=q) for q in QUESTIONS] * 2 + [f"{q} Thanks." for q in QUESTIONS]
    accounts = list(range(len(texts)))
    whole, rows = _mine(texts, accounts)
    monkeypatch.setattr(templates, "_EXPAND_ROWS", 1)
    sliced, _ = _mine(texts, accounts)
    assert np.array_equal(whole.template_id, sliced.template_id) and whole.template_id[rows[0]] != 0
    assert whole.template == sliced.template and whole.payload == sliced.payload


def test_a_question_several_accounts_drew_stays_in_the_payload() -> None:
    # one wrapper around 90 different questions from 30 accounts, and one question that three accounts drew (under
    # slightly different closings): it recurs across accounts like wrapper text, but in 3 texts, not ~90
    rng = np.random.default_rng(0)
    words = [
        "river",
        "lantern",
        "copper",
        "violet",
        "orbit",
        "meadow",
        "quartz",
        "ember",
        "falcon",
        "harbor",
        "tundra",
        "cobalt",
    ]
    asked = [" ".join(rng.choice(words, 6)) + "?" for _ in range(90)]
    wrap = "Answer as a careful expert would.\n{q}"
    texts = [wrap.format(q=q) for q in asked]
    repeated = "Why does the tide rise twice a day"
    texts += [wrap.format(q=f"{repeated}?") + end for end in ("", "\nBe brief.", "\nBe concise.")]
    res, rows = _mine(texts, [i % 30 for i in range(90)] + [0, 1, 2])
    assert "answer as a careful expert would" in res.template[rows[0]]
    for r in rows[90:]:
        assert "tide rise twice" in res.payload[r]  # what it asks, not its wrapper


def test_the_segments_table_rebuilds_every_text_and_payload() -> None:
    """``TemplateResult.segments`` is what the embed stage tokenises instead of the texts: each text must be its
    segments in order, and each templated text's payload its non-wrapper segments (or all of them)."""
    from engine.text.templates import ranges

    wrap = "Think it through step by step.\n{q}\nGive only the final answer."
    copied = "Think it through step by step.\nGive only the final answer."  # all wrapper: its own payload
    texts = [wrap.format(q=q) for q in QUESTIONS] + [copied, copied + " ", "a lone text, with no wrapper"]
    res, rows = _mine(texts, list(range(len(texts))))
    segs = res.segments
    assert segs is not None and len(segs.start) == len(res.payload) + 1
    norm = list(dict.fromkeys(normalize(t) for t in texts))
    for i, t in enumerate(norm):
        own = [segs.strings[p] for p in segs.piece[segs.start[i] : segs.start[i + 1]]]
        assert own == segments(t)
    templated = np.flatnonzero(res.template_id != 0)
    assert len(templated) == len(QUESTIONS) + 1
    pay = segs.of_payloads(templated)
    for j, i in enumerate(templated):
        joined = " ".join(pay.strings[p] for p in pay.piece[pay.start[j] : pay.start[j + 1]])
        # the same words in the same order: a text that is all wrapper keeps its own line breaks as its payload
        assert joined == res.payload[i] if "\n" not in res.payload[i] else joined.split() == res.payload[i].split()
        # what is kept stays marked as it was: wrapper only where the text is all wrapper
        assert set(pay.common[pay.start[j] : pay.start[j + 1]].tolist()) == {"\n" in res.payload[i]}
    assert ranges(np.array([5, 0, 9]), np.array([2, 0, 3])).tolist() == [5, 6, 9, 10, 11]
    assert ranges(np.zeros(0, np.int64), np.zeros(0, np.int64)).tolist() == []

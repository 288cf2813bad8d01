"""engine.text.minhash: bit-compatibility with datasketch, LSH grouping, Jaccard estimates."""

from __future__ import annotations

import numpy as np
import pytest
from datasketch import LeanMinHash, MinHash, MinHashLSH

from engine.text.minhash import NUM_PERM, MinHasher, hash_shingle, jaccard, lsh_groups, lsh_pairs

TEXTS = [
    "Summarise the following article in three bullet points for a busy executive.",
    "Translate to French: The quick brown fox jumps over the lazy dog.",
    "Ünïcödé ΣΊΣΥΦΟΣ straße İstanbul naïve café 根据所给信息，用一句话总结这篇论文。",
    "MiXeD CaSe Words HERE and there",
    "hello",
    "two words",
    "",
    "   ",
    "tabs\tand\nnewlines\r\nand\u3000ideographic\xa0spaces\u2009too",
    "exactly8 sixteen-byte-word sixteen-bytes-16 aaaaaaaaaaaaaaaaaaaaaaaaa " + "x" * 300 + " tail words end",
    "punctuation, stays; attached! to? words... (yes) [ok] {fine}",
    "repeat repeat repeat repeat repeat repeat",
    "emoji 🙂 words 👍🏽 here",
]

LONG = (
    "You are a meticulous research assistant. Read the passage below and write a structured summary with a title, "
    "five key findings, the methodology used, the main limitations the authors acknowledge, and two open questions "
    "for future work. Use plain language suitable for a general audience and keep the whole answer under three "
    "hundred words. Passage: the study followed twelve hundred adults over a decade to measure sleep quality."
)


def words_of(text: str) -> list[bytes]:
    return [w.encode("utf-8", "surrogatepass") for w in text.lower().split()]


def shingles_of(text: str, ngram: int = 3) -> list[bytes]:
    """The shingles MinHasher defines, as the bytes datasketch is updated with."""
    w = words_of(text)
    if len(w) < ngram:
        return [b" ".join(w)]
    return [b" ".join(w[i : i + ngram]) for i in range(len(w) - ngram + 1)]


def datasketch_sig(text: str, num_perm: int = NUM_PERM, seed: int = 1, ngram: int = 3) -> np.ndarray:
    m = MinHash(num_perm=num_perm, seed=seed, hashfunc=hash_shingle)
    for s in shingles_of(text, ngram):
        m.update(s)
    return m.hashvalues


@pytest.fixture(scope="module")
def hasher() -> MinHasher:
    return MinHasher()


def test_signatures_equal_datasketch(hasher: MinHasher) -> None:
    sigs = hasher.signatures(TEXTS)
    assert sigs.shape == (len(TEXTS), NUM_PERM)
    assert sigs.dtype == np.uint32
    for text, sig in zip(TEXTS, sigs, strict=True):
        np.testing.assert_array_equal(sig, datasketch_sig(text), err_msg=repr(text))


@pytest.mark.parametrize(("num_perm", "seed", "ngram"), [(64, 7, 3), (256, 42, 2), (128, 1, 1), (32, 3, 5)])
def test_other_parameters_equal_datasketch(num_perm: int, seed: int, ngram: int) -> None:
    sigs = MinHasher(num_perm=num_perm, seed=seed, ngram=ngram).signatures(TEXTS)
    for text, sig in zip(TEXTS, sigs, strict=True):
        np.testing.assert_array_equal(sig, datasketch_sig(text, num_perm, seed, ngram), err_msg=repr(text))


def test_shingle_hashes_equal_hash_shingle(hasher: MinHasher) -> None:
    for text in TEXTS:
        expected = np.array([hash_shingle(s) for s in shingles_of(text)], dtype=np.uint32)
        np.testing.assert_array_equal(hasher.shingle_hashes(text), expected, err_msg=repr(text))


def test_short_and_empty_texts_are_one_shingle(hasher: MinHasher) -> None:
    assert len(hasher.shingle_hashes("")) == 1
    assert len(hasher.shingle_hashes("one")) == 1
    assert len(hasher.shingle_hashes("one two")) == 1
    assert len(hasher.shingle_hashes("one two three")) == 1
    assert len(hasher.shingle_hashes("one two three four")) == 2
    sigs = hasher.signatures(["", "one", "one two"])
    assert len({row.tobytes() for row in sigs}) == 3  # word count is part of a short shingle


def test_case_and_white_space_do_not_matter(hasher: MinHasher) -> None:
    sigs = hasher.signatures(["Hello World Foo bar", "hello world FOO BAR", "hello\u3000world\xa0foo\n bar"])
    assert (sigs == sigs[0]).all()


def test_every_unicode_space_splits_words(hasher: MinHasher) -> None:
    # the vectorised splitter must agree with str.split() on every white space character Python knows
    spaces = [c for c in map(chr, range(0x110000)) if c.isspace()]
    sigs = hasher.signatures([f"Alpha{c}beta{c}{c}gamma" for c in spaces] + ["alpha beta gamma"])
    assert (sigs == sigs[-1]).all()
    assert hasher.signatures(["alpha\x00beta gamma"])[0].tolist() != sigs[-1].tolist()  # NUL is not a space


def test_word_order_matters(hasher: MinHasher) -> None:
    a, b = hasher.signatures(["alpha beta gamma", "gamma beta alpha"])
    assert not np.array_equal(a, b)


def test_duplicates_and_threads(hasher: MinHasher) -> None:
    # more distinct texts than one thread work item, so the thread pool really splits the batch
    distinct = [f"prompt number {i} about topic {i % 13} please" for i in range(9000)]
    batch = distinct + distinct[:500] + TEXTS
    one = MinHasher(threads=1).signatures(batch)
    two = MinHasher(threads=2).signatures(batch)
    np.testing.assert_array_equal(one, two)
    np.testing.assert_array_equal(one[9000:9500], one[:500])
    np.testing.assert_array_equal(one[-len(TEXTS) :], hasher.signatures(TEXTS))


def test_empty_batch(hasher: MinHasher) -> None:
    assert hasher.signatures([]).shape == (0, NUM_PERM)
    assert lsh_groups(hasher.signatures([])).shape == (0,)


def test_datasketch_accepts_signatures(hasher: MinHasher) -> None:
    near = LONG.replace("meticulous", "careful")
    sigs = hasher.signatures([LONG, near, TEXTS[0], TEXTS[1]])
    lsh = MinHashLSH(threshold=0.5, num_perm=NUM_PERM)
    for i, sig in enumerate(sigs):
        m = MinHash(hashvalues=sig, seed=1, scheme="affine32")
        lean = LeanMinHash(m)
        buf = bytearray(lean.bytesize())
        lean.serialize(buf)
        assert LeanMinHash.deserialize(buf).hashvalues.tolist() == sig.tolist()
        lsh.insert(f"k{i}", lean)
    query = MinHash(num_perm=NUM_PERM, seed=1, hashfunc=hash_shingle)
    query.update_batch(shingles_of(LONG))
    assert set(lsh.query(query)) == {"k0", "k1"}
    assert jaccard(sigs[0], sigs[1]) == query.jaccard(MinHash(hashvalues=sigs[1], seed=1, scheme="affine32"))


def test_lsh_groups_near_duplicate_and_unrelated(hasher: MinHasher) -> None:
    near = LONG.replace("structured", "concise")
    texts = [TEXTS[0], LONG, TEXTS[1], near, TEXTS[3], "write a poem about the sea"]
    labels = lsh_groups(hasher.signatures(texts))
    assert labels.dtype == np.int64
    assert labels.tolist() == [0, 1, 2, 1, 4, 5]


def test_min_jaccard_verification(hasher: MinHasher) -> None:
    near = LONG.replace("structured", "concise")
    sigs = hasher.signatures([LONG, near])
    est = jaccard(sigs[0], sigs[1])
    assert lsh_groups(sigs, min_jaccard=est).tolist() == [0, 0]
    assert lsh_groups(sigs, min_jaccard=min(1.0, est + 0.01)).tolist() == [0, 1]


def test_big_bucket_is_one_group_with_linear_edges(hasher: MinHasher) -> None:
    texts = [LONG] * 10_000 + TEXTS[:3] + [LONG.upper()]
    sigs = hasher.signatures(texts)
    pairs = lsh_pairs(sigs)
    assert len(pairs) == 10_000  # each copy linked to row 0 once, not all 50M pairs
    assert (pairs[:, 0] < pairs[:, 1]).all()
    labels = lsh_groups(sigs, min_jaccard=0.9)
    assert (labels[:10_000] == 0).all()
    assert labels[-1] == 0
    assert labels[10_000:10_003].tolist() == [10_000, 10_001, 10_002]


def test_labels_are_smallest_index_of_group() -> None:
    rng = np.random.default_rng(0)
    base = rng.integers(0, 2**32, size=(5, NUM_PERM), dtype=np.uint64).astype(np.uint32)
    sigs = base[[3, 1, 3, 0, 1, 2, 4, 0]]
    assert lsh_groups(sigs).tolist() == [0, 1, 0, 3, 1, 5, 6, 3]


def test_jaccard_estimate_close_to_truth(hasher: MinHasher) -> None:
    words = LONG.split()
    other = words[:40] + ["completely", "different", "ending", "here", "now"] + words[55:]
    b_text = " ".join(other)
    sa, sb = set(shingles_of(LONG)), set(shingles_of(b_text))
    truth = len(sa & sb) / len(sa | sb)
    sigs = hasher.signatures([LONG, b_text])
    assert 0.3 < truth < 0.9
    assert abs(jaccard(sigs[0], sigs[1]) - truth) < 0.1


def test_jaccard_shapes() -> None:
    a = np.arange(8, dtype=np.uint32)
    b = a.copy()
    b[:2] = 99
    assert jaccard(a, b) == 0.75
    assert isinstance(jaccard(a, b), float)
    np.testing.assert_allclose(jaccard(np.stack([a, b]), a), [1.0, 0.75])
    np.testing.assert_allclose(jaccard(np.stack([a, b]), np.stack([b, b])), [0.75, 1.0])


def test_hash_shingle_is_pinned(hasher: MinHasher) -> None:
    # Signatures persisted in a store must stay comparable across releases and machines: a change here is a
    # format change that needs every stored signature recomputed.
    assert hash_shingle(b"") == 0
    assert hash_shingle(b"the quick brown") == 2541791619
    assert hash_shingle("straße 根据所给信息 ".encode() + b"x" * 20) == 1259642905
    assert hash_shingle(b"the quick brown") != hash_shingle(b"quick the brown")
    assert hasher.signatures(["The quick brown fox"])[0][:4].tolist() == [865186033, 2131635706, 194051872, 575711163]


def test_unique_sorted_matches_numpy_unique() -> None:
    from engine.text.minhash import unique_sorted

    rng = np.random.default_rng(0)
    for x in (rng.integers(0, 50, 1000), rng.integers(-(2**40), 2**40, 1000), np.array([], dtype=np.int64)):
        assert np.array_equal(unique_sorted(x), np.unique(x))


# -- LSH buckets by a sort on band keys (the distributed path), on the local executor ------------------------------


def near_duplicate_signatures(seed: int = 0) -> np.ndarray:
    """Real signatures of a shuffled mix: 120 identical copies of LONG (a bucket of every key far bigger than the
    tiny blocks the tests force), 150 one-word variants of it (big band buckets, chained), 40 variants of each of
    the other texts, 30 unrelated texts, after one variant of LONG. Also imported by tests/test_ray_executor.py."""
    rng = np.random.default_rng(seed)
    words = LONG.split()

    def variant(text: str) -> str:
        w = text.split() or ["x"]
        w[int(rng.integers(len(w)))] = f"w{int(rng.integers(10**6))}"
        return " ".join(w)

    texts = [LONG] * 120 + [variant(LONG) for _ in range(150)]
    texts += [variant(t) for t in TEXTS[:4] for _ in range(40)]
    texts += [" ".join(rng.permutation(words)[:20]) for _ in range(30)]
    first = [variant(LONG)]  # a bucket head older than the identical copies: their band edges must be dropped
    return MinHasher().signatures(first + [texts[i] for i in rng.permutation(len(texts))])


@pytest.mark.parametrize("min_jaccard", [None, 0.5, 0.9])
def test_sorted_lsh_equals_numpy_lsh(min_jaccard: float | None) -> None:
    from engine.executor import LocalExecutor
    from engine.text.minhash import lsh_pairs_sorted

    sigs = near_duplicate_signatures()
    want = lsh_pairs(sigs, min_jaccard=min_jaccard)
    assert len(want) > len(sigs) // 2  # buckets of every size, not a trivial case
    ex = LocalExecutor(quiet=True)
    for sort_batch in (7, 97, 1 << 19):  # runs over many blocks (120 copies / 7), over a few, in one block
        got = lsh_pairs_sorted(sigs, ex, min_jaccard=min_jaccard, sig_batch=64, sort_batch=sort_batch)
        assert np.array_equal(got, want), sort_batch
    assert len(np.unique(lsh_groups(sigs, min_jaccard=min_jaccard))) < len(sigs) // 2  # real groups formed


def test_sorted_lsh_edge_cases() -> None:
    from engine.executor import LocalExecutor
    from engine.text.minhash import lsh_pairs_sorted

    ex = LocalExecutor(quiet=True)
    rng = np.random.default_rng(3)
    base = rng.integers(0, 2**32, size=(4, NUM_PERM), dtype=np.uint64).astype(np.uint32)
    half = base[1].copy()
    half[64:] = base[2][64:]  # shares bands 0-15 with row 1, 16-31 with row 2: bridges them
    cases = [
        base[:0],
        base[:1],
        base[[0, 0, 0, 0, 0]],
        np.vstack([base[[1, 2, 1, 3]], half[None], base[[2, 0]]]),
        np.vstack([half[None], base[[1, 2, 1, 2]]]),  # duplicates whose bucket head is not their representative
    ]
    for sigs in cases:
        for sort_batch in (1, 2, 3, 1000):
            got = lsh_pairs_sorted(sigs, ex, sig_batch=2, sort_batch=sort_batch)
            assert np.array_equal(got, lsh_pairs(sigs)), (len(sigs), sort_batch)
            assert got.dtype == np.int64 and got.shape[1:] == (2,)
    with pytest.raises(ValueError, match="exceeds"):
        lsh_pairs_sorted(base, ex, bands=40)


def test_a_distributed_executor_forms_buckets_by_its_sort(monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.executor import LocalExecutor

    class Distributed(LocalExecutor):
        distributed = True  # what RayExecutor says: lsh_pairs must take the sort path

    sorts: list[int] = []
    real = LocalExecutor.map_sorted
    monkeypatch.setattr(LocalExecutor, "map_sorted", lambda self, *a, **k: sorts.append(1) or real(self, *a, **k))
    sigs = near_duplicate_signatures()
    want = lsh_groups(sigs, min_jaccard=0.5)
    assert not sorts  # no executor: the numpy path
    assert np.array_equal(lsh_groups(sigs, min_jaccard=0.5, ex=LocalExecutor(quiet=True)), want)
    assert not sorts  # the local executor: the numpy path (faster in one process)
    assert np.array_equal(lsh_groups(sigs, min_jaccard=0.5, ex=Distributed(quiet=True)), want)
    assert sorts == [1]  # one sort: identical-signature and band buckets together

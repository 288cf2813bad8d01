"""Stage: embed. Models load offline and agree with sentence-transformers; the cache embeds each text once ever."""

from __future__ import annotations

import json
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # before anything imports huggingface_hub: never reach for a model hub

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from engine import embed
from engine.embed import (
    EmbeddingCache,
    EmbedStats,
    MiniLMEmbedder,
    StaticEmbedder,
    embed_texts,
    encode_transformer,
    fast_tokenizer,
    get_embedder,
)
from engine.embed import static as static_mod
from engine.text.normalize import normalize, text_hash
from tests.conftest import no_network

PARA_A = "How do I reset my password if I forgot it?"
PARA_B = "I forgot my password, how can I reset it?"
UNRELATED = "Write a haiku about autumn leaves falling in Kyoto."


@pytest.fixture(scope="session")
def minilm() -> MiniLMEmbedder:
    e = MiniLMEmbedder(device="cpu")
    with no_network():
        e.model  # noqa: B018  (load now, under the guard)
    return e


@pytest.fixture(scope="session")
def static_dir(
    tmp_path_factory: pytest.TempPathFactory, fresh_static_model: tuple[Path, StaticEmbedder] | None
) -> tuple[Path, StaticEmbedder]:
    """One distillation per test session (~45 s) in a temp models dir: the one conftest made for a fresh checkout
    (then copied to models/ for the nights), else one made here."""
    if fresh_static_model is not None:
        return fresh_static_model
    models = tmp_path_factory.mktemp("models")
    e = StaticEmbedder(models / "static-minilm-256")
    with no_network():
        e.model  # noqa: B018
    return models, e


def cos(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


# --- MiniLM ---------------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_minilm_offline_384_normalised_paraphrase_closer(minilm: MiniLMEmbedder) -> None:
    assert minilm.name == "minilm-l6-v2" and minilm.dim == 384
    v = minilm.encode([PARA_A, PARA_B, UNRELATED])
    assert v.shape == (3, 384) and v.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert v[0] @ v[1] > v[0] @ v[2] + 0.3


@pytest.mark.slow
def test_transformer_path_matches_sentence_transformers(minilm: MiniLMEmbedder) -> None:
    texts = [
        PARA_A,
        "",
        "ok",
        "Résumé — naïve café, 東京, emoji 🙂 and ümlauts",
        "word " * 400,  # past 256 word pieces: truncated exactly as sentence-transformers does
        "def f(x):\n    return x ** 2\n\nprint(f(3))",
        *[f"Question {i}: what is {i} times {i + 1}? Explain step by step." for i in range(20)],
    ]
    ref = minilm.model.encode(texts, batch_size=8, convert_to_numpy=True)
    tok = fast_tokenizer(minilm.model.tokenizer, minilm.max_seq_length)
    # A tiny token budget forces many batches of different widths: exercises the sort/unsort bookkeeping.
    for max_tokens, chunk in ((64, 5), (8192, 8192)):
        ours = encode_transformer(minilm.auto_model, tok, texts, device="cpu", max_tokens=max_tokens, chunk_size=chunk)
        assert ours.shape == ref.shape and ours.dtype == np.float32
        assert cos(ours, ref).min() >= 1 - 1e-3
        np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)


@pytest.mark.slow
def test_fast_embedder_on_cpu_matches_default(minilm: MiniLMEmbedder) -> None:
    fast = MiniLMEmbedder(device="cpu", fast=True)
    fast._model = minilm.model  # share the loaded weights; only the encode path differs
    fast._tokenizer = fast_tokenizer(minilm.model.tokenizer)
    fast.fast, fast.device = True, "cpu"
    texts = [PARA_A, PARA_B, UNRELATED]
    assert cos(fast.encode(texts), minilm.encode(texts)).min() >= 1 - 1e-3


# --- static ---------------------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_static_builds_once_and_reloads(
    static_dir: tuple[Path, StaticEmbedder], monkeypatch: pytest.MonkeyPatch
) -> None:
    models, built = static_dir
    # the pinned model: its digest is the one recorded, and its name carries it (caches are per exact model)
    pin = static_mod.pinned_digest()
    assert pin is not None and built.digest == pin["digest"] == static_mod.model_digest(models / "static-minilm-256")
    assert built.built and built.name == f"static-minilm-256-{pin['digest'][:12]}" and built.dim == 256
    assert [p.name for p in models.iterdir()] == ["static-minilm-256"]  # no temp dir left behind
    v = built.encode([PARA_A, PARA_B, UNRELATED])
    assert v.shape == (3, 256) and v.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert v[0] @ v[1] > v[0] @ v[2]

    def no_build(self: StaticEmbedder) -> None:
        raise AssertionError("rebuilt a model that was already on disk")

    monkeypatch.setattr(StaticEmbedder, "_build", no_build)
    again = get_embedder("static", models)
    assert isinstance(again, StaticEmbedder) and again.name == built.name
    np.testing.assert_allclose(again.encode([PARA_A, PARA_B, UNRELATED]), v, atol=1e-6)
    assert not again.built
    # The directory itself is recognised as a model2vec model.
    by_path = get_embedder(str(models / "static-minilm-256"))
    assert isinstance(by_path, StaticEmbedder) and by_path.dim == 256 and by_path.name.startswith("m2v-")


def test_the_static_models_token_states_do_not_depend_on_the_thread_count() -> None:
    """The static model is distilled from float64 token states (``float64_token_states``): one thread and all cores
    agree to ~1e-16, a billionth of the float16 step the model is stored in, so the pinned digest holds on any
    machine. (model2vec's own float32 pass does not: one and two threads gave other digests on one machine.)"""
    import torch
    from transformers import AutoModel, AutoTokenizer

    source = static_mod.minilm_path()
    tok = AutoTokenizer.from_pretrained(str(source))
    model = AutoModel.from_pretrained(str(source))
    ids = [[tok.cls_token_id, i, tok.sep_token_id] for i in range(1000, 1600)] + [tok.encode("extraction campaign")]
    many = static_mod.float64_token_states(model, ids)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        one = static_mod.float64_token_states(model, ids)
    finally:
        torch.set_num_threads(threads)
    assert many.dtype == np.float64 and many.shape == (len(ids), 384)
    assert np.abs(many - one).max() <= 1e-12


@pytest.mark.slow
def test_a_static_model_that_is_not_the_pinned_one_is_refused(
    static_dir: tuple[Path, StaticEmbedder], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Other libraries distil another model: the build is refused before it lands in models/, and a model left in
    models/ by another environment is refused on load, each with a message naming the pin and the way out; with
    PROMPTSIM_ALLOW_UNPINNED_STATIC=1 it is used, under a name of its own."""
    models, built = static_dir
    pin = tmp_path / "pin.json"
    pin.write_text(json.dumps({"digest": "0" * 64, "built_with": {"model2vec": "0.0.1"}}))
    monkeypatch.setattr(static_mod, "PIN_FILE", pin)
    import model2vec.distill
    from model2vec import StaticModel

    # the distillation itself is the session's one (20 s each): what is tested is what a build does with its result
    monkeypatch.setattr(
        model2vec.distill, "distill", lambda **_: StaticModel.from_pretrained(models / "static-minilm-256")
    )
    fresh = StaticEmbedder(tmp_path / "models" / "static-minilm-256")
    with pytest.raises(static_mod.StaticModelMismatch, match="this build distilled.*model2vec .* \\(pinned 0.0.1\\)"):
        fresh.model  # noqa: B018
    assert not (tmp_path / "models" / "static-minilm-256").exists()  # nothing half-built or wrong left behind
    assert [p.name for p in (tmp_path / "models").iterdir()] == []
    stale = StaticEmbedder(models / "static-minilm-256")
    with pytest.raises(static_mod.StaticModelMismatch, match="built elsewhere: delete"):
        stale.model  # noqa: B018
    monkeypatch.setenv(static_mod.ALLOW_UNPINNED, "1")
    anyway = StaticEmbedder(models / "static-minilm-256")
    assert anyway.name == built.name and anyway.digest == built.digest  # its own digest, not the pin's


def test_get_embedder_specs_are_lazy_and_detect_directories(tmp_path: Path) -> None:
    m = get_embedder("minilm")
    assert isinstance(m, MiniLMEmbedder) and m.name == "minilm-l6-v2" and m.dim == 384
    assert m._model is None  # the name and width are known without loading torch weights
    by_path = get_embedder(str(embed.minilm_path()))
    assert isinstance(by_path, MiniLMEmbedder) and by_path.name == "minilm-l6-v2"
    assert MiniLMEmbedder(max_seq_length=128).name == "minilm-l6-v2-len128"
    s = get_embedder("static", tmp_path)
    assert isinstance(s, StaticEmbedder) and s.model_dir == tmp_path / "static-minilm-256" and s._model is None
    with pytest.raises(ValueError):
        get_embedder(str(tmp_path))  # a directory, but no model in it
    with pytest.raises(ValueError):
        get_embedder("nonsense")


# --- cache and embed_texts (a fake embedder: the cache logic is what is tested) -------------------------------------


class FakeEmbedder:
    """Deterministic vectors from the text's hash; records every text it was asked to embed."""

    def __init__(self, name: str = "fake-8", dim: int = 8) -> None:
        self.name, self.dim = name, dim
        self.calls: list[list[str]] = []

    def encode(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        self.calls.append(list(texts))
        rows = [np.random.default_rng(int.from_bytes(text_hash(t)[:8], "little")).normal(size=self.dim) for t in texts]
        v = np.array(rows, dtype=np.float32).reshape(len(texts), self.dim)
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    @property
    def embedded(self) -> list[str]:
        return [t for call in self.calls for t in call]


def keyed(texts: list[str]) -> tuple[list[str], list[bytes]]:
    norm = [normalize(t) for t in texts]
    return norm, [text_hash(t) for t in norm]


def test_real_embedders_satisfy_the_protocol_the_pipeline_uses() -> None:
    """The stage is written against ``Embedder``: both real models must satisfy it, and an object lacking ``encode``
    must not. The static model is the pipeline's own (the repo's ``models/``): the protocol check reads its ``name``,
    which loads the model, and a fresh directory would distil it again (~45 s) for a check of attributes."""
    assert isinstance(get_embedder("minilm"), embed.Embedder)
    assert isinstance(get_embedder("static"), embed.Embedder)

    class NoEncode:
        name, dim = "x", 8

    assert not isinstance(NoEncode(), embed.Embedder)


def test_each_key_embedded_once_across_calls(tmp_path: Path) -> None:
    fake = FakeEmbedder()
    cache = EmbeddingCache(tmp_path, fake.name)
    texts, keys = keyed(["a b c", "hello", "a b c", "  hello ", "longer text here"])
    v1, s1 = embed_texts(texts, keys, fake, cache, batch_size=2)
    assert s1 == EmbedStats(new=3, cached=0, duplicate_in_batch=2, seconds=s1.seconds)
    assert sorted(fake.embedded) == sorted({"a b c", "hello", "longer text here"})
    assert v1.shape == (5, 8) and v1.dtype == np.float32
    np.testing.assert_array_equal(v1[0], v1[2])
    np.testing.assert_array_equal(v1[1], v1[3])
    # length-sorted chunks, longest first
    assert [len(t) for t in fake.embedded] == sorted((len(t) for t in fake.embedded), reverse=True)

    texts2, keys2 = keyed(["hello", "new one", "a b c"])
    v2, s2 = embed_texts(texts2, keys2, fake, cache)
    assert (s2.new, s2.cached, s2.duplicate_in_batch) == (1, 2, 0)
    assert fake.calls[-1] == ["new one"] and len(fake.embedded) == 4
    np.testing.assert_array_equal(v2[0], v1[1])  # same vector whether fresh or from the cache
    np.testing.assert_array_equal(v2[2], v1[0])
    assert len(cache) == 4

    # And the output does not depend on whether a cache was used at all.
    v3, _ = embed_texts(texts2, keys2, FakeEmbedder(), None)
    np.testing.assert_array_equal(v3, v2)


def test_cache_survives_reopen_and_ignores_crash_leftovers(tmp_path: Path) -> None:
    fake = FakeEmbedder()
    texts, keys = keyed([f"prompt number {i}" for i in range(300)])
    v, _ = embed_texts(texts, keys, fake, EmbeddingCache(tmp_path, fake.name), batch_size=64, flush_rows=100)
    ns = tmp_path / fake.name
    n_shards = len(list(ns.glob("shard-*.keys.npy")))
    assert n_shards >= 2  # flushed as it went, not only at the end
    # What a crash can leave: a half-written temp file, a shard whose vectors landed but whose keys did not.
    (ns / ".tmp-deadbeef-shard-1.keys.npy").write_bytes(b"\x93NUMPY garbage")
    np.save(ns / "shard-99999999999999999999-1-deadbeef.vecs.npy", np.ones((3, 8), np.float16))
    reopened = EmbeddingCache(tmp_path, fake.name)
    assert len(reopened) == 300
    found, vecs = reopened.lookup(keys)
    assert found.all()
    np.testing.assert_allclose(vecs.astype(np.float32), v, atol=2e-3)

    fresh = FakeEmbedder()
    v2, stats = embed_texts(texts, keys, fresh, reopened)
    assert stats.cached == 300 and stats.new == 0 and fresh.calls == []
    np.testing.assert_array_equal(v2, v)

    reopened.compact()
    assert len(list(ns.glob("shard-*.keys.npy"))) == 1 and len(reopened) == 300
    again = EmbeddingCache(tmp_path, fake.name)
    np.testing.assert_array_equal(again.lookup(keys)[1], vecs)


def test_cache_lookup_is_exact_and_vectorised(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    keys = rng.integers(0, 256, size=(2000, 16), dtype=np.uint8)
    vecs = rng.normal(size=(2000, 4)).astype(np.float16)
    cache = EmbeddingCache(tmp_path, "x")
    assert cache.add(keys[:1000], vecs[:1000]) == 1000
    assert cache.add(keys[500:], vecs[500:]) == 1000  # the overlap is not stored twice
    assert len(cache) == 2000
    missing = rng.integers(0, 256, size=(50, 16), dtype=np.uint8)
    query = np.concatenate([keys[::-7], missing])
    found, got = cache.lookup(query)
    assert found.tolist() == [True] * len(keys[::-7]) + [False] * 50
    np.testing.assert_array_equal(got, vecs[::-7])
    assert bytes(keys[3]) in cache and bytes(missing[0]) not in cache
    with pytest.raises(ValueError):
        cache.add(keys[:2], np.zeros((2, 5), np.float16))  # wrong width for this cache


def test_cache_namespace_must_match_embedder(tmp_path: Path) -> None:
    texts, keys = keyed(["x"])
    with pytest.raises(ValueError):
        embed_texts(texts, keys, FakeEmbedder("fake-8"), EmbeddingCache(tmp_path, "other-model"))
    with pytest.raises(ValueError):
        embed_texts(texts, keys + keys, FakeEmbedder(), None)
    assert EmbeddingCache.for_embedder(tmp_path, FakeEmbedder()).path == tmp_path / "cache" / "fake-8"


def test_partial_progress_is_kept_when_embedding_fails(tmp_path: Path) -> None:
    class Flaky(FakeEmbedder):
        def encode(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
            if len(self.calls) == 2:
                raise RuntimeError("killed")
            return super().encode(texts)

    texts, keys = keyed([f"text {i:03d}" for i in range(30)])
    cache = EmbeddingCache(tmp_path, "fake-8")
    with pytest.raises(RuntimeError):
        embed_texts(texts, keys, Flaky(), cache, batch_size=10)
    assert len(EmbeddingCache(tmp_path, "fake-8")) == 20


def test_empty_input() -> None:
    v, s = embed_texts([], [], FakeEmbedder(), None)
    assert v.shape == (0, 8) and s.total == 0


def test_tokenizer_threads_turn_rust_parallelism_on_inside_only_and_never_in_a_forked_worker(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The CLI's TOKENIZERS_PARALLELISM=false would serialise every tokenizer call; the block lifts it, nested
    blocks restore it once, and a forked worker (whose parent's thread pool it lacks) keeps it."""
    import multiprocessing

    from engine.embed.base import tokenizer_threads

    monkeypatch.setenv("TOKENIZERS_PARALLELISM", "false")
    with tokenizer_threads():
        assert os.environ["TOKENIZERS_PARALLELISM"] == "true"
        with tokenizer_threads():
            assert os.environ["TOKENIZERS_PARALLELISM"] == "true"
        assert os.environ["TOKENIZERS_PARALLELISM"] == "true"
    assert os.environ["TOKENIZERS_PARALLELISM"] == "false"
    monkeypatch.delenv("TOKENIZERS_PARALLELISM")
    with tokenizer_threads():
        assert os.environ["TOKENIZERS_PARALLELISM"] == "true"
    assert "TOKENIZERS_PARALLELISM" not in os.environ
    monkeypatch.setenv("TOKENIZERS_PARALLELISM", "false")
    monkeypatch.setattr(multiprocessing, "parent_process", lambda: object())  # as in a forked pool worker
    with tokenizer_threads():
        assert os.environ["TOKENIZERS_PARALLELISM"] == "false"


def test_static_vectors_from_segments_are_the_models_own_bit_for_bit(
    static_dir: tuple[Path, StaticEmbedder],
) -> None:
    """The embed stage tokenises each distinct segment once and pools the concatenated ids
    (``engine.embed.pieces``); the vectors must be exactly ``encode``'s, for wrapped texts and their payloads, texts
    the model truncates (over 512 tokens, or over its character cut mid-word), unknown tokens, CJK, controls."""
    from engine.text.templates import mine_templates

    _, e = static_dir
    wrap = "Walk me through your derivation, one step per line.\n{q}\nThen state the result: ANSWER=<x>."
    questions = [f"What is {i} times {i + 3}? Explain briefly." for i in range(12)]
    odd = [
        "",
        "   ",
        "a.\x1cb c",
        "x。y？z！w",
        "日本語のテキスト。次の文。",
        "naïve café.  Ünïcödé résumé",
        "emoji 😀😀. more 🤖.",
        "𝔘𝔫𝔦𝔠𝔬𝔡𝔢. x\u2028y\u00a0z.\tend",
        "word " * 700,  # over 512 tokens
        "ab" * 1600 + " tail.",  # over the character cut, cut inside a word
        "。" * 600,
        "a" * 150 + " b.",  # a word longer than WordPiece takes: the unknown token, dropped
    ]
    texts = [normalize(wrap.format(q=q)) for q in questions] + [normalize(t) for t in odd]
    texts = list(dict.fromkeys(texts))
    res = mine_templates(texts, np.arange(len(texts)), np.arange(len(texts)))
    assert res.segments is not None
    enc = e.segment_encoder(res.segments.strings)
    assert enc is not None
    rows = np.arange(len(texts))[::-1]  # any order, in batches smaller than the input
    got = np.concatenate(list(enc.encode(res.segments, rows, [texts[i] for i in rows], 5)))
    assert np.array_equal(got, e.encode([texts[i] for i in rows]))
    small = e.segment_encoder(res.segments.strings)
    small.gather_tokens = 40  # a length bucket pooled a row or two at a time: the same bits
    assert np.array_equal(np.concatenate(list(small.encode(res.segments, rows, [texts[i] for i in rows], 8))), got)
    templated = np.flatnonzero(res.template_id != 0)
    assert len(templated) == len(questions)
    payloads = [res.payload[i] for i in templated]
    pay = np.concatenate(list(enc.encode(res.segments.of_payloads(templated), np.arange(len(templated)), payloads,
                                          4)))  # fmt: skip
    assert np.array_equal(pay, e.encode(payloads))


def test_row_overlay_reads_any_range_as_the_matrix_with_its_rows_replaced() -> None:
    """The payload vectors without a second copy of the texts' vectors: every range reads as the full matrix."""
    from engine.embed import RowOverlay

    rng = np.random.default_rng(0)
    base = rng.normal(size=(40, 3)).astype(np.float32)
    rows = np.array([0, 7, 8, 21, 39])
    values = rng.normal(size=(5, 3)).astype(np.float32)
    want = base.copy()
    want[rows] = values
    ov = RowOverlay(base, rows, values)
    assert len(ov) == 40 and ov.shape == (40, 3)
    for a, b in [(0, 40), (0, 1), (7, 9), (8, 21), (9, 21), (22, 39), (39, 40), (10, 5), (30, 99)]:
        assert np.array_equal(ov[a:b], want[a:b]), (a, b)
    assert np.array_equal(ov.full(), want)
    assert not np.array_equal(base[7], values[1])  # the base is read, never written
    with pytest.raises(TypeError):
        ov[np.array([1, 2])]
    with pytest.raises(ValueError):
        RowOverlay(base, np.array([3, 2]), values[:2])

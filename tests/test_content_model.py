"""The shipped content model: loads from the package alone, is deterministic, and separates probes from requests.

The hand-written prompts below are this file's own (no corpus or benchmark text): benchmark-style questions
(options, word problems, code tasks) against everyday requests, in several languages.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from engine.detect.content_model import DEFAULT_PATH, ProbeModel, feature_matrix, hashed_ngrams

ROOT = Path(__file__).resolve().parents[1]
CORPORA = ROOT.parent / "shared" / "corpora"

PROBES = [
    "A farmer has 48 apples and sells 3/4 of them at $2 each. How much money does he make? Show your reasoning.",
    "Which of the following is a noble gas?\nA. Oxygen\nB. Argon\nC. Nitrogen\nD. Sodium\nAnswer:",
    "Write a Python function `count_vowels(s: str) -> int` that returns the number of vowels in s.\n>>> count_vowels('banana')\n3",
    "Question: If all bloops are razzies and some razzies are lazzies, must some bloops be lazzies? Options: yes, no, cannot tell.",
    "Un tren recorre 120 km en 2 horas. ¿Cuál es su velocidad media en km/h? Resuelve paso a paso.",
    "Eine Klasse hat 28 Schüler, davon sind 3/7 Mädchen. Wie viele Jungen sind in der Klasse?",
]
REQUESTS = [
    "can you remind me to call my dentist tomorrow at 10",
    "hey, what's a good name for a golden retriever puppy?",
    "please turn the living room lights off",
    "rewrite this email so it sounds less grumpy: sorry I missed the meeting, traffic was awful",
    "帮我订一张明天去上海的火车票",
    "what time does the pharmacy near me close on sundays",
]


@pytest.fixture(scope="module")
def model() -> ProbeModel:
    return ProbeModel.load()


def test_loads_from_package_data(model: ProbeModel) -> None:
    assert DEFAULT_PATH.exists() and DEFAULT_PATH.stat().st_size < 2 * 2**20
    assert model.coef.shape == (2**model.bits,) and np.isfinite(model.coef).all()


def test_shape_range_and_determinism(model: ProbeModel) -> None:
    texts = PROBES + REQUESTS + ["", " ", "x" * 10_000, "a\x00b"]
    p = model.probe_probability(texts)
    assert p.shape == (len(texts),) and p.dtype == np.float64
    assert ((p >= 0) & (p <= 1)).all()
    assert np.array_equal(p, ProbeModel.load().probe_probability(texts))
    # a text's score does not depend on its neighbours in the batch
    assert np.allclose(p[3], model.probe_probability([texts[3]])[0])
    assert model.probe_probability([]).shape == (0,)


def test_hashing_is_fixed() -> None:
    """Buckets are plain uint64 arithmetic: a change here silently invalidates the shipped weights."""
    doc, bucket = hashed_ngrams(["ab"], bits=18)
    assert doc.tolist() == [0] * 10  # " ab ": 4 unigrams, 3 bigrams, 2 trigrams, 1 four-gram; no five-gram
    assert bucket.tolist() == [196719, 198228, 198215, 196719, 174894, 62758, 55956, 24632, 54323, 63237]
    x = feature_matrix(["ab", "abc abc"])
    assert x.shape == (2, 2**18) and np.isclose(x[0].sum(), 10 / np.sqrt(10))


def test_separates_handwritten_prompts(model: ProbeModel) -> None:
    p_probe = model.probe_probability(PROBES)
    p_req = model.probe_probability(REQUESTS)
    assert p_probe.min() > p_req.max(), (p_probe, p_req)
    assert (p_probe >= 0.5).mean() >= 5 / 6 and (p_req < 0.5).mean() >= 5 / 6


def test_joint_model_and_fallback(model: ProbeModel) -> None:
    """The shipped joint model names its embedder; vectors from another embedder (name or width) or none give the
    n-gram model's answer; right vectors give a valid probability that separates the handwritten prompts."""
    texts = PROBES + REQUESTS
    assert model.joint_coef is not None and model.joint_emb is not None and model.embedder
    alone = model.probe_probability(texts)
    rng = np.random.default_rng(0)
    v = rng.normal(size=(len(texts), len(model.joint_emb)))
    assert np.array_equal(model.probe_probability(texts, v, embedder="other-model"), alone)
    assert np.array_equal(model.probe_probability(texts, v[:, :-1]), alone)
    assert not np.array_equal(model.probe_probability(texts, v, embedder=model.embedder), alone)
    if (ROOT / "models" / "static-minilm-256").exists():
        from engine.embed import get_embedder

        emb = get_embedder("static")
        assert emb.name == model.embedder
        p = model.probe_probability(texts, emb.encode(texts), emb.name)
        assert ((p >= 0) & (p <= 1)).all()
        assert (p[: len(PROBES)] >= 0.5).mean() >= 5 / 6 and (p[len(PROBES) :] < 0.5).mean() >= 5 / 6


@pytest.mark.skipif(not CORPORA.exists(), reason="../shared/corpora not present")
def test_held_out_sources_beat_chance_clearly() -> None:
    """Trained without every fifth source (by name: not chosen for how well they score), a small model tells the
    held-out sources' probes from ordinary requests well above chance, per prompt and per bag of 10 prompts of one
    source. This guards the training path and the hashing, not the headline figure: the full leave-one-source-out
    measurement (scripts/bench_content_model.py) is 0.735 balanced per prompt and 0.866 per bag of 25 for the joint
    model, 0.728 and 0.856 for the n-gram model alone, both below the 0.9 the issue asks for."""
    sys.path.insert(0, str(ROOT / "scripts"))
    from train_content_model import fit, load_corpora

    texts, labels, names, owner = load_corpora(per_source=150, seed=1)
    held_sources = np.arange(len(names))[::5]
    held = np.isin(owner, held_sources)
    m = fit([t for t, h in zip(texts, held, strict=True) if not h], labels[~held], owner[~held])
    p = m.probe_probability([t for t, h in zip(texts, held, strict=True) if h])
    right = (p >= 0.5) == (labels[held] == 1)
    per_source = [right[owner[held] == s].mean() for s in held_sources]
    assert np.mean(per_source) >= 0.65, dict(zip([names[s] for s in held_sources], per_source, strict=True))
    # bags of 10 prompts of one held-out source, classified by their mean probability (how detection aggregates)
    rng = np.random.default_rng(0)
    bags = []
    for s in held_sources:
        q = p[owner[held] == s]
        mean = q[np.argsort(rng.random((100, len(q))), axis=1)[:, :10]].mean(axis=1)
        bags.append(((mean >= 0.5) == (labels[owner == s][0] == 1)).mean())
    assert np.mean(bags) >= 0.7, dict(zip([names[s] for s in held_sources], bags, strict=True))
    if (ROOT / "models" / "static-minilm-256").exists():  # the joint model, on the same split
        from train_content_model import fit_joint

        from engine.embed import get_embedder

        emb = get_embedder("static")
        vec = np.asarray(emb.encode(texts), dtype=np.float32)
        x = feature_matrix(texts)
        j = fit_joint(m, labels[~held], owner[~held], vec[~held], emb.name, x[~held])
        pj = j.probe_probability([t for t, h in zip(texts, held, strict=True) if h], vec[held], emb.name)
        right = (pj >= 0.5) == (labels[held] == 1)
        per_source = [right[owner[held] == s].mean() for s in held_sources]
        assert np.mean(per_source) >= 0.65, dict(zip([names[s] for s in held_sources], per_source, strict=True))

#!/usr/bin/env python3
"""Held-out-source accuracy of the content model, per prompt and per bag of prompts, and its throughput.

    python scripts/bench_content_model.py [--per-source N] [--bags N] [--no-exemplars]

Leave-one-source-out over ../shared/corpora: for each corpus source, the models are trained (exactly as
``train_content_model.py`` does: same features, weights and seed) on all *other* trainable sources and score a
sample of the held-out one, so every source's figure comes from a model that never saw that source. Sources whose
licence forbids training shipped weights (``NOT_FOR_TRAINING``) are never trained on: they are scored by the model
of every trainable source. Nothing is tuned on the
held-out source: the threshold is a fixed 0.5. Both shipped models are measured: the joint one (n-grams + the
payload's static embedding vector) and the n-gram ("text") model alone (the fallback without vectors).

Figures per held-out source:
* per prompt: share of its prompts on the right side of 0.5 (capability source: >= 0.5, benign source: < 0.5);
* bag of k (k = 10, 25): ``--bags`` bags of k distinct prompts drawn (seeded) from that source, each classified by
  its mean probability against 0.5; share of bags right. Detection scores accounts and cohorts, not single prompts,
  so this is the figure closer to its use (a bag is one source's prompts: one user or campaign of one kind).
Summary lines: balanced = mean of (mean over capability sources, mean over benign sources); pooled = share of all
sampled prompts right (large sources weigh more; capped at --per-source). The exemplar classifier
(``engine.detect.signals.classify_areas`` on static embeddings, "probe" = any capability area) is scored on the same
prompts. Throughput: the shipped model scoring the sampled prompts, one process.
About 5 minutes on one core (``OMP_NUM_THREADS=1``); the figures it printed are in the docstring of
``engine/detect/content_model.py``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from train_content_model import CORPORA, EMBEDDER, NOT_FOR_TRAINING, fit, fit_joint, load_corpora, trainable  # noqa: E402

from engine.detect.content_model import ProbeModel, feature_matrix  # noqa: E402

BAG_SIZES = (10, 25)


def bag_accuracy(prob: np.ndarray, probe: bool, k: int, n_bags: int, rng: np.random.Generator) -> float:
    """Share of ``n_bags`` bags of ``k`` distinct prompts (drawn from ``prob``) whose mean is on the right side."""
    idx = np.argsort(rng.random((n_bags, len(prob))), axis=1)[:, :k]
    return float(((prob[idx].mean(axis=1) >= 0.5) == probe).mean())


def balanced(per_source: np.ndarray, side: np.ndarray) -> float:
    """Mean of the capability sources' mean and the benign sources' mean."""
    return float((per_source[side == 1].mean() + per_source[side == 0].mean()) / 2)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--per-source", type=int, default=1000)
    p.add_argument("--bags", type=int, default=500, help="bags drawn per source and bag size")
    p.add_argument("--no-exemplars", action="store_true", help="skip the old exemplar classifier")
    a = p.parse_args()
    if not CORPORA.exists():
        print(f"bench_content_model: {CORPORA} not found", file=sys.stderr)
        return 2
    texts, labels, names, owner = load_corpora(a.per_source)
    x = feature_matrix(texts)
    from engine.embed import get_embedder

    emb = get_embedder(EMBEDDER)
    vec = np.asarray(emb.encode(texts), dtype=np.float32)
    probs = {"joint": np.empty(len(texts)), "text": np.empty(len(texts))}
    t0 = time.perf_counter()
    may_train = trainable(names, owner)
    full = None  # the model of every trainable source: what scores the sources it may not be trained on
    for src in range(len(names)):
        held = owner == src
        train = ~held & may_train
        held_texts = [texts[i] for i in np.flatnonzero(held)]
        if names[src] in NOT_FOR_TRAINING and full is not None:
            model = full
        else:
            model = fit(None, labels[train], owner[train], features=x[train])
            model = fit_joint(model, labels[train], owner[train], vec[train], emb.name, x[train])
            if names[src] in NOT_FOR_TRAINING:
                full = model
        text_only = ProbeModel(coef=model.coef, intercept=model.intercept, bits=model.bits)
        probs["text"][held] = text_only.probe_probability(held_texts)
        probs["joint"][held] = model.probe_probability(held_texts, vec[held], emb.name)
    fit_s = time.perf_counter() - t0
    if not a.no_exemplars:
        from engine.detect.signals import classify_areas

        probs["exemplars"] = (classify_areas(vec, emb) >= 0).astype(np.float64)

    side = np.array([labels[owner == src][0] for src in range(len(names))])
    per_prompt, per_bag = {}, {}
    for tag, prob in probs.items():
        ok = (prob >= 0.5) == (labels == 1)
        per_prompt[tag] = (ok, np.array([ok[owner == src].mean() for src in range(len(names))]))
        rng = np.random.default_rng(0)
        per_bag[tag] = {
            k: np.array(
                [bag_accuracy(prob[owner == src], bool(side[src]), k, a.bags, rng) for src in range(len(names))]
            )
            for k in BAG_SIZES
        }
    print(
        f"{'side':8s} {'source':22s} {'n':>5s} | joint: {'prompt':>6s} {'bag10':>5s} {'bag25':>5s} {'mean p':>6s} | "
        f"n-gram: {'prompt':>6s} {'bag25':>5s} | {'exemplars':>9s}"
    )
    for src in np.lexsort((per_prompt["joint"][1], -side)):
        m = owner == src
        old = per_prompt["exemplars"][1][src] if "exemplars" in per_prompt else float("nan")
        print(
            f"{'probe' if side[src] else 'ordinary':8s} {names[src]:22s} {m.sum():5d} | joint: "
            f"{per_prompt['joint'][1][src]:6.3f} {per_bag['joint'][10][src]:5.2f} {per_bag['joint'][25][src]:5.2f} "
            f"{probs['joint'][m].mean():6.3f} | n-gram: {per_prompt['text'][1][src]:6.3f} {per_bag['text'][25][src]:5.2f}"
            f" | {old:9.3f}"
        )
    n_cap, n_ben = int((side == 1).sum()), int((side == 0).sum())
    for tag, title in (
        ("joint", "joint model (n-grams + static vectors)"),
        ("text", "n-gram model alone (no vectors)"),
        ("exemplars", "exemplar classifier (static)"),
    ):
        if tag not in probs:
            continue
        ok, acc = per_prompt[tag]
        line = (
            f"{title}, held-out sources: per prompt balanced {balanced(acc, side):.3f} (capability {n_cap} sources "
            f"{acc[side == 1].mean():.3f}, benign {n_ben} sources {acc[side == 0].mean():.3f}), pooled {ok.mean():.3f}"
        )
        if tag != "exemplars":
            line += "; " + ", ".join(
                f"bag of {k} balanced {balanced(per_bag[tag][k], side):.3f} (capability "
                f"{per_bag[tag][k][side == 1].mean():.3f}, benign {per_bag[tag][k][side == 0].mean():.3f})"
                for k in BAG_SIZES
            )
            line += (
                f"; sources >= 0.9 per prompt {int((acc >= 0.9).sum())}/{len(names)}, bag of 25 "
                + str(int((per_bag[tag][25] >= 0.9).sum()))
                + f"/{len(names)}"
            )
        print(line)

    shipped = ProbeModel.load()
    rates = []
    for given in (vec, None):
        t0 = time.perf_counter()
        shipped.probe_probability(texts, given, emb.name)
        rates.append(len(texts) / (time.perf_counter() - t0))
    chars = np.mean([min(len(t), 1000) for t in texts])
    print(
        f"throughput: joint {rates[0]:,.0f} texts/s, n-gram model {rates[1]:,.0f} texts/s ({len(texts)} texts, mean "
        f"{chars:.0f} chars read, one process); leave-one-source-out fits {fit_s:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

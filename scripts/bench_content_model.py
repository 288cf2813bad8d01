#!/usr/bin/env python3
"""Held-out-source accuracy of the content model, next to the old exemplar classifier, and its throughput.

    python scripts/bench_content_model.py [--per-source N] [--no-exemplars]

Leave-one-source-out over ../shared/corpora: for each of the corpus sources, a model is trained (exactly as
``train_content_model.py`` does, same weights and seed) on all *other* sources and scores a sample of the held-out
one, so every source's accuracy comes from a model that never saw that source. Both shipped models are measured:
the joint one (n-grams + the payload's static embedding vector) and the n-gram one alone (the fallback without
vectors). A prompt counts as correct when its
probe probability is on the right side of 0.5 (capability source: >= 0.5, benign source: < 0.5).

Summary lines:
* balanced: mean of the per-source accuracies (every source counts once, whatever its size); also per side;
* pooled: share of all sampled prompts classified correctly (large sources weigh more; capped at --per-source).
The exemplar classifier (``engine.detect.signals.classify_areas`` on static embeddings, "probe" = any capability
area) is scored on the same prompts. Throughput: the shipped model scoring the sampled prompts, single process.
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

from train_content_model import CORPORA, EMBEDDER, fit, fit_joint, load_corpora  # noqa: E402

from engine.detect.content_model import ProbeModel, feature_matrix  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--per-source", type=int, default=1000)
    p.add_argument("--no-exemplars", action="store_true", help="skip the old exemplar classifier (needs the embedder)")
    a = p.parse_args()
    if not CORPORA.exists():
        print(f"bench_content_model: {CORPORA} not found", file=sys.stderr)
        return 2
    texts, labels, names, owner = load_corpora(a.per_source)
    x = feature_matrix(texts)
    from engine.embed import get_embedder

    emb = get_embedder(EMBEDDER)
    vec = np.asarray(emb.encode(texts), dtype=np.float32)
    prob = np.empty(len(texts))
    jprob = np.empty(len(texts))
    t0 = time.perf_counter()
    for s in range(len(names)):
        held = owner == s
        model = fit(None, labels[~held], owner[~held], features=x[~held])
        held_texts = [texts[i] for i in np.flatnonzero(held)]
        prob[held] = model.probe_probability(held_texts)
        model = fit_joint(model, labels[~held], owner[~held], vec[~held], emb.name, x[~held])
        jprob[held] = model.probe_probability(held_texts, vec[held], emb.name)
    fit_s = time.perf_counter() - t0
    ok = (prob >= 0.5) == (labels == 1)
    jok = (jprob >= 0.5) == (labels == 1)

    old_ok = None
    if not a.no_exemplars:
        from engine.detect.signals import classify_areas

        old_ok = (classify_areas(vec, emb) >= 0) == (labels == 1)

    side = np.array([labels[owner == s][0] for s in range(len(names))])
    acc = np.array([ok[owner == s].mean() for s in range(len(names))])
    jacc = np.array([jok[owner == s].mean() for s in range(len(names))])
    old = np.array([old_ok[owner == s].mean() for s in range(len(names))]) if old_ok is not None else None
    print(f"{'side':10s} {'source':22s} {'n':>6s} {'joint':>6s} {'n-grams':>7s} {'exemplars':>9s} {'mean p':>7s}")
    for s, name in enumerate(names):
        m = owner == s
        print(
            f"{'probe' if side[s] else 'ordinary':10s} {name:22s} {m.sum():6d} {jacc[s]:6.3f} {acc[s]:7.3f} "
            f"{old[s] if old is not None else float('nan'):9.3f} {jprob[m].mean():7.3f}"
        )

    def summary(tag: str, per_source: np.ndarray, per_prompt: np.ndarray) -> None:
        print(
            f"{tag}: balanced (mean over {len(names)} sources) {per_source.mean():.3f} | probe sources "
            f"{per_source[side == 1].mean():.3f}, ordinary sources {per_source[side == 0].mean():.3f} | pooled "
            f"(all {len(per_prompt)} prompts) {per_prompt.mean():.3f} | sources >= 0.9: "
            f"{int((per_source >= 0.9).sum())}/{len(names)}"
        )

    summary("joint model (n-grams + static vectors), held-out sources", jacc, jok)
    summary("n-gram model alone (no vectors), held-out sources", acc, ok)
    if old is not None:
        summary("exemplar classifier (static)", old, old_ok)

    shipped = ProbeModel.load()
    t0 = time.perf_counter()
    shipped.probe_probability(texts, vec, emb.name)
    dt = time.perf_counter() - t0
    t0 = time.perf_counter()
    emb.encode(texts)
    enc_s = time.perf_counter() - t0
    chars = np.mean([min(len(t), 1000) for t in texts])
    print(
        f"throughput: {len(texts) / dt:,.0f} texts/s ({len(texts)} texts, mean {chars:.0f} chars read, one process, "
        f"joint, vectors given; static encoding itself {len(texts) / enc_s:,.0f} texts/s, already paid by the "
        f"pipeline); leave-one-source-out fits {fit_s:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

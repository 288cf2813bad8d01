#!/usr/bin/env python3
"""How well the capability taxonomy tells capability probes from ordinary requests, per embedder.

    python scripts/bench_taxonomy.py [static] [minilm] [PATH ...] [--per-source N]

Samples prompts from ../shared/corpora (capability/ = benchmark questions an extractor sweeps, benign/ = what
ordinary users send), classifies each with ``engine.detect.signals.classify_areas`` exactly as the pipeline does, and
prints recall on capability prompts, the share of ordinary prompts taken for probes, and accuracy. The engine only
uses these labels relative to the log's own median account, so this measures the raw signal, not the detector.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CORPORA = ROOT.parent / "shared" / "corpora"


def sample(side: str, per_source: int, rng: random.Random) -> list[str]:
    out = []
    for path in sorted((CORPORA / side).glob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as f:
            rows = [json.loads(line)["text"] for line in f]
        out += rng.sample(rows, min(per_source, len(rows)))
    return out


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from engine.detect.signals import classify_areas
    from engine.embed import get_embedder
    from engine.text.normalize import normalize

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("embedders", nargs="*", default=["static"])
    p.add_argument("--per-source", type=int, default=30)
    a = p.parse_args()
    if not CORPORA.exists():
        print(f"bench_taxonomy: {CORPORA} not found", file=sys.stderr)
        return 2
    rng = random.Random(0)
    cap, ben = sample("capability", a.per_source, rng), sample("benign", a.per_source, rng)
    texts = [normalize(t) for t in cap + ben]
    truth = np.r_[np.ones(len(cap), bool), np.zeros(len(ben), bool)]
    for spec in a.embedders:
        emb = get_embedder(spec)
        t0 = time.perf_counter()
        is_cap = classify_areas(emb.encode(texts), emb) >= 0
        dt = time.perf_counter() - t0
        print(
            f"{spec}: {len(cap)} capability / {len(ben)} ordinary prompts; capability recall {is_cap[truth].mean():.2f}, "
            f"ordinary taken for probes {is_cap[~truth].mean():.2f}, accuracy {(is_cap == truth).mean():.2f} ({dt:.0f} s)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

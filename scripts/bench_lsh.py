"""Benchmark LSH grouping: the in-memory numpy path against the distributed sort on band keys (an executor).

Signatures come from real prompts (``../shared/corpora``, ~105k texts) grown to ``--n`` texts with near-duplicates:
each extra text is a corpus text with one to three words replaced, or an exact copy (a quarter of them), so buckets
of every size occur. They are computed once and cached (``--cache``). Times are wall seconds, best of ``--repeat``,
of ``lsh_groups(sigs, min_jaccard=0.5)`` as the minhash step calls it, and the two paths' labels are checked equal.

    python scripts/bench_lsh.py --n 400000                             # numpy path only
    python scripts/bench_lsh.py --n 400000 --executor ray --repeat 2   # numpy path, then the sort path on Ray
    python scripts/bench_lsh.py --n 400000 --executor local-sorted     # ... the sort path on the local executor

The sort path's groups are taken from ``lsh_pairs_sorted`` directly, since ``lsh_groups`` would choose the numpy
path for the local executor.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.text.minhash import MinHasher, lsh_groups  # noqa: E402

CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora"


def corpus_texts(root: Path) -> list[str]:
    """The ``text`` of every record of every ``*.jsonl.gz`` under ``root``, in sorted file order."""
    texts: list[str] = []
    for path in sorted(root.rglob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as f:
            texts.extend(json.loads(line)["text"] for line in f if line.strip())
    return texts


def grown(texts: list[str], n: int, seed: int = 0) -> list[str]:
    """``texts`` followed by near-duplicates of random ones (1-3 words replaced, or exact copies) up to ``n``."""
    rng = np.random.default_rng(seed)
    vocab = [w for t in texts[:5000] for w in t.split()]
    out = list(texts[:n])
    while len(out) < n:
        words = texts[int(rng.integers(len(texts)))].split()
        if words and rng.random() > 0.25:
            for _ in range(int(rng.integers(1, 4))):
                words[int(rng.integers(len(words)))] = vocab[int(rng.integers(len(vocab)))]
        out.append(" ".join(words))
    return out


def signatures(n: int, cache: Path) -> np.ndarray:
    path = cache / f"lsh_sigs_{n}.npy"
    if path.exists():
        return np.load(path)
    sigs = MinHasher().signatures(grown(corpus_texts(CORPORA), n))
    cache.mkdir(parents=True, exist_ok=True)
    np.save(path, sigs)
    return sigs


def best(fn, repeat: int) -> tuple[np.ndarray, float]:
    out, secs = None, float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        secs = min(secs, time.perf_counter() - t0)
    return out, secs


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=400_000, help="signatures (default 400000)")
    ap.add_argument("--executor", choices=["local", "ray", "local-sorted"], default="local")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--cache", type=Path, default=Path("/tmp/promptsim-bench"))
    args = ap.parse_args(argv)

    sigs = signatures(args.n, args.cache)
    print(f"{len(sigs):,} signatures, {len(np.unique(sigs, axis=0)):,} distinct", flush=True)
    want, secs = best(lambda: lsh_groups(sigs, min_jaccard=0.5), args.repeat)
    print(f"numpy path: {secs:.2f} s, {len(np.unique(want)):,} groups", flush=True)
    if args.executor == "local":
        return 0
    from engine.executor import LocalExecutor, make_executor
    from engine.text.minhash import _components, lsh_pairs_sorted

    ex = LocalExecutor(quiet=True) if args.executor == "local-sorted" else make_executor("ray", quiet=True)
    with ex:
        got, secs = best(lambda: _components(lsh_pairs_sorted(sigs, ex, min_jaccard=0.5), len(sigs)), args.repeat)
    print(f"sort path ({args.executor}): {secs:.2f} s, labels equal: {np.array_equal(got, want)}", flush=True)
    return 0 if np.array_equal(got, want) else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmark engine.text.minhash against datasketch on a prompt log.

Times, on normalised prompts (normalisation itself is timed apart and excluded from the rates):

* ours: ``MinHasher.signatures`` over all prompts;
* ours + LSH: the same plus ``lsh_groups`` (32 bands x 4 rows), the figure the pipeline pays;
* datasketch ``MinHash.bulk`` with our ``hash_shingle`` (bit-identical output; asserted on the subsample);
* datasketch ``MinHash.bulk`` with its default SHA-1 hash (its usual speed; different values, so not compared).

datasketch runs on a subsample (``--ds-limit``) because it is slow; all figures are prompts per second, wall clock,
best of ``--repeat`` runs, with the process CPU time alongside (the machine may be shared, and CPU time shows it).

    python scripts/bench_minhash.py --input /tmp/bench/prompts.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from datasketch import MinHash

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.text.minhash import MinHasher, hash_shingle, lsh_groups  # noqa: E402
from engine.text.normalize import normalize  # noqa: E402


def load_texts(path: Path, limit: int | None) -> list[str]:
    """The ``text`` field of each JSONL record, up to ``limit`` records."""
    texts: list[str] = []
    with path.open(encoding="utf-8") as f:
        for line in f:
            if limit is not None and len(texts) >= limit:
                break
            if line.strip():
                texts.append(json.loads(line).get("text") or "")
    return texts


def shingle_bytes(text: str, ngram: int) -> list[bytes]:
    """The shingles datasketch is updated with: the same words and n-grams as ``MinHasher``, as UTF-8 bytes."""
    words = [w.encode("utf-8", "surrogatepass") for w in text.lower().split()]
    if len(words) < ngram:
        return [b" ".join(words)]
    return [b" ".join(words[i : i + ngram]) for i in range(len(words) - ngram + 1)]


def timed(fn: Callable[[], object], repeat: int) -> tuple[object, float, float]:
    """Result of ``fn`` and its best wall and CPU seconds over ``repeat`` runs."""
    best_wall = best_cpu = float("inf")
    result: object = None
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        best_wall = min(best_wall, time.perf_counter() - w0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    return result, best_wall, best_cpu


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--input", type=Path, default=Path("/tmp/bench/prompts.jsonl"), help="prompts JSONL (field text)")
    ap.add_argument("--limit", type=int, default=None, help="read at most N prompts")
    ap.add_argument("--ds-limit", type=int, default=5000, help="prompts in the datasketch subsample (default 5000)")
    ap.add_argument("--num-perm", type=int, default=128)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--ngram", type=int, default=3)
    ap.add_argument("--threads", type=int, default=None, help="MinHasher threads (default: its own choice)")
    ap.add_argument("--repeat", type=int, default=3, help="runs of our timings; the best is reported")
    args = ap.parse_args(argv)

    raw = load_texts(args.input, args.limit)
    t0 = time.perf_counter()
    texts = [normalize(t) for t in raw]
    t_norm = time.perf_counter() - t0
    n = len(texts)
    print(
        f"{n} prompts from {args.input} ({len(set(texts))} distinct after normalisation, {t_norm:.2f} s to normalise)"
    )

    hasher = MinHasher(num_perm=args.num_perm, seed=args.seed, ngram=args.ngram, threads=args.threads)
    single = MinHasher(num_perm=args.num_perm, seed=args.seed, ngram=args.ngram, threads=1)
    sigs, w_sig, c_sig = timed(lambda: hasher.signatures(texts), args.repeat)
    _, w_one, c_one = timed(lambda: single.signatures(texts), args.repeat)
    assert isinstance(sigs, np.ndarray)
    groups, w_lsh, c_lsh = timed(lambda: lsh_groups(sigs), args.repeat)
    assert isinstance(groups, np.ndarray)

    sub = texts[: args.ds_limit]
    _, w_sub, c_sub = timed(lambda: hasher.signatures(sub), args.repeat)
    kw = {"num_perm": args.num_perm, "seed": args.seed}
    ds, w_ds, c_ds = timed(
        lambda: MinHash.bulk([shingle_bytes(t, args.ngram) for t in sub], hashfunc=hash_shingle, **kw), 1
    )
    _, w_sha, c_sha = timed(lambda: MinHash.bulk([shingle_bytes(t, args.ngram) for t in sub], **kw), 1)
    assert isinstance(ds, list)
    expected = np.stack([m.hashvalues for m in ds])
    mismatched = int(np.count_nonzero((expected != sigs[: len(sub)]).any(axis=1)))
    assert mismatched == 0, f"{mismatched} of {len(sub)} signatures differ from datasketch"

    ours_all = n / (w_sig + w_lsh)
    rows = [
        (f"ours: signatures ({hasher.threads} threads)", n, w_sig, c_sig),
        ("ours: signatures (1 thread)", n, w_one, c_one),
        ("ours: LSH groups 32x4", n, w_lsh, c_lsh),
        ("ours: signatures + LSH groups", n, w_sig + w_lsh, c_sig + c_lsh),
        ("ours: signatures, subsample", len(sub), w_sub, c_sub),
        ("datasketch bulk, hash_shingle", len(sub), w_ds, c_ds),
        ("datasketch bulk, default sha1", len(sub), w_sha, c_sha),
    ]
    print(f"\n{'':32} {'prompts':>8} {'wall s':>8} {'prompts/s':>10} {'cpu s':>8}  ours+LSH / this")
    for name, count, wall, cpu in rows:
        rate = count / wall
        ratio = f"{ours_all / rate:10.1f}x" if name.startswith("datasketch") else ""
        print(f"{name:32} {count:8d} {wall:8.3f} {rate:10.0f} {cpu:8.3f}  {ratio}")
    print(f"\n{len(sub)} signatures identical to datasketch; {len(np.unique(groups))} LSH groups over {n} prompts")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

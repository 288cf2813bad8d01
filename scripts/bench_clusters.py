#!/usr/bin/env python3
"""Clustering benchmark: the engine's prompt clusters against a labelled set of real requests.

    python scripts/bench_clusters.py LABELLED.jsonl[.gz] [--accounts 2000] [--embedder static] [--work DIR]
                                     [--text-field text] [--label-field intent] [--seed 0] [--limit N]

Each line of LABELLED is a JSON object with a text and its label (``../shared/bench/clustering/clinc150.jsonl.gz``:
``text``, ``intent``). The texts become a flat one-day log of random accounts (``--accounts``), ``promptsim run``
clusters it, and every prompt's cluster (``Tables.memberships``) is scored against the labels. A prompt the engine
leaves out of every cluster (noise) counts as a cluster of its own, so leaving prompts out costs what it should.

Printed, one row per method: clusters, noise share, ARI, NMI, purity of the clustered prompts, and seconds:

* ``promptsim``: the engine's clusters as stored;
* ``promptsim, noise to nearest centroid``: the same with each noise prompt given to the nearest cluster mean;
* ``KMeans, true k``: scikit-learn KMeans on the engine's own vectors with k = the number of labels -- a method that
  needs the answer as input, the bar the engine's clusters should clear without it.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def read_labelled(path: Path, text_field: str, label_field: str, limit: int | None) -> tuple[list[str], list[str]]:
    opener = gzip.open if path.suffix == ".gz" else open
    texts, labels = [], []
    with opener(path, "rt", encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            if not line.strip():
                continue
            row = json.loads(line)
            if not isinstance(row.get(text_field), str) or row.get(label_field) is None:
                raise SystemExit(f"{path}:{i}: needs a string {text_field!r} and a {label_field!r}")
            texts.append(row[text_field])
            labels.append(str(row[label_field]))
            if limit and len(texts) >= limit:
                break
    return texts, labels


def write_log(texts: list[str], out: Path, accounts: int, seed: int) -> Path:
    """A flat one-day log: prompt i is p{i}, sent by one of ``accounts`` random accounts at a random second."""
    rng = random.Random(seed)
    start = datetime(2026, 11, 20, tzinfo=timezone.utc)
    path = out / "prompts.jsonl"
    with open(path, "w", encoding="utf-8") as f:
        for i, t in enumerate(texts):
            ts = start + timedelta(seconds=rng.randrange(86400))
            row = {"prompt_id": f"p{i}", "account_id": f"a{rng.randrange(accounts)}", "timestamp": ts.isoformat(),
                   "text": t}  # fmt: skip
            f.write(json.dumps(row) + "\n")
    return path


def scores(truth: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """Clusters, noise, ARI and NMI (noise as singletons), and purity over the clustered prompts."""
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    noise = labels < 0
    full = labels.copy()
    full[noise] = labels.max(initial=-1) + 1 + np.arange(int(noise.sum()))
    purity = 0.0
    if (~noise).any():
        lab, tru = labels[~noise], truth[~noise]
        pairs = np.unique(np.stack([lab, tru]), axis=1, return_counts=True)
        best = {}
        for (c, _), n in zip(pairs[0].T, pairs[1], strict=True):
            best[c] = max(best.get(c, 0), n)
        purity = sum(best.values()) / len(lab)
    return {
        "clusters": int(len(np.unique(labels[~noise]))),
        "noise": float(noise.mean()),
        "ari": float(adjusted_rand_score(truth, full)),
        "nmi": float(normalized_mutual_info_score(truth, full)),
        "purity": float(purity),
    }


def nearest_centroid(labels: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """Each noise prompt to the cluster whose mean vector is nearest (cosine)."""
    out = labels.copy()
    ok = labels >= 0
    if not ok.any() or ok.all():
        return out
    k = int(labels.max()) + 1
    cent = np.zeros((k, vectors.shape[1]))
    np.add.at(cent, labels[ok], vectors[ok])
    cent /= np.maximum(np.linalg.norm(cent, axis=1, keepdims=True), 1e-12)
    out[~ok] = np.argmax(vectors[~ok] @ cent.T, axis=1)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("labelled", type=Path)
    ap.add_argument("--accounts", type=int, default=2000, help="random accounts the log's prompts are spread over")
    ap.add_argument("--embedder", default="static")
    ap.add_argument("--work", type=Path, help="keep the log and store here (default: a temporary directory)")
    ap.add_argument("--text-field", default="text")
    ap.add_argument("--label-field", default="intent")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--limit", type=int, help="only the first N labelled texts")
    ap.add_argument("--no-kmeans", action="store_true", help="skip the KMeans reference (slow on large sets)")
    a = ap.parse_args(argv)

    from engine.pipeline import RunConfig, run
    from engine.store import Store
    from engine.store.tables import Tables

    texts, names = read_labelled(a.labelled, a.text_field, a.label_field, a.limit)
    _, truth = np.unique(names, return_inverse=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = a.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        log = write_log(texts, work, a.accounts, a.seed)
        store = work / "store"
        if store.exists():  # a store left by an earlier run in this --work would add its texts to this window
            import shutil

            shutil.rmtree(store)
        t0 = time.perf_counter()
        report = run(RunConfig(inputs=[log], store=store, embedder=a.embedder, quiet=True))
        seconds = time.perf_counter() - t0
        snap = Store(store).require()
        m = Tables(snap).memberships()
        row_of = {p: i for i, p in enumerate(m["prompt_id"].to_pylist())}
        at = np.array([row_of[f"p{i}"] for i in range(len(texts))])
        labels = np.asarray(m["cluster_id"].to_numpy(zero_copy_only=False), dtype=np.float64)[at]
        labels = np.nan_to_num(labels, nan=-1).astype(np.int64)
        topics = len({t for t in m["topic_id"].to_pylist() if t is not None and t >= 0})
        text_row = np.asarray(m["text_row"].to_numpy(zero_copy_only=False))[at]
        vectors = snap.array("vectors").astype(np.float32)[text_row]
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        snap.close()

    rows = [
        ("promptsim", scores(truth, labels), seconds),
        ("promptsim, noise to nearest centroid", scores(truth, nearest_centroid(labels, vectors)), seconds),
    ]
    if not a.no_kmeans:
        from sklearn.cluster import KMeans

        t0 = time.perf_counter()
        km = KMeans(len(np.unique(truth)), n_init=3, random_state=a.seed).fit(vectors)
        rows.append((f"KMeans, true k={len(np.unique(truth))}", scores(truth, km.labels_), time.perf_counter() - t0))
    print(f"{a.labelled.name}: {len(texts):,} prompts, {len(np.unique(truth))} labels, {a.accounts} accounts, "
          f"{report.texts:,} distinct texts, embedder {a.embedder}; the engine's clusters form {topics} topics")  # fmt: skip
    print(f"{'method':40s} {'clusters':>8s} {'noise':>6s} {'ARI':>6s} {'NMI':>6s} {'purity':>6s} {'seconds':>8s}")
    for name, s, sec in rows:
        print(f"{name:40s} {s['clusters']:8d} {s['noise']:6.1%} {s['ari']:6.3f} {s['nmi']:6.3f} {s['purity']:6.3f} "
              f"{sec:8.1f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Nightly increments: one store fed night by night, with what each night cost and what the store concluded.

    python scripts/bench_nightly.py [--config ../shared/bench/nightly.json] [--work DIR] [--embedder static]

Builds the config's log split into one file per day (``make_logs.py CONFIG DIR --split-days``), runs ``promptsim
run`` on each night's file in turn against one store (each night in its own process, so its peak RSS is its own),
and prints one table row per night: new prompts, prompts in the window, texts and payloads embedded and served from
the cache, wall seconds and peak RSS; then ``promptsim diff`` after the last night, each campaign's status, and
``score.py`` on the whole window.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT.parent / "shared" / "bench"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--config", type=Path, default=BENCH / "nightly.json")
    p.add_argument("--work", type=Path, default=Path("/tmp/promptsim-nightly"))
    p.add_argument("--embedder", default="static")
    a = p.parse_args()
    sys.path.insert(0, str(ROOT))
    from engine.store import Store
    from engine.store.tables import Tables

    shutil.rmtree(a.work, ignore_errors=True)
    log, store = a.work / "log", a.work / "store"
    subprocess.run([sys.executable, str(BENCH / "make_logs.py"), str(a.config), str(log), "--split-days"], check=True,
                   capture_output=True)  # fmt: skip
    promptsim = [sys.executable, "-m", "engine.app.cli"]
    print("| night | new prompts | window prompts | embedded (texts+payloads) | from cache | wall s | peak RSS MB |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for night in sorted(log.glob("prompts-*.jsonl")):
        t0 = time.perf_counter()
        subprocess.run([*promptsim, "run", "--input", str(night), "--accounts", str(log / "accounts.jsonl"),
                        "--store", str(store), "--embedder", a.embedder, "--quiet"], check=True, capture_output=True,
                       cwd=ROOT)  # fmt: skip
        wall = time.perf_counter() - t0
        rep = json.loads(Tables(Store(store).require()).runs()["report"][-1].as_py())
        print(
            f"| {night.stem.removeprefix('prompts-')} | {rep['accepted']:,} | {rep['prompts_in_window']:,} | "
            f"{rep['new_embeddings']:,} | {rep['cached_embeddings']:,} | {wall:.0f} | {max(rep['peak_rss_mb'].values()):,.0f} |",
            flush=True,
        )
    diff = subprocess.run([*promptsim, "diff", "--store", str(store)], capture_output=True, text=True, cwd=ROOT)
    print("\n" + diff.stdout)
    for h in Tables(Store(store).require()).history().to_pylist():
        print(f"{h['campaign_id']}  {h['status']:<8} accounts {h['accounts']:>4}  ever {h['accounts_ever']:>4}")
    export = a.work / "export"
    subprocess.run([*promptsim, "export", "--store", str(store), "--out", str(export)], check=True, capture_output=True,
                   cwd=ROOT)  # fmt: skip
    scored = subprocess.run([sys.executable, str(BENCH / "score.py"), str(log), str(export / "accounts.csv")],
                            capture_output=True, text=True, check=True)  # fmt: skip
    print("\n" + scored.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())

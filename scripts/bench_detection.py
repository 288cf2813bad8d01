#!/usr/bin/env python3
"""Detection benchmark: build a labelled log, run promptsim on it, score the account verdicts.

    python scripts/bench_detection.py [CONFIG.json ...] [--work DIR] [--embedder static|minilm] [--scale X]

For each config (default: ../shared/bench/public.json) it runs ``make_logs.py CONFIG DIR/log``, then
``promptsim run`` over the log and its account table into a fresh store, ``promptsim export``, and
``score.py DIR/log DIR/export/accounts.csv``, printing score.py's output and the run's stage timings. The engine never
reads the truth files; only score.py does.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT.parent / "shared" / "bench"


def bench(config: Path, work: Path, embedder: str, scale: float) -> str:
    from engine.app.report import export
    from engine.pipeline import RunConfig, run
    from engine.store import Store

    if work.exists():
        shutil.rmtree(work)
    log = work / "log"
    cmd = [sys.executable, str(BENCH / "make_logs.py"), str(config), str(log)]
    if scale != 1.0:
        cmd += ["--scale", str(scale)]
    subprocess.run(cmd, check=True, capture_output=True)
    t0 = time.perf_counter()
    report = run(
        RunConfig(
            inputs=[log / "prompts.jsonl"],
            accounts=log / "accounts.jsonl",
            store=work / "store",
            embedder=embedder,
            quiet=True,
        )
    )
    wall = time.perf_counter() - t0
    export(Store(work / "store").require(), work / "export")
    scored = subprocess.run(
        [
            sys.executable,
            str(BENCH / "score.py"),
            str(log),
            str(work / "export" / "accounts.csv"),
            "--json",
            str(work / "score.json"),
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return f"== {config.name}: {report.accepted:,} prompts, run {wall:.0f}s\n{report.summary()}\n{scored}"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("configs", nargs="*", type=Path, default=[BENCH / "public.json"])
    p.add_argument("--work", type=Path, default=Path("/tmp/promptsim-bench"))
    p.add_argument("--embedder", default="static")
    p.add_argument("--scale", type=float, default=1.0)
    a = p.parse_args()
    if not (BENCH / "make_logs.py").exists():
        print(f"bench_detection: {BENCH} not found (../shared beside the checkout)", file=sys.stderr)
        return 2
    for cfg in a.configs:
        print(bench(cfg.resolve(), a.work / cfg.stem, a.embedder, a.scale), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""How each stage grows with the log: per-stage seconds at several sizes, for each executor, and the growth exponent.

    python scripts/bench_scale.py [--sizes 100k,1M,3M] [--executors local,ray] [--out DIR] [--workdir DIR]
                                  [--keep-logs] [--embedder static] [--workers N]

For each size, generates the public benchmark log (``../shared/bench/make_logs.py public.json OUT --scale S``;
``--scale 1`` is ~96k prompts, 12 ~1M, 36 ~3M: a size is a label ``100k``/``1M``/``3M``, a prompt count such as
``8000`` or ``8k`` (scale = count / 96,000, rounded to 3 decimals; the eval harness does not scale, so small logs
come out somewhat larger), or ``scale=X``). Then, for each executor, runs ``promptsim run`` into a fresh store in
a subprocess under ``/usr/bin/time -v`` and records:

* each step's seconds, from the run's report in the store's runs table (``promptsim runs --json``), and the commit
  step's (written after that report) from the run's progress line;
* ``total_s``: wall seconds of the whole command (interpreter start, Ray start-up and shutdown included), and
  ``other_s``: what of it no step accounts for;
* ``peak_rss_mb``: the driver's peak RSS (``/usr/bin/time -v``), and ``tree_rss_mb``: the largest sum of RSS over
  the command's process tree, sampled every 0.5 s from /proc (Ray's raylet and workers included; pages shared
  between processes, Ray's object store among them, count once per process: an upper bound).

The growth exponent k of a stage is the least-squares slope of log(seconds) against log(prompts) over the sizes
(k = 1: linear; it needs two sizes or more, and says little about stages that take a few milliseconds). Writes
``bench_scale.json`` and ``bench_scale.md`` under ``--out`` and prints the table. Logs and stores are deleted after
each size unless ``--keep-logs``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT.parent / "shared" / "bench"
#: prompts in the public log at --scale 1
BASE_PROMPTS = 96_000
NAMED = {"100k": 1.0, "1m": 12.0, "3m": 36.0}
STEPS = ("ingest", "normalize", "templates", "minhash", "embed", "index", "cluster", "score", "commit")


def scale_of(size: str) -> float:
    """``--scale`` for a size label (see module doc)."""
    s = size.strip().lower()
    if s in NAMED:
        return NAMED[s]
    if s.startswith("scale="):
        return float(s.split("=", 1)[1])
    mult = {"k": 1_000, "m": 1_000_000}.get(s[-1:], 1)
    n = float(s[:-1] if s[-1:] in ("k", "m") else s) * mult
    return round(n / BASE_PROMPTS, 3)


class TreeRss:
    """Samples the summed RSS of a process and its descendants from /proc until stopped; keeps the largest."""

    def __init__(self, pid: int, every: float = 0.5) -> None:
        self.pid, self.every, self.peak_kb = pid, every, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> TreeRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.peak_kb = max(self.peak_kb, self._sample())
            self._stop.wait(self.every)

    def _sample(self) -> int:
        children: dict[int, list[int]] = {}
        rss: dict[int, int] = {}
        for d in Path("/proc").iterdir():
            if not d.name.isdigit():
                continue
            try:
                status = (d / "status").read_text()
            except OSError:
                continue
            ppid = re.search(r"^PPid:\s+(\d+)", status, re.M)
            vm = re.search(r"^VmRSS:\s+(\d+)", status, re.M)
            if ppid:
                children.setdefault(int(ppid.group(1)), []).append(int(d.name))
            rss[int(d.name)] = int(vm.group(1)) if vm else 0
        total, todo = 0, [self.pid]
        while todo:
            p = todo.pop()
            total += rss.get(p, 0)
            todo.extend(children.get(p, []))
        return total


def make_log(size: str, workdir: Path, config: Path) -> Path:
    out = workdir / "logs" / size
    if not (out / "prompts.jsonl").exists():
        out.mkdir(parents=True, exist_ok=True)
        cmd = [
            sys.executable,
            str(config.parent / "make_logs.py"),
            str(config),
            str(out),
            "--scale",
            str(scale_of(size)),
        ]
        subprocess.run(cmd, check=True, capture_output=True)
    return out


def run_once(log: Path, store: Path, executor: str, args: argparse.Namespace) -> dict:
    """One ``promptsim run`` in a subprocess: its step timings, wall seconds and peak memory."""
    if store.exists():
        shutil.rmtree(store)
    cmd = [sys.executable, "-m", "engine.app.cli", "run", "-i", str(log / "prompts.jsonl")]
    cmd += ["--accounts", str(log / "accounts.jsonl"), "--store", str(store), "--executor", executor]
    cmd += ["--embedder", args.embedder] + (["--workers", str(args.workers)] if args.workers else [])
    timed = Path("/usr/bin/time").exists()
    env = dict(
        os.environ, HF_HUB_OFFLINE="1", PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    )
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        (["/usr/bin/time", "-v"] if timed else []) + cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    with TreeRss(proc.pid) as tree:
        out, err = proc.communicate()
    wall = time.perf_counter() - t0
    (store.parent / f"{store.name}.log").write_text(out + "\n--- stderr ---\n" + err)
    if proc.returncode != 0:
        raise SystemExit(
            f"promptsim run ({executor}) failed with {proc.returncode}; see {store.parent / store.name}.log"
        )
    runs = subprocess.run(
        [sys.executable, "-m", "engine.app.cli", "runs", "--json", "--store", str(store)],
        check=True, capture_output=True, text=True, env=env,
    )  # fmt: skip
    report = json.loads(json.loads(runs.stdout)[-1]["report"])
    timings = {k: float(v) for k, v in report["timings"].items()}
    commit = re.search(r"^\[commit\] ([\d.]+)s", out, re.M)
    if commit and "commit" not in timings:
        timings["commit"] = float(commit.group(1))
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", err)
    return {
        "executor": executor,
        "prompts": report["accepted"],
        "texts": report["texts"],
        "timings": timings,
        "total_s": round(wall, 3),
        "other_s": round(wall - sum(timings.values()), 3),
        "peak_rss_mb": round(int(rss.group(1)) / 1024, 1) if rss else None,
        "tree_rss_mb": round(tree.peak_kb / 1024, 1),
    }


def growth(points: list[tuple[int, float]]) -> float | None:
    """Least-squares slope of log(seconds) on log(prompts); None with fewer than two usable sizes."""
    pts = [(n, t) for n, t in points if n > 0 and t > 0]
    if len({n for n, _ in pts}) < 2:
        return None
    x, y = np.log([n for n, _ in pts]), np.log([t for _, t in pts])
    return round(float(np.polyfit(x, y, 1)[0]), 2)


def fits(results: list[dict], executors: list[str]) -> dict[str, dict[str, float | None]]:
    out: dict[str, dict[str, float | None]] = {}
    for ex in executors:
        rows = [r for r in results if r["executor"] == ex]
        names = [s for s in STEPS if any(s in r["timings"] for r in rows)] + ["total_s"]
        out[ex] = {}
        for s in names:
            pts = [(r["prompts"], r["total_s"] if s == "total_s" else r["timings"].get(s, 0.0)) for r in rows]
            out[ex][s] = growth(pts)
    return out


def markdown(results: list[dict], k: dict[str, dict[str, float | None]], executors: list[str]) -> str:
    cols = [(r["size"], r["executor"]) for r in results]
    by = {(r["size"], r["executor"]): r for r in results}
    head = ["stage"] + [f"{s} {e} (s)" for s, e in cols] + [f"k {e}" for e in executors]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]

    def fmt(v: float | None, digits: int = 2) -> str:
        return "" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:,.{digits}f}"

    stages = [s for s in STEPS if any(s in r["timings"] for r in results)]
    for s in stages:
        cells = [fmt(by[c]["timings"].get(s)) for c in cols]
        lines.append("| " + " | ".join([s, *cells, *[fmt(k[e].get(s)) for e in executors]]) + " |")
    for key, label in (("other_s", "other (start-up, Ray)"), ("total_s", "total")):
        cells = [fmt(by[c][key]) for c in cols]
        ks = [fmt(k[e].get("total_s")) if key == "total_s" else "" for e in executors]
        lines.append("| " + " | ".join([label, *cells, *ks]) + " |")
    for key, label in (("peak_rss_mb", "peak RSS driver (MB)"), ("tree_rss_mb", "peak RSS tree (MB)")):
        lines.append("| " + " | ".join([label, *[fmt(by[c][key], 0) for c in cols], *[""] * len(executors)]) + " |")
    lines.append("| prompts | " + " | ".join(f"{by[c]['prompts']:,}" for c in cols) + " |" + " |" * len(executors))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="100k,1M,3M", help="comma-separated sizes (default 100k,1M,3M)")
    p.add_argument("--executors", default="local,ray", help="comma-separated executors (default local,ray)")
    p.add_argument("--out", type=Path, default=Path("bench-scale"), help="where the JSON and markdown go")
    p.add_argument("--workdir", type=Path, default=Path("/tmp/promptsim-bench-scale"), help="logs and stores")
    p.add_argument("--keep-logs", action="store_true", help="keep each size's log and stores (deleted by default)")
    p.add_argument("--config", type=Path, default=BENCH / "public.json", help="make_logs.py config")
    p.add_argument("--embedder", default="static")
    p.add_argument("--workers", type=int, help="--workers for promptsim run (default: its own)")
    a = p.parse_args(argv)
    sizes = [s.strip() for s in a.sizes.split(",") if s.strip()]
    executors = [e.strip() for e in a.executors.split(",") if e.strip()]
    a.workdir.mkdir(parents=True, exist_ok=True)
    a.out.mkdir(parents=True, exist_ok=True)
    results: list[dict] = []
    for size in sizes:
        t0 = time.perf_counter()
        log = make_log(size, a.workdir, a.config)
        print(f"[{size}] log (scale {scale_of(size)}) in {time.perf_counter() - t0:.1f}s", flush=True)
        for ex in executors:
            r = run_once(log, a.workdir / "stores" / f"{size}-{ex}", ex, a)
            r["size"] = size
            results.append(r)
            print(f"[{size}] {ex}: {r['prompts']:,} prompts, {r['total_s']:.1f}s, peak RSS {r['peak_rss_mb']} MB "
                  f"(tree {r['tree_rss_mb']} MB)", flush=True)  # fmt: skip
            write(a.out, results, executors)  # after every run: a long benchmark cut short keeps what it measured
        if not a.keep_logs:
            shutil.rmtree(log, ignore_errors=True)
            for ex in executors:
                shutil.rmtree(a.workdir / "stores" / f"{size}-{ex}", ignore_errors=True)
    print(write(a.out, results, executors))
    return 0


def write(out: Path, results: list[dict], executors: list[str]) -> str:
    """Write ``bench_scale.json`` and ``bench_scale.md`` for the runs so far; return the markdown table."""
    k = fits(results, executors)
    table = markdown(results, k, executors)
    (out / "bench_scale.json").write_text(json.dumps({"results": results, "growth_exponent": k}, indent=1))
    (out / "bench_scale.md").write_text(table + "\n")
    return table


if __name__ == "__main__":
    sys.exit(main())

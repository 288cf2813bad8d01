#!/usr/bin/env python3
"""Detection benchmark: build a labelled log, run promptsim on it, score the account verdicts.

    python scripts/bench_detection.py [CONFIG.json ...] [--work DIR] [--embedder static|minilm] [--scale X]
                                      [--format flat|openai|anthropic] [--no-accounts] [--ablate]
                                      [--seed N] [--set NAME=VALUE ...]

For each config (default: ../shared/bench/public.json) it runs ``make_logs.py CONFIG DIR/log``, then
``promptsim run`` over the log (and its account table, unless ``--no-accounts``) into a fresh store,
``promptsim export``, and ``score.py DIR/log DIR/export/accounts.csv``, printing score.py's output (stdout: only
figures of the verdicts, identical on every machine with the pinned environment) and the run's stage timings
(stderr). The engine never reads the truth files; only score.py does.

``--ablate`` then re-runs the detection stage alone on the same night (the same prompts, templates, vectors and
text signals) with each evidence family left out in turn (``engine.detect.campaigns.FAMILIES``: content,
behaviour and provenance score a cohort; wrappers, cards and profiles link accounts into cohorts; markers, the
phrase patterns, wherever they are read), and once without the account table, and prints one score line per variant: what each family carries.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT.parent / "shared" / "bench"
sys.path.insert(0, str(ROOT))


def score(log: Path, verdicts: Path, result: Path) -> str:
    """score.py's printed report for ``verdicts`` (a CSV of account_id, score, campaign_id, flagged)."""
    cmd = [sys.executable, str(BENCH / "score.py"), str(log), str(verdicts), "--json", str(result)]
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def write_verdicts(accounts: pa.Table, path: Path) -> Path:
    cols = ["account_id", "score", "campaign_id", "flagged"]
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(cols)
        w.writerows(zip(*(accounts[c].to_pylist() for c in cols), strict=True))
    return path


def without_accounts(ctx):  # noqa: ANN001, ANN201 - engine.detect.signals.Context
    """The context as a run without ``--accounts`` sees it: every account known by id only."""
    from dataclasses import replace

    sch = ctx.accounts.schema
    cols = {f.name: pa.nulls(len(ctx.account_names), f.type) for f in sch}
    cols["account_id"] = pa.array(ctx.account_names, sch.field("account_id").type)
    return replace(ctx, accounts=pa.table(cols, schema=sch))


def ablate(ctx, settings, ts, log: Path, work: Path) -> str:  # noqa: ANN001 - Context, DetectSettings, TextSignals
    """One score line per variant of the detection stage on this night's context and text signals (the pipeline's
    own: a chat request's affixes are read from its newest turn, which the context alone does not hold)."""
    from engine.detect.campaigns import FAMILIES, detect
    from engine.detect.signals import text_signals

    ts = ts if ts is not None else text_signals(ctx, settings)
    lines = [f"{'variant':<22} score.py summary"]
    variants: list[tuple[str, object, tuple[str, ...]]] = [("all families", ctx, ())]
    variants += [(f"without {f}", ctx, (f,)) for f in FAMILIES]
    variants += [("without account table", without_accounts(ctx), ())]
    for name, c, without in variants:
        t0 = time.perf_counter()
        v = detect(c, settings, without=without, ts=ts)
        slug = name.replace(" ", "-")
        out = score(log, write_verdicts(v.accounts, work / f"ablate-{slug}.csv"), work / f"ablate-{slug}.json")
        summary = out.strip().splitlines()[-1]
        lines.append(f"{name:<22} {summary}")
        print(f"ablation {name}: {time.perf_counter() - t0:.0f}s", file=sys.stderr, flush=True)
    return "\n".join(lines)


def with_seed(config: Path, seed: int, work: Path) -> Path:
    """A copy of ``config`` drawn with another ``seed`` (its corpora made absolute, since the copy lives elsewhere):
    found on one draw and missed on another is not found."""
    cfg = json.loads(config.read_text())
    cfg["seed"] = seed
    cfg["corpora"] = [str((config.parent / c).resolve()) for c in cfg["corpora"]]
    work.mkdir(parents=True, exist_ok=True)
    out = work / f"{config.stem}-seed{seed}.json"
    out.write_text(json.dumps(cfg))
    return out


def bench(
    config: Path, work: Path, embedder: str, scale: float, accounts: bool, do_ablate: bool, fmt: str = "flat",
    settings: Sequence[str] = (), seed: int | None = None,
) -> str:  # fmt: skip
    """One config's run and score (``fmt``: how make_logs.py writes the requests, read by promptsim as they come:
    the same requests, ids, times and truth in every format; ``settings``: detection settings as ``promptsim run
    --set`` takes them; ``seed``: the config drawn with another seed)."""
    import engine.pipeline.steps as steps
    from engine.app.report import export
    from engine.detect.settings import DetectSettings
    from engine.pipeline import RunConfig, run
    from engine.store import Store

    detect_settings = DetectSettings().with_assignments(list(settings))  # a typo fails here, before the log is made
    if work.exists():
        shutil.rmtree(work)
    log = work / "log"
    if seed is not None:
        config = with_seed(config, seed, work)
    cmd = [sys.executable, str(BENCH / "make_logs.py"), str(config), str(log)]
    if scale != 1.0:
        cmd += ["--scale", str(scale)]
    if fmt != "flat":
        cmd += ["--format", fmt]
    subprocess.run(cmd, check=True, capture_output=True)
    seen: dict = {}
    if do_ablate:
        # keep the night's detection context (built inside the pipeline's score step) for the ablation runs
        inner = steps.detect

        def keep(ctx, s, **kw):  # noqa: ANN001, ANN202
            seen["ctx"], seen["settings"], seen["ts"] = ctx, s, kw.get("ts")
            return inner(ctx, s, **kw)

        steps.detect = keep
    t0 = time.perf_counter()
    try:
        report = run(
            RunConfig(
                inputs=[log / "prompts.jsonl"],
                accounts=log / "accounts.jsonl" if accounts else None,
                store=work / "store",
                embedder=embedder,
                detect=detect_settings,
                quiet=True,
            )
        )
    finally:
        if do_ablate:
            steps.detect = inner
    wall = time.perf_counter() - t0
    export(Store(work / "store").require(), work / "export")
    scored = score(log, work / "export" / "accounts.csv", work / "score.json")
    what = ("" if accounts else " (no account table)") + ("" if fmt == "flat" else f" ({fmt} requests)")
    what += (f" (seed {seed})" if seed is not None else "") + "".join(f" ({a})" for a in settings)
    # stdout is the verdicts' figures only, the same on every machine with the pinned environment (two clones give
    # identical output); what depends on the machine and the moment (timings, run id, bytes) goes to stderr
    print(f"{config.name}: run {wall:.0f}s\n{report.summary()}", file=sys.stderr, flush=True)
    out = (
        f"== {config.name}{what}: {report.accepted:,} prompts, {report.texts:,} distinct texts, "
        f"{report.clusters:,} clusters, {report.campaigns:,} suspected campaigns, {report.flagged_accounts:,} flagged "
        f"accounts\n{scored}"
    )
    if do_ablate:
        out += "\n-- ablation (detection stage re-run on the same night)\n" + ablate(
            seen["ctx"], seen["settings"], seen["ts"], log, work
        )
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("configs", nargs="*", type=Path, default=[BENCH / "public.json"])
    p.add_argument("--work", type=Path, default=Path("/tmp/promptsim-bench"))
    p.add_argument("--embedder", default="static")
    p.add_argument("--scale", type=float, default=1.0)
    p.add_argument(
        "--format", default="flat", choices=("flat", "openai", "anthropic"),
        help="write the log as chat requests of this API (make_logs.py --format); promptsim reads them as they come",
    )  # fmt: skip
    p.add_argument("--no-accounts", action="store_true", help="run without the account table")
    p.add_argument("--ablate", action="store_true", help="also score the night with each evidence family left out")
    p.add_argument("--seed", type=int, help="draw each config with this seed instead of its own")
    p.add_argument(
        "--set", dest="settings", action="append", default=[], metavar="NAME=VALUE",
        help="a detection setting for the run, as `promptsim run --set` takes it (repeatable)",
    )  # fmt: skip
    a = p.parse_args()
    if not (BENCH / "make_logs.py").exists():
        print(f"bench_detection: {BENCH} not found (../shared beside the checkout)", file=sys.stderr)
        return 2
    for cfg in a.configs:
        out = bench(
            cfg.resolve(), a.work / cfg.stem, a.embedder, a.scale, not a.no_accounts, a.ablate, a.format,
            a.settings, a.seed,
        )  # fmt: skip
        print(out, flush=True)
        (a.work / cfg.stem / "bench.txt").write_text(out + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

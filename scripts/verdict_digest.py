#!/usr/bin/env python3
"""The verdict digest: the exact verdicts of one small labelled log, pinned in CI.

    python scripts/verdict_digest.py            # build the log, run the engine, compare with tests/verdict_digest.json
    python scripts/verdict_digest.py --update   # ... and record what it gives now

``scripts/configs/digest.json`` (made by ``../shared/bench/make_logs.py``, about 8k prompts) is run through the
whole nightly pipeline; the digest is a sha256 over every account's line ``account, flagged, campaign, score``
(score rounded to 1e-4; the campaign as the sorted-first account of its flagged members, so the digest says how
accounts are grouped, not how campaign ids are spelt), and beside it ``score.py``'s summary line and the
flagged and campaign counts. ``tests/test_verdict_digest.py`` asserts all of it, so a change that moves one verdict
(an engine change, an upgraded library) fails CI until the expected file is updated in the same commit, with
the reason in the commit message.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT.parent / "shared" / "bench"
CONFIG = ROOT / "scripts" / "configs" / "digest.json"
EXPECTED = ROOT / "tests" / "verdict_digest.json"
sys.path.insert(0, str(ROOT))


def verdict_lines(accounts: list[dict]) -> list[str]:
    """One line per account, sorted: id, flagged (0/1), its campaign's first member (or ''), score to 1e-4."""
    first: dict[str, str] = {}
    for a in sorted(accounts, key=lambda r: r["account_id"]):
        if a["flagged"] and a["campaign_id"]:
            first.setdefault(a["campaign_id"], a["account_id"])
    return sorted(
        f"{a['account_id']},{int(bool(a['flagged']))},{first.get(a['campaign_id'], '') if a['flagged'] else ''},"
        f"{float(a['score']):.4f}"
        for a in accounts
    )


def digest_of(accounts: list[dict]) -> dict:
    lines = verdict_lines(accounts)
    flagged = [a for a in accounts if a["flagged"]]
    return {
        "digest": hashlib.sha256("\n".join(lines).encode()).hexdigest(),
        "accounts": len(accounts),
        "flagged": len(flagged),
        "campaigns": len({a["campaign_id"] for a in flagged if a["campaign_id"]}),
    }


def measure(work: Path, config: Path = CONFIG) -> dict:
    """Build the log, run the engine on it (the default embedder), score it: the record the test compares."""
    from engine.app.report import export
    from engine.pipeline import RunConfig, run
    from engine.store import Store

    log = work / "log"
    subprocess.run(
        [sys.executable, str(BENCH / "make_logs.py"), str(config), str(log)], check=True, capture_output=True
    )
    run(RunConfig(inputs=[log / "prompts.jsonl"], accounts=log / "accounts.jsonl", store=work / "store", quiet=True))
    export(Store(work / "store").require(), work / "export")
    with open(work / "export" / "accounts.csv", newline="", encoding="utf-8") as f:
        rows = [{**r, "flagged": r["flagged"].lower() == "true", "score": float(r["score"])} for r in csv.DictReader(f)]
    score = subprocess.run(
        [sys.executable, str(BENCH / "score.py"), str(log), str(work / "export" / "accounts.csv")],
        check=True, capture_output=True, text=True,
    ).stdout.strip().splitlines()  # fmt: skip
    return {
        **digest_of(rows),
        "log": log_fingerprint(log),
        "score": score[-1],
        "groups": [g.strip() for g in score if "flagged" in g],
    }


def log_fingerprint(log: Path) -> str:
    """sha256 of the generated log's prompts and accounts files: the digest log is made by ../shared/bench from
    ../shared/corpora, which the project does not own, and both have changed under it (627101b re-recorded a
    digest that moved with the engine unchanged). Pinned beside the verdicts, it says which of the two moved."""
    h = hashlib.sha256()
    for name in ("prompts.jsonl", "accounts.jsonl"):
        h.update((log / name).read_bytes())
    return h.hexdigest()


def explain(diffs: list[str], got: dict, want: dict) -> str:
    """The differences, headed by what they mean: the engine's verdicts moved on the same log, or the log itself
    regenerates differently (then the engine may not have moved: run the last landed commit on it to see)."""
    if got.get("log") != want.get("log"):
        head = (
            "the digest log regenerates differently from the one recorded (../shared/bench or its corpora changed): "
            "run the last landed commit on it; if it gives the same verdicts, the engine did not move, and "
            "`python scripts/verdict_digest.py --update` records the new log with that reason"
        )
    else:
        head = (
            "the verdicts of scripts/configs/digest.json moved on the same log; if that is intended, run "
            "`python scripts/verdict_digest.py --update` and commit tests/verdict_digest.json with the reason"
        )
    return head + ":\n  " + "\n  ".join(diffs)


def differences(got: dict, want: dict) -> list[str]:
    return [
        f"{k}: expected {want.get(k)!r}, got {got.get(k)!r}"
        for k in sorted(set(got) | set(want))
        if got.get(k) != want.get(k)
    ]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--update", action="store_true", help=f"write what this gives to {EXPECTED.relative_to(ROOT)}")
    p.add_argument("--work", type=Path, help="working directory (default: a temporary one, removed)")
    a = p.parse_args()
    work = a.work or Path(tempfile.mkdtemp(prefix="verdict-digest-"))
    try:
        got = measure(work)
    finally:
        if a.work is None:
            shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(got, indent=1))
    if a.update:
        EXPECTED.write_text(json.dumps(got, indent=1) + "\n")
        print(f"wrote {EXPECTED.relative_to(ROOT)}: commit it with the reason the verdicts moved", file=sys.stderr)
        return 0
    want = json.loads(EXPECTED.read_text()) if EXPECTED.exists() else {}
    diffs = differences(got, want)
    if diffs:
        print(explain(diffs, got, want), file=sys.stderr)
    return 1 if diffs else 0


if __name__ == "__main__":
    sys.exit(main())

"""Nightly increments: a multi-night log from ../shared/bench/nightly.json (scaled down), run night by night."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from engine.detect.history import diff_events
from engine.pipeline import InjectedFailure, RunConfig, run
from engine.store import Store
from tests.conftest import small_config


@pytest.fixture(scope="module")
def nights(shared_dir, tmp_path_factory) -> dict:
    cfg = small_config(shared_dir, "nightly.json", benign=400, eval_per_day=[200, 400], min_campaign=15)
    out = tmp_path_factory.mktemp("nights")
    (out / "cfg.json").write_text(json.dumps(cfg))
    log = out / "log"
    subprocess.run(
        [sys.executable, str(shared_dir / "bench" / "make_logs.py"), str(out / "cfg.json"), str(log), "--split-days"],
        check=True,
        capture_output=True,
    )
    with open(log / "truth_accounts.csv", newline="") as f:
        truth = {r["account_id"]: r["group"] for r in csv.DictReader(f)}
    files = sorted(log.glob("prompts-*.jsonl"))
    store = out / "store"
    diffs = {}
    for f in files:
        run(RunConfig(inputs=[f], accounts=log / "accounts.jsonl", store=store, quiet=True))
        snap = Store(store).require()
        runs = snap.query("SELECT run_id FROM runs ORDER BY started_at")["run_id"].to_pylist()
        diffs[f.stem.removeprefix("prompts-")] = diff_events(snap.query("SELECT * FROM campaign_events"), runs)
    return {"log": log, "files": files, "store": store, "truth": truth, "diffs": diffs}


def _campaign_of_group(snap, truth, group) -> Counter:
    rows = snap.query("SELECT account_id, campaign_id FROM accounts WHERE flagged").to_pylist()
    return Counter(r["campaign_id"] for r in rows if truth.get(r["account_id"]) == group)


def test_campaigns_keep_one_id_across_nights(nights) -> None:
    snap = Store(nights["store"]).require()
    for group in ("cot-harvest", "rubric-grader", "instruction-harvest", "tool-use-sweep"):
        ids = _campaign_of_group(snap, nights["truth"], group)
        assert ids, f"{group} not flagged"
        cid, n = ids.most_common(1)[0]
        assert n / sum(ids.values()) >= 0.9
        events = [e for night in nights["diffs"].values() for e in night if e["campaign_id"] == cid]
        assert sum(e["event"] == "new" for e in events) == 1, f"{group} reported new more than once: {events}"
        nights_seen = snap.query("SELECT night FROM campaign_nights WHERE campaign_id = ?", [cid])["night"].to_pylist()
        assert len(nights_seen) >= 3


def _group_of(snap, truth, cid) -> str:
    members = snap.query("SELECT member_ids FROM campaign_history WHERE campaign_id = ?", [cid])["member_ids"][0]
    return Counter(truth.get(a) for a in members.as_py()).most_common(1)[0][0]


def test_diff_reports_new_and_quiet_campaigns(nights) -> None:
    snap = Store(nights["store"]).require()
    night4 = nights["diffs"]["2026-11-23"]  # refusal-probe starts on day 3 (0-based) = 2026-11-23
    new = {_group_of(snap, nights["truth"], e["campaign_id"]) for e in night4 if e["event"] == "new"}
    assert "refusal-probe" in new
    quiet = {_group_of(snap, nights["truth"], e["campaign_id"]) for e in night4 if e["event"] == "quiet"}
    assert "tool-use-sweep" in quiet  # active on days 0-2 only
    history = {r["campaign_id"]: r for r in snap.query("SELECT * FROM campaign_history").to_pylist()}
    assert any(
        _group_of(snap, nights["truth"], c) == "tool-use-sweep" and h["status"] == "quiet" for c, h in history.items()
    )


def test_repeated_night_changes_nothing(nights) -> None:
    store = Store(nights["store"])
    before = store.require().query("SELECT account_id, campaign_id, flagged FROM accounts ORDER BY account_id")
    n_before = store.require().query("SELECT count(*) AS n FROM prompts")["n"][0].as_py()
    report = run(
        RunConfig(
            inputs=[nights["files"][2]], accounts=nights["log"] / "accounts.jsonl", store=nights["store"], quiet=True
        )
    )
    assert report.accepted == 0 and report.new_embeddings == 0
    snap = store.require()
    assert snap.query("SELECT count(*) AS n FROM prompts")["n"][0].as_py() == n_before
    assert snap.query("SELECT account_id, campaign_id, flagged FROM accounts ORDER BY account_id").equals(before)
    runs = snap.query("SELECT run_id FROM runs ORDER BY started_at")["run_id"].to_pylist()
    assert not [e for e in diff_events(snap.query("SELECT * FROM campaign_events"), runs) if e["event"] == "new"]


def test_killed_run_rerun_equals_uninterrupted(nights, tmp_path: Path) -> None:
    acc = nights["log"] / "accounts.jsonl"
    first, second = nights["files"][1], nights["files"][2]
    straight, killed = tmp_path / "straight", tmp_path / "killed"
    for f in (first, second):
        run(RunConfig(inputs=[f], accounts=acc, store=straight, quiet=True))
    run(RunConfig(inputs=[first], accounts=acc, store=killed, quiet=True))
    with pytest.raises(InjectedFailure):
        run(RunConfig(inputs=[second], accounts=acc, store=killed, quiet=True, fail_after="cluster"))
    run(RunConfig(inputs=[second], accounts=acc, store=killed, quiet=True))
    a, b = Store(straight).require(), Store(killed).require()
    q = "SELECT prompt_id FROM prompts ORDER BY prompt_id"
    assert a.query(q).equals(b.query(q))

    def partition(snap) -> set[frozenset[str]]:
        rows = snap.query("SELECT account_id, campaign_id FROM accounts WHERE flagged").to_pylist()
        groups: dict[str, set[str]] = {}
        for r in rows:
            groups.setdefault(r["campaign_id"], set()).add(r["account_id"])
        return {frozenset(g) for g in groups.values()}

    assert partition(a) == partition(b)


def test_prune_drops_prompts_and_keeps_history(nights, tmp_path: Path) -> None:
    import shutil

    store = tmp_path / "store"
    shutil.copytree(nights["store"], store)
    hist_before = Store(store).require().query("SELECT campaign_id FROM campaign_history ORDER BY campaign_id")
    from datetime import datetime, timezone

    cut = datetime(2026, 11, 22, tzinfo=timezone.utc)
    report = run(RunConfig(inputs=[], store=store, prune_before=cut, quiet=True))
    snap = Store(store).require()
    assert report.pruned > 0
    assert snap.query("SELECT min(timestamp) AS t FROM prompts")["t"][0].as_py() >= cut
    assert snap.query("SELECT campaign_id FROM campaign_history ORDER BY campaign_id").equals(hist_before)
    known = set(hist_before["campaign_id"].to_pylist())
    flagged_ids = set(snap.query("SELECT campaign_id FROM campaigns WHERE flagged")["campaign_id"].to_pylist())
    assert flagged_ids and flagged_ids <= known  # the pruned store still names campaigns by their stable ids

"""Nightly increments: a multi-night log from ../shared/bench/nightly.json (scaled down), run night by night."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pyarrow.compute as pc
import pytest

from engine.detect.history import diff_events
from engine.pipeline import InjectedFailure, RunConfig, run
from engine.store import Store
from engine.store.tables import Tables
from tests.conftest import small_config

#: whole runs of the pipeline on generated logs (tens of seconds): `make test-fast` leaves them out
pytestmark = pytest.mark.slow

#: measured on this log: 87% of the texts two nights share keep their cluster id (24 clusters of ~230 new)
SAME_CLUSTER_SHARE = 0.8


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
    diffs, written = {}, []
    for f in files:
        report = run(RunConfig(inputs=[f], accounts=log / "accounts.jsonl", store=store, quiet=True))
        written.append(report.bytes_written)
        tables = Tables(Store(store).require())
        diffs[f.stem.removeprefix("prompts-")] = diff_events(tables.events(), tables.run_ids())
    return {"log": log, "files": files, "store": store, "truth": truth, "diffs": diffs, "written": written}


def test_each_night_writes_its_own_partition_and_lists_the_earlier_ones(nights) -> None:
    store = Store(nights["store"])
    snap = store.require()
    listed = [p["file"] for p in snap.parts["prompts"]]
    assert len(listed) == len(nights["files"])  # one partition per night, none rewritten
    parent = store.snapshot(snap.meta()["parent"])
    assert [p["file"] for p in parent.parts["prompts"]] == listed[:-1]
    assert sum(p["rows"] for p in snap.parts["prompts"]) == Tables(snap).prompts().num_rows
    # what the last night wrote is its own prompts and texts plus the per-night tables, not the history
    history_bytes = sum(p["bytes"] for p in snap.parts["prompts"]) + sum(s["bytes"] for s in snap.parts["texts"])
    assert nights["written"][-1] < history_bytes
    on_disk = {p.relative_to(store.root / "parts").as_posix() for p in (store.root / "parts").rglob("*.*")}
    from engine.store.parts import referenced

    assert on_disk == referenced(snap.meta()) | referenced(parent.meta())  # nothing unreferenced is left behind


def _flagged(snap) -> list[dict]:
    """account_id and campaign_id of the flagged accounts."""
    return [
        r for r in Tables(snap).accounts().select(["account_id", "campaign_id", "flagged"]).to_pylist() if r["flagged"]
    ]


def _campaign_of_group(snap, truth, group) -> Counter:
    return Counter(r["campaign_id"] for r in _flagged(snap) if truth.get(r["account_id"]) == group)


def test_campaigns_keep_one_id_across_nights(nights) -> None:
    snap = Store(nights["store"]).require()
    for group in ("cot-harvest", "rubric-grader", "instruction-harvest", "tool-use-sweep"):
        ids = _campaign_of_group(snap, nights["truth"], group)
        assert ids, f"{group} not flagged"
        cid, n = ids.most_common(1)[0]
        assert n / sum(ids.values()) >= 0.9
        events = [e for night in nights["diffs"].values() for e in night if e["campaign_id"] == cid]
        assert sum(e["event"] == "new" for e in events) == 1, f"{group} reported new more than once: {events}"
        nights_seen = Tables(snap).nights(cid)["night"].to_pylist()
        assert len(nights_seen) >= 3


def _group_of(snap, truth, cid) -> str:
    members = Tables(snap).history(cid)["member_ids"][0].as_py()
    return Counter(truth.get(a) for a in members).most_common(1)[0][0]


def test_diff_reports_new_and_quiet_campaigns(nights) -> None:
    snap = Store(nights["store"]).require()
    night4 = nights["diffs"]["2026-11-23"]  # refusal-probe starts on day 3 (0-based) = 2026-11-23
    new = {_group_of(snap, nights["truth"], e["campaign_id"]) for e in night4 if e["event"] == "new"}
    assert "refusal-probe" in new
    quiet = {_group_of(snap, nights["truth"], e["campaign_id"]) for e in night4 if e["event"] == "quiet"}
    assert "tool-use-sweep" in quiet  # active on days 0-2 only
    history = {r["campaign_id"]: r for r in Tables(snap).history().to_pylist()}
    assert any(
        _group_of(snap, nights["truth"], c) == "tool-use-sweep" and h["status"] == "quiet" for c, h in history.items()
    )


def _verdicts(snap):
    """account_id, campaign_id and flagged of every account, by account id."""
    return Tables(snap).accounts().select(["account_id", "campaign_id", "flagged"]).sort_by("account_id")


def test_repeated_night_changes_nothing(nights) -> None:
    store = Store(nights["store"])
    before = _verdicts(store.require())
    n_before = Tables(store.require()).prompts().num_rows
    report = run(
        RunConfig(
            inputs=[nights["files"][2]], accounts=nights["log"] / "accounts.jsonl", store=nights["store"], quiet=True
        )
    )
    assert report.accepted == 0 and report.new_embeddings == 0
    snap = store.require()
    tables = Tables(snap)
    assert tables.prompts().num_rows == n_before
    assert _verdicts(snap).equals(before)
    assert not [e for e in diff_events(tables.events(), tables.run_ids()) if e["event"] == "new"]


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

    def prompt_ids(snap) -> list[str]:
        return sorted(Tables(snap).prompts()["prompt_id"].to_pylist())

    assert prompt_ids(a) == prompt_ids(b)

    def partition(snap) -> set[frozenset[str]]:
        groups: dict[str, set[str]] = {}
        for r in _flagged(snap):
            groups.setdefault(r["campaign_id"], set()).add(r["account_id"])
        return {frozenset(g) for g in groups.values()}

    assert partition(a) == partition(b)


def test_prune_drops_prompts_and_keeps_history(nights, tmp_path: Path) -> None:
    import shutil

    store = tmp_path / "store"
    shutil.copytree(nights["store"], store)
    hist_before = sorted(Tables(Store(store).require()).history()["campaign_id"].to_pylist())
    from datetime import datetime, timezone

    cut = datetime(2026, 11, 22, tzinfo=timezone.utc)
    report = run(RunConfig(inputs=[], store=store, prune_before=cut, quiet=True))
    tables = Tables(Store(store).require())
    assert report.pruned > 0
    assert pc.min(tables.prompts()["timestamp"]).as_py() >= cut
    listed = tables.snap.parts["prompts"]
    assert all(p["min_ts"] >= cut.timestamp() for p in listed)  # older partitions dropped, the straddling one cut
    assert len(listed) < len(nights["files"])
    assert sorted(tables.history()["campaign_id"].to_pylist()) == hist_before
    known = set(hist_before)
    flagged_ids = set(tables.campaigns(flagged_only=True)["campaign_id"].to_pylist())
    assert flagged_ids and flagged_ids <= known  # the pruned store still names campaigns by their stable ids


def test_cluster_and_topic_ids_carry_over_from_the_night_before(nights) -> None:
    """A text that stays in the same group keeps its cluster id: the ids are the ones last night's summaries,
    exports and campaigns used, and an id that ends is never handed out again (engine.vectors.lineage)."""
    store = Store(nights["store"])
    snap = store.require()
    parent = store.snapshot(snap.meta()["parent"])

    def by_key(s) -> dict[bytes, int]:
        t = s.query("SELECT text_key, cluster_id FROM text_labels")
        return dict(zip(t["text_key"].to_pylist(), t["cluster_id"].to_pylist(), strict=True))

    now, then = by_key(snap), by_key(parent)
    shared = [k for k in now if k in then and now[k] >= 0 and then[k] >= 0]
    same = sum(now[k] == then[k] for k in shared) / len(shared)
    old_ids = set(then.values())
    new_ids = {c for c in now.values() if c >= 0} - old_ids
    assert len(shared) > 500 and same > SAME_CLUSTER_SHARE
    assert min(new_ids, default=parent.meta()["next_cluster_id"]) >= parent.meta()["next_cluster_id"]
    topics = Tables(snap).topics()
    clusters = Tables(snap).clusters()
    assert set(clusters["cluster_id"].to_pylist()) == {c for c in now.values() if c >= 0}
    assert {c for row in topics["clusters"].to_pylist() for c in row} == set(clusters["cluster_id"].to_pylist())

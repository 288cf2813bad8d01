"""End-to-end: the nightly job on a small generated log, the store it leaves, and the CLI over it."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest

from engine.app.cli import main
from engine.app.query import Searcher
from engine.pipeline import InjectedFailure, RunConfig, run
from engine.store import Store
from engine.store.tables import Tables
from tests.conftest import ROOT, read_jsonl

#: the demo generator's planted extraction campaigns (Account.group in scripts/make_demo_log.py)
PLANTED = ("reasoning-harvest", "grader-sweep")


def demo_groups(seed: int = 0, scale: float = 0.3) -> dict[str, str]:
    """account_id -> population (ordinary, coding-agent, saas, eval, reasoning-harvest, grader-sweep) of the demo log
    that conftest's ``demo_log`` writes (its seed and scale), from the generator itself: the demo has no truth file."""
    path = ROOT / "scripts" / "make_demo_log.py"
    spec = importlib.util.spec_from_file_location("make_demo_log_for_tests", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the file runs
    try:
        spec.loader.exec_module(module)
        gen = module.Generator(seed, scale)
        gen.build()
    finally:
        del sys.modules[spec.name]
    return {a.account_id: a.group for a in gen.accounts}


@pytest.fixture(scope="module")
def stored(demo_log, tmp_path_factory) -> dict:
    """The nightly job on the demo's chat requests (``prompts``: the same requests as flat rows, same ids)."""
    store = tmp_path_factory.mktemp("store")
    report = run(RunConfig(inputs=[demo_log["requests"]], accounts=demo_log["accounts"], store=store, quiet=True))
    return {"store": store, "report": report, **demo_log}


def test_run_accepts_everything(stored) -> None:
    r = stored["report"]
    rows = read_jsonl(stored["prompts"])
    assert r.accepted == len(rows) and r.quarantined == 0
    assert r.texts <= len(rows) and r.clusters > 0
    for stage in ("ingest", "normalize", "templates", "minhash", "embed", "index", "cluster", "score", "commit"):
        assert stage in r.timings


def test_the_planted_campaigns_and_only_they_are_flagged(stored) -> None:
    groups = demo_groups()
    assert set(groups) == {a["account_id"] for a in read_jsonl(stored["accounts"])}, "demo_groups drifted from conftest"
    planted = {a for a, g in groups.items() if g in PLANTED}
    tables = Tables(Store(stored["store"]).require())
    flagged = {a["account_id"]: a["campaign_id"] for a in tables.accounts().to_pylist() if a["flagged"]}
    assert set(flagged) == planted, {a: groups.get(a) for a in set(flagged) ^ planted}
    # one engine campaign per planted campaign, none shared
    by_group = {g: Counter(c for a, c in flagged.items() if groups[a] == g) for g in PLANTED}
    assert all(len(ids) == 1 for ids in by_group.values()), by_group
    ids = [next(iter(c)) for c in by_group.values()]
    assert len(set(ids)) == len(PLANTED)
    assert sorted(tables.campaigns(flagged_only=True)["campaign_id"].to_pylist()) == sorted(ids)
    r = stored["report"]
    assert r.campaigns == len(PLANTED) and r.flagged_accounts == len(planted)


def test_the_harvest_is_found_for_what_it_asks(stored) -> None:
    """The demo's first campaign is a sweep: many distinct questions across capability areas, each sent by about one
    account, with requests for reasoning. Its content evidence carries it, not only its sign-ups and clocks, and no
    reason calls its questions one shared pool; the grader sweep's content counts too."""
    groups = demo_groups()
    camps = Tables(Store(stored["store"]).require()).campaigns(flagged_only=True).to_pylist()
    by_group = {Counter(groups[a] for a in c["member_ids"]).most_common(1)[0][0]: c for c in camps}
    assert set(by_group) == set(PLANTED), by_group.keys()
    for group, least in (("reasoning-harvest", 0.3), ("grader-sweep", 0.2)):
        c = by_group[group]
        ev, reasons = json.loads(c["evidence"]), json.loads(c["reasons"])
        assert ev["carried"]["content"] >= least, (group, ev["carried"], reasons)
        assert not any("one shared pool" in r for r in reasons), (group, reasons)
    harvest = json.loads(by_group["reasoning-harvest"]["evidence"])
    assert harvest["distinct"] >= 0.8 and harvest["shared_pool"] < 0.05, harvest
    assert sum(v > 0 for v in json.loads(by_group["reasoning-harvest"]["areas"]).values()) >= 5


def test_flat_demo_rows_are_what_promptsim_reads_from_the_requests(stored) -> None:
    """``make_demo_log.py --format flat`` writes, for the same requests, the id, account, time, text and client that
    ingest reads from each chat request (system prompt + newest user turn, or ``[tool NAME] result``)."""
    from engine.ingest.envelopes import Reader

    chat, flat = read_jsonl(stored["requests"]), read_jsonl(stored["prompts"])
    reader = Reader()
    assert reader.looks_valid(chat[0]) and reader.envelope.name == "openai"
    kinds, with_system = Counter(), 0
    for request, row in zip(chat, flat, strict=True):
        (got,) = reader.records(request)
        assert {k: got[k] for k in ("prompt_id", "account_id", "text", "model", "ip_asn", "user_agent")} == {
            k: row[k] for k in ("prompt_id", "account_id", "text", "model", "ip_asn", "user_agent")
        }
        assert got["timestamp"] == datetime.fromisoformat(row["timestamp"].replace("Z", "+00:00")).timestamp()
        kinds[got["chat"]["kind"], got["chat"]["earlier_turns"] > 0, bool(got["chat"]["tools"])] += 1
        with_system += got["chat"]["system_hash"] is not None
    # the demo's structure is there: conversations, agent steps, tool-use probes with their tools, system prompts
    assert kinds["user", True, False] and kinds["tool_result", True, True] and kinds["user", False, True], kinds
    assert with_system > 0


def test_same_log_again_adds_and_embeds_nothing(stored) -> None:
    again = run(RunConfig(inputs=[stored["requests"]], accounts=stored["accounts"], store=stored["store"], quiet=True))
    assert again.accepted == 0 and again.already_stored == stored["report"].accepted
    assert again.new_embeddings == 0
    assert again.prompts_in_store == stored["report"].prompts_in_store


def test_similar_returns_the_planted_duplicate_first(stored, tmp_path) -> None:
    # plant a near copy of a prompt whose text is sent once, under a new id and account, on a later night; no other
    # prompt can then be closer than the copy, so it must come first
    rows = read_jsonl(stored["prompts"])
    counts = Counter(r["text"] for r in rows)
    orig = next(r for r in rows if len(r["text"].split()) > 12 and counts[r["text"]] == 1)
    dup = dict(orig, prompt_id="planted-dup", account_id="acct_planted", text=orig["text"] + " thanks")
    extra = tmp_path / "extra.jsonl"
    extra.write_text(json.dumps(dup) + "\n")
    run(RunConfig(inputs=[extra], store=stored["store"], quiet=True))
    res = Searcher(Store(stored["store"]).require()).similar(orig["prompt_id"], k=5)
    first = res.near_duplicates[0]
    assert (first.prompt_id, first.account_id) == ("planted-dup", "acct_planted"), res.near_duplicates
    assert 0.8 <= first.score < 1.0  # one word added: nearly, not exactly, the same text
    assert all(n.score <= first.score for n in res.near_duplicates)
    assert res.semantic and all(-1.0 <= n.score <= 1.0 for n in res.semantic)


@pytest.mark.parametrize("stage", ["embed", "score", "commit-tables"])
def test_failure_mid_run_leaves_the_store_intact(stored, tmp_path, stage) -> None:
    store = Store(stored["store"])
    before = store.require().name
    n_before = Tables(store.require()).prompts().num_rows
    extra = tmp_path / "night2.jsonl"
    extra.write_text(
        json.dumps(
            {
                "prompt_id": f"new-{stage}",
                "account_id": "a1",
                "timestamp": "2026-11-22T10:00:00Z",
                "text": "a brand new prompt about gardening in winter",
            }
        )
        + "\n"
    )
    with pytest.raises(InjectedFailure):
        run(RunConfig(inputs=[extra], store=stored["store"], quiet=True, fail_after=stage))
    snap = store.require()
    assert snap.name == before
    assert Tables(snap).prompts().num_rows == n_before
    assert not any(p.name.startswith(".tmp") for p in (Path(stored["store"]) / "snapshots").iterdir())


def test_cli_commands(stored, tmp_path, capsys) -> None:
    s = ["--store", str(stored["store"])]
    assert main(["campaigns", *s]) == 0
    assert "score" in capsys.readouterr().out
    assert main(["campaigns", "--all", "--json", *s]) == 0
    captured = capsys.readouterr()
    assert captured.out.strip(), captured.err
    camps = json.loads(captured.out)
    assert camps and {"campaign_id", "score", "reasons"} <= set(camps[0])
    assert main(["campaign", camps[0]["campaign_id"], *s]) == 0
    assert "evidence" in capsys.readouterr().out
    assert main(["clusters", "--limit", "3", *s]) == 0
    capsys.readouterr()
    assert main(["clusters", "--topics", "--json", *s]) == 0
    topics = json.loads(capsys.readouterr().out)
    assert topics and all(t["clusters"] for t in topics)
    assert main(["clusters", "--topics", *s]) == 0 and "clusters" in capsys.readouterr().out
    assert main(["runs", *s]) == 0
    assert "accepted" in capsys.readouterr().out
    pid = read_jsonl(stored["prompts"])[0]["prompt_id"]
    assert main(["similar", pid, "-k", "3", "--json", *s]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["query"]["prompt_id"] == pid and "semantic" in out
    acct = read_jsonl(stored["prompts"])[0]["account_id"]
    assert main(["account", acct, *s]) == 0
    for fmt in ("csv", "parquet", "json"):
        assert main(["export", "--out", str(tmp_path / fmt), "--format", fmt, *s]) == 0
        assert (tmp_path / fmt / "accounts.csv").exists() and (tmp_path / fmt / "campaigns.json").exists()
    header = (tmp_path / "csv" / "accounts.csv").read_text().splitlines()[0]
    assert header.startswith('"account_id","score","campaign_id","flagged"')


def test_cli_errors_are_one_line(tmp_path, capsys) -> None:
    bad = tmp_path / "page.jsonl"
    bad.write_text("<html><body>502 Bad Gateway</body></html>\n")
    assert main(["run", "--input", str(bad), "--store", str(tmp_path / "s"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "page.jsonl" in err and "Traceback" not in err
    assert main(["campaigns", "--store", str(tmp_path / "none")]) == 2
    assert main(["similar", "no-such-id", "--store", str(tmp_path / "none")]) == 2

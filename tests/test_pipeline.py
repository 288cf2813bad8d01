"""End-to-end: the nightly job on a small generated log, the store it leaves, and the CLI over it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.app.cli import main
from engine.app.query import Searcher
from engine.pipeline import InjectedFailure, RunConfig, run
from engine.store import Store
from tests.conftest import read_jsonl


@pytest.fixture(scope="module")
def stored(demo_log, tmp_path_factory) -> dict:
    store = tmp_path_factory.mktemp("store")
    report = run(RunConfig(inputs=[demo_log["prompts"]], accounts=demo_log["accounts"], store=store, quiet=True))
    return {"store": store, "report": report, **demo_log}


def test_run_accepts_everything_and_finds_campaigns(stored) -> None:
    r = stored["report"]
    rows = read_jsonl(stored["prompts"])
    assert r.accepted == len(rows) and r.quarantined == 0
    assert r.texts <= len(rows) and r.clusters > 0
    assert r.campaigns >= 1 and r.flagged_accounts > 0
    for stage in ("ingest", "normalize", "templates", "minhash", "embed", "index", "cluster", "score", "commit"):
        assert stage in r.timings


def test_same_log_again_adds_and_embeds_nothing(stored) -> None:
    again = run(RunConfig(inputs=[stored["prompts"]], accounts=stored["accounts"], store=stored["store"], quiet=True))
    assert again.accepted == 0 and again.already_stored == stored["report"].accepted
    assert again.new_embeddings == 0
    assert again.prompts_in_store == stored["report"].prompts_in_store


def test_similar_returns_the_planted_duplicate_first(stored, tmp_path) -> None:
    # plant a copy of a stored prompt under a new id and account, then ask for the original's neighbours
    rows = read_jsonl(stored["prompts"])
    orig = next(r for r in rows if len(r["text"].split()) > 12)
    dup = dict(orig, prompt_id="planted-dup", account_id="acct_planted", text=orig["text"] + " thanks")
    extra = tmp_path / "extra.jsonl"
    extra.write_text(json.dumps(dup) + "\n")
    run(RunConfig(inputs=[extra], store=stored["store"], quiet=True))
    res = Searcher(Store(stored["store"]).require()).similar(orig["prompt_id"], k=5)
    assert res.near_duplicates and res.near_duplicates[0].prompt_id in {"planted-dup"} | {
        n.prompt_id for n in res.near_duplicates if n.score == 1.0
    }
    assert "planted-dup" in [n.prompt_id for n in res.near_duplicates]
    assert res.semantic and all(-1.0 <= n.score <= 1.0 for n in res.semantic)


@pytest.mark.parametrize("stage", ["embed", "score", "commit-tables"])
def test_failure_mid_run_leaves_the_store_intact(stored, tmp_path, stage) -> None:
    store = Store(stored["store"])
    before = store.require().name
    n_before = store.require().query("SELECT count(*) AS n FROM prompts")["n"][0].as_py()
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
    assert snap.query("SELECT count(*) AS n FROM prompts")["n"][0].as_py() == n_before
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

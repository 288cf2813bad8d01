"""Exports, the markdown report and the CLI's read commands, checked against the store they were made from.

Each check compares what was written or printed with the store's own tables (read through ``Tables``), so an
export that drops rows, a report that misses a campaign or a command that prints the wrong account fails here.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from engine.app.cli import main
from engine.app.report import ACCOUNT_EXPORT, export, markdown_report
from engine.pipeline import RunConfig, run
from engine.store import Store
from engine.store.tables import Tables

#: what ../shared/bench/score.py reads from accounts.csv
SCORE_COLUMNS = ("account_id", "score", "campaign_id", "flagged")
TABLE_FILES = (
    "topics",
    "clusters",
    "memberships",
    "campaigns",
    "campaign_history",
    "campaign_nights",
    "campaign_events",
)


@pytest.fixture(scope="module")
def store(demo_log, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("report") / "store"
    run(RunConfig(inputs=[demo_log["prompts"]], accounts=demo_log["accounts"], store=path, quiet=True))
    return path


@pytest.fixture(scope="module")
def tables(store) -> Tables:
    return Tables(Store(store).require())


@pytest.fixture(scope="module")
def exported(store, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("export")
    export(Store(store).require(), out, "csv")
    return out


def _flagged_ids(tables: Tables) -> list[str]:
    return tables.campaigns(flagged_only=True)["campaign_id"].to_pylist()


@pytest.mark.parametrize("fmt", ["csv", "parquet", "json"])
def test_export_writes_every_file(store, tables, tmp_path, fmt) -> None:
    files = export(Store(store).require(), tmp_path, fmt)
    fixed = {"accounts.csv", "campaigns.json", "report.md"}  # whatever the format: score.py and people read these
    assert len(files) == len(set(files)) == len(TABLE_FILES) + len(fixed), [f.name for f in files]
    assert {p.name for p in tmp_path.iterdir()} == {f.name for f in files}
    assert fixed <= {f.name for f in files} and all(f.stat().st_size > 0 for f in files)
    tables_written = [f for f in files if f.name not in fixed]
    assert sorted(f.stem for f in tables_written) == sorted(TABLE_FILES)
    if fmt != "json":
        assert {f.name for f in tables_written} == {f"{name}.{fmt}" for name in TABLE_FILES}
    if fmt == "parquet":
        assert pq.read_table(tmp_path / "memberships.parquet").num_rows == tables.memberships().num_rows
        assert pq.read_table(tmp_path / "campaigns.parquet").num_rows == tables.campaigns().num_rows


def test_export_rejects_an_unknown_format(store, tmp_path) -> None:
    with pytest.raises(ValueError, match="format must be one of"):
        export(Store(store).require(), tmp_path, "xlsx")


def test_accounts_csv_has_one_row_per_account_with_the_columns_score_py_reads(exported, tables) -> None:
    with open(exported / "accounts.csv", newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == ACCOUNT_EXPORT and tuple(reader.fieldnames[:4]) == SCORE_COLUMNS
        rows = list(reader)
    ids = [r["account_id"] for r in rows]
    verdicts = {r["account_id"]: r for r in tables.accounts().to_pylist()}
    assert len(ids) == len(set(ids)) == len(verdicts) and set(ids) == set(verdicts)
    assert set(tables.window()["account_id"].to_pylist()) <= set(ids)  # every account that sent a prompt
    for r in rows:
        v = verdicts[r["account_id"]]
        assert float(r["score"]) == pytest.approx(v["score"]) and 0.0 <= float(r["score"]) <= 1.0
        assert r["flagged"] in ("true", "false") and (r["flagged"] == "true") == v["flagged"]
        # score.py takes a non-empty campaign_id as "flagged in that campaign"
        assert bool(r["campaign_id"]) == v["flagged"] and r["campaign_id"] == (v["campaign_id"] or "")
    assert sum(r["flagged"] == "true" for r in rows) > 0
    assert [r["account_id"] for r in rows] == list(verdicts)  # most suspicious first, as the store ranks them


def test_campaigns_json_lists_exactly_the_flagged_campaigns(exported, tables) -> None:
    camps = json.loads((exported / "campaigns.json").read_text(encoding="utf-8"))
    flagged = _flagged_ids(tables)
    assert flagged and [c["campaign_id"] for c in camps] == flagged
    accounts = tables.accounts().to_pylist()
    for c in camps:
        row = tables.campaign(c["campaign_id"])
        # ``accounts`` counts the whole cohort; ``members`` are the accounts typical enough of it to be flagged
        assert c["members"] == row["member_ids"] and c["accounts"] == row["accounts"] >= len(c["members"])
        assert c["reasons"] == json.loads(row["reasons"]) and c["reasons"]
        assert c["status"] in {"new", "growing", "steady", "fading", "quiet"} and c["history"]
        assert sum(n["prompts"] for n in c["history"]) <= c["prompts"]
        assert {a["account_id"] for a in accounts if a["campaign_id"] == c["campaign_id"]} == set(c["members"])


def test_markdown_report_names_each_flagged_campaign(exported, tables, store) -> None:
    md = (exported / "report.md").read_text(encoding="utf-8")
    assert md == markdown_report(Store(store).require())
    headed = re.findall(r"^### (\S+): score", md, flags=re.M)
    assert headed == _flagged_ids(tables)
    assert f"## {len(headed)} suspected extraction campaigns" in md
    unflagged = [c for c in tables.campaigns().to_pylist() if not c["flagged"]]
    for c in unflagged[:15]:
        assert f"- {c['campaign_id']} (" in md and f"### {c['campaign_id']}" not in md


def test_cli_clusters_prints_the_largest_clusters(store, tables, capsys) -> None:
    assert main(["clusters", "--limit", "3", "--store", str(store)]) == 0
    out = capsys.readouterr().out.splitlines()
    expected = tables.clusters(limit=3).to_pylist()
    assert out[0].split()[:5] == ["cluster", "topic", "prompts", "texts", "accounts"]
    printed = [line.split() for line in out[1:] if re.match(r"^\s+-?\d+\s+\d+\s+[\d,]+\s", line)]
    assert [(int(p[0]), int(p[1]), int(p[2].replace(",", ""))) for p in printed] == [
        (c["cluster_id"], c["topic_id"], c["prompts"]) for c in expected
    ]
    assert expected[0]["prompts"] >= expected[-1]["prompts"]
    for c in expected:
        assert ", ".join(c["top_terms"][:6]) in "\n".join(out)
    assert main(["clusters", "--limit", "2", "--json", "--store", str(store)]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["cluster_id"] for r in rows] == [c["cluster_id"] for c in expected[:2]]


def test_cli_account_prints_that_account(store, tables, capsys) -> None:
    accounts = tables.accounts().to_pylist()
    flagged = next(a for a in accounts if a["flagged"])
    quiet = next(a for a in reversed(accounts) if not a["flagged"])
    assert main(["account", flagged["account_id"], "--store", str(store)]) == 0
    out = capsys.readouterr().out
    first = out.splitlines()[0]
    assert first.startswith(f"account {flagged['account_id']}  score {flagged['score']:.2f}")
    assert f"FLAGGED in {flagged['campaign_id']}" in first
    assert re.search(rf"^\s+prompts\s+{flagged['prompts']}$", out, flags=re.M)
    assert re.search(rf"^\s+payment_fp\s+{re.escape(str(flagged['payment_fp']))}$", out, flags=re.M)
    for reason in json.loads(flagged["reasons"]):
        assert f"  - {reason}" in out
    assert main(["account", quiet["account_id"], "--store", str(store)]) == 0
    assert "not flagged" in capsys.readouterr().out.splitlines()[0]
    assert main(["account", quiet["account_id"], "--json", "--store", str(store)]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["account_id"] == quiet["account_id"] and got["flagged"] is False
    assert main(["account", "acct_nobody", "--store", str(store)]) == 2
    assert "no account 'acct_nobody'" in capsys.readouterr().err

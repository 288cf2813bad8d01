"""Every log runs: small, degenerate and odd logs never crash a night.

The first thing a team does with promptsim is run it on a small sample of its own log. Each night here is the whole
pipeline, in-process, over a log cut from ``public.json``'s generated log (the rows a user would have) or changed
to one degenerate shape. What is right, decided here: a night either completes with every score, strength and
evidence figure finite in every table and every export, and a non-empty report, or it stops with one line that
names the cause (``InputError``) and leaves the store as it was. Nothing in between: no traceback, no NaN.

* the size sweep: the first 1 ... 5,000 rows, with and without the account table (500-2,000 rows crashed in
  ``profiles._log_density`` on a NaN bandwidth: no account of so small a log was busy enough to show a clock);
* named degenerate logs: one account, one model, one timestamp, timestamps rounded to the hour or the day, an
  account table without ``created_at`` / ``org_id`` / ``payment_fp``, one text for every row, every text
  different, one-character texts, a 10 MB text, a script no marker knows, a night of only quarantined rows;
* hypothesis draws logs that mix those shapes at random sizes.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.app.cli import main
from engine.app.report import export
from engine.detect.settings import DetectSettings
from engine.ingest.records import InputError
from engine.pipeline import RunConfig, run
from engine.store import Store
from engine.store.tables import Tables
from tests.conftest import read_jsonl

pytestmark = pytest.mark.slow

SIZES = (1, 10, 100, 500, 1000, 2000, 5000)


@pytest.fixture(scope="module")
def source(shared_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict]]:
    """The first 6,000 rows of public.json's log and its whole account table: the sample a new user would cut."""
    out = tmp_path_factory.mktemp("public")
    subprocess.run(
        [sys.executable, str(shared_dir / "bench" / "make_logs.py"), str(shared_dir / "bench" / "public.json"),
         str(out)],
        check=True, capture_output=True,
    )  # fmt: skip
    with open(out / "prompts.jsonl", encoding="utf-8") as f:
        rows = [json.loads(next(f)) for _ in range(6000)]
    return {"rows": rows, "accounts": read_jsonl(out / "accounts.jsonl")}


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _float_columns(tbl: pa.Table) -> list[str]:
    return [f.name for f in tbl.schema if pa.types.is_floating(f.type)]


def assert_night_is_sound(store: Path, work: Path) -> None:
    """Every float in the stored tables is finite (or null), every export is free of NaN / Infinity, every evidence
    record parses as strict JSON, and the html report has a body."""
    snap = Store(store).require()
    tables = Tables(snap)
    for name in ("accounts", "campaigns", "clusters", "memberships", "history", "nights"):
        tbl = getattr(tables, name)()
        for col in _float_columns(tbl):
            v = tbl[col].to_numpy(zero_copy_only=False).astype(np.float64)
            v = v[~np.isnan(v)] if tbl[col].null_count else v
            assert np.isfinite(v).all(), f"{name}.{col} has non-finite values"
    flag_score = DetectSettings().flag_score
    for row in tables.campaigns().to_pylist():
        for field in ("evidence", "reasons", "mitigations", "areas"):
            json.loads(row[field], parse_constant=lambda c, f=field: pytest.fail(f"campaign {f} holds {c}"))
        if row["score"] >= flag_score and not row["flagged"]:  # scores as a campaign, is not one: it says why
            assert any("typical of it" in m for m in json.loads(row["mitigations"])), row["mitigations"]
    for fmt in ("json", "csv"):
        for f in export(snap, work / f"export-{fmt}", fmt):
            text = Path(f).read_text(encoding="utf-8")
            assert "NaN" not in text and "Infinity" not in text, f"{f.name} holds a non-finite number"
    (report,) = export(snap, work / "html", "html")
    html = report.read_text(encoding="utf-8")
    assert "<body" in html and len(html) > 1000 and "NaN" not in html


def night(rows: list[dict], accounts: list[dict] | None, work: Path, store: Path | None = None):  # noqa: ANN201
    """One nightly run over ``rows`` (and ``accounts``) into ``store`` (default: a new one under ``work``)."""
    work.mkdir(parents=True, exist_ok=True)
    prompts = _write(work / "prompts.jsonl", rows)
    acc = _write(work / "accounts.jsonl", accounts) if accounts is not None else None
    store = store or work / "store"
    report = run(RunConfig(inputs=[prompts], accounts=acc, store=store, quiet=True))
    assert_night_is_sound(store, work)
    return report, store


@pytest.mark.parametrize("with_accounts", [False, True], ids=["log only", "with account table"])
@pytest.mark.parametrize("n", SIZES)
def test_size_sweep(source: dict, n: int, with_accounts: bool, tmp_path: Path) -> None:
    rows = source["rows"][:n]
    report, _ = night(rows, source["accounts"] if with_accounts else None, tmp_path)
    assert report.accepted == n and report.quarantined == 0


# -- named degenerate logs ---------------------------------------------------------------------------------------


def _unknown_script(i: int) -> str:
    """A text in Georgian letters: a script no marker, area exemplar or stop-word list knows."""
    r = random.Random(i)
    return " ".join("".join(chr(r.randint(0x10D0, 0x10F0)) for _ in range(r.randint(2, 9))) for _ in range(12))


def _drop(field: str) -> Callable[[list[dict]], list[dict]]:
    return lambda accounts: [{k: v for k, v in a.items() if k != field} for a in accounts]


TEN_MB = "lorem ipsum dolor sit amet " * (10_000_000 // 27)
#: name -> (change to the rows, change to the account table or None for none)
CASES: dict[str, tuple[Callable[[list[dict]], list[dict]], Callable[[list[dict]], list[dict]] | None]] = {
    "one account": (lambda rs: [dict(r, account_id="acct_only") for r in rs], None),
    "two accounts": (lambda rs: [dict(r, account_id=f"acct_{i % 2}") for i, r in enumerate(rs)], lambda a: a),
    "one model": (lambda rs: [dict(r, model="m-1") for r in rs], lambda a: a),
    "no model field": (lambda rs: [{k: v for k, v in r.items() if k != "model"} for r in rs], lambda a: a),
    "one timestamp": (lambda rs: [dict(r, timestamp="2026-11-20T12:00:00Z") for r in rs], lambda a: a),
    "timestamps to the hour": (lambda rs: [dict(r, timestamp=r["timestamp"][:13] + ":00:00Z") for r in rs], None),
    "timestamps to the day": (lambda rs: [dict(r, timestamp=r["timestamp"][:10] + "T00:00:00Z") for r in rs], None),
    "accounts without created_at": (lambda rs: rs, _drop("created_at")),
    "accounts without org_id": (lambda rs: rs, _drop("org_id")),
    "accounts without payment_fp": (lambda rs: rs, _drop("payment_fp")),
    "accounts with ids only": (lambda rs: rs, lambda a: [{"account_id": x["account_id"]} for x in a]),
    "one text": (lambda rs: [dict(r, text="What is the capital of France?") for r in rs], lambda a: a),
    "every text different": (
        lambda rs: [dict(r, text=f"item {i}: {r['text']} (variant {i * 7919 % 1009})") for i, r in enumerate(rs)],
        None,
    ),
    "one-character texts": (lambda rs: [dict(r, text="ab?!1é中"[i % 7]) for i, r in enumerate(rs)], lambda a: a),
    "a 10 MB text": (lambda rs: [dict(r, text=TEN_MB) if i == 7 else r for i, r in enumerate(rs)], lambda a: a),
    "a script no marker knows": (lambda rs: [dict(r, text=_unknown_script(i)) for i, r in enumerate(rs)], lambda a: a),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_degenerate_log_runs(source: dict, case: str, tmp_path: Path) -> None:
    change_rows, change_accounts = CASES[case]
    rows = change_rows([dict(r) for r in source["rows"][:1500]])
    accounts = change_accounts([dict(a) for a in source["accounts"]]) if change_accounts else None
    report, _ = night(rows, accounts, tmp_path)
    assert report.accepted == len(rows)


def test_a_first_night_of_only_bad_rows_stops_with_one_line_and_writes_nothing(tmp_path: Path, capsys) -> None:
    rows = [{"prompt_id": f"p{i}", "account_id": "a", "timestamp": "not a time", "text": "hi"} for i in range(5)]
    rows.append({"prompt_id": "q", "account_id": "a", "timestamp": "2026-11-20T00:00:00Z", "text": 7})
    log = _write(tmp_path / "bad.jsonl", rows)
    assert main(["run", "--input", str(log), "--store", str(tmp_path / "store"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no valid prompt row" in err[0] and "6 rows quarantined" in err[0], err
    assert "bad_timestamp 5" in err[0] and "quarantine" in err[0]
    assert Store(tmp_path / "store").current() is None


def test_a_later_night_of_only_bad_rows_runs_on_the_stored_window(source: dict, tmp_path: Path) -> None:
    first, store = night(source["rows"][:800], None, tmp_path / "n1")
    bad = [{"prompt_id": f"x{i}", "account_id": "a", "timestamp": "yesterday", "text": "hi"} for i in range(3)]
    with pytest.raises(InputError):  # nothing at all to read in it: a broken file, not a quiet night
        night([{"nothing": 1}], None, tmp_path / "n2", store)
    second, _ = night(bad, None, tmp_path / "n3", store)
    assert second.accepted == 0 and second.quarantined == 3
    assert second.prompts_in_window == first.prompts_in_window


# -- hypothesis: logs that mix the shapes above -----------------------------------------------------------------


@st.composite
def logs(draw: st.DrawFn) -> dict:
    """A log's shape: its size (1 to 5,000, most of them small), accounts, clock, models, texts, account table."""
    return {
        "n": draw(st.one_of(st.integers(1, 60), st.integers(61, 800), st.sampled_from([2000, 5000]))),
        "accounts": draw(st.sampled_from(["as logged", "one", "three", "one per row"])),
        "clock": draw(st.sampled_from(["as logged", "one instant", "hour", "day"])),
        "model": draw(st.sampled_from(["as logged", "one", "none"])),
        "texts": draw(st.sampled_from(["as logged", "one", "distinct", "one character", "unknown script", "mixed"])),
        "table": draw(st.sampled_from(["none", "full", "no created_at", "no org_id", "no payment_fp", "ids only"])),
        "seed": draw(st.integers(0, 2**16)),
    }


def _shape(rows: list[dict], shape: dict) -> list[dict]:
    r = random.Random(shape["seed"])
    rows = [dict(x) for x in r.sample(rows, shape["n"])] if shape["n"] < len(rows) else [dict(x) for x in rows]
    rows.sort(key=lambda x: x["timestamp"])
    for i, row in enumerate(rows):
        row["account_id"] = {"as logged": row["account_id"], "one": "acct_1", "three": f"acct_{i % 3}",
                             "one per row": f"acct_r{i}"}[shape["accounts"]]  # fmt: skip
        ts = row["timestamp"]
        row["timestamp"] = {"as logged": ts, "one instant": "2026-11-20T12:00:00Z", "hour": ts[:13] + ":00:00Z",
                            "day": ts[:10] + "T00:00:00Z"}[shape["clock"]]  # fmt: skip
        if shape["model"] == "one":
            row["model"] = "m-1"
        elif shape["model"] == "none":
            row.pop("model", None)
        kind = shape["texts"] if shape["texts"] != "mixed" else r.choice(["as logged", "one character", "unknown"])
        if kind == "one":
            row["text"] = "hello"
        elif kind == "distinct":
            row["text"] = f"{i}: {row['text']}"
        elif kind == "one character":
            row["text"] = r.choice("a?é中1")
        elif kind in ("unknown script", "unknown"):
            row["text"] = _unknown_script(i + shape["seed"])
    return rows


def _table(accounts: list[dict], rows: list[dict], how: str) -> list[dict] | None:
    if how == "none":
        return None
    known = {a["account_id"]: a for a in accounts}
    ids = sorted({r["account_id"] for r in rows})
    out = [dict(known.get(a, {"account_id": a, "created_at": "2026-01-02T00:00:00Z"}), account_id=a) for a in ids]
    if how == "ids only":
        return [{"account_id": a["account_id"]} for a in out]
    field = how.removeprefix("no ")
    return [{k: v for k, v in a.items() if k != field} for a in out]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shape=logs())
def test_any_log_runs_to_finite_verdicts(source: dict, shape: dict) -> None:
    rows = _shape(source["rows"], shape)
    with tempfile.TemporaryDirectory() as work:
        report, _ = night(rows, _table(source["accounts"], rows, shape["table"]), Path(work))
    assert report.accepted == len(rows)


def test_a_non_finite_figure_stops_the_night_with_its_name_and_keeps_the_store(
    source: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """Numbers are checked where they are made: a statistic poisoned to NaN inside detection stops the night
    with one line naming it and its cohort, and the store keeps the last good night."""
    from engine.detect import campaigns

    _, store = night(source["rows"][:2000], None, tmp_path / "n1")
    before = Store(store).current().name
    real = campaigns.evidence.cohort_score
    monkeypatch.setattr(campaigns.evidence, "cohort_score", lambda *a: (float("nan"), real(*a)[1]))
    log = _write(tmp_path / "more.jsonl", source["rows"][2000:2500])
    assert main(["run", "--input", str(log), "--store", str(store), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("promptsim: detection: score of cohort c"), err
    assert "is nan" in err[0] and "nothing was written" in err[0]
    assert Store(store).current().name == before

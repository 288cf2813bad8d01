"""Ingest fuzzing: hostile log files never crash the reader, every bad row is quarantined with its reason, file
and line, and every good row among them is stored exactly once with its fields intact.

The corpus comes from ``scripts/bench_fuzz_ingest.py`` (the same generator and checker give the closing figure):
more than 10,000 malformed rows of more than 10 kinds (broken UTF-8, NUL bytes, nesting 100,000 deep, fields of
megabytes, wrong types, bad timestamps, huge integers, NaN/Infinity literals, lone surrogates, duplicate keys and
ids, ragged CSV, unclosed CSV quotes, Parquet columns of the wrong type, truncated gzip) interleaved with good
rows, including odd but valid ones (BOMs mid-file, CRLF and lone-CR line ends, extra nested fields, numeric ids).

What is right, decided here:

* a row is the unit of failure: the reader returns, and raises only ``InputError``, and only for a file unusable
  as a whole;
* a **truncated gzip** is such a file: ``InputError`` ("corrupt or truncated gzip"), not a quarantined tail. The
  reader cannot know how much is missing, and a run that stored the part before the break would look complete;
  the operator re-fetches the file. Rows handed out before the break are intact;
* a UTF-8 BOM starting a line, and a lone CR between rows, are artefacts of concatenation and old line ends: the
  rows are kept (a JSON string cannot hold a raw CR, so splitting a line that does not parse there loses nothing);
* duplicate JSON keys: the last value wins, as ``json.loads`` and JavaScript's ``JSON.parse`` have it;
* ids with lone surrogates are refused (``bad_prompt_id`` / ``bad_account_id``): stored, they would need U+FFFD in
  place of the surrogate and different ids would merge; a lone surrogate in a text becomes U+FFFD;
* metadata nested more than 100 levels is quarantined (``too_deep``), whatever the call stack's depth;
* a CSV quote that never closes costs its own line only (``bad_csv_row``): the lines it swallowed are read again.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.ingest import read_accounts, read_prompts
from engine.ingest.records import ACCOUNT_SCHEMA, PROMPT_SCHEMA, InputError, Quarantine
from engine.store.tables import Tables

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("bench_fuzz_ingest", ROOT / "scripts" / "bench_fuzz_ingest.py")
fuzz = importlib.util.module_from_spec(_spec)
sys.modules["bench_fuzz_ingest"] = fuzz  # dataclasses look their module up by name
_spec.loader.exec_module(fuzz)

#: Rows generated for the main fuzz: a little over half are malformed, so this gives > 10,000 bad rows.
FUZZ_ROWS = 21_000
SEED = int(os.environ.get("PROMPTSIM_FUZZ_SEED", "0"))


def records(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("fuzz")
    files = fuzz.build(root / "in", FUZZ_ROWS, SEED)
    return fuzz.check(files, root / "quarantine")


def test_no_traceback_and_every_row_where_it_belongs(report: Any) -> None:
    assert report.tracebacks == [], report.tracebacks[0]
    assert report.problems == [], report.problems[:10]
    wrong = {kind: (s.wrong, s.examples) for kind, s in report.kinds.items() if s.wrong}
    assert wrong == {}, fuzz.format_report(report)


def test_fuzz_is_big_and_varied_enough(report: Any) -> None:
    """The figures the issue asks for: >= 10,000 malformed rows of >= 10 kinds, good rows interleaved."""
    kinds = report.kinds
    bad_kinds = {k for k, s in kinds.items() if s.quarantined}
    assert report.quarantined_rows >= 10_000, report.quarantined_rows
    assert len(bad_kinds) >= 10, sorted(bad_kinds)
    assert sum(s.accepted for s in kinds.values()) >= 5_000
    reasons = set().union(*(s.reasons for s in kinds.values()))
    assert {"invalid_utf8", "too_deep", "not_json", "bad_timestamp", "bad_csv_row", "text_not_string"} <= reasons
    for kind in ("huge_fields", "deep_nesting", "nul_bytes", "bom_mid_file", "line_ends", "truncated_gzip"):
        assert kinds[kind].rows > 0, kind
    assert kinds["truncated_gzip"].cut > 0  # rows after the break: the file raised InputError


# -------------------------------------------------------------------------------------------------------------
# Properties over arbitrary input (hypothesis)

GOOD = {"prompt_id": "g0", "account_id": "a", "timestamp": "2026-11-20T10:00:00Z", "text": "first"}
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=20,
)


def _read(path: Path, qpath: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    with Quarantine(qpath) as q:
        tables = list(read_prompts(path, quarantine=q, batch_rows=64))
    for t in tables:
        assert t.schema == PROMPT_SCHEMA
    rows = pa.concat_tables(tables).to_pylist() if tables else []
    return rows, records(qpath)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.binary(max_size=200).map(lambda b: b.replace(b"\n", b" ")), min_size=1, max_size=30))
def test_arbitrary_bytes_between_good_rows(tmp_path: Path, lines: list[bytes]) -> None:
    """Any bytes on a line: never a traceback; the good rows around them are kept; whatever is not a row is
    quarantined at its own line."""
    body = [json.dumps(dict(GOOD, prompt_id=f"g{i}")).encode() + b"\n" + line for i, line in enumerate(lines)]
    path = tmp_path / "log.jsonl"
    path.write_bytes(b"\n".join(body) + b"\n")
    (tmp_path / "q.jsonl").unlink(missing_ok=True)
    rows, recs = _read(path, tmp_path / "q.jsonl")
    ids = [r["prompt_id"] for r in rows]
    assert len(ids) == len(set(ids))
    assert {f"g{i}" for i in range(len(lines))} <= set(ids)
    for r in rows:
        if r["prompt_id"].startswith("g") and r["source_line"] % 2:
            assert r["text"] == "first" and r["source_line"] == 2 * int(r["prompt_id"][1:]) + 1
    for rec in recs:
        assert rec["line"] % 2 == 0 and rec["reason"] and rec["file"] == str(path)
    for i, line in enumerate(lines):  # a non-blank line that yields no row is quarantined
        here = 2 * i + 2
        if line.strip(b" \t\r\x0b\x0c\xef\xbb\xbf") and not any(r["source_line"] == here for r in rows):
            assert any(rec["line"] == here for rec in recs), line


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    values=st.dictionaries(
        st.sampled_from(["prompt_id", "account_id", "timestamp", "text", "model", "user_agent", "extra"]),
        json_values,
    )
)
def test_any_json_values_in_any_field(tmp_path: Path, values: dict[str, Any]) -> None:
    """Any JSON value in any field (prompts and accounts): the row is either stored once or quarantined once at
    its line with a reason; never a traceback."""
    row = {**GOOD, "prompt_id": "p1", **values}
    line = json.dumps(row, allow_nan=True).encode("utf-8", "surrogatepass")
    path = tmp_path / "log.jsonl"
    path.write_bytes(json.dumps(GOOD).encode() + b"\n" + line + b"\n")
    qpath = tmp_path / "q.jsonl"
    qpath.unlink(missing_ok=True)
    rows, recs = _read(path, qpath)
    second = [r for r in rows if r["source_line"] == 2]
    assert len(second) + len(recs) == 1, (second, recs)
    assert all(rec["line"] == 2 and rec["reason"] for rec in recs)

    account = {"account_id": "a1", **{k: v for k, v in values.items() if k != "prompt_id"}}
    account["created_at"] = values.get("timestamp")
    apath = tmp_path / "accounts.jsonl"
    apath.write_bytes(b'{"account_id": "a0"}\n' + json.dumps(account).encode("utf-8", "surrogatepass") + b"\n")
    qpath.unlink(missing_ok=True)
    with Quarantine(qpath) as q:
        table = read_accounts(apath, quarantine=q)
    assert table.schema == ACCOUNT_SCHEMA
    assert table.num_rows - 1 + len(records(qpath)) == 1


def test_hostile_accounts(tmp_path: Path) -> None:
    """The account table shares the row machinery: huge integers, deep nesting, surrogates, junk."""
    lines = [
        b'{"account_id": "a0", "created_at": "2025-01-01T00:00:00Z"}',
        b'{"account_id": "a1", "created_at": ' + b"9" * 400 + b"}",
        b'{"account_id": "a2", "created_at": "' + b"1" * 5000 + b'"}',
        b'{"account_id": "a3", "org_id": ' + fuzz.nested(5000) + b"}",
        b'{"account_id": "a4", "org_id": ' + fuzz.nested(150) + b"}",
        b'{"account_id": "\\ud800"}',
        b'{"account_id": "a5", "tier": "p\xffro"}',
        fuzz.nested(100_000),
        b"\xef\xbb\xbf" + b'{"account_id": "a6", "created_at": NaN}',
        b'{"account_id": "a7", "tier": "x"}\r{"account_id": "a8", "tier": ["y", {"z": 1e999}]}',
    ]
    path = tmp_path / "accounts.jsonl"
    path.write_bytes(b"\n".join(lines) + b"\n")
    with Quarantine(tmp_path / "q.jsonl") as q:
        table = read_accounts(path, quarantine=q)
    assert table.column("account_id").to_pylist() == ["a0", "a7", "a8"]
    assert table.column("tier").to_pylist()[1:] == ["x", '["y", {"z": Infinity}]']
    got = [(r["line"], r["field"], r["reason"]) for r in records(tmp_path / "q.jsonl")]
    assert got == [
        (2, "created_at", "bad_created_at"),
        (3, "created_at", "bad_created_at"),
        (4, None, "too_deep"),
        (5, "org_id", "too_deep"),
        (6, "account_id", "bad_account_id"),
        (7, "tier", "invalid_utf8"),
        (8, None, "too_deep"),
        (9, "created_at", "bad_created_at"),
    ]


def test_truncated_gzip_raises_input_error_at_every_cut(tmp_path: Path) -> None:
    g = fuzz.Gen(SEED)
    fc = fuzz.write_jsonl(tmp_path / "whole.jsonl.gz", g, 400, gz=True, huge=0)
    data = fc.path.read_bytes()
    good = {c.good["prompt_id"]: c.good for c in fc.cases if c.good}
    for cut in (1, 2, 9, 10, 11, 100, len(data) // 2, len(data) - 8, len(data) - 1):
        path = tmp_path / f"cut{cut}.jsonl.gz"
        path.write_bytes(data[:cut])
        got: list[pa.Table] = []
        with Quarantine(tmp_path / f"q{cut}.jsonl") as q, pytest.raises(InputError, match="corrupt or truncated gzip"):
            for t in read_prompts(path, quarantine=q, batch_rows=16):
                got.append(t)
        for row in pa.concat_tables(got).to_pylist() if got else []:
            assert fuzz._stored(row) == fuzz._expected(good[row["prompt_id"]])


# -------------------------------------------------------------------------------------------------------------
# End to end: the real CLI on a fuzzed log


def test_cli_run_on_a_fuzzed_log(tmp_path: Path) -> None:
    g = fuzz.Gen(SEED + 1)
    fc = fuzz.write_jsonl(tmp_path / "fuzzed.jsonl", g, 300, huge=0)
    good = {c.good["prompt_id"] for c in fc.cases if c.good}
    bad = [c for c in fc.cases if not c.good]
    assert len(good) > 100 and len(bad) > 100
    store = tmp_path / "store"
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    cli = Path(sys.executable).parent / "promptsim"
    cmd = [str(cli)] if cli.exists() else [sys.executable, "-m", "engine.app.cli"]
    args = ["run", "--input", str(fc.path), "--store", str(store), "--quiet", "--embedder", "static"]
    done = subprocess.run([*cmd, *args], capture_output=True, text=True, timeout=300, env=env, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr, done.stderr[-3000:]

    from engine.store import Store

    snap = Store(store).require()
    try:
        stored = Tables(snap).prompts().column("prompt_id").to_pylist()
    finally:
        snap.close()
    assert len(stored) == len(set(stored))
    assert set(stored) == good

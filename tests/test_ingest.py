"""Stage 1: ingest. Bad rows are quarantined with their reason and the run goes on; odd but valid rows are kept
whole; every format gives the same rows; a file that is unusable as a whole raises one clear InputError."""

from __future__ import annotations

import csv
import gzip
import json
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from engine.ingest import IngestStats, detect_format, read_accounts, read_prompts
from engine.ingest.records import ACCOUNT_SCHEMA, PROMPT_SCHEMA, InputError, Quarantine, parse_timestamp

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
BENCH = SHARED / "bench"
needs_shared = pytest.mark.skipif(
    not (BENCH / "make_logs.py").exists() or not (SHARED / "corpora").is_dir(),
    reason=f"the shared benchmark is not next to the repo ({SHARED} lacks bench/make_logs.py or corpora/)",
)

T0 = "2026-11-20T10:00:00Z"
T0_EPOCH = 1795168800


def epoch(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


def read_all(path: Path | str, quarantine: Quarantine, **kw: Any) -> pa.Table:
    batches = list(read_prompts(path, quarantine=quarantine, **kw))
    for b in batches:
        assert b.schema == PROMPT_SCHEMA
    return pa.concat_tables(batches) if batches else PROMPT_SCHEMA.empty_table()


def records(quarantine: Quarantine) -> list[dict[str, Any]]:
    quarantine.close()
    if not quarantine.path.exists():
        return []
    return [json.loads(line) for line in quarantine.path.read_text(encoding="utf-8").splitlines()]


def row(pid: Any = "p1", **change: Any) -> dict[str, Any]:
    """A valid prompt row; ``field=...`` removes a field, ``pid=...`` the prompt_id."""
    r = {"prompt_id": pid, "account_id": "acct_1", "timestamp": T0, "text": "What is 2+2?", "model": "m"}
    change = {"prompt_id": pid, **change}
    for k, v in change.items():
        if v is ...:
            r.pop(k, None)
        else:
            r[k] = v
    return r


def write_jsonl(path: Path, lines: list[Any]) -> Path:
    """Rows as JSON lines; bytes are written as they are (for lines that are not JSON)."""
    with open(path, "wb") as f:
        for line in lines:
            f.write(line if isinstance(line, bytes) else json.dumps(line, ensure_ascii=False).encode())
            f.write(b"\n")
    return path


@pytest.fixture
def quarantine(tmp_path: Path) -> Quarantine:
    with Quarantine(tmp_path / "quarantine" / "q.jsonl") as q:
        yield q


# -------------------------------------------------------------------------------------------------------------
# The benchmark's bad log


@pytest.fixture(scope="module")
def bad_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny make_logs.py log (same config as public.json, a few accounts per group, one day) mixed by
    make_bad_logs.py with every kind of bad and odd row."""
    if not (BENCH / "make_logs.py").exists() or not (SHARED / "corpora").is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"CI: the shared benchmark is not next to the repo ({SHARED})", pytrace=False)
        pytest.skip(f"the shared benchmark is not next to the repo ({SHARED})")
    root = tmp_path_factory.mktemp("badlog")
    cfg = json.loads((BENCH / "public.json").read_text())
    cfg["corpora"] = [str(SHARED / "corpora")]
    cfg["days"] = 1
    cfg["benign"]["accounts"] = 60
    for group in cfg["hard_negatives"] + cfg["campaigns"]:
        group["accounts"] = min(group["accounts"], 3)
        if "per_day" in group:
            group["per_day"] = [1, 4]
    (root / "tiny.json").write_text(json.dumps(cfg))
    good = root / "good" / "prompts.jsonl"
    for script, *args in (
        ("make_logs.py", root / "tiny.json", root / "good"),
        ("make_bad_logs.py", good, root / "bad", "--rows", "300"),
    ):
        done = subprocess.run(
            [sys.executable, str(BENCH / script), *map(str, args)], capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, f"{script} failed: {done.stderr[-2000:]}"
    return root


@needs_shared
def test_bad_log_accepts_and_quarantines_what_expected_json_says(bad_log: Path, quarantine: Quarantine) -> None:
    expected = json.loads((bad_log / "bad" / "expected.json").read_text())
    stats = IngestStats()
    table = read_all(bad_log / "bad" / "prompts.jsonl", quarantine, stats=stats)

    assert table.num_rows == expected["accept"]
    assert quarantine.count == expected["quarantine"]
    assert dict(quarantine.by_reason) == expected["quarantine_by_kind"]
    assert (stats.accepted, stats.quarantined, dict(stats.by_reason)) == (
        expected["accept"],
        expected["quarantine"],
        expected["quarantine_by_kind"],
    )
    ids = table.column("prompt_id").to_pylist()
    assert len(set(ids)) == len(ids)
    assert set(expected["must_store"]) <= set(ids)

    by_id = {r["prompt_id"]: r for r in table.to_pylist()}
    huge = by_id["odd_huge"]["text"]
    assert len(huge) == 10_000_000 and huge == "x " * 5_000_000  # stored whole
    assert "before\x00after" in by_id["odd_nul"]["text"]
    assert by_id["odd_unicode"]["text"].startswith("Ünïcödé ✓ 数学 🚀 ")
    assert by_id["odd_epoch"]["timestamp"] == datetime.fromtimestamp(1763640000, timezone.utc)
    assert by_id["odd_naive_ts"]["timestamp"] == datetime(2026, 11, 20, 13, 45, tzinfo=timezone.utc)
    assert "987654321" in by_id
    assert json.loads(by_id["odd_0"]["meta"]) == {"extra_field": {"nested": [1, 2]}, "another": None}
    assert by_id[ids[0]]["meta"] is None

    # source_line points at the line the row came from (the file has CRLF endings and blank lines)
    lines = (bad_log / "bad" / "prompts.jsonl").read_bytes().split(b"\n")
    for r in table.slice(0, 50).to_pylist():
        assert json.loads(lines[r["source_line"] - 1])["prompt_id"] == r["prompt_id"]

    recs = records(quarantine)
    assert len(recs) == expected["quarantine"]
    for rec in recs:
        assert rec["file"] == str(bad_log / "bad" / "prompts.jsonl")
        assert {"file", "line", "field", "reason", "raw"} <= rec.keys()
        assert isinstance(rec["line"], int) and rec["line"] >= 1
        assert len(rec["raw"]) <= 2000
    fields = {rec["reason"]: rec["field"] for rec in recs}
    assert fields["missing_text"] == "text" and fields["bad_timestamp"] == "timestamp"
    assert fields["invalid_utf8"] == "user_agent" and fields["duplicate_prompt_id"] == "prompt_id"
    bad_utf8 = next(rec for rec in recs if rec["reason"] == "invalid_utf8")
    assert "\\xff\\xfe\\xfa" in bad_utf8["raw"]  # invalid bytes shown as escapes


@needs_shared
def test_good_benchmark_accounts_read_whole(bad_log: Path, quarantine: Quarantine) -> None:
    path = bad_log / "good" / "accounts.jsonl"
    table = read_accounts(path, quarantine=quarantine)
    assert table.schema == ACCOUNT_SCHEMA
    assert table.num_rows == len(path.read_text().splitlines())
    assert quarantine.count == 0 and not quarantine.path.exists()
    assert table.column("created_at").null_count == 0


# -------------------------------------------------------------------------------------------------------------
# Each quarantine reason on its own

BAD_LINES = [
    ("missing_prompt_id", "prompt_id", row(pid=...)),
    ("missing_account_id", "account_id", row("p2", account_id=...)),
    ("missing_timestamp", "timestamp", row("p2", timestamp=...)),
    ("missing_text", "text", row("p2", text=...)),
    ("empty_prompt_id", "prompt_id", row(pid="")),
    ("empty_account_id", "account_id", row("p2", account_id=None)),
    ("empty_account_id", "account_id", row("p2", account_id="  ")),
    ("bad_prompt_id", "prompt_id", row(pid=1.5)),
    ("bad_prompt_id", "prompt_id", row(pid=True)),
    ("bad_account_id", "account_id", row("p2", account_id=["a"])),
    ("empty_text", "text", row("p2", text="")),
    ("empty_text", "text", row("p2", text=" \n\t\u3000")),
    ("text_not_string", "text", row("p2", text=42)),
    ("text_not_string", "text", row("p2", text=None)),
    ("bad_timestamp", "timestamp", row("p2", timestamp="yesterday")),
    ("bad_timestamp", "timestamp", row("p2", timestamp="2026-02-30T00:00:00Z")),
    ("bad_timestamp", "timestamp", row("p2", timestamp=True)),
    ("bad_timestamp", "timestamp", row("p2", timestamp="")),
    ("duplicate_prompt_id", "prompt_id", row("p1", text="again")),
    ("invalid_utf8", "text", json.dumps(row("p2", text="abc")).encode().replace(b"abc", b"a\xff\xfec")),
    ("not_an_object", None, b"[1, 2, 3]"),
    ("not_an_object", None, b"null"),
    ("not_json", None, b"<html><body>502 Bad Gateway</body></html>"),
    ("not_json", None, b'{"prompt_id": "p2"} trailing'),
    ("truncated_json", None, json.dumps(row()).encode()[:40]),
]


@pytest.mark.parametrize(
    ("reason", "field", "line"), BAD_LINES, ids=[f"{r}-{i}" for i, (r, _, _) in enumerate(BAD_LINES)]
)
def test_each_bad_row_is_quarantined_with_file_line_field(
    tmp_path: Path, quarantine: Quarantine, reason: str, field: str | None, line: Any
) -> None:
    path = write_jsonl(tmp_path / "log.jsonl", [row("p1"), line, row("p3")])
    table = read_all(path, quarantine)
    assert table.column("prompt_id").to_pylist() == ["p1", "p3"]
    [rec] = records(quarantine)
    assert (rec["file"], rec["line"], rec["field"], rec["reason"]) == (str(path), 2, field, reason)
    assert rec["raw"]
    assert dict(quarantine.by_reason) == {reason: 1}


def test_duplicate_prompt_id_keeps_the_first(tmp_path: Path, quarantine: Quarantine) -> None:
    path = write_jsonl(tmp_path / "log.jsonl", [row("p1", text="first"), row("p2"), row("p1", text="second")])
    table = read_all(path, quarantine)
    assert table.to_pylist()[0]["text"] == "first" and table.num_rows == 2
    [rec] = records(quarantine)
    assert (rec["line"], rec["field"], rec["reason"]) == (3, "prompt_id", "duplicate_prompt_id")


def test_a_rejected_row_does_not_claim_its_id(tmp_path: Path, quarantine: Quarantine) -> None:
    path = write_jsonl(tmp_path / "log.jsonl", [row("p0"), row("p1", text=""), row("p1", text="valid")])
    table = read_all(path, quarantine)
    assert table.column("text").to_pylist() == ["What is 2+2?", "valid"]
    assert dict(quarantine.by_reason) == {"empty_text": 1}


def test_seen_ids_span_calls_and_runs(tmp_path: Path, quarantine: Quarantine) -> None:
    seen: set[str] = set()
    first = read_all(write_jsonl(tmp_path / "a.jsonl", [row("p1"), row("p2")]), quarantine, seen_ids=seen)
    assert first.num_rows == 2 and seen == {"p1", "p2"}
    second = read_all(write_jsonl(tmp_path / "b.jsonl", [row("p2"), row("p3")]), quarantine, seen_ids=seen)
    assert second.column("prompt_id").to_pylist() == ["p3"]
    assert seen == {"p1", "p2", "p3"}
    [rec] = records(quarantine)
    assert (Path(rec["file"]).name, rec["line"], rec["reason"]) == ("b.jsonl", 1, "duplicate_prompt_id")


def test_odd_but_valid_rows_are_kept(tmp_path: Path, quarantine: Quarantine) -> None:
    lines = [
        row("p1", extra={"a": [1]}, model=None),
        row(12345),
        row("p3", account_id=678, timestamp=1763640000),
        row("p4", timestamp=1763640000123),  # milliseconds
        row("p5", timestamp="2026-11-20 13:45:00"),  # no zone: UTC
        row("p6", timestamp="2026-11-20T14:45:00.75+01:00"),
        row("p7", text="tab\there \x00 nul, emoji 🚀, \\ud83d\\ude80"),
        row("p8", model=3, ip_asn=None, user_agent=["x"]),
        row("p9", text="lone \ud800 surrogate"),
    ]
    path = tmp_path / "log.jsonl"
    with open(path, "wb") as f:
        f.write(b"\xef\xbb\xbf")  # a BOM, as Windows tools write
        for i, r in enumerate(lines):
            f.write(json.dumps(r).encode() + (b"\r\n" if i % 2 else b"\n"))
            f.write(b"   \r\n")  # blank lines are not rows
    table = read_all(path, quarantine)
    assert quarantine.count == 0 and not quarantine.path.exists()
    got = {r["prompt_id"]: r for r in table.to_pylist()}
    assert list(got) == ["p1", "12345", "p3", "p4", "p5", "p6", "p7", "p8", "p9"]
    assert table.column("source_line").to_pylist() == [1, 3, 5, 7, 9, 11, 13, 15, 17]
    assert json.loads(got["p1"]["meta"]) == {"extra": {"a": [1]}} and got["p1"]["model"] is None
    assert got["p3"]["account_id"] == "678"
    ts = {k: int(v["timestamp"].timestamp()) for k, v in got.items()}
    assert ts["p3"] == ts["p4"] == 1763640000
    assert ts["p5"] == ts["p6"] == epoch("2026-11-20T13:45:00Z")
    assert got["p7"]["text"] == "tab\there \x00 nul, emoji 🚀, \\ud83d\\ude80"
    assert (got["p8"]["model"], got["p8"]["ip_asn"], got["p8"]["user_agent"]) == ("3", None, '["x"]')
    assert got["p9"]["text"] == "lone \ufffd surrogate"  # UTF-8 cannot hold a lone surrogate


def test_parse_timestamp() -> None:
    assert parse_timestamp("2026-11-20T10:00:00Z") == T0_EPOCH
    assert parse_timestamp("2026-11-20T10:00:00") == T0_EPOCH
    assert parse_timestamp("2026-11-20 10:00:00.999999") == T0_EPOCH
    assert parse_timestamp("2026-11-20T10:00:00.123456789z") == T0_EPOCH
    assert parse_timestamp("2026-11-20T11:30:00+01:30") == T0_EPOCH
    assert parse_timestamp(" 2026-11-20T10:00:00Z ") == T0_EPOCH
    assert parse_timestamp(T0_EPOCH) == parse_timestamp(float(T0_EPOCH) + 0.5) == T0_EPOCH
    assert parse_timestamp(str(T0_EPOCH)) == parse_timestamp(T0_EPOCH * 1000) == T0_EPOCH
    assert parse_timestamp(str(T0_EPOCH * 1000)) == T0_EPOCH
    assert parse_timestamp(datetime(2026, 11, 20, 10)) == T0_EPOCH
    assert parse_timestamp(-1.5) == -2  # floored
    for bad in (
        True,
        False,
        None,
        "",
        "  ",
        [2026],
        {"t": 1},
        "yesterday",
        "2026-13-45T99:00:00Z",
        float("nan"),
        "inf",
        1e30,
        "2026-11-20T24:00:00Z",
    ):
        assert parse_timestamp(bad) is None, bad


# -------------------------------------------------------------------------------------------------------------
# Formats


def twenty_rows() -> list[dict[str, Any]]:
    rows = []
    for i in range(20):
        text = f"plain {i}"
        if i % 2:
            text = f'row {i}: ünïcode ✓ 数学, "quoted", comma, new\nline\r\nand NUL \x00 end'
        rows.append(
            {
                "prompt_id": f"p{i}",
                "account_id": f"acct_{i % 3}",
                "timestamp": f"2026-11-20T10:00:{i:02d}Z",
                "text": text,
                "model": "model-large" if i % 4 else None,
                "ip_asn": "AS123",
                "user_agent": "curl/8.5",
                "session": f"s{i}",
            }
        )
    return rows


def write_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wt", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_any(path: Path, rows: list[dict[str, Any]]) -> Path:
    name = path.name
    if name.endswith(".parquet"):
        pq.write_table(pa.Table.from_pylist(rows), path, row_group_size=6)
    elif ".csv" in name:
        write_csv(path, rows)
    elif name.endswith(".gz"):
        with gzip.open(path, "wt", encoding="utf-8") as f:
            f.writelines(json.dumps(r) + "\n" for r in rows)
    else:
        write_jsonl(path, rows)
    return path


@pytest.mark.parametrize("name", ["log.csv", "log.csv.gz", "log.jsonl.gz", "log.parquet", "log.ndjson"])
def test_every_format_gives_the_jsonl_rows_in_streamed_batches(tmp_path: Path, name: str) -> None:
    rows = twenty_rows()
    with Quarantine(tmp_path / "q0.jsonl") as q:
        reference = read_all(write_any(tmp_path / "ref.jsonl", rows), q)
    with Quarantine(tmp_path / "q.jsonl") as q:
        batches = list(read_prompts(write_any(tmp_path / name, rows), quarantine=q, batch_rows=7))
    assert q.count == 0
    assert [b.num_rows for b in batches] == [7, 7, 6]
    table = pa.concat_tables(batches)
    content = ["prompt_id", "account_id", "timestamp", "text", "model", "ip_asn", "user_agent", "meta"]
    assert table.select(content).to_pylist() == reference.select(content).to_pylist()
    assert json.loads(table.column("meta")[0].as_py()) == {"session": "s0"}
    assert set(table.column("source_file").to_pylist()) == {str(tmp_path / name)}
    lines = table.column("source_line").to_pylist()
    if ".csv" in name:  # header on line 1; the odd rows' texts span three lines
        assert lines[:5] == [2, 3, 6, 7, 10]
    else:
        assert lines == list(range(1, 21))


def test_batches_are_cut_from_smaller_parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import engine.ingest.readers

    rows = twenty_rows()
    path = write_any(tmp_path / "log.jsonl", rows)
    with Quarantine(tmp_path / "q.jsonl") as q:
        whole = read_all(path, q, batch_rows=50)
        monkeypatch.setattr(engine.ingest.readers, "_PART_ROWS", 3)  # rows become Arrow 3 at a time
        batches = list(read_prompts(path, quarantine=q, batch_rows=7))
    assert [b.num_rows for b in batches] == [7, 7, 6]
    assert pa.concat_tables(batches).to_pylist() == whole.to_pylist()
    assert whole.column("source_line").to_pylist() == list(range(1, 21))


def test_csv_rows_are_validated_like_json(tmp_path: Path, quarantine: Quarantine) -> None:
    path = tmp_path / "log.csv"
    content = (
        "prompt_id,account_id,timestamp,text,note\n"
        "p1,a1,1763640000,hello,\n"
        "p2,,2026-11-20T10:00:00Z,no account,x\n"
        "p3,a1,soon,bad time,\n"
        "p1,a1,2026-11-20T10:00:00Z,duplicate,\n"
        "p5,a1,2026-11-20T10:00:00Z,   ,\n"
        "p6,a1,2026-11-20T10:00:00Z,too,many,cells\n"
        "\n"
        "p7,a1,2026-11-20T10:00:00Z,ok \xff,\n"
        "p8,a1\n"
        "p9,a1,2026-11-20T10:00:00Z,fine,n\n"
    )
    path.write_bytes(content.encode("utf-8").replace("\xff".encode(), b"\xff"))
    table = read_all(path, quarantine)
    assert table.column("prompt_id").to_pylist() == ["p1", "p9"]
    assert table.column("meta").to_pylist() == [None, '{"note": "n"}']
    got = [(r["line"], r["field"], r["reason"]) for r in records(quarantine)]
    assert got == [
        (3, "account_id", "empty_account_id"),
        (4, "timestamp", "bad_timestamp"),
        (5, "prompt_id", "duplicate_prompt_id"),
        (6, "text", "empty_text"),
        (7, None, "bad_csv_row"),
        (9, "text", "invalid_utf8"),
        (10, "timestamp", "missing_timestamp"),
    ]


def test_tsv_and_semicolon_csv(tmp_path: Path, quarantine: Quarantine) -> None:
    (tmp_path / "log.tsv").write_text("prompt_id\taccount_id\ttimestamp\ttext\np1\ta\t1763640000\thi, there\n")
    (tmp_path / "log.csv").write_text("prompt_id;account_id;timestamp;text\np1;a;1763640000;hi, there\n")
    for name in ("log.tsv", "log.csv"):
        table = read_all(tmp_path / name, quarantine, seen_ids=set())
        assert table.select(["prompt_id", "text"]).to_pylist() == [{"prompt_id": "p1", "text": "hi, there"}]


def test_unknown_extension_is_sniffed(tmp_path: Path, quarantine: Quarantine) -> None:
    rows = twenty_rows()[:3]
    jsonl = write_any(tmp_path / "a.jsonl", rows).rename(tmp_path / "a.log")
    parquet = write_any(tmp_path / "b.parquet", rows).rename(tmp_path / "b.dat")
    csv_file = write_any(tmp_path / "c.csv", rows).rename(tmp_path / "c.txt")
    gz = write_any(tmp_path / "d.jsonl.gz", rows).rename(tmp_path / "d.jsonl")  # gzip without .gz
    assert detect_format(jsonl) == ("jsonl", False)
    assert detect_format(parquet) == ("parquet", False)
    assert detect_format(csv_file) == ("csv", False)
    assert detect_format(gz) == ("jsonl", True)
    for path in (jsonl, parquet, csv_file, gz):
        assert read_all(path, quarantine).column("prompt_id").to_pylist() == ["p0", "p1", "p2"]


def test_parquet_types_are_converted(tmp_path: Path, quarantine: Quarantine) -> None:
    table = pa.table(
        {
            "prompt_id": pa.array([1, 2, 3], pa.int64()),
            "account_id": ["a", "b", None],
            "timestamp": pa.array([T0_EPOCH * 1000, None, T0_EPOCH * 1000], pa.timestamp("ms")),
            "text": pa.array([b"hi", b"there", b"you"], pa.binary()),
        }
    )
    pq.write_table(table, tmp_path / "t.parquet")
    got = read_all(tmp_path / "t.parquet", quarantine)
    assert got.column("prompt_id").to_pylist() == ["1"]
    assert got.column("text").to_pylist() == ["hi"]
    assert int(got.column("timestamp")[0].as_py().timestamp()) == T0_EPOCH
    assert [(r["line"], r["reason"]) for r in records(quarantine)] == [
        (2, "missing_timestamp"),
        (3, "missing_account_id"),
    ]


# -------------------------------------------------------------------------------------------------------------
# Whole-file failures


def assert_input_error(path: Path, quarantine: Quarantine, *needles: str) -> None:
    with pytest.raises(InputError) as err:
        read_all(path, quarantine)
    message = str(err.value)
    assert message.startswith(str(path)) and "\n" not in message
    for needle in needles:
        assert needle in message
    assert not quarantine.path.exists()  # a bad file is not a thousand quarantined rows


def test_csv_without_required_columns(tmp_path: Path, quarantine: Quarantine) -> None:
    path = tmp_path / "prompts.csv"
    path.write_text("prompt_id,account_id,a,b\np1,x,1,2\n")
    assert_input_error(path, quarantine, "prompts.csv: missing required columns: text, timestamp; found: prompt_id")


def test_parquet_without_required_columns(tmp_path: Path, quarantine: Quarantine) -> None:
    path = tmp_path / "prompts.parquet"
    pq.write_table(pa.table({"prompt_id": ["p"], "body": ["x"]}), path)
    assert_input_error(
        path, quarantine, "missing required columns: account_id, text, timestamp; found: prompt_id, body"
    )


def test_file_that_is_not_parquet(tmp_path: Path, quarantine: Quarantine) -> None:
    path = tmp_path / "prompts.parquet"
    path.write_text("prompt_id,account_id,timestamp,text\n")
    assert_input_error(path, quarantine, "not a readable Parquet file")


def test_html_named_jsonl_is_not_a_prompt_log(tmp_path: Path, quarantine: Quarantine) -> None:
    path = tmp_path / "prompts.jsonl"
    path.write_text("<!DOCTYPE html>\n<html>\n\n<body>502 Bad Gateway</body>\n</html>\n")
    assert_input_error(path, quarantine, "is not a prompt log: none of the first 4 lines is a JSON object with")


def test_account_file_given_as_prompts_is_not_a_prompt_log(tmp_path: Path, quarantine: Quarantine) -> None:
    path = write_jsonl(tmp_path / "accounts.jsonl", [{"account_id": f"a{i}"} for i in range(1500)])
    assert_input_error(path, quarantine, "none of the first 1000 lines")


def test_missing_file_and_directory(tmp_path: Path, quarantine: Quarantine) -> None:
    assert_input_error(tmp_path / "nope.jsonl", quarantine, "no such file")
    assert_input_error(tmp_path, quarantine, "is a directory")
    with pytest.raises(InputError, match="no such file"):
        read_accounts(tmp_path / "nope.csv", quarantine=quarantine)


def test_corrupt_and_truncated_gzip(tmp_path: Path, quarantine: Quarantine) -> None:
    corrupt = tmp_path / "corrupt.jsonl.gz"
    corrupt.write_bytes(b"this was never gzip")
    assert_input_error(corrupt, quarantine, "corrupt or truncated gzip")
    data = gzip.compress(b"".join(json.dumps(row(f"p{i}")).encode() + b"\n" for i in range(5000)))
    truncated = tmp_path / "truncated.jsonl.gz"
    truncated.write_bytes(data[: len(data) // 2])
    assert_input_error(truncated, quarantine, "corrupt or truncated gzip")


def test_empty_file_has_no_rows(tmp_path: Path, quarantine: Quarantine) -> None:
    (tmp_path / "empty.jsonl").write_text("\n\n")
    assert read_all(tmp_path / "empty.jsonl", quarantine).num_rows == 0


# -------------------------------------------------------------------------------------------------------------
# Accounts and the quarantine itself


def test_read_accounts(tmp_path: Path, quarantine: Quarantine) -> None:
    lines = [
        {"account_id": "a1", "created_at": "2025-01-01T00:00:00Z", "org_id": "o", "payment_fp": "pf", "tier": "pro"},
        {"account_id": "a2", "created_at": "never"},
        {"account_id": "a1", "created_at": "2025-02-01T00:00:00Z"},
        {"account_id": 7, "created_at": 1700000000, "country": "NL", "extra": 1},
        {"account_id": "a3", "created_at": None},
        {"created_at": "2025-01-01"},
    ]
    table = read_accounts(write_jsonl(tmp_path / "accounts.jsonl", lines), quarantine=quarantine)
    assert table.schema == ACCOUNT_SCHEMA
    assert table.column("account_id").to_pylist() == ["a1", "7", "a3"]
    assert table.column("created_at")[2].as_py() is None
    assert table.column("country").to_pylist() == [None, "NL", None]
    got = [(r["line"], r["field"], r["reason"]) for r in records(quarantine)]
    assert got == [
        (2, "created_at", "bad_created_at"),
        (3, "account_id", "duplicate_account_id"),
        (6, "account_id", "missing_account_id"),
    ]
    csv_path = tmp_path / "accounts.csv"
    csv_path.write_text("account_id,created_at,tier\nb1,2025-01-01,pro\nb2,,\n")
    table = read_accounts(csv_path, quarantine=quarantine)
    assert table.to_pylist()[1] == {
        "account_id": "b2",
        "created_at": None,
        "org_id": None,
        "payment_fp": None,
        "country": None,
        "tier": None,
    }
    with pytest.raises(InputError, match="missing required columns: account_id"):
        read_accounts(write_csv(tmp_path / "x.csv", [{"id": 1}]), quarantine=quarantine)


def test_quarantine_is_lazy_and_cuts_raw(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "q.jsonl"
    with Quarantine(path) as q:
        assert not path.exists()
        q.add("f.jsonl", 3, "text", "empty_text", b"x" * 5000 + b"\xff")
        q.add("f.jsonl", 4, None, "not_json", "y" * 10)
    recs = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(recs[0]["raw"]) == 2000 and recs[1]["raw"] == "y" * 10
    assert q.count == 2 and q.by_reason == {"empty_text": 1, "not_json": 1}


def test_input_error_is_one_line() -> None:
    err = InputError("dir/bad\nname.csv", "missing required columns: text\nfound: a")
    assert "\n" not in str(err) and str(err).startswith("dir/bad name.csv: missing")

#!/usr/bin/env python3
"""Fuzz the ingest stage with hostile log files and print, per kind of row, what became of it.

    python scripts/bench_fuzz_ingest.py [--rows 50000] [--seed 0] [--keep DIR]

Writes JSONL, CSV, Parquet and gzip files in which good rows are interleaved with malformed ones of many kinds
(broken UTF-8, NUL bytes, nesting 100,000 deep, fields of megabytes, wrong types, duplicate keys, BOMs and mixed
line ends mid-file, lone surrogates, huge integers, NaN/Infinity, ragged CSV, unclosed CSV quotes, Parquet columns
of the wrong type, truncated gzip), reads each with ``read_prompts`` and checks every row against what the
generator knows of it: a good row must be stored exactly once with its fields intact, a bad row must be in the
quarantine at its file and line with an acceptable reason, and nothing may raise but ``InputError`` where a file
is unusable as a whole. One line per kind: rows, quarantined, accepted, wrong (a row whose outcome differs from
the expectation), tracebacks (must be 0) and the reasons seen.

``tests/test_ingest_fuzz.py`` imports the generator and the checker from here, so the test and this figure
measure the same thing.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import math
import random
import re
import sys
import tempfile
import time
import traceback
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.ingest import read_prompts  # noqa: E402
from engine.ingest.records import PROMPT_SCHEMA, InputError, Quarantine  # noqa: E402

T_LOW, T_HIGH = 1577836800, 1893456000  # 2020..2030
BOM = b"\xef\xbb\xbf"
#: Pieces of prompt text: unicode, escapes, quotes, line breaks, NUL, separators JSON and CSV must carry intact.
TEXT_PIECES = [
    "What is",
    "2+2?",
    "explain",
    "step by step",
    "Ünïcödé ✓",
    "数学",
    "🚀",
    "ﷺ",
    '"quoted"',
    "back\\slash",
    "a,b;c|d",
    "tab\there",
    "new\nline",
    "crlf\r\nend",
    "nul\x00byte",
    "\u2028sep\u2029",
    "\ufeffbom-in-text",
    "\x7f\x1b[31m",
    "{json: [1, 2]}",
    "'single'",
    "   spaced   ",
    "null",
    "true",
    "12345",
    "ℕ𝔸ℕ",
    "\U0010ffff",
]
#: Pieces of CSV text: as above but no CR or lone LF handling surprises the csv module with quotes.
CSV_TEXT_PIECES = [p for p in TEXT_PIECES if "\r" not in p]


@dataclass
class Case:
    """One row the generator wrote, and what ingest must make of it."""

    kind: str
    line: int  # 1-based line (JSONL, CSV) or row number (Parquet)
    good: dict[str, Any] | None = None  # the stored row expected (prompt_id, account_id, timestamp, text, ...)
    reasons: frozenset[str] = frozenset()  # acceptable quarantine reasons of a bad row


@dataclass
class FileCase:
    """One generated file: its rows, and the InputError it must raise if it is unusable as a whole."""

    path: Path
    cases: list[Case] = field(default_factory=list)
    error: str | None = None  # a substring of the expected InputError; rows yielded before it must be intact


# ---------------------------------------------------------------------------------------------------------------
# Row material


class Gen:
    """Seeded source of good rows, each unique, and of the hostile variations of them."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.n = 0
        self.ids: list[str] = []  # ids of good rows already written (for duplicates)

    def pid(self) -> str:
        self.n += 1
        r = self.rng.random()
        if r < 0.05:
            return f"ид-{self.n}-数"  # non-ASCII ids are ids too
        return f"p{self.n:07d}-{self.rng.getrandbits(24):06x}"

    def text(self, pieces: list[str] = TEXT_PIECES) -> str:
        k = self.rng.randint(1, 6)
        text = " ".join(self.rng.choice(pieces) for _ in range(k))
        return text if text.strip() else text + " x"

    def ts(self) -> tuple[Any, int]:
        """(value as written, epoch seconds expected)."""
        e = self.rng.randint(T_LOW, T_HIGH)
        dt = datetime.fromtimestamp(e, timezone.utc)
        r = self.rng.randrange(8)
        if r == 0:
            return dt.strftime("%Y-%m-%dT%H:%M:%SZ"), e
        if r == 1:
            off = timedelta(minutes=self.rng.choice([-600, -90, 60, 330]))
            return (dt + off).replace(tzinfo=timezone(off)).isoformat(), e
        if r == 2:
            return dt.strftime("%Y-%m-%d %H:%M:%S"), e  # no zone: UTC
        if r == 3:
            return e, e
        if r == 4:
            return e * 1000 + self.rng.randrange(1000), e  # milliseconds
        if r == 5:
            return str(e), e
        if r == 6:
            return e + 0.25, e  # fractions are floored
        return dt.strftime("%Y-%m-%dT%H:%M:%S.%f") + "+00:00", e

    def row(self, **change: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        """(row as written, stored row expected); ``field=...`` removes a field."""
        ts, epoch = self.ts()
        pid = self.pid()
        model = self.rng.choice([None, "model-large", "m-2", 7, ["a", 1]])
        r: dict[str, Any] = {"prompt_id": pid, "account_id": f"acct_{self.rng.randrange(500)}", "timestamp": ts}
        r["text"] = self.text()
        if model is not None:
            r["model"] = model
        if self.rng.random() < 0.3:
            r["ip_asn"] = f"AS{self.rng.randrange(99999)}"
        for k, v in change.items():
            if v is ...:
                r.pop(k, None)
            else:
                r[k] = v
        return r, self.expect(r, epoch)

    def expect(self, r: dict[str, Any], epoch: int) -> dict[str, Any]:
        known = {"prompt_id", "account_id", "timestamp", "text", "model", "ip_asn", "user_agent"}
        extra = {k: v for k, v in r.items() if k not in known}

        def as_text(v: Any) -> str | None:
            return v if v is None or isinstance(v, str) else json.dumps(v, ensure_ascii=False)

        return {
            "prompt_id": str(r.get("prompt_id")),
            "account_id": str(r.get("account_id")),
            "timestamp": epoch,
            "text": r.get("text"),
            "model": as_text(r.get("model")),
            "ip_asn": as_text(r.get("ip_asn")),
            "meta": extra or None,
        }

    def good(self, **change: Any) -> tuple[bytes, dict[str, Any]]:
        r, exp = self.row(**change)
        self.ids.append(exp["prompt_id"])
        return dumps(r), exp


def dumps(obj: Any) -> bytes:
    """JSON as UTF-8; text with lone surrogates is written with \\u escapes (raw, they would be invalid UTF-8)."""
    text = json.dumps(obj, ensure_ascii=False)
    try:
        return text.encode()
    except UnicodeEncodeError:
        return json.dumps(obj).encode()


def nested(depth: int, leaf: bytes = b"1", obj: bool = False) -> bytes:
    if obj:
        return b'{"a":' * depth + leaf + b"}" * depth
    return b"[" * depth + leaf + b"]" * depth


def with_field(raw: dict[str, Any], key: str, value: bytes) -> bytes:
    """A row as JSON with ``key`` set to raw JSON text ``value`` (literals json.dumps cannot write)."""
    body = dumps({k: v for k, v in raw.items() if k != key})
    return body[:-1] + b", " + dumps(key) + b": " + value + b"}"


# ---------------------------------------------------------------------------------------------------------------
# JSONL kinds: each returns [(line bytes, [(good expectation | None, reasons)])] for one physical line


Made = tuple[bytes, list[tuple[dict[str, Any] | None, frozenset[str]]]]


def _r(*reasons: str) -> frozenset[str]:
    return frozenset(reasons)


def k_good(g: Gen) -> Made:
    line, exp = g.good()
    return line, [(exp, _r())]


def k_good_odd(g: Gen) -> Made:
    """Odd but valid: extra fields (nested, Infinity, 4,000-digit integers), numeric ids, duplicate keys (the last
    wins, as JSON.parse and json.loads have it), a lone surrogate in the text (stored as U+FFFD)."""
    c = g.rng.randrange(5)
    if c == 0:
        extra = {"session": g.rng.randrange(10), "tags": [[{"x": [1, 2]}]], "big": 10**4000, "n": None}
        line, exp = g.good(**extra)
        return line, [(exp, _r())]
    if c == 1:
        r, exp = g.row()
        line = with_field(r, "score", b"Infinity")
        exp["meta"] = {"score": math.inf}
        g.ids.append(exp["prompt_id"])
        return line, [(exp, _r())]
    if c == 2:
        g.n += 1
        line, exp = g.good(prompt_id=10**12 + g.n, account_id=g.rng.randrange(10**6))
        return line, [(exp, _r())]
    if c == 3:
        r, exp = g.row()
        line = b'{"prompt_id": "decoy", "text": 42, ' + dumps(r)[1:]
        g.ids.append(exp["prompt_id"])
        return line, [(exp, _r())]
    r, exp = g.row()
    r["text"] = "lone \ud800 surrogate " + r["text"]
    exp["text"] = "lone \ufffd surrogate " + exp["text"]
    g.ids.append(exp["prompt_id"])
    return json.dumps(r).encode(), [(exp, _r())]


def k_line_ends(g: Gen) -> Made:
    """CRLF line ends, and two rows on one line separated by a lone CR (both kept, sharing the line number)."""
    if g.rng.random() < 0.5:
        line, exp = g.good()
        return line + b"\r", [(exp, _r())]
    (a, ea), (b, eb) = g.good(), g.good()
    return a + b"\r" + b, [(ea, _r()), (eb, _r())]


def k_bom(g: Gen) -> Made:
    """A UTF-8 BOM starting a line mid-file (files concatenated, each with a BOM): dropped, the row kept."""
    line, exp = g.good()
    return BOM + line, [(exp, _r())]


def k_huge(g: Gen) -> Made:
    """Fields of megabytes: a 1-3 MB text is stored whole; a huge line cut short, or a megabyte array where the
    text should be, is quarantined."""
    c = g.rng.randrange(3)
    size = g.rng.randint(1, 3) * 1_000_000
    if c == 0:
        line, exp = g.good(text="big " + "xy\u00e9 " * (size // 4), user_agent="u" * 100_000)
        exp["user_agent"] = "u" * 100_000
        return line, [(exp, _r())]
    if c == 1:
        r, _ = g.row(text="z" * size)
        return dumps(r)[: size // 2], [(None, _r("truncated_json"))]
    r, _ = g.row(text=[1] * (size // 3))
    return dumps(r), [(None, _r("text_not_string"))]


def k_broken_utf8(g: Gen) -> Made:
    """Invalid UTF-8 in a value, a key or the whole line."""
    bad = g.rng.choice([b"\xff", b"\xfe\xfa", b"\xc3", b"\xed\xa0\x80", b"\xf8\x88\x80\x80\x80", b"\x80"])
    r, _ = g.row()
    line = dumps(r)
    c = g.rng.randrange(3)
    if c == 0:
        i = line.index(b'"text": "') + 9
        line = line[:i] + bad + line[i:]
    elif c == 1:
        line = line[:-1] + b', "k' + bad + b'": 1}'
    else:
        line = bad + line
        return line, [(None, _r("invalid_utf8"))]
    return line, [(None, _r("invalid_utf8"))]


def k_nul(g: Gen) -> Made:
    """Raw NUL bytes: inside a JSON string (a control character JSON forbids) or between tokens."""
    r, _ = g.row()
    line = dumps(r)
    i = g.rng.choice([line.index(b'"text": "') + 9, 1, len(line) - 1])
    return line[:i] + b"\x00" + line[i:], [(None, _r("not_json"))]


def k_deep(g: Gen) -> Made:
    """Nesting: 100,000 arrays as the whole line, or a field nested past the limit (objects or arrays)."""
    c = g.rng.randrange(3)
    if c == 0:
        return nested(100_000, b""), [(None, _r("too_deep"))]
    r, _ = g.row()
    depth = g.rng.choice([101, 150, 500, 990, 1001, 3000, 100_000])
    line = with_field(r, g.rng.choice(["extra", "model", "user_agent"]), nested(depth, obj=c == 2))
    return line, [(None, _r("too_deep"))]


def k_deep_ok(g: Gen) -> Made:
    """Nesting up to the limit (100 levels) is kept."""
    depth = g.rng.randint(2, 100)
    r, exp = g.row()
    line = with_field(r, "extra", nested(depth))
    value: Any = 1
    for _ in range(depth):
        value = [value]
    exp["meta"] = {"extra": value}
    g.ids.append(exp["prompt_id"])
    return line, [(exp, _r())]


WRONG = [0, -1.5, True, False, [], ["a"], {}, {"id": 1}, None, "", "  \t"]


def k_wrong_types(g: Gen) -> Made:
    """Number, list, object, bool, null or blank where a string (or timestamp) is needed."""
    key = g.rng.choice(["prompt_id", "account_id", "text", "timestamp"])
    value = g.rng.choice(WRONG)
    if key == "prompt_id" and type(value) is int:
        value = 0.5  # an int is an id
    if key == "account_id" and type(value) is int:
        value = 1e3
    if key == "timestamp" and type(value) in (int, float):
        value = [value]  # a number is an epoch
    r, _ = g.row(**{key: value})
    if key == "text":
        blank = isinstance(value, str)
        return dumps(r), [(None, _r("empty_text" if blank else "text_not_string"))]
    if key == "timestamp":
        return dumps(r), [(None, _r("bad_timestamp"))]
    empty = value is None or isinstance(value, str)
    return dumps(r), [(None, _r(f"empty_{key}" if empty else f"bad_{key}"))]


def k_bad_timestamp(g: Gen) -> Made:
    """Timestamps that are none: words, impossible dates, out of range, huge integers (as numbers and as 5,000
    digits), NaN and Infinity literals, 1e999."""
    r, _ = g.row()
    c = g.rng.randrange(4)
    if c == 0:
        value = g.rng.choice(
            [
                "yesterday",
                "2026-02-30T00:00:00Z",
                "2026-13-01",
                "0000-01-01T00:00:00Z",
                "10000-01-01",
                "T10:00",
                "2026-11-20T25:00:00Z",
                "1" * 5000,
                "0" * 5000 + "x",
                "9" * 400,
                "-" + "9" * 400,
                "nan",
                "-inf",
                "2026-11-20T10:00:00+25:00",
                "\ud800",
                "2026-11-20 " + " " * 10_000 + "x",
            ]
        )
        return dumps(dict(r, timestamp=value)), [(None, _r("bad_timestamp"))]
    if c == 1:
        value = g.rng.choice([10**400, -(10**400), 10**25, -(10**22), 10**4000])  # (2**63 is an epoch in ns)
        return dumps(dict(r, timestamp=value)), [(None, _r("bad_timestamp"))]
    literal = g.rng.choice([b"NaN", b"Infinity", b"-Infinity", b"1e999", b"-1e999", b"1" + b"0" * 4000])
    return with_field(r, "timestamp", literal), [(None, _r("bad_timestamp"))]


def k_surrogate_id(g: Gen) -> Made:
    """Ids with lone surrogates ("\\ud800"): refused, since UTF-8 cannot store them as they are."""
    key = g.rng.choice(["prompt_id", "account_id"])
    r, _ = g.row(**{key: g.rng.choice(["\ud800", "id-\udfff", "\udc80x", "a\ud83d"])})
    return json.dumps(r).encode(), [(None, _r(f"bad_{key}"))]


def k_huge_int_id(g: Gen) -> Made:
    """An integer id of 5,000 digits: Python's JSON parser refuses it (int conversion limit)."""
    r, _ = g.row()
    return with_field(r, "prompt_id", b"9" * 5000), [(None, _r("not_json"))]


def k_not_rows(g: Gen) -> Made:
    """Lines that are not rows: not JSON, truncated, not an object."""
    c = g.rng.randrange(3)
    if c == 0:
        return g.rng.choice([b"<html>502</html>", b"{{{{", b"}", b"garbage \x01\x02", b"{'single': 1}"]), [
            (None, _r("not_json", "truncated_json"))
        ]
    if c == 1:
        line = dumps(g.row()[0])
        cut = line[: g.rng.randint(2, len(line) - 2)]  # may end inside a multi-byte character
        return cut, [(None, _r("truncated_json", "not_json", "invalid_utf8"))]
    return g.rng.choice([b"[1, 2]", b'"s"', b"42", b"null", b"true", b"NaN", b"[" + dumps(g.row()[0]) + b"]"]), [
        (None, _r("not_an_object"))
    ]


def k_missing(g: Gen) -> Made:
    key = g.rng.choice(["prompt_id", "account_id", "timestamp", "text"])
    r, _ = g.row(**{key: ...})
    return dumps(r), [(None, _r(f"missing_{key}"))]


def k_duplicate(g: Gen) -> Made:
    """A second row with an id already stored, and duplicate keys whose last value is bad."""
    if g.rng.random() < 0.5 and g.ids:
        r, _ = g.row(prompt_id=g.rng.choice(g.ids))
        return dumps(r), [(None, _r("duplicate_prompt_id"))]
    r, _ = g.row()
    return dumps(r)[:-1] + b', "text": ""}', [(None, _r("empty_text"))]


def k_mixed_cr(g: Gen) -> Made:
    """A good and a bad row on one line, separated by a lone CR: the good one kept, the bad one quarantined."""
    line, exp = g.good()
    bad, made = k_missing(g)
    return line + b"\r" + bad, [(exp, _r()), *made]


JSONL_KINDS: dict[str, tuple[Callable[[Gen], Made], float]] = {  # kind -> (maker, weight)
    "good": (k_good, 30),
    "good_odd": (k_good_odd, 5),
    "line_ends": (k_line_ends, 4),
    "bom_mid_file": (k_bom, 2),
    "huge_fields": (k_huge, 0),  # a few per file, placed by write_jsonl
    "broken_utf8": (k_broken_utf8, 6),
    "nul_bytes": (k_nul, 4),
    "deep_nesting": (k_deep, 1.5),
    "deep_ok": (k_deep_ok, 1),
    "wrong_types": (k_wrong_types, 10),
    "bad_timestamp": (k_bad_timestamp, 8),
    "surrogate_id": (k_surrogate_id, 3),
    "huge_int_id": (k_huge_int_id, 1),
    "not_rows": (k_not_rows, 6),
    "missing_field": (k_missing, 5),
    "duplicate": (k_duplicate, 3),
    "mixed_cr": (k_mixed_cr, 2),
}


#: Rows of megabytes per JSONL file (they dominate the time to write and read a file).
HUGE_PER_FILE = 3


def write_jsonl(path: Path, g: Gen, n_rows: int, gz: bool = False, huge: int = HUGE_PER_FILE) -> FileCase:
    """``n_rows`` lines of kinds drawn by weight (the first one good, so the file is recognised as a log), with
    blank and white-space lines between them, a BOM at the start and LF, CRLF and lone-CR line ends."""
    names = list(JSONL_KINDS)
    weights = [JSONL_KINDS[k][1] for k in names]
    fc = FileCase(path)
    out = io.BytesIO()
    out.write(BOM)
    lineno = 0
    huge = set(g.rng.sample(range(1, n_rows), min(n_rows - 1, huge)))
    for i in range(n_rows):
        kind = "good" if i == 0 else "huge_fields" if i in huge else g.rng.choices(names, weights)[0]
        line, made = JSONL_KINDS[kind][0](g)
        lineno += 1
        for exp, reasons in made:
            fc.cases.append(Case(kind, lineno, exp, reasons))
        out.write(line + b"\n")
        if g.rng.random() < 0.05:
            out.write(g.rng.choice([b"", b"   ", b"\r", b" \t\r", BOM]) + b"\n")  # blank lines are not rows
            lineno += 1
    data = out.getvalue()
    path.write_bytes(gzip.compress(data, compresslevel=1) if gz else data)
    return fc


# ---------------------------------------------------------------------------------------------------------------
# CSV, Parquet, gzip

_LINE_END = re.compile(r"\r\n|\r|\n")
CSV_HEADER = ["prompt_id", "account_id", "timestamp", "text", "model"]


def _csv_line(cells: list[Any]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(cells)
    return buf.getvalue()


def write_csv(path: Path, g: Gen, n_rows: int) -> FileCase:
    """A CSV log: good rows (quoted commas, quotes, line breaks, NUL) among ragged rows (too many cells: bad; too
    few: the missing fields), bad timestamps, blank texts, invalid UTF-8, rows ended by a lone CR, mid-file BOMs."""
    fc = FileCase(path)
    parts: list[bytes] = [BOM + _csv_line(CSV_HEADER).encode()]
    lineno = 1
    for i in range(n_rows):
        r, exp = g.row(text=g.text(CSV_TEXT_PIECES), model="m")
        exp["meta"], exp["model"], exp["ip_asn"] = None, "m", None
        cells = [r["prompt_id"], r["account_id"], r["timestamp"], r["text"], "m"]
        c = 0 if i == 0 else g.rng.randrange(12)
        kind, reasons, prefix, end = "csv_good", _r(), b"", None
        if c == 1:
            kind, reasons = "csv_ragged", _r("bad_csv_row")
            cells += ["extra"] * g.rng.randint(1, 5)
        elif c == 2:
            kind = "csv_ragged"
            keep = g.rng.randint(1, 3)
            cells = cells[:keep]
            reasons = _r(f"missing_{CSV_HEADER[keep]}")
        elif c == 3:
            kind, reasons = "csv_bad_timestamp", _r("bad_timestamp")
            cells[2] = g.rng.choice(["soon", "2026-02-30", "9" * 5000, "1e999", "NaN", "true", "[1]"])
        elif c == 4:
            kind, reasons = "csv_empty", _r(g.rng.choice(["empty_text", "empty_account_id"]))
            cells[3 if reasons == {"empty_text"} else 1] = g.rng.choice(["", "   ", "\t"])
        elif c == 5:
            kind, reasons = "csv_broken_utf8", _r("invalid_utf8")
        elif c == 6:
            kind, end = "csv_line_ends", g.rng.choice(["\r", "\r\n"])
        elif c == 7:
            kind, prefix = "csv_bom_mid_file", BOM
        elif c == 8 and g.ids:
            kind, reasons = "csv_duplicate", _r("duplicate_prompt_id")
            cells[0] = g.rng.choice(g.ids)
        text = _csv_line(cells)
        if end is not None:
            text = text[:-1] + end
        data = prefix + text.encode()
        if c == 5:
            i = data.index(b",") + 1
            data = data[:i] + b"\xff\xfe" + data[i:]
        lineno += 1
        fc.cases.append(Case(kind, lineno, exp if not reasons else None, reasons))
        if not reasons:
            g.ids.append(exp["prompt_id"])
        lineno += len(_LINE_END.findall(text)) - 1
        parts.append(data)
        if g.rng.random() < 0.03 and end != "\r":  # (after a lone CR, a LF would make it a CRLF)
            parts.append(b"\n")
            lineno += 1
    path.write_bytes(b"".join(parts))
    return fc


def write_csv_unclosed(path: Path, g: Gen, n_rows: int) -> FileCase:
    """A CSV log in which one row opens a quote that never closes (the rest has no quotes): that row is
    quarantined and the rows after it, which the open quote swallowed, are read again and kept."""
    fc = FileCase(path)
    lines = [",".join(CSV_HEADER)]
    bad_at = g.rng.randint(1, n_rows - 1)
    for i in range(n_rows):
        r, exp = g.row(text=f"plain text {g.n} no quotes", model="m")
        exp["meta"], exp["model"], exp["ip_asn"] = None, "m", None
        if i == bad_at:
            lines.append(f'{r["prompt_id"]},{r["account_id"]},{r["timestamp"]},"unclosed {r["text"]},m')
            fc.cases.append(Case("csv_unclosed_quote", len(lines), None, _r("bad_csv_row")))
        else:
            lines.append(f"{r['prompt_id']},{r['account_id']},{r['timestamp']},{r['text']},m")
            fc.cases.append(Case("csv_unclosed_quote", len(lines), exp))
            g.ids.append(exp["prompt_id"])
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return fc


def write_parquet(path: Path, g: Gen, n_rows: int, wrong: str | None) -> FileCase:
    """A Parquet log; with ``wrong``, one column of a type that cannot hold what it must (every row quarantined)
    or of the right type with bad cells (those rows quarantined)."""
    fc = FileCase(path)
    rows, exps = [], []
    for _ in range(n_rows):
        r, exp = g.row()
        r["timestamp"] = exp["timestamp"]
        exp["model"], exp["ip_asn"], exp["meta"] = None, None, None
        rows.append({k: r[k] for k in ("prompt_id", "account_id", "timestamp", "text")})
        exps.append(exp)
    cols: dict[str, pa.Array] = {
        "prompt_id": pa.array([r["prompt_id"] for r in rows], pa.string()),
        "account_id": pa.array([r["account_id"] for r in rows], pa.string()),
        "timestamp": pa.array([r["timestamp"] * 1000 for r in rows], pa.timestamp("ms", tz="UTC")),
        "text": pa.array([r["text"].encode("utf-8", "surrogatepass") for r in rows], pa.binary()),
    }
    reasons: list[frozenset[str]] = [_r()] * n_rows
    kind = "parquet_good"
    if wrong == "text_int":
        kind, cols["text"] = "parquet_wrong_types", pa.array(range(n_rows), pa.int64())
        reasons = [_r("text_not_string")] * n_rows
    elif wrong == "text_struct":
        kind = "parquet_wrong_types"
        cols["text"] = pa.array([{"role": "user", "n": i} for i in range(n_rows)])
        reasons = [_r("text_not_string")] * n_rows
    elif wrong == "pid_float":
        kind, cols["prompt_id"] = "parquet_wrong_types", pa.array([i + 0.5 for i in range(n_rows)], pa.float64())
        reasons = [_r("bad_prompt_id")] * n_rows
    elif wrong == "account_list":
        kind, cols["account_id"] = "parquet_wrong_types", pa.array([["a", str(i)] for i in range(n_rows)])
        reasons = [_r("bad_account_id")] * n_rows
    elif wrong == "ts_bool":
        kind, cols["timestamp"] = "parquet_wrong_types", pa.array([i % 2 == 0 for i in range(n_rows)])
        reasons = [_r("bad_timestamp")] * n_rows
    elif wrong == "ts_string":
        kind = "parquet_bad_cells"
        values, reasons = [], []
        for r in rows:
            if g.rng.random() < 0.5:
                values.append(g.rng.choice(["never", "", "2026-02-30", "9" * 400]))
                reasons.append(_r("missing_timestamp") if values[-1] == "" else _r("bad_timestamp"))
            else:
                values.append(str(r["timestamp"]))
                reasons.append(_r())
        cols["timestamp"] = pa.array(values, pa.string())
        reasons = [_r("bad_timestamp") if v == {"missing_timestamp"} else v for v in reasons]
    elif wrong == "text_bad_utf8":
        kind = "parquet_bad_cells"
        values, reasons = [], []
        for r in rows:
            bad = g.rng.random() < 0.5
            values.append(r["text"].encode() + (b"\xff\xfe" if bad else b""))
            reasons.append(_r("invalid_utf8") if bad else _r())
        cols["text"] = pa.array(values, pa.binary())
    elif wrong == "extra_nested":
        kind = "parquet_good"
        cols["extra"] = pa.array([{"k": [i, i + 1]} for i in range(n_rows)])
        for i, exp in enumerate(exps):
            exp["meta"] = {"extra": {"k": [i, i + 1]}}
    pq.write_table(pa.table(cols), path, row_group_size=max(1, n_rows // 3))
    for i, (exp, why) in enumerate(zip(exps, reasons, strict=True)):
        fc.cases.append(Case(kind, i + 1, None if why else exp, why))
        if not why:
            g.ids.append(exp["prompt_id"])
    return fc


PARQUET_WRONG = [None, "text_int", "text_struct", "pid_float", "account_list", "ts_bool", "ts_string",
                 "text_bad_utf8", "extra_nested"]  # fmt: skip


def write_truncated_gzip(path: Path, g: Gen, n_rows: int) -> FileCase:
    """A gzipped log cut short. A truncated gzip is unusable as a whole: InputError, not a quarantined tail. The
    reader cannot know how much is missing (a transfer that broke off), and a nightly run that stored what came
    before the cut would look complete; the rows yielded before the error must still be intact."""
    good = write_jsonl(path, g, n_rows, gz=True)
    data = path.read_bytes()
    path.write_bytes(data[: g.rng.randint(1, len(data) - 1)])
    for c in good.cases:
        c.kind = "truncated_gzip"
    good.error = "corrupt or truncated gzip"
    return good


def build(root: Path, rows: int, seed: int) -> list[FileCase]:
    """The fuzz corpus under ``root``: about ``rows`` rows, 70% in JSONL (a third of it gzipped), 15% CSV, 10%
    Parquet (one file per wrong column type), 5% in truncated gzip files."""
    g = Gen(seed)
    root.mkdir(parents=True, exist_ok=True)
    files = [
        write_jsonl(root / "fuzz.jsonl", g, int(rows * 0.47)),
        write_jsonl(root / "fuzz.jsonl.gz", g, int(rows * 0.23), gz=True),
        write_csv(root / "fuzz.csv", g, int(rows * 0.13)),
    ]
    files += [write_csv_unclosed(root / f"unclosed{i}.csv", g, max(20, rows // 500)) for i in range(4)]
    per = max(10, int(rows * 0.10) // len(PARQUET_WRONG))
    files += [write_parquet(root / f"fuzz_{w or 'good'}.parquet", g, per, w) for w in PARQUET_WRONG]
    files += [write_truncated_gzip(root / f"cut{i}.jsonl.gz", g, max(20, rows // 200)) for i in range(5)]
    return files


# ---------------------------------------------------------------------------------------------------------------
# Reading and checking


@dataclass
class KindStats:
    rows: int = 0
    quarantined: int = 0  # bad rows quarantined with an acceptable reason
    accepted: int = 0  # good rows stored intact
    wrong: int = 0  # anything else: a good row lost or altered, a bad row stored or with a wrong reason
    cut: int = 0  # rows after the point where a file raised its expected InputError (truncated gzip)
    tracebacks: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)


@dataclass
class Report:
    kinds: dict[str, KindStats] = field(default_factory=lambda: defaultdict(KindStats))
    tracebacks: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # stray records, duplicate ids, unexpected InputErrors
    seconds: float = 0.0

    @property
    def total_rows(self) -> int:
        return sum(s.rows for s in self.kinds.values())

    @property
    def quarantined_rows(self) -> int:
        return sum(s.quarantined for s in self.kinds.values())


def _stored(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "prompt_id": row["prompt_id"],
        "account_id": row["account_id"],
        "timestamp": int(row["timestamp"].timestamp()),
        "text": row["text"],
        "model": row["model"],
        "ip_asn": row["ip_asn"],
        "meta": None if row["meta"] is None else json.loads(row["meta"]),
    }


def _expected(exp: dict[str, Any]) -> dict[str, Any]:
    return {k: exp[k] for k in ("prompt_id", "account_id", "timestamp", "text", "model", "ip_asn", "meta")}


def check(files: list[FileCase], qdir: Path) -> Report:
    """Read every file (ids shared across files, as a nightly run does) and compare each row with its Case."""
    report = Report()
    seen: set[str] = set()
    started = time.perf_counter()
    for fc in files:
        qpath = qdir / f"{fc.path.name}.quarantine.jsonl"
        qpath.unlink(missing_ok=True)
        tables: list[pa.Table] = []
        error: str | None = None
        crashed = False
        with Quarantine(qpath) as q:
            try:
                for t in read_prompts(fc.path, quarantine=q, seen_ids=seen, batch_rows=4096):
                    assert t.schema == PROMPT_SCHEMA
                    tables.append(t)
            except InputError as exc:
                error = str(exc)
                if "\n" in error or not error.startswith(str(fc.path)):
                    report.problems.append(f"{fc.path.name}: InputError message not one line naming the file")
            except Exception:  # noqa: BLE001 - the point of the fuzz: record it, never let it pass unseen
                crashed = True
                report.tracebacks.append(f"{fc.path.name}:\n{traceback.format_exc()}")
        records = (
            [json.loads(line) for line in qpath.read_text(encoding="utf-8").split("\n") if line]
            if qpath.exists()
            else []
        )
        if fc.error is None and error is not None:
            report.problems.append(f"{fc.path.name}: unexpected InputError {error}")
        if fc.error is not None and (error is None or fc.error not in error):
            report.problems.append(f"{fc.path.name}: expected InputError with {fc.error!r}, got {error!r}")
        stored = pa.concat_tables(tables).to_pylist() if tables else []
        by_line: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for row in stored:
            if row["source_file"] != str(fc.path):
                report.problems.append(f"{fc.path.name}: source_file {row['source_file']!r}")
            by_line[row["source_line"]].append(row)
        recs_by_line: dict[int, list[dict[str, Any]]] = defaultdict(list)
        for rec in records:
            if rec["file"] != str(fc.path) or not rec.get("reason") or "raw" not in rec:
                report.problems.append(f"{fc.path.name}: malformed quarantine record {rec}")
            recs_by_line[rec["line"]].append(rec)
        lines_with_cases = {c.line for c in fc.cases}
        for line in set(recs_by_line) - lines_with_cases:
            report.problems.append(f"{fc.path.name}: quarantine record at line {line}, which holds no row")
        for line in set(by_line) - lines_with_cases:
            report.problems.append(f"{fc.path.name}: stored row at line {line}, which holds no row")
        partial = fc.error is not None  # rows after the break are neither stored nor quarantined
        for c in fc.cases:
            st = report.kinds[c.kind]
            st.tracebacks += crashed
            if partial:
                got = [r for r in by_line.get(c.line, []) if c.good and r["prompt_id"] == c.good["prompt_id"]]
                if not got and not any(r["reason"] in c.reasons for r in recs_by_line.get(c.line, [])):
                    st.rows += 1
                    st.cut += 1  # after the break, or in the batch the break cut short
                    continue
            if c.good is not None:
                got = [r for r in by_line.get(c.line, []) if r["prompt_id"] == c.good["prompt_id"]]
                st.rows += 1
                if len(got) == 1 and _stored(got[0]) == _expected(c.good):
                    st.accepted += 1
                else:
                    st.wrong += 1
                    if len(st.examples) < 3:
                        have = [_stored(r) for r in got]
                        st.examples.append(
                            f"{fc.path.name}:{c.line} good row {c.good['prompt_id']!r}: got {have}"[:600]
                        )
            else:
                st.rows += 1
                recs = recs_by_line.get(c.line, [])
                rec = next((r for r in recs if r["reason"] in c.reasons), None)
                if rec is not None:
                    recs.remove(rec)
                    st.quarantined += 1
                    st.reasons[rec["reason"]] += 1
                else:
                    st.wrong += 1
                    st.reasons.update(r["reason"] for r in recs)
                    if len(st.examples) < 3:
                        seen_reasons = [r["reason"] for r in recs]
                        st.examples.append(f"{fc.path.name}:{c.line} want {sorted(c.reasons)}, got {seen_reasons}")
        for line, recs in recs_by_line.items():
            if recs and line in lines_with_cases:
                report.problems.append(f"{fc.path.name}:{line} extra quarantine records {[r['reason'] for r in recs]}")
        ids = [r["prompt_id"] for r in stored]
        if len(set(ids)) != len(ids):
            report.problems.append(f"{fc.path.name}: an id stored twice")
    report.seconds = time.perf_counter() - started
    return report


def format_report(report: Report) -> str:
    lines = [f"{'kind':22} {'rows':>7} {'quarant.':>8} {'accepted':>8} {'wrong':>6} {'cut':>5} {'tracebk':>7}  reasons"]
    for kind in sorted(report.kinds):
        s = report.kinds[kind]
        reasons = ", ".join(f"{k} {v}" for k, v in s.reasons.most_common()) or "-"
        lines.append(
            f"{kind:22} {s.rows:7d} {s.quarantined:8d} {s.accepted:8d} {s.wrong:6d} {s.cut:5d} {s.tracebacks:7d}  {reasons}"
        )
        lines.extend(f"    e.g. {e}" for e in s.examples)
    total = KindStats()
    for s in report.kinds.values():
        total.rows += s.rows
        total.quarantined += s.quarantined
        total.accepted += s.accepted
        total.wrong += s.wrong
        total.cut += s.cut
        total.tracebacks += s.tracebacks
    lines.append(
        f"{'TOTAL':22} {total.rows:7d} {total.quarantined:8d} {total.accepted:8d} {total.wrong:6d} {total.cut:5d} "
        f"{total.tracebacks:7d}  ({len(report.kinds)} kinds, {len(report.tracebacks)} files with a traceback, "
        f"{len(report.problems)} other problems, read in {report.seconds:.1f} s)"
    )
    lines.extend(f"PROBLEM {p}" for p in report.problems[:20])
    lines.extend(f"TRACEBACK {t}" for t in report.tracebacks[:3])
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=50_000, help="rows to generate, good and bad (default 50,000)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--keep", type=Path, help="write the files here and keep them (default: a temporary folder)")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp)
        t0 = time.perf_counter()
        files = build(root / "in", args.rows, args.seed)
        made = time.perf_counter() - t0
        size = sum(f.path.stat().st_size for f in files)
        print(
            f"{len(files)} files, {size / 1e6:.1f} MB, generated in {made:.1f} s (--rows {args.rows} --seed {args.seed})"
        )
        report = check(files, root / "quarantine")
        print(format_report(report))
    bad = sum(s.wrong + s.tracebacks for s in report.kinds.values()) + len(report.problems) + len(report.tracebacks)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

"""Stage 1 records: the Arrow schemas every later stage reads, the quarantine, and timestamp parsing.

Real logs are messy (truncated lines, wrong types, invalid UTF-8, several timestamp styles). The ingest stage turns
them into batches of exactly ``PROMPT_SCHEMA`` so that no later stage ever has to validate again, and it sets every
row it cannot use aside in a :class:`Quarantine` file, with the reason, instead of failing the whole night's run.
Only a file that is unusable as a whole raises :class:`InputError`.
"""

from __future__ import annotations

import json
import math
import numbers
import os
import re
import reprlib
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import IO, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

#: Timestamps are stored as whole seconds in UTC: finer resolution adds nothing to campaign timing signals.
TIMESTAMP_TYPE = pa.timestamp("s", tz="UTC")

#: One accepted prompt (request). ``text`` is the whole text, however long; later stages bound what they read.
PROMPT_SCHEMA = pa.schema(
    [
        pa.field("prompt_id", pa.string(), nullable=False),
        pa.field("account_id", pa.string(), nullable=False),
        pa.field("timestamp", TIMESTAMP_TYPE, nullable=False),
        pa.field("text", pa.string(), nullable=False),
        pa.field("model", pa.string()),
        pa.field("ip_asn", pa.string()),
        pa.field("user_agent", pa.string()),
        pa.field("meta", pa.string()),  # JSON object of the row's other fields; null when there are none
        pa.field("source_file", pa.string(), nullable=False),
        pa.field("source_line", pa.int64(), nullable=False),  # 1-based line (JSONL, CSV) or row number (Parquet)
    ]
)

#: One account of the optional account table.
ACCOUNT_SCHEMA = pa.schema(
    [
        pa.field("account_id", pa.string(), nullable=False),
        pa.field("created_at", TIMESTAMP_TYPE),
        pa.field("org_id", pa.string()),
        pa.field("payment_fp", pa.string()),
        pa.field("country", pa.string()),
        pa.field("tier", pa.string()),
    ]
)

PROMPT_REQUIRED = ("prompt_id", "account_id", "timestamp", "text")
PROMPT_OPTIONAL = ("model", "ip_asn", "user_agent")
ACCOUNT_REQUIRED = ("account_id",)
ACCOUNT_OPTIONAL = ("org_id", "payment_fp", "country", "tier")

#: Characters of a rejected row kept in the quarantine: enough to see what went wrong, not a 10 MB copy.
RAW_LIMIT = 2000


class InputError(Exception):
    """A whole input file is unusable (missing, not the format it claims, required columns absent, ...).

    The message is one line that names the file and the problem, so the CLI can print it without a traceback.
    """

    def __init__(self, path: str | os.PathLike[str], problem: str | None = None) -> None:
        self.path = os.fspath(path)
        self.problem = problem
        message = self.path if problem is None else f"{self.path}: {problem}"
        # One printable line, whatever the file name or the underlying error contained.
        message = " ".join(message.split("\n")).replace("\r", " ")
        super().__init__(message.encode("utf-8", "backslashreplace").decode("utf-8"))


def raw_text(raw: Any, limit: int = RAW_LIMIT) -> str:
    """The rejected input as readable text, cut at ``limit`` characters: bytes are decoded with invalid bytes as
    backslash escapes, parsed rows are written as JSON, other objects by ``str()``."""
    if isinstance(raw, (bytes, bytearray, memoryview)):
        text = bytes(raw[: limit * 4 + 8]).decode("utf-8", "backslashreplace")
        text = text.rstrip("\r\n")
    elif isinstance(raw, str):
        text = raw[: limit + 2].rstrip("\r\n")
    elif isinstance(raw, (dict, list, tuple)):  # a parsed row (Parquet)
        try:
            text = json.dumps(raw, ensure_ascii=False, default=str)
        except (TypeError, ValueError, RecursionError):  # RecursionError: nested deeper than the stack allows
            text = _SHORT_REPR.repr(raw)
    else:  # anything that renders itself (a CSV record, rebuilt only when it is quarantined)
        text = str(raw)
    # Lone surrogates (from JSON escapes or surrogateescape decoding) cannot be written as UTF-8: escape them.
    return text[:limit].encode("utf-8", "backslashreplace").decode("utf-8")


def printable(text: str) -> str:
    """``text`` as writable UTF-8: lone surrogates (from JSON escapes, or invalid bytes decoded with
    surrogateescape, e.g. in a field name or a file name) become backslash escapes instead of failing the write."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def short_repr(value: Any, limit: int = 80) -> str:
    """``repr`` for messages, bounded in depth, width and length: a hostile value may be a 10 MB string or a list
    nested thousands deep, whose plain ``repr`` would be huge or raise RecursionError."""
    return printable(_SHORT_REPR.repr(value)[:limit])


_SHORT_REPR = reprlib.Repr()
_SHORT_REPR.maxlevel = 3
_SHORT_REPR.maxstring = _SHORT_REPR.maxother = 100
_SHORT_REPR.maxlong = 40


#: Characters that ``str.splitlines`` (and JavaScript) take for line breaks but JSON does not escape: written as
#: escapes, so that every reader sees one record a line (prompts are full of U+2028 pasted from web pages).
_LINE_BREAKS = str.maketrans({"\u2028": "\\u2028", "\u2029": "\\u2029", "\x85": "\\u0085"})


class Quarantine:
    """Rows the ingest rejected, one JSON object a line: ``file, line, field, reason, raw`` (+ ``detail``).

    Rejected rows are kept, not dropped, so an analyst can see what a night lost and why; the file is created only
    on the first rejection (a clean night leaves none) and is appended to, so several readers (prompts, accounts)
    may share one path. ``count`` and ``by_reason`` summarise the run.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.count = 0
        self.by_reason: Counter[str] = Counter()
        self._fh: IO[str] | None = None

    def add(
        self,
        file: str | os.PathLike[str],
        line: int | None,
        field: str | None,
        reason: str,
        raw: Any,
        detail: str | None = None,
    ) -> None:
        """Record one rejected row. ``raw`` may be bytes (the line as read), text, or a parsed row."""
        if self._fh is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - kept open across many rows
        record = {
            "file": printable(os.fspath(file)),
            "line": line,
            "field": None if field is None else printable(field),
            "reason": reason,
            "raw": raw_text(raw),
        }
        if detail:
            record["detail"] = printable(detail)
        self._fh.write(json.dumps(record, ensure_ascii=False).translate(_LINE_BREAKS) + "\n")
        self.count += 1
        self.by_reason[reason] += 1

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def __enter__(self) -> Quarantine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Quarantine({str(self.path)!r}, count={self.count}, by_reason={dict(self.by_reason)})"


# ---------------------------------------------------------------------------------------------------------------
# Timestamps

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_SECOND = timedelta(seconds=1)
_UTC = timezone.utc
_MIN_EPOCH = -62135596800  # 0001-01-01T00:00:00Z
_MAX_EPOCH = 253402300799  # 9999-12-31T23:59:59Z
_fromisoformat = datetime.fromisoformat
#: Largest magnitude that can be an epoch in any unit read (9999-12-31 in nanoseconds is 2.5e20). Bigger integers
#: are rejected before float conversion, which would raise OverflowError past 1e308.
_MAX_EPOCH_UNITS = 10**21
#: Digits (after leading zeros) of the longest digit string that may be an epoch; longer ones are not converted
#: at all (Python refuses int() of more than 4300 digits, and a megabyte of digits is no timestamp).
_MAX_EPOCH_DIGITS = 22

# Only for strings datetime.fromisoformat refuses (Python 3.10 and 'Z', lower-case 'z', long fractions, spaces).
_ISO_FALLBACK = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:[Tt ]+(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?"
    r"\s*(?:([Zz]|UTC|GMT)|([+-])(\d{2}):?(\d{2})?)?"
)


def _epoch_number(value: float) -> int | None:
    """Epoch seconds from a number; larger magnitudes are taken as milliseconds (> 1e11), micro- (> 1e14) and
    nanoseconds (> 1e17), the units logging systems actually write."""
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
    elif not -_MAX_EPOCH_UNITS <= value <= _MAX_EPOCH_UNITS:
        return None
    size = abs(value)
    if size > 1e17:
        value = value / 1e9
    elif size > 1e14:
        value = value / 1e6
    elif size > 1e11:
        value = value / 1e3
    seconds = math.floor(value)
    return seconds if _MIN_EPOCH <= seconds <= _MAX_EPOCH else None


def _epoch_digits(text: str) -> int | None:
    """Epoch seconds of a digit string (``str.isdecimal``), without converting absurdly long ones."""
    if len(text) > _MAX_EPOCH_DIGITS:
        text = text.lstrip("0") or "0"
        if len(text) > _MAX_EPOCH_DIGITS:
            return None
    return _epoch_number(int(text))


def _epoch_datetime(dt: datetime) -> int:
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=_UTC)
    return (dt - _EPOCH) // _SECOND


def _parse_iso_fallback(text: str) -> int | None:
    m = _ISO_FALLBACK.fullmatch(text.strip())
    if m is None:
        return None
    year, month, day, hour, minute, second, frac, utc, sign, off_h, off_m = m.groups()
    try:
        dt = datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            int((frac or "0")[:6].ljust(6, "0")),
            tzinfo=_UTC,
        )
        if sign:
            offset = timedelta(hours=int(off_h), minutes=int(off_m or 0))
            if offset >= timedelta(hours=24):
                return None
            dt -= offset if sign == "+" else -offset
    except (ValueError, OverflowError):
        return None
    return _epoch_datetime(dt)


def _parse_text(value: str) -> int | None:
    """The strings datetime.fromisoformat refuses: white space, signed or fractional epochs, 'Z' on Python 3.10."""
    text = value.strip()
    if not text:
        return None
    if text.isdecimal():
        return _epoch_digits(text)
    if text[0] in "+-." or text[0].isdigit():
        try:
            return _epoch_number(float(text))
        except ValueError:
            pass
    if text[-1:] in ("Z", "z"):
        try:
            return _epoch_datetime(_fromisoformat(text[:-1] + "+00:00"))
        except ValueError:
            pass
    return _parse_iso_fallback(text)


def parse_timestamp(value: Any) -> int | None:
    """Epoch seconds (UTC) of a log timestamp, or None when it is not one.

    Accepted: ISO-8601 with or without a zone (no zone means UTC; 'Z', offsets, 'T' or space between date and time,
    fractional seconds), epoch seconds as int/float or as a digit string (larger values in ms, µs or ns), and
    ``datetime``/``date`` objects (Parquet). Rejected (None): bool, lists, dicts, None, "", NaN/inf, impossible
    dates and times outside years 1..9999. Fractions of a second are floored.
    """
    kind = type(value)
    if kind is str:
        if value.isdecimal():
            return _epoch_digits(value)
        try:
            dt = _fromisoformat(value)  # the usual case, in C
        except ValueError:
            return _parse_text(value)
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=_UTC)
        seconds = math.floor(dt.timestamp())  # exact for whole seconds
        return seconds if _MIN_EPOCH <= seconds <= _MAX_EPOCH else None
    if kind is int:
        return _epoch_number(value)
    if kind is float:
        return _epoch_number(value)
    if kind is bool or value is None:
        return None
    if isinstance(value, datetime):
        try:
            return _epoch_datetime(value)
        except OverflowError:
            return None
    if isinstance(value, date):
        return _epoch_datetime(datetime(value.year, value.month, value.day))
    if isinstance(value, numbers.Integral):  # numpy integers and other int-like types
        return _epoch_number(int(value))
    if isinstance(value, numbers.Real):
        return _epoch_number(float(value))
    return None


def epoch_seconds(col: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Epoch seconds (int64) of a timestamp column of any unit: DuckDB hands back microseconds, ingest seconds."""
    return pc.cast(col, pa.timestamp("s", tz="UTC"), safe=False).cast(pa.int64()).to_numpy(zero_copy_only=False)


def chat_hashes(meta: pa.ChunkedArray | pa.Array, key: str) -> pa.Array:
    """Per row, the hash ingest kept under ``meta["chat"][key]`` (``system_hash``, ``tools_hash``), null where none.

    Read by one regular expression over the JSON text, not by parsing every row's meta: a night's 1M rows would
    cost a ``json.loads`` each for a 16-digit value. Only a key can match: inside a JSON string a quote is always
    escaped, and the pattern refuses a quote after a backslash. The value must be hex, as ingest writes it."""
    return _chat_value(meta, key, '"(?P<v>[0-9a-f]{1,64})"')


def _chat_value(meta: pa.ChunkedArray | pa.Array, key: str, value: str) -> pa.Array:
    """Per row, the string matched by ``value`` (a pattern with one group ``v``) as ``key``'s value in the meta
    JSON text, null where none: one regular expression over the column (``chat_hashes``)."""
    meta = meta.combine_chunks() if isinstance(meta, pa.ChunkedArray) else meta
    if not len(meta):
        return pa.array([], pa.string())
    return pc.struct_field(pc.extract_regex(meta, rf'(?:^|[^\\])"{re.escape(key)}"\s*:\s*{value}'), [0])


def chat_offsets(meta: pa.ChunkedArray | pa.Array, key: str) -> np.ndarray:
    """Per row, the non-negative integer ingest kept under ``meta["chat"][key]`` (``turn_at``), 0 where none.

    Read like ``chat_hashes``: one regular expression over the JSON text, never a ``json.loads`` per row."""
    found = _chat_value(meta, key, r"(?P<v>\d{1,9})\b")
    return pc.fill_null(pc.cast(found, pa.int64()), 0).to_numpy(zero_copy_only=False)

"""Input files: does it exist, which format is it (by extension, else by its first bytes), gzipped or not, and its
bytes in blocks. The row readers (``engine.ingest.readers``) start from a :class:`Source`.

A file that cannot be read as a whole raises :class:`~engine.ingest.records.InputError` naming it: a corrupt gzip, a
directory, a missing file. Reading nothing from it silently would look like a quiet night.
"""

from __future__ import annotations

import gzip
import os
import stat
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import BinaryIO

from engine.ingest.records import InputError

#: bytes read at a time
BLOCK = 4 * 1024 * 1024
GZIP_MAGIC = b"\x1f\x8b"
PARQUET_MAGIC = b"PAR1"
BOM = b"\xef\xbb\xbf"
EXTENSIONS = {
    ".jsonl": "jsonl",
    ".json": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".tsv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
}


@dataclass(frozen=True)
class Source:
    path: str  # as the caller gave it: this is what messages, source_file and the quarantine name
    fmt: str  # "jsonl" | "csv" | "parquet"
    gz: bool
    delimiter: str | None = None  # CSV only: forced by the extension (.tsv)
    file: str = ""  # the local file to open when it is not ``path`` (an object fetched from storage)

    @property
    def local(self) -> str:
        return self.file or self.path


def fail_read(path: str, exc: OSError) -> InputError:
    if isinstance(exc, FileNotFoundError):
        return InputError(path, "no such file")
    if isinstance(exc, IsADirectoryError):
        return InputError(path, "is a directory, not a file")
    if isinstance(exc, PermissionError):
        return InputError(path, "cannot read: permission denied")
    return InputError(path, f"cannot read: {exc.strerror or exc}")


def gzip_error(path: str, exc: BaseException) -> InputError:
    return InputError(path, f"corrupt or truncated gzip ({exc or type(exc).__name__})")


def peek(path: str, gz: bool, size: int = 65536) -> bytes:
    try:
        if gz:
            with gzip.open(path, "rb") as fh:
                return fh.read(size)
        with open(path, "rb") as fh:
            return fh.read(size)
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise gzip_error(path, exc) from None
    except OSError as exc:
        raise fail_read(path, exc) from None


def sniff(head: bytes) -> str:
    if head.startswith(PARQUET_MAGIC):
        return "parquet"
    body = head[3:] if head.startswith(BOM) else head
    return "jsonl" if body.lstrip()[:1] == b"{" else "csv"


def resolve(path: str | os.PathLike[str], name: str | None = None) -> Source:
    """Check that ``path`` is a readable file and decide its format: by extension, else by its first bytes.
    ``name``: what messages call it, when ``path`` is a local copy (an object from storage); its extension counts."""
    try:
        src = _resolve(os.fspath(path), os.path.basename(name or os.fspath(path)))
    except InputError as exc:
        if name:
            raise InputError(name, exc.problem) from None
        raise
    return replace(src, path=name, file=src.path) if name else src


def _resolve(p: str, base: str) -> Source:
    try:
        st = os.stat(p)
    except OSError as exc:
        raise fail_read(p, exc) from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(p, "is a directory, not a file")
    name = base.lower()
    gz = name.endswith(".gz")
    if gz:
        name = name[:-3]
    fmt = EXTENSIONS.get(os.path.splitext(name)[1])
    head = peek(p, False, 4096)  # raises for unreadable files
    if not gz and head.startswith(GZIP_MAGIC):
        gz = True  # a gzipped file without .gz in its name
    if gz:
        head = peek(p, True)  # raises for a corrupt gzip header
    if fmt is None:
        fmt = sniff(head)
    return Source(p, fmt, gz, "\t" if name.endswith(".tsv") else None)


def detect_format(path: str | os.PathLike[str]) -> tuple[str, bool]:
    """``(format, gzipped)`` of a file, format one of "jsonl", "csv", "parquet"; raises InputError if unreadable."""
    src = resolve(path)
    return src.fmt, src.gz


def open_bytes(src: Source) -> BinaryIO:
    try:
        if src.gz:
            return gzip.open(src.local, "rb")  # type: ignore[return-value]
        return open(src.local, "rb")  # noqa: SIM115 - closed by the caller
    except OSError as exc:
        raise fail_read(src.path, exc) from None


def read_blocks(src: Source) -> Iterator[bytes]:
    """The file as chunks of whole lines (about ``BLOCK`` bytes each, without the last b"\\n"); BOM dropped.

    Reading big blocks and splitting them with one ``bytes.split`` is cheaper than a readline per line; a line
    longer than a block spans several reads.
    """
    parts: list[bytes] = []  # the unfinished line carried into the next read
    first = True
    with open_bytes(src) as fh:
        try:
            while True:
                block = fh.read(BLOCK)
                if not block:
                    break
                if first:
                    first = False
                    if block.startswith(BOM):
                        block = block[3:]
                cut = block.rfind(b"\n")
                if cut < 0:
                    parts.append(block)
                    continue
                if parts:
                    parts.append(block[:cut])
                    yield b"".join(parts)
                    parts.clear()
                else:
                    yield block[:cut]
                if cut + 1 < len(block):
                    parts.append(block[cut + 1 :])
            if parts:
                yield b"".join(parts)
        except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
            raise gzip_error(src.path, exc) from None
        except OSError as exc:
            raise fail_read(src.path, exc) from None

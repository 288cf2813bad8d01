"""Stage 1: what an ``--input`` names, as the log files to read: a file, a directory of files (Hive-partitioned as
``dt=2026-11-21/part-0.parquet`` or not), or the same on object storage (``s3://``, ``gs://``, any URI pyarrow's
filesystems open).

A directory is read whole: every file under it with a log extension (``.jsonl``, ``.json``, ``.ndjson``, ``.csv``,
``.tsv``, ``.parquet``, ``.pq``, each optionally ``.gz``), in path order, skipping hidden and ``_``-prefixed names
(``_SUCCESS``, ``.crc`` markers). Each ``key=value`` folder between the named directory and a file is a partition
column: it travels into each of the file's prompts (``meta.partition``), as a table engine would read it; so do the
``key=value`` folders the named path itself ends in, so a night over ``logs/dt=2026-11-21/`` keeps its ``dt`` as
one over ``logs/`` does (Spark would need ``basePath`` for that). A directory that holds no log file is an error,
not a quiet night.

An object on storage is copied to a local temporary file while it is read (the readers stream local bytes and need
random access for Parquet), then removed; messages and the quarantine name the URI. Credentials and endpoints are
pyarrow's (``AWS_*`` environment variables, ``GOOGLE_APPLICATION_CREDENTIALS``, ...).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from engine.ingest.formats import EXTENSIONS
from engine.ingest.records import InputError

#: bytes copied at a time from object storage
COPY_BLOCK = 8 * 1024 * 1024


@dataclass(frozen=True)
class LogFile:
    """One file to read: ``name`` is what messages call it (a path or a URI), ``partition`` its key=value folders."""

    name: str
    partition: dict[str, str] = field(default_factory=dict)
    uri: bool = False


def is_uri(path: str) -> bool:
    return "://" in path and not os.path.exists(path)


def is_log_name(name: str) -> bool:
    base = os.path.basename(name).lower()
    if base.startswith((".", "_")):
        return False
    if base.endswith(".gz"):
        base = base[:-3]
    return os.path.splitext(base)[1] in EXTENSIONS


def partition_of(relative: str) -> dict[str, str]:
    """``dt=2026-11-21/region=eu/part-0.parquet`` -> {"dt": "2026-11-21", "region": "eu"}."""
    out = {}
    for seg in relative.replace("\\", "/").split("/")[:-1]:
        key, sep, value = seg.partition("=")
        if sep and key:
            out[key] = value
    return out


def named_partition(path: str, is_dir: bool) -> dict[str, str]:
    """The partition a path names by itself: the run of ``key=value`` folders it ends in (a file: its folder's), so
    ``logs/dt=2026-11-21/`` named directly keeps ``dt`` as a table engine reading ``logs/`` would give it."""
    segs = path.replace("\\", "/").rstrip("/").split("/")
    if not is_dir:
        segs = segs[:-1]
    out: dict[str, str] = {}
    for seg in reversed(segs):
        key, sep, value = seg.partition("=")
        if not (sep and key):
            break
        out.setdefault(key, value)
    return dict(reversed(out.items()))


def expand(path: str | os.PathLike[str]) -> list[LogFile]:
    """The log files ``path`` names, in reading order; raises InputError for a missing path or an empty directory.
    Each file's partition is the ``key=value`` folders between ``path`` and it, after those ``path`` itself ends in."""
    p = os.fspath(path)
    if is_uri(p):
        return _expand_uri(p)
    if not os.path.isdir(p):
        return [LogFile(p, named_partition(p, is_dir=False))]  # a file, or a missing path the reader names
    named = named_partition(p, is_dir=True)
    found = []
    for root, dirs, files in os.walk(p):
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")))
        for f in sorted(files):
            if is_log_name(f):
                full = os.path.join(root, f)
                found.append(LogFile(full, named | partition_of(os.path.relpath(full, p))))
    if not found:
        raise InputError(p, "is a directory with no log files (.jsonl, .csv, .parquet, optionally .gz) under it")
    return sorted(found, key=lambda f: f.name)


def _filesystem(uri: str):  # noqa: ANN202 - pyarrow.fs types
    import pyarrow.fs as pafs

    try:
        return pafs.FileSystem.from_uri(uri)
    except Exception as exc:  # noqa: BLE001 - pyarrow raises several kinds for an unknown scheme or bad bucket
        raise InputError(uri, f"cannot open this location ({exc})") from None


def _expand_uri(uri: str) -> list[LogFile]:
    import pyarrow.fs as pafs

    fs, base = _filesystem(uri)
    try:
        info = fs.get_file_info(base)
        if info.type == pafs.FileType.NotFound:
            raise InputError(uri, "no such object or prefix")
        if info.type == pafs.FileType.File:
            return [LogFile(uri, named_partition(base, is_dir=False), uri=True)]
        listed = fs.get_file_info(pafs.FileSelector(base, recursive=True))
    except OSError as exc:
        raise InputError(uri, f"cannot list ({exc})") from None
    scheme = uri.split("://", 1)[0]
    prefix = base.rstrip("/") + "/"
    named = named_partition(base, is_dir=True)
    found = []
    for f in listed:
        rel = f.path[len(prefix) :] if f.path.startswith(prefix) else f.base_name
        if f.type != pafs.FileType.File or not is_log_name(f.path):
            continue
        if any(seg.startswith((".", "_")) for seg in rel.split("/")[:-1]):
            continue
        found.append(LogFile(f"{scheme}://{f.path}", named | partition_of(rel), uri=True))
    if not found:
        raise InputError(uri, "holds no log files (.jsonl, .csv, .parquet, optionally .gz)")
    return sorted(found, key=lambda f: f.name)


@contextmanager
def local_copy(log: LogFile) -> Iterator[str]:
    """A local path to read ``log`` from: the file itself, or a temporary copy of the object, removed after."""
    if not log.uri:
        yield log.name
        return
    fs, path = _filesystem(log.name)
    tmp = tempfile.mkdtemp(prefix="promptsim-input-")
    try:
        local = os.path.join(tmp, os.path.basename(path) or "object")
        try:
            with fs.open_input_stream(path) as src, open(local, "wb") as dst:
                while chunk := src.read(COPY_BLOCK):
                    dst.write(chunk)
        except OSError as exc:
            raise InputError(log.name, f"cannot read ({exc})") from None
        yield local
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

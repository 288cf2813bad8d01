"""Append-only journals beside the snapshots: analysts' labels and allowlist rules (``labels.jsonl``) and the audit
log of every analyst action (``audit.jsonl``).

Why not a table in the snapshot: a snapshot is written by one nightly run and replaced by the next, and an analyst
must be able to label *while* a night is running, and the label must survive that run, later nights, ``prune`` and a
kill -9 of either side. So a journal is a plain file of one JSON object per line, outside ``snapshots/``, with its
own lock (``<name>.lock``, flock), never the store's writer lock:

* an append takes the journal's lock, cuts a torn last line left by a killed writer (bytes after the last newline:
  that record was never acknowledged, so dropping it loses nothing an analyst was told was saved), writes the new
  line in one ``write`` and fsyncs before it returns: a record is either whole on disk or was never acknowledged;
* every record has a unique ``id``; reading keeps the first record of each id and skips a torn last line, so a
  record is never applied twice, whatever was retried;
* a run reads the journal once when it starts (``read``) and says how many records it saw (``seq``): labels
  written while it runs apply from the next night on.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any


class Journal:
    """One append-only JSON-lines file with its own lock."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.lock_path = self.path.with_suffix(".lock")

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.lock_path, "a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def append(self, record: dict[str, Any]) -> dict[str, Any]:
        """Write ``record`` (given an ``id`` and ``at`` when it has none) durably; returns what was written."""
        rec = {"id": secrets.token_hex(8), "at": now(), **record}
        line = (json.dumps(rec, ensure_ascii=False, sort_keys=True, default=str) + "\n").encode("utf-8")
        with self._locked():
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                size = os.fstat(fd).st_size
                if size:
                    # a torn tail (killed mid-write): cut back to the last newline before appending
                    tail = os.pread(fd, min(size, 1 << 16), max(0, size - (1 << 16)))
                    if not tail.endswith(b"\n"):
                        cut = tail.rfind(b"\n")
                        os.ftruncate(fd, size - len(tail) + cut + 1 if cut >= 0 else max(0, size - len(tail)))
                os.lseek(fd, 0, os.SEEK_END)
                os.write(fd, line)
                os.fsync(fd)
            finally:
                os.close(fd)
        return rec

    def read(self) -> list[dict[str, Any]]:
        """Every whole record, in the order written, each id once (a torn last line is not a record)."""
        if not self.path.exists():
            return []
        data = self.path.read_bytes()
        out, seen = [], set()
        for raw in data.split(b"\n")[:-1]:  # the last piece is "" or a torn line
            if not raw.strip():
                continue
            try:
                rec = json.loads(raw)
            except ValueError:
                continue  # a damaged line in the middle (disk trouble): skipped, never guessed at
            if isinstance(rec, dict) and rec.get("id") not in seen:
                seen.add(rec.get("id"))
                out.append(rec)
        return out


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def labels_journal(store_root: Path) -> Journal:
    return Journal(Path(store_root) / "labels.jsonl")


def audit_journal(store_root: Path) -> Journal:
    return Journal(Path(store_root) / "audit.jsonl")

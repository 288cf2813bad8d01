"""The on-disk store: immutable snapshots, swapped in atomically.

Layout of a store directory::

    CURRENT                 name of the live snapshot (replaced with os.replace: atomic on POSIX)
    snapshots/<run_id>/     one complete, immutable state: db.duckdb (the per-night tables of engine.store.tables),
                            index.hnsw (the HNSW graph, without the vectors it links), snapshot.json (which lists
                            the partitions it reads)
    parts/                  prompts and texts (with vectors and signatures), written once by the night that first
                            saw them and shared by the snapshots that list them (engine.store.parts)
    cache/<embedder>/       content-addressed embedding cache shared by all snapshots (see engine.embed)
    quarantine/<run_id>.jsonl   rows a run rejected
    lock                    held (flock) by the one run allowed to write at a time

Why snapshots rather than updating tables in place: a night that crashes, is killed or hits Ctrl-C half-way must
leave the last good state readable, and readers (``promptsim similar``, exports, any long-lived reader) must never see
half a night. A run writes a new snapshot under a temporary name, renames it into place, and only then points CURRENT
at it; readers resolve CURRENT once and read a directory nobody writes to. The live snapshot and
the one it replaced are kept, so a reader that opened the previous one is not pulled out from under.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from engine.store import parts as parts_mod

KEEP_SNAPSHOTS = 2


class StoreError(Exception):
    """The store is missing, empty, locked or damaged; the message says which and what to do."""


@dataclass
class Snapshot:
    """A read-only view of one committed state."""

    path: Path
    _con: duckdb.DuckDBPyConnection | None = field(default=None, repr=False)
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)
    _local: threading.local = field(default_factory=threading.local, repr=False)
    _cursors: list[duckdb.DuckDBPyConnection] = field(default_factory=list, repr=False)
    _guard: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            self._con = duckdb.connect(str(self.path / "db.duckdb"), read_only=True)
            self._attach_parts(self._con)
        return self._con

    @property
    def parts(self) -> dict[str, Any] | None:
        """The partitions this snapshot reads (``snapshot.json`` → ``parts``); None for a snapshot that predates
        them and holds every table itself."""
        if "parts" not in self._cache:
            self._cache["parts"] = self.meta().get("parts")
        return self._cache["parts"]

    def _attach_parts(self, con: duckdb.DuckDBPyConnection) -> None:
        """Expose the partitioned tables to SQL as ``prompts`` and ``texts``, as if the snapshot held them.

        Temporary views, made on every connection and cursor (DuckDB keeps temporary objects per connection): the
        database file is opened read-only, and absolute paths must not be baked into a store that may be moved.
        """
        parts = self.parts
        if not parts:
            return
        root = parts_mod.parts_root(self.path.parent.parent)
        prompt_files = parts_mod.sql_list(root, [p["file"] for p in parts["prompts"]])
        con.execute(f"CREATE TEMP VIEW prompts AS SELECT * FROM read_parquet({prompt_files})")
        # every snapshot has texts (a run with no prompt to keep fails before committing), so it lists a segment
        segs = parts_mod.sql_list(root, [f"texts/{s['seg']}.parquet" for s in parts["texts"]])
        con.execute(
            "CREATE TEMP VIEW texts AS SELECT l.text_row, l.text_key, s.norm_text, s.skeleton, l.template_id, "
            f"l.dup_group, l.cluster_id, l.cluster_prob FROM text_labels l JOIN read_parquet({segs}) s "
            "ON s.seg = l.seg AND s.off = l.off"
        )

    def query(self, sql: str, params: list | None = None) -> pa.Table:
        """Run SQL on the snapshot's DuckDB database and return an Arrow table.

        Each thread queries through its own cursor: a DuckDB connection is not safe to share between threads, and
        a server answers requests from a thread pool over one snapshot.
        """
        cur = getattr(self._local, "cur", None)
        if cur is None:
            with self._guard:
                cur = self.con.cursor()
                self._attach_parts(cur)
                self._cursors.append(cur)
            self._local.cur = cur
        return cur.sql(sql, params=params).to_arrow_table()

    def meta(self) -> dict[str, Any]:
        return json.loads((self.path / "snapshot.json").read_text())

    def array(self, name: str) -> np.ndarray:
        """A per-text array (``vectors`` float16, ``signatures`` uint32) in text-row order.

        Read from the text segments the snapshot lists (memory-mapped; one segment holding the window in order, as
        on a store's first night, is returned as the memory map itself), or from the snapshot's own ``.npy`` in a
        snapshot that predates partitions.
        """
        if name not in self._cache:
            if self.parts:
                if "_locs" not in self._cache:
                    loc = self.query("SELECT seg, off FROM text_labels ORDER BY text_row")
                    self._cache["_locs"] = (np.array(loc["seg"].to_pylist(), dtype=object), loc["off"].to_numpy())
                seg, off = self._cache["_locs"]
                self._cache[name] = parts_mod.gather(parts_mod.parts_root(self.path.parent.parent), seg, off, name)
            else:
                self._cache[name] = np.load(self.path / f"{name}.npy", mmap_mode="r")
        return self._cache[name]

    def has_array(self, name: str) -> bool:
        """Whether the snapshot stores the per-text array ``name`` (every snapshot since the first release does)."""
        return bool(self.parts) or (self.path / f"{name}.npy").exists()

    def has(self, name: str) -> bool:
        return (self.path / name).exists()

    def close(self) -> None:
        with self._guard:
            for cur in self._cursors:
                with contextlib.suppress(Exception):
                    cur.close()
            self._cursors.clear()
            self._local = threading.local()
        if self._con is not None:
            self._con.close()
            self._con = None


class SnapshotWriter:
    """Builds a new snapshot in a temporary directory; ``commit`` makes it the live one atomically."""

    def __init__(self, store: Store, run_id: str) -> None:
        self.store, self.run_id = store, run_id
        self.tmp = store.root / "snapshots" / f".tmp-{run_id}"
        if self.tmp.exists():
            shutil.rmtree(self.tmp)
        self.tmp.mkdir(parents=True)
        self.con = duckdb.connect(str(self.tmp / "db.duckdb"))
        self.part_files: list[Path] = []  # partitions this run wrote (engine.store.parts), made durable at commit

    @property
    def parts_root(self) -> Path:
        return parts_mod.parts_root(self.store.root)

    def bytes_written(self) -> int:
        """Bytes this run wrote: its snapshot directory and the partitions it added (what a night costs the disk)."""
        files = [p for p in self.tmp.iterdir() if p.is_file()] + [p for p in self.part_files if p.exists()]
        return sum(p.stat().st_size for p in files)

    def table(self, name: str, data: pa.Table) -> None:
        """Write (replace) a DuckDB table from an Arrow table."""
        self.con.register("_incoming", data)
        self.con.execute(f'CREATE OR REPLACE TABLE "{name}" AS SELECT * FROM _incoming')
        self.con.unregister("_incoming")

    def array(self, name: str, values: np.ndarray) -> None:
        np.save(self.tmp / f"{name}.npy", values)

    def path(self, name: str) -> Path:
        return self.tmp / name

    def commit(self, meta: dict[str, Any]) -> Snapshot:
        """fsync everything, rename into place, then swap CURRENT: the only moment the live state changes.

        The snapshot records the one it replaces (``parent`` in snapshot.json): the snapshots kept are the live one
        and its ancestors, never one that was renamed into place by a run that died before swapping CURRENT. Such a
        dead run's snapshot is complete but was never live; counted by age it used to push the previous live
        snapshot out at the next commit, pulling it from under the readers ``KEEP_SNAPSHOTS`` protects.
        """
        self.con.execute("CHECKPOINT")
        self.con.close()
        parent = self.store._current_name()
        (self.tmp / "snapshot.json").write_text(json.dumps({**meta, "parent": parent}, indent=1, default=str))
        for p in [*self.tmp.iterdir(), *self.part_files]:
            _fsync(p)
        for d in {p.parent for p in self.part_files}:
            _fsync(d)
        final = self.store.root / "snapshots" / self.run_id
        os.replace(self.tmp, final)
        _fsync(final.parent)
        try:
            self.store._point_current(self.run_id)
        except BaseException:
            # not live (CURRENT still names the parent): take it back out, so the state is exactly as before
            if self.store._current_name() != self.run_id:
                shutil.rmtree(final, ignore_errors=True)
            raise
        self.store._gc()
        return Snapshot(final)

    def abort(self) -> None:
        """Remove everything this run wrote: its temporary snapshot and its partitions (no snapshot lists them)."""
        with contextlib.suppress(Exception):
            self.con.close()
        shutil.rmtree(self.tmp, ignore_errors=True)
        if self.store._current_name() == self.run_id:
            return  # it went live before the failure (in the clean-up after the swap): its partitions are in use
        for p in self.part_files:
            p.unlink(missing_ok=True)


class Store:
    """A store directory (created on first write)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    # -- reading -------------------------------------------------------------------------------------------
    def current(self) -> Snapshot | None:
        """The live snapshot, or None for a store that has never committed a run."""
        name = self._current_name()
        return None if name is None else self.snapshot(name)

    def snapshot(self, name: str) -> Snapshot:
        """A committed snapshot by name (the live one or one kept for readers that still hold it)."""
        path = self.root / "snapshots" / name
        if not (path / "snapshot.json").exists():
            raise StoreError(f"{self.root}: snapshot {name} is missing or incomplete")
        return Snapshot(path)

    def require(self) -> Snapshot:
        snap = self.current()
        if snap is None:
            raise StoreError(f"{self.root}: no store here yet; run `promptsim run --input LOG --store {self.root}`")
        return snap

    # -- writing -------------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """One writer at a time: a second run on the same store is refused, never interleaved."""
        self.root.mkdir(parents=True, exist_ok=True)
        fh = open(self.root / "lock", "a+")  # noqa: SIM115 - held for the duration of the context
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            fh.close()
            raise StoreError(
                f"{self.root}: another run is writing this store ({holder}); try again when it ends"
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()} since {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}")
        fh.flush()
        try:
            yield
        finally:
            fh.seek(0)
            fh.truncate()
            fcntl.flock(fh, fcntl.LOCK_UN)
            fh.close()

    def begin(self, run_id: str) -> SnapshotWriter:
        (self.root / "snapshots").mkdir(parents=True, exist_ok=True)
        return SnapshotWriter(self, run_id)

    def quarantine_path(self, run_id: str) -> Path:
        (self.root / "quarantine").mkdir(parents=True, exist_ok=True)
        return self.root / "quarantine" / f"{run_id}.jsonl"

    def _point_current(self, name: str) -> None:
        tmp = self.root / "CURRENT.tmp"
        tmp.write_text(name + "\n")
        _fsync(tmp)
        os.replace(tmp, self.root / "CURRENT")
        _fsync(self.root)

    def _current_name(self) -> str | None:
        pointer = self.root / "CURRENT"
        return pointer.read_text().strip() if pointer.exists() else None

    def _lineage(self) -> list[str]:
        """The live snapshot and the ones it replaced, newest first, as far as KEEP_SNAPSHOTS reaches.

        Follows ``parent`` in each snapshot.json. A snapshot written before parents were recorded ends the chain;
        then the newest other complete snapshots (by modification time, as before) fill it up.
        """
        snaps = self.root / "snapshots"
        chain: list[str] = []
        name = self._current_name()
        while name and name not in chain and len(chain) < KEEP_SNAPSHOTS:
            chain.append(name)
            try:
                meta = json.loads((snaps / name / "snapshot.json").read_text())
            except (OSError, ValueError):
                break
            if "parent" not in meta:  # an older snapshot: its ancestors are not known
                rest = KEEP_SNAPSHOTS - len(chain)
                others = sorted(
                    (p for p in snaps.iterdir() if not p.name.startswith(".") and p.name not in chain),
                    key=lambda p: p.stat().st_mtime,
                )
                chain += [p.name for p in others[max(0, len(others) - rest) :]]
                break
            name = meta["parent"]
        return chain

    def _gc(self) -> None:
        """Drop all but the live snapshot and its KEEP_SNAPSHOTS - 1 predecessors, and what dead runs left.

        The writer holds the lock, so any ``.tmp-*`` left is a dead run's, and so is any snapshot outside the
        lineage: one renamed into place by a run that died before it swapped CURRENT.
        """
        keep = set(self._lineage())
        for p in (self.root / "snapshots").iterdir():
            if p.name not in keep:
                shutil.rmtree(p, ignore_errors=True)
        self._gc_parts(keep)

    def _gc_parts(self, keep: set[str]) -> None:
        """Delete partition files no kept snapshot lists (superseded, pruned, compacted, or left by a dead run)."""
        root = parts_mod.parts_root(self.root)
        if not root.exists():
            return
        used: set[str] = set()
        for name in keep:
            try:
                used |= parts_mod.referenced(json.loads((self.root / "snapshots" / name / "snapshot.json").read_text()))
            except (OSError, ValueError):
                return  # a kept snapshot we cannot read: delete nothing rather than something it needs
        for p in root.rglob("*"):
            if p.is_file() and p.relative_to(root).as_posix() not in used:
                p.unlink(missing_ok=True)


def _fsync(path: Path) -> None:
    """Flush a file or directory to disk so a power cut after the rename cannot leave an empty file behind."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

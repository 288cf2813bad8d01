"""The snapshot a long-lived server reads, swapped for the next one when a nightly run commits.

A run writes its snapshot beside the live one and then replaces ``CURRENT`` (engine.store.snapshots): readers of
the old snapshot are never disturbed, and the old directory is kept until the commit after next. So a server can
keep answering from the snapshot it has while the next one loads in a background thread (a 1M-prompt window takes
seconds to open), and swap one reference when it is ready: no request waits for the load or sees half of it, and
none fails while a run writes or commits.

``CURRENT`` is re-read at most every ``poll_seconds`` by whichever request comes first; that is one small file
read, cheaper than a file watcher and the same on every filesystem.
"""

from __future__ import annotations

import gc
import logging
import os
import shutil
import threading
import time
from pathlib import Path

from engine.app.views import State
from engine.store import Store, StoreError

log = logging.getLogger("promptsim.serve")


class LiveStore:
    """The current :class:`State` of a store directory, kept up to date with its ``CURRENT`` snapshot."""

    def __init__(self, root: str | Path, *, poll_seconds: float = 1.0) -> None:
        self.store = Store(root)
        self.poll_seconds = poll_seconds
        self._state: State | None = None
        self._loading: str | None = None
        self._failed: set[str] = set()  # snapshots that would not open: not tried again
        self._checked = 0.0
        self._lock = threading.Lock()
        snap = self.store.current()
        if snap is not None:
            self._state = self._open(snap.name, threads=os.cpu_count() or 1)  # nothing is served yet: every core
            settle_heap()

    def poll(self) -> str | None:
        """Look at CURRENT (at most every ``poll_seconds``), start loading a newer snapshot in the background when
        there is one, and return the name of the snapshot being served now."""
        now = time.monotonic()
        if now - self._checked >= self.poll_seconds:
            self._checked = now
            self._maybe_reload()
        return self.loaded

    def get(self) -> State:
        """The newest fully loaded state; starts loading a newer snapshot in the background when there is one."""
        self.poll()
        state = self._state
        if state is None:
            raise StoreError(f"no committed snapshot in {self.store.root} yet: run `promptsim run` first")
        return state

    @property
    def loaded(self) -> str | None:
        """Name of the snapshot being served (None before the first run has committed)."""
        return self._state.name if self._state is not None else None

    def wait_for(self, name: str, timeout: float = 60.0) -> bool:
        """Block until snapshot ``name`` is being served (tests and the load benchmark use this)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._checked = 0.0
            self._maybe_reload()
            if self.loaded == name:
                return True
            time.sleep(0.05)
        return False

    def _open(self, name: str, *, threads: int) -> State:
        """A snapshot opened for serving, with its similar-by-id neighbour table read or built first
        (``Searcher.prepare_table``: kept under the store's ``cache/neighbours/``, shared by the workers)."""
        state = State.open(self.store.snapshot(name))
        tables = self.store.root / "cache" / "neighbours"
        state.searcher.prepare_table(tables / name, threads=threads)
        _unused(tables, keep=name)
        return state

    def _maybe_reload(self) -> None:
        name = self.store._current_name()
        with self._lock:
            if name is None or name == self.loaded or self._loading is not None or name in self._failed:
                return
            self._loading = name
        threading.Thread(target=self._load, args=(name,), name=f"load-{name}", daemon=True).start()

    def _load(self, name: str) -> None:
        try:
            state = self._open(name, threads=1)  # beside the requests the old snapshot is still answering
        except Exception as e:  # a damaged or vanished snapshot: keep serving the one we have, say why
            log.error("could not open snapshot %s (%s); still serving %s", name, e, self.loaded)
            with self._lock:
                self._failed.add(name)
                self._loading = None
            return
        with self._lock:
            self._state = state  # one reference swap: requests in flight keep the state they took
            self._loading = None
        settle_heap()
        log.info("serving snapshot %s", name)


def _unused(root: Path, keep: str) -> None:
    """Neighbour tables of other snapshots: a worker still serving one keeps its memory map, the files can go."""
    for d in root.iterdir() if root.is_dir() else []:
        if d.name != keep:
            shutil.rmtree(d, ignore_errors=True)


def settle_heap() -> None:
    """Collect once, then freeze what is left out of the garbage collector's reach (``gc.freeze``).

    A loaded snapshot is millions of long-lived Python objects (the prompt-id index, ids, snippets); every full
    collection walked all of them, a pause of tens of milliseconds in whichever request triggered it. Frozen objects
    are still freed by reference counting when the next snapshot replaces them; the unfreeze and collect first let
    a replaced snapshot's reference cycles go."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()

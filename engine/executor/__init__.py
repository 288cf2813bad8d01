"""How steps run: an executor records each step's cost, and runs the steps' per-batch work where it chooses.

The steps (``engine.pipeline.steps``) are plain functions; an executor decides where they and their data-parallel
parts run, and records what each step cost. Two things make up an executor:

* ``step(name, fn, *args)``: run one step (on the driver, the process that called ``run``), record its wall
  seconds and the peak RSS so far, print a progress line unless quiet, and raise at ``fail_after`` (tests).
* the data-parallel contract below, which steps call for their per-prompt / per-text work. Every method takes a
  top-level (picklable) function or class, so a distributed executor can ship it to workers, and returns its
  rows in input order, so that where the work ran never changes a result:

  - ``map_batches(fn, table, *, batch_size) -> pa.Table``: ``fn(pa.Table) -> pa.Table`` (same number of rows, in
    order) over consecutive slices of ``table``; the outputs concatenated in input order. For stateless work
    (normalise and mask, MinHash).
  - ``iter_batches_actor(cls, table, *, batch_size, ctor_kwargs, concurrency, num_gpus) -> Iterator[pa.Table]``:
    the same with a stateful callable: ``cls(**ctor_kwargs)`` is built once per worker (an embedding model), then
    called on slices; output batches are yielded in input order *as they are done*, so the caller can act on
    partial results (the embed step writes them to the cache as they come: an interrupted night keeps its work).
    ``map_batches_actor`` is the same, collected into one table; ``submit_batches_actor`` is that started now and
    collected later (a ``Pending``), for work whose inputs are ready steps before the step that reads it.
  - ``group_aggregate(table, keys, aggs) -> pa.Table``: ``Table.group_by(keys).aggregate(aggs)`` semantics,
    sorted by ``keys`` (groupby output order is not something either engine promises).
  - ``map_sorted(fn, table, by, *, batch_size) -> list[pa.Table]``: ``table`` sorted by the columns ``by``, then
    ``fn`` over consecutive sorted slices of at most ``batch_size`` rows (any number of rows out); the outputs in
    sorted order. Where the slices are cut is the executor's choice (a distributed sort cuts at its partitions
    too), and an executor may merge consecutive outputs: ``fn`` marks in its output what its caller must finish
    across slices. For global stages that are a sort, then a pass over runs of equal keys (LSH buckets).

``distributed`` says whether this work runs outside this process; a global stage with both forms (LSH) takes its
in-memory form when it is False, being faster on one machine.

``LocalExecutor`` runs all of it on this machine, calling the very same functions over the same slices: it is the
reference, and a night run with it is bit-identical to one run before executors had a data-parallel contract. It
runs everything in this process except a stateful class that allows worker processes (masking, the per-text
signals), which it spreads over the cores when the table is large (``LocalExecutor``'s doc), and work submitted
ahead of the step that reads it (``submit_batches_actor``: the per-text signals), which it runs in low-priority
worker processes in the background, on the core that single-threaded steps leave idle.
``engine.executor.ray.RayExecutor`` runs the same calls as Ray Data ``map_batches`` (tasks, or an actor
pool for ``iter_batches_actor``) on a local or remote Ray cluster.

What stays on the driver, whatever the executor, and what it costs (n = window prompts, t = distinct texts):

* reading the input files (``steps.ingest``): one pass over the bytes, O(batch) memory; sequential because the
  quarantine is one ordered file (file, line, field) and the duplicate-id check spans files (see ``steps.ingest``);
* merging with the stored prompts, the window cut, distinct texts: Arrow hash passes, O(n) time and memory;
* template mining (``engine.text.templates``): counts over all texts and accounts, O(t) time, O(t) memory;
* LSH grouping (``engine.text.minhash.lsh_groups``): with a local executor, a numpy sort per band of the (t, 128)
  uint32 signatures, O(t log t) time, 512 bytes of signature per text; with a distributed one only the Jaccard check
  of candidate edges and the connected components (O(edges)) run here, the buckets being formed by ``map_sorted``
  (cost below);
* the embedding cache lookup and writes: O(t) keys, the new vectors streamed to disk as they come;
* index build / growth (FAISS): O(t d) memory (d = 256 with the static embedder), HNSW build ~O(t log t);
* HDBSCAN over the kNN graph (``engine.vectors.cluster``): O(t k) graph in memory, HDBSCAN's MST ~O(t log t) to
  O(t^2) worst case — the global step that bounds one machine (GUIDE §5). The graph's search is not global: its
  queries go through ``iter_batches_actor`` to workers that each hold a shard of the index, merged by similarity
  on the driver (``engine.vectors.knn``, which writes down its costs);
* per-account signals, profiles, cohorts and campaign scoring (``engine.detect``): vectorised group-bys over the
  window's arrays, O(n) time, O(n + accounts) memory; profile HDBSCAN over accounts (thousands). Not the per-text
  signals (capability area, language, markers, probe probability), which are ``submit_batches_actor`` work
  (``engine.detect.signals.TextSignalBatches``), nor the plain per-account aggregates (below).

LSH buckets by a distributed sort (``engine.text.minhash.lsh_pairs_sorted``, on a distributed executor): one
``map_batches`` computes each signature's whole-row key and its 32 band keys; one ``map_sorted`` sorts the
t x 33 rows (band, key, row), 18 bytes each, and star-links each run of equal (band, key) to its smallest row; the
driver links the runs that cross slices and drops the band edges of duplicate signatures, which gives exactly the
numpy path's edges. On Ray the sort is ``Dataset.sort`` (sampled range bounds, one partition per worker, a merge
per partition). Measured on the 2-core test machine (``scripts/bench_lsh.py --n N --executor ray``:
``lsh_groups(min_jaccard=0.5)`` as the minhash step calls it, on near-duplicates grown from the real prompts of
``../shared/corpora``), Ray against the numpy path: 100k signatures (3.3M rows sorted) 13.1 s against 0.28 s;
200k (6.6M rows) 13.1 s against 0.58 s; 400k (13.2M rows) 19.7 s against 1.16 s, of which ~3 s the keys and
~17 s the sort and the pass over runs. The same sort path on the local executor takes 4.8 s at 400k. Ray Data's
sort costs ~8 s of scheduling here even for a few thousand rows (its stages start fresh worker processes), so on
one machine this is a price paid for the form that spreads over a cluster, not a speed-up; a local run keeps the
numpy path (and ``Executor.distributed`` is how ``lsh_pairs`` tells them apart).

The per-account aggregation goes through ``group_aggregate`` for its plain aggregates (prompts, first request,
capability and marked prompts per account: integer counts, sums and minima, so a shuffle cannot change them;
``engine.detect.signals.account_signals``). The measures that are not plain aggregates (longest empty stretch of
the day, minute-of-hour concentration, most common ASN; float sums whose result would depend on the order a shuffle
adds them in) stay vectorised passes on the driver, which holds the window anyway for the global steps that
follow. On Ray a groupby is a hash shuffle through aggregator actors: ~9 s even for 3,000 rows on the 2-core test
machine, a fixed cost a cluster amortises over millions of prompts.
"""

from __future__ import annotations

import functools
import multiprocessing
import os
import resource
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, Generic, TypeVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from engine.batches import LazyTable

T = TypeVar("T")

#: an aggregation as ``Table.group_by().aggregate`` takes it: (column, function), e.g. ("timestamp", "min")
Aggregation = tuple[str, str]


class InjectedFailure(RuntimeError):
    """Raised after the step named by ``RunConfig.fail_after``: lets tests kill a run at a chosen point."""


def concat(parts: Sequence[pa.Table], empty: pa.Table) -> pa.Table:
    """``parts`` concatenated (in order), or ``empty`` when there are none; chunks are kept (no copy)."""
    return pa.concat_tables(list(parts)) if parts else empty


def sort_keys(columns: Sequence[str]) -> list[tuple[str, str]]:
    """``columns`` as Arrow sort keys, each ascending."""
    return [(c, "ascending") for c in columns]


def sorted_groups(table: pa.Table, keys: Sequence[str]) -> pa.Table:
    """A group-by result in key order, so two engines' answers compare equal row by row."""
    return table.sort_by(sort_keys(keys))


class Pending(Generic[T]):
    """A value being computed (a table of batches, tonight's partitions): ``result()`` waits for it (or computes it
    here, when nothing runs it in the background) and raises what the work raised; ``cancel()`` tells background
    work its result will not be asked for (it stops handing out slices)."""

    def __init__(self, compute: Callable[[Pending[T]], T]) -> None:
        self._compute: Callable[[Pending[T]], T] | None = compute
        self._thread: threading.Thread | None = None
        self._value: T | None = None
        self._error: BaseException | None = None
        self.cancelled = threading.Event()

    def _run(self) -> None:
        compute, self._compute = self._compute, None
        if compute is None:
            return
        try:
            self._value = compute(self)
        except BaseException as e:  # noqa: BLE001 - raised again to whoever asks for the result
            self._error = e

    def start(self) -> Pending[T]:
        """Compute in a background thread from now on (a daemon: a failed night does not wait for it at exit)."""
        self._thread = threading.Thread(target=self._run, name="pending-batches", daemon=True)
        self._thread.start()
        return self

    def wait(self) -> None:
        """Until the work is done (computed here if nothing runs it in the background), raising nothing: for a
        clean-up that must not race the work."""
        if self._thread is None:
            self._run()
        else:
            self._thread.join()

    def result(self) -> T:
        self.wait()
        if self._error is not None:
            raise self._error
        assert self._value is not None
        return self._value

    def cancel(self) -> None:
        self.cancelled.set()


def release_freed_memory() -> None:
    """Hand the memory a step freed back to the OS, so that the next step starts from what is live.

    glibc keeps freed heap memory in its arenas (one per thread that allocated: the tokenizer's, BLAS's, a thread
    pool's) for reuse, and Arrow's pool keeps its own; a later step that allocates other sizes grows the process
    on top of them. At 1M prompts, 850 MiB were free but held after the embed step, and the run's peak (the
    cluster step's) stood on them. ``malloc_trim`` exists on glibc only; elsewhere only Arrow's pool is released.
    """
    pa.default_memory_pool().release_unused()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, looked up once; None on a C library without it."""
    import ctypes
    import ctypes.util

    try:
        return getattr(ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6"), "malloc_trim", None)
    except OSError:
        return None


class Executor:
    """What every executor shares: step timing, peak memory, progress lines, injected failures.

    Subclasses implement the data-parallel contract (module doc); ``workers`` is how many parallel workers (tasks
    or actors) they may use, None meaning "what the machine or cluster has".
    """

    name = "base"
    #: whether the data-parallel work runs outside this process (on a cluster): a global stage with a distributed
    #: form (LSH buckets) takes that form then, and its faster in-memory form otherwise
    distributed = False

    def __init__(self, *, quiet: bool = False, fail_after: str | None = None, workers: int | None = None) -> None:
        self.quiet, self.fail_after, self.workers = quiet, fail_after, workers
        self.timings: dict[str, float] = {}
        self.peak_rss_mb: dict[str, float] = {}

    def step(self, name: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``fn(*args, **kwargs)`` on the driver; record its seconds and the driver's peak RSS so far."""
        t0 = time.perf_counter()
        out = fn(*args, **kwargs)
        release_freed_memory()
        self.timings[name] = round(time.perf_counter() - t0, 3)
        self.peak_rss_mb[name] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        self.say(f"[{name}] {self.timings[name]:.1f}s, peak RSS {self.peak_rss_mb[name]:,.0f} MB")
        describe = getattr(out, "describe", None)
        if callable(describe):
            self.say(describe())
        self.check(name)
        return out

    def check(self, point: str) -> None:
        """Raise InjectedFailure at ``point`` when the run was told to fail there (tests)."""
        if self.fail_after == point:
            raise InjectedFailure(f"injected failure after {point}")

    def say(self, msg: str) -> None:
        if not self.quiet:
            print(msg, flush=True)

    def close(self) -> None:
        """Release what the executor holds (a Ray connection); a no-op here."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the data-parallel contract -------------------------------------------------------------------------------

    def map_batches(self, fn: Callable[[pa.Table], pa.Table], table: pa.Table, *, batch_size: int) -> pa.Table:
        raise NotImplementedError

    def iter_batches_actor(
        self,
        cls: type,
        table: pa.Table,
        *,
        batch_size: int,
        ctor_kwargs: dict[str, Any] | None = None,
        concurrency: int | None = None,
        num_gpus: float | None = None,
    ) -> Iterator[pa.Table]:
        raise NotImplementedError

    def map_batches_actor(
        self,
        cls: type,
        table: pa.Table,
        *,
        batch_size: int,
        ctor_kwargs: dict[str, Any] | None = None,
        concurrency: int | None = None,
        num_gpus: float | None = None,
    ) -> pa.Table:
        """``iter_batches_actor`` collected into one table (input order). An empty input gives an empty table with
        the output's schema, from one call of a driver-side instance on the empty input."""
        parts = list(
            self.iter_batches_actor(
                cls, table, batch_size=batch_size, ctor_kwargs=ctor_kwargs, concurrency=concurrency, num_gpus=num_gpus
            )
        )
        if parts:
            return pa.concat_tables(parts)
        return cls(**(ctor_kwargs or {}))(table)

    def submit_batches_actor(
        self, cls: type, table: pa.Table | LazyTable, *, batch_size: int, ctor_kwargs: dict[str, Any] | None = None
    ) -> Pending[pa.Table]:
        """``map_batches_actor`` started now and collected later (``Pending.result()``): for work whose inputs are
        ready a step or two before the step that reads it. ``table`` may be a ``LazyTable`` (rows built into
        Arrow a slice at a time). Here it runs when its result is asked for; a local executor may run it in the
        background meanwhile (``LocalExecutor.submit_batches_actor``)."""

        def compute(_: Pending[pa.Table]) -> pa.Table:
            whole = table.table() if isinstance(table, LazyTable) else table
            return self.map_batches_actor(cls, whole, batch_size=batch_size, ctor_kwargs=ctor_kwargs)

        return Pending(compute)

    def group_aggregate(self, table: pa.Table, keys: Sequence[str], aggs: Sequence[Aggregation]) -> pa.Table:
        raise NotImplementedError

    def map_sorted(
        self, fn: Callable[[pa.Table], pa.Table], table: pa.Table, by: Sequence[str], *, batch_size: int
    ) -> list[pa.Table]:
        raise NotImplementedError


#: rows from which a stateful class that allows it (``processes = True``) runs in worker processes on a local
#: executor: starting one (a fresh interpreter, its imports, the class's state) costs about a second, which a table
#: of this size repays (the per-text signals: ~150 µs a text on one core)
PROCESS_MIN_ROWS = 40_000

_ACTOR: Any = None  # the worker process's instance (``_start_actor``)


#: scheduling priority (``os.nice``) of the worker processes of background work (``submit_batches_actor``): at 19
#: the kernel gives them a core only when the steps running meanwhile leave it idle, so they fill the gaps of
#: single-threaded steps without slowing the steps that keep both cores busy
BACKGROUND_NICE = 19


def _start_actor(cls: type, kwargs: dict[str, Any], nice: int = 0) -> None:
    global _ACTOR
    if nice:
        os.nice(nice)
    _ACTOR = cls(**kwargs)


def _call_actor(batch: pa.Buffer) -> pa.Table:
    return _ACTOR(pa.ipc.open_stream(batch).read_all())


def _compact(table: pa.Table) -> pa.Buffer:
    """A slice as Arrow IPC bytes holding its own rows only: pickling a slice pickles the whole table under it
    (measured: 72 MB for 1,000 rows of a 200k-row table), which at 1M prompts sent a gigabyte with every slice."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def _in_processes(
    cls: type, table: pa.Table | LazyTable, batch_size: int, ctor_kwargs: dict[str, Any], n: int, nice: int = 0,
    cancelled: threading.Event | None = None,
) -> Iterator[pa.Table]:  # fmt: skip
    """``cls`` over slices of ``table`` in ``n`` spawned worker processes (one instance each), outputs in order.

    Slices are smaller than asked, at least four a worker, so that no worker is left alone with the last one, and
    at most two a worker are in flight: the table is never pickled whole. Spawned, not forked: the driver holds
    threads (FAISS, BLAS, Arrow) that a fork would copy mid-lock. ``cancelled`` set: no further slice is handed
    out and the iteration ends early (the caller has given up on the result)."""
    size = max(1, min(batch_size, -(-table.num_rows // (4 * n))))
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(n, mp_context=spawn, initializer=_start_actor, initargs=(cls, ctor_kwargs, nice)) as pool:
        pending: deque[Future[pa.Table]] = deque()
        for s in range(0, table.num_rows, size):
            if cancelled is not None and cancelled.is_set():
                for f in pending:
                    f.cancel()
                return
            pending.append(pool.submit(_call_actor, _compact(table.slice(s, size))))
            if len(pending) >= 2 * n:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


class LocalExecutor(Executor):
    """Runs each step and its per-batch work on this machine, one slice after the other.

    The slices bound the temporaries of one call (``batch_size`` rows at a time); the functions called are the
    ones a Ray run ships to its workers, on the same slices, so the two cannot drift apart. A stateful class that
    says so (``processes = True``: pure Python per row, holding the GIL, so threads would not help, and each output
    row depends on its input row only) runs in one worker process per core when the table has ``PROCESS_MIN_ROWS``
    rows or more: one instance per worker, slices of at most ``batch_size`` rows, the outputs in input order, so
    where it ran changes no result.
    """

    name = "local"

    def __init__(self, *, quiet: bool = False, fail_after: str | None = None, workers: int | None = None) -> None:
        super().__init__(quiet=quiet, fail_after=fail_after, workers=workers)
        self._background: list[Pending[pa.Table]] = []

    def map_batches(self, fn: Callable[[pa.Table], pa.Table], table: pa.Table, *, batch_size: int) -> pa.Table:
        """``fn`` over consecutive slices of ``batch_size`` rows (zero-copy), outputs concatenated in order."""
        if table.num_rows == 0:
            return fn(table)
        return pa.concat_tables([fn(table.slice(s, batch_size)) for s in range(0, table.num_rows, batch_size)])

    def iter_batches_actor(
        self,
        cls: type,
        table: pa.Table,
        *,
        batch_size: int,
        ctor_kwargs: dict[str, Any] | None = None,
        concurrency: int | None = None,
        num_gpus: float | None = None,
    ) -> Iterator[pa.Table]:
        """One ``cls(**ctor_kwargs)`` here (or one per worker process, class doc), called on consecutive slices;
        ``concurrency`` caps the worker processes, ``num_gpus`` is unused."""
        if table.num_rows == 0:
            return
        n = self._processes(cls, table.num_rows, concurrency)
        if n <= 1:
            actor = cls(**(ctor_kwargs or {}))
            for s in range(0, table.num_rows, batch_size):
                yield actor(table.slice(s, batch_size))
            return
        yield from _in_processes(cls, table, batch_size, ctor_kwargs or {}, n)

    def submit_batches_actor(
        self, cls: type, table: pa.Table | LazyTable, *, batch_size: int, ctor_kwargs: dict[str, Any] | None = None
    ) -> Pending[pa.Table]:
        """Started now in the background when the class may run in worker processes (``_processes``): the workers
        run at low priority (``BACKGROUND_NICE``), so the work soaks up the core that the single-threaded steps in
        between leave idle (template mining, HDBSCAN, the driver's part of clustering) instead of waiting for a step
        of its own. Otherwise it runs here when its result is asked for. Same slices, same order, same result.
        ``close`` cancels background work nobody collected (a failed night)."""
        n = self._processes(cls, table.num_rows, None)
        if n <= 1:
            return super().submit_batches_actor(cls, table, batch_size=batch_size, ctor_kwargs=ctor_kwargs)

        def compute(p: Pending[pa.Table]) -> pa.Table:
            parts = _in_processes(cls, table, batch_size, ctor_kwargs or {}, n, BACKGROUND_NICE, p.cancelled)
            return pa.concat_tables(list(parts))

        pending = Pending(compute)
        self._background.append(pending)
        return pending.start()

    def close(self) -> None:
        """Cancel background work whose result was not collected (a failed night: its workers stop after the
        slices they hold)."""
        for p in self._background:
            p.cancel()
        self._background.clear()

    def _processes(self, cls: type, rows: int, concurrency: int | None) -> int:
        """Worker processes for ``cls`` over ``rows`` rows: 1 (this process) unless the class allows processes and
        the table is large enough (class doc); else one per core (``workers`` or ``concurrency`` cap it)."""
        if not getattr(cls, "processes", False) or rows < PROCESS_MIN_ROWS:
            return 1
        cores = os.cpu_count() or 1
        return max(1, min(self.workers or cores, concurrency or cores, rows))

    def group_aggregate(self, table: pa.Table, keys: Sequence[str], aggs: Sequence[Aggregation]) -> pa.Table:
        """``table.group_by(keys).aggregate(aggs)`` (columns named ``{column}_{function}``), sorted by ``keys``."""
        return sorted_groups(table.group_by(list(keys)).aggregate(list(aggs)), keys)

    def map_sorted(
        self, fn: Callable[[pa.Table], pa.Table], table: pa.Table, by: Sequence[str], *, batch_size: int
    ) -> list[pa.Table]:
        """``table`` sorted by ``by``, then ``fn`` over consecutive slices of ``batch_size`` rows.

        Integer keys without nulls are sorted by ``np.lexsort`` (measured 2x Arrow's multi-column ``sort_indices`` on
        10M rows of three keys), others by Arrow. Both sorts are stable, so the two give the same order.
        """
        if table.num_rows == 0:
            return [fn(table)]
        cols = [table[c] for c in by]
        if all(pa.types.is_integer(c.type) and c.null_count == 0 for c in cols):
            order = np.lexsort([c.to_numpy() for c in reversed(cols)])  # lexsort's primary key is its last
        else:
            order = pc.sort_indices(table, sort_keys=sort_keys(by))
        table = table.take(order)
        return [fn(table.slice(s, batch_size)) for s in range(0, table.num_rows, batch_size)]


def make_executor(
    kind: str = "local",
    *,
    quiet: bool = False,
    fail_after: str | None = None,
    workers: int | None = None,
    ray_address: str | None = None,
) -> Executor:
    """The executor a run asked for: ``"local"`` (default) or ``"ray"`` (needs ``pip install "promptsim[ray]"``)."""
    if kind == "local":
        return LocalExecutor(quiet=quiet, fail_after=fail_after, workers=workers)
    if kind == "ray":
        from engine.executor.ray import RayExecutor

        return RayExecutor(quiet=quiet, fail_after=fail_after, workers=workers, address=ray_address)
    raise ValueError(f"unknown executor {kind!r}: use 'local' or 'ray'")

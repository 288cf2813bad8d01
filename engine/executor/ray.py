"""The Ray executor: the steps' per-batch work as Ray Data ``map_batches``, on a local or remote Ray cluster.

Same contract as ``LocalExecutor`` (``engine.executor``), same functions: a step hands a top-level
function (or class) and an Arrow table; here the table is cut into blocks of ``batch_size`` rows, put in Ray's
object store, mapped by Ray Data tasks (or by an actor pool, one instance per actor, for the embedding model) and
collected back in input order (``DataContext.execution_options.preserve_order``). Steps themselves, and every global
stage but the LSH buckets (formed by ``map_sorted``: Ray Data's sort), still run on the driver (costs in the
executor module's doc).

Costs specific to Ray: starting a local instance takes ~10 s on the 2-core test machine (raylet, GCS, workers) and
each ``map_batches`` pays ~1 s of scheduling, so Ray only pays off when the per-batch work is large (embedding with
MiniLM, MinHash of millions of new texts) or spread over several machines. Every batch is copied into the object
store and its result back (the driver holds input and output once each, as with the local executor, plus the
object store's copy, which Ray spills to disk past its limit).

The per-step ``peak_rss_mb`` is the driver's, as with the local executor; Ray's processes (raylet, workers,
object store) are not in it (``scripts/bench_scale.py`` samples the whole process tree).

A remote cluster (``address``) must run the same promptsim version with the same models directory on its workers;
a local instance's workers inherit this process's environment (``PYTHONPATH``, ``PROMPTSIM_MODELS_DIR``).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pyarrow as pa

from engine.executor import Aggregation, Executor, sorted_groups

INSTALL_HINT = 'the ray executor needs Ray: pip install "promptsim[ray]"'


class MissingRay(ImportError):
    """Ray is not installed (it is an optional extra)."""


def _import_ray() -> Any:
    try:
        import ray
        import ray.data  # noqa: F401  (ray[data], not only ray core)
    except ImportError as e:
        raise MissingRay(f"{INSTALL_HINT} ({e})") from e
    return ray


def _blocks(table: pa.Table, rows: int) -> list[pa.Table]:
    """Zero-copy slices of ``rows`` rows: one Ray block each, so that blocks (not only batches) run in parallel
    (Ray Data runs one task per input block)."""
    return [table.slice(s, rows) for s in range(0, table.num_rows, rows)]


class RayExecutor(Executor):
    """Steps on the driver, their per-batch work on Ray (see module doc).

    ``address``: ``"auto"`` or ``HOST:PORT`` connects to a running cluster; None starts a local instance (with
    ``workers`` CPUs, default all), unless Ray is already initialised in this process (a test's ``ray.init``),
    which is then used as it is. ``close`` shuts down only an instance this executor started.
    """

    name = "ray"
    distributed = True

    def __init__(
        self,
        *,
        quiet: bool = False,
        fail_after: str | None = None,
        workers: int | None = None,
        address: str | None = None,
    ) -> None:
        super().__init__(quiet=quiet, fail_after=fail_after, workers=workers)
        ray = _import_ray()
        self._ray = ray
        level = logging.ERROR if quiet else logging.WARNING
        for name in ("ray", "ray.data"):
            logging.getLogger(name).setLevel(level)
        self._owns = False
        if not ray.is_initialized():
            kw: dict[str, Any] = {"logging_level": level, "log_to_driver": not quiet, "include_dashboard": False}
            if address:
                ray.init(address=address, ignore_reinit_error=True, **kw)
            else:
                ray.init(num_cpus=workers, **kw)
            self._owns = True
        from ray.data import DataContext

        ctx = DataContext.get_current()
        ctx.execution_options.preserve_order = True  # outputs in input order: the contract
        ctx.enable_progress_bars = False  # the executor prints its own per-step lines
        resources = ray.cluster_resources()
        self.cluster_cpus = max(1, int(resources.get("CPU", 1)))
        self.cluster_gpus = int(resources.get("GPU", 0))
        if self.workers is None:
            self.workers = self.cluster_cpus
        self.say(f"[ray] {self.cluster_cpus} CPUs, {self.cluster_gpus} GPUs, {self.workers} workers")

    @property
    def _workers(self) -> int:
        return max(1, int(self.workers or self.cluster_cpus))

    def close(self) -> None:
        if self._owns and self._ray.is_initialized():
            self._ray.shutdown()
        self._owns = False

    def map_batches(self, fn: Callable[[pa.Table], pa.Table], table: pa.Table, *, batch_size: int) -> pa.Table:
        """``fn`` as Ray tasks over blocks of ``batch_size`` rows; the results in input order, as one table."""
        if table.num_rows == 0:
            return fn(table)
        blocks = _blocks(table, batch_size)
        pool = self._ray.data.TaskPoolStrategy(size=min(self._workers, len(blocks)))
        ds = self._ray.data.from_arrow(blocks).map_batches(
            fn, batch_format="pyarrow", batch_size=batch_size, compute=pool
        )
        return self._collect(ds)

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
        """An actor pool of ``concurrency`` instances of ``cls`` (default: one per GPU when the cluster has GPUs,
        else ``workers``), each given ``num_gpus`` (default 1 on a GPU cluster, else 0); results streamed back in
        input order as they are done."""
        if table.num_rows == 0:
            return
        if num_gpus is None:
            num_gpus = 1 if self.cluster_gpus else 0
        if concurrency is None:
            concurrency = self.cluster_gpus if num_gpus else self._workers
        blocks = _blocks(table, batch_size)
        # no more actors than blocks (each loads a model); no restarts: a failed actor fails the run, which then
        # changes nothing in the store (and Ray logs an error about restarting actors whose constructor arguments
        # are in the object store). ``max_restarts`` is the kwarg Ray 2.60 itself names for this, while warning
        # that such kwargs go in 2.64: the warning is silenced here; revisit when the pin in pyproject moves.
        pool = self._ray.data.ActorPoolStrategy(size=max(1, min(int(concurrency), len(blocks))))
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*ray_remote_args.*deprecated")
            ds = self._ray.data.from_arrow(blocks).map_batches(
                cls,
                fn_constructor_kwargs=ctor_kwargs or {},
                batch_format="pyarrow",
                batch_size=batch_size,
                compute=pool,
                num_gpus=num_gpus,
                max_restarts=0,
            )
        yield from ds.iter_batches(batch_format="pyarrow", batch_size=None)

    def group_aggregate(self, table: pa.Table, keys: Sequence[str], aggs: Sequence[Aggregation]) -> pa.Table:
        """``Dataset.groupby(keys).aggregate(...)`` (a hash shuffle by key), named and typed as the local
        executor's (``{column}_{function}``) and sorted by ``keys``."""
        from ray.data import aggregate as ra

        fns = {"count": ra.Count, "sum": ra.Sum, "min": ra.Min, "max": ra.Max, "mean": ra.Mean}
        unknown = sorted({f for _, f in aggs} - set(fns))
        if unknown:
            raise ValueError(f"group_aggregate on Ray supports {sorted(fns)}, not {unknown}")
        agg_fns = [fns[f](on=col, ignore_nulls=True, alias_name=f"{col}_{f}") for col, f in aggs]
        if table.num_rows == 0:
            return sorted_groups(table.group_by(list(keys)).aggregate(list(aggs)), keys)
        # the local answer's column order and types (pyarrow's, from an empty input): Ray's must match them
        schema = table.slice(0, 0).group_by(list(keys)).aggregate(list(aggs)).schema
        ds = self._ray.data.from_arrow(_blocks(table, max(1, -(-table.num_rows // self._workers))))
        grouped = ds.groupby(list(keys) if len(keys) > 1 else keys[0], num_partitions=self._workers)
        out = self._collect(grouped.aggregate(*agg_fns))
        return sorted_groups(out.select(schema.names).cast(schema), keys)

    def map_sorted(
        self, fn: Callable[[pa.Table], pa.Table], table: pa.Table, by: Sequence[str], *, batch_size: int
    ) -> list[pa.Table]:
        """``Dataset.sort(by)``, then ``fn`` as Ray tasks over batches of at most ``batch_size`` consecutive sorted
        rows; the output blocks in sorted order (Ray may merge the outputs of consecutive calls into one block).

        The sort is Ray Data's: sample the keys for range bounds, partition every input block by them, merge each
        partition. It makes one partition per input block, and each costs scheduling (the map-side pieces grow as
        partitions squared), so the input goes in as one block per worker, not per batch: partitions of
        ``rows / workers``, cut into batches of ``batch_size`` for ``fn`` inside each task.
        """
        if table.num_rows == 0:
            return [fn(table)]
        blocks = _blocks(table, max(batch_size, -(-table.num_rows // self._workers)))
        pool = self._ray.data.TaskPoolStrategy(size=min(self._workers, len(blocks)))
        ds = self._ray.data.from_arrow(blocks).sort(list(by))
        ds = ds.map_batches(fn, batch_format="pyarrow", batch_size=batch_size, compute=pool)
        return self._ray.get(ds.to_arrow_refs())

    def _collect(self, ds: Any) -> pa.Table:
        """A dataset's blocks fetched from the object store and concatenated in order (no copy of the rows)."""
        return pa.concat_tables(self._ray.get(ds.to_arrow_refs()))

"""The executors' data-parallel contract, and a night run on Ray giving exactly the local executor's results.

Ray is an optional extra (``promptsim[ray]``), installed by the ``dev`` extra: CI runs these tests. A bare install
without Ray skips the Ray half (not the local half); in CI (``$CI`` set) a missing Ray is an error, not a skip.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import faiss
import numpy as np
import pyarrow as pa
import pytest

from engine.executor import Executor, LocalExecutor, make_executor
from engine.pipeline import RunConfig, run
from engine.store import Store
from engine.store.tables import Tables

if os.environ.get("CI"):
    import ray  # noqa: F401  (CI installs the dev extra, which brings Ray: its absence must fail, not skip)


@pytest.fixture(scope="module")
def ray_cluster():
    """A local 2-CPU Ray instance for the module, shut down after it."""
    ray = pytest.importorskip("ray", reason='Ray is an optional extra: pip install "promptsim[ray]"')
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        logging_level=logging.ERROR,
        log_to_driver=False,
        object_store_memory=256 * 1024 * 1024,
    )
    # the workers cannot import this test module (tests/ is not on their path): ship its functions by value
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    yield ray
    ray.shutdown()


@pytest.fixture(params=["local", pytest.param("ray", marks=pytest.mark.slow)])
def ex(request) -> Executor:
    if request.param == "local":
        return LocalExecutor(quiet=True)
    request.getfixturevalue("ray_cluster")
    from engine.executor.ray import RayExecutor

    return RayExecutor(quiet=True)


# -- the contract, on both executors --------------------------------------------------------------------------------


def _double(batch: pa.Table) -> pa.Table:
    x = batch["x"].to_numpy()
    return pa.table({"x": x, "y": x * 2, "batch_rows": np.full(len(x), len(x))})


class _Offset:
    """A stateful batch callable: built once per worker with its offset."""

    def __init__(self, offset: int) -> None:
        self.offset = offset

    def __call__(self, batch: pa.Table) -> pa.Table:
        return pa.table({"y": pa.array(batch["x"].to_numpy() + self.offset)})


def test_map_batches_keeps_order_across_batches(ex: Executor) -> None:
    table = pa.table({"x": np.arange(10_000, dtype=np.int64)})
    out = ex.map_batches(_double, table, batch_size=1_000)
    assert out["x"].to_pylist() == list(range(10_000))
    assert out["y"].to_pylist() == [2 * i for i in range(10_000)]
    assert max(out["batch_rows"].to_pylist()) <= 1_000  # the function saw batches, not the whole table


def test_map_batches_empty_table_keeps_the_output_schema(ex: Executor) -> None:
    out = ex.map_batches(_double, pa.table({"x": pa.array([], pa.int64())}), batch_size=10)
    assert out.num_rows == 0 and out.column_names == ["x", "y", "batch_rows"]


def test_actor_batches_stream_in_order(ex: Executor) -> None:
    table = pa.table({"x": np.arange(5_000, dtype=np.int64)})
    parts = list(ex.iter_batches_actor(_Offset, table, batch_size=700, ctor_kwargs={"offset": 10}, concurrency=2))
    assert len(parts) > 1  # streamed, not one collected table
    assert pa.concat_tables(parts)["y"].to_pylist() == list(range(10, 5_010))
    whole = LocalExecutor().map_batches_actor(_Offset, table, batch_size=700, ctor_kwargs={"offset": -1})
    assert whole["y"].to_pylist() == list(range(-1, 4_999))  # the collected form (shared by both executors)
    empty = ex.map_batches_actor(_Offset, table.slice(0, 0), batch_size=10, ctor_kwargs={"offset": 0})
    assert empty.num_rows == 0 and empty.column_names == ["y"]


def test_group_aggregate_matches_arrow(ex: Executor) -> None:
    rng = np.random.default_rng(0)
    n = 3_000
    table = pa.table(
        {
            "account_id": pa.array([f"a{i}" for i in rng.integers(0, 40, n)]),
            "t": pa.array(rng.integers(1_700_000_000, 1_700_900_000, n), pa.int64()),
            "one": pa.array(np.ones(n, dtype=np.int64)),
        }
    )
    aggs = [("t", "min"), ("t", "max"), ("one", "sum"), ("t", "count")]
    out = ex.group_aggregate(table, ["account_id"], aggs)
    want = table.group_by("account_id").aggregate(aggs).sort_by("account_id")
    assert out.column_names == want.column_names
    for name in want.column_names:
        assert out[name].to_pylist() == want[name].to_pylist(), name


def _sorted_block(batch: pa.Table) -> pa.Table:
    """What ``map_sorted`` handed over: the block's rows and its size."""
    return batch.append_column("block_rows", pa.array(np.full(batch.num_rows, batch.num_rows, dtype=np.int64)))


def test_map_sorted_hands_sorted_blocks_in_order(ex: Executor) -> None:
    rng = np.random.default_rng(1)
    table = pa.table({"g": rng.integers(0, 5, 5_000).astype(np.int16), "k": rng.integers(-(2**62), 2**62, 5_000)})
    parts = ex.map_sorted(_sorted_block, table, ["g", "k"], batch_size=700)
    out = pa.concat_tables(parts)
    assert 0 < max(out["block_rows"].to_pylist()) <= 700  # fn saw blocks of at most batch_size, not the table
    want = table.sort_by([("g", "ascending"), ("k", "ascending")])
    assert out.select(["g", "k"]).equals(want)  # every row once, in sorted order, outputs in sorted order
    empty = ex.map_sorted(_sorted_block, table.slice(0, 0), ["g"], batch_size=10)
    assert [p.num_rows for p in empty] == [0] and empty[0].column_names == ["g", "k", "block_rows"]


@pytest.mark.slow
def test_lsh_on_ray_equals_numpy_path(ray_cluster) -> None:
    """LSH buckets by Ray Data's sort give the numpy path's edges. One call (a Ray Data sort costs ~10 s here), on
    real near-duplicate signatures cut into blocks so small that the biggest buckets span many of them; the local
    executor runs the same cases and more in tests/test_minhash.py."""
    from engine.executor.ray import RayExecutor
    from engine.text.minhash import lsh_pairs, lsh_pairs_sorted
    from tests.test_minhash import near_duplicate_signatures

    sigs = near_duplicate_signatures()
    got = lsh_pairs_sorted(sigs, RayExecutor(quiet=True), min_jaccard=0.5, sig_batch=100, sort_batch=97)
    assert np.array_equal(got, lsh_pairs(sigs, min_jaccard=0.5))


# -- Ray missing ---------------------------------------------------------------------------------------------------


def test_knn_graph_over_index_shards(ex: Executor, monkeypatch: pytest.MonkeyPatch) -> None:
    # one shard (the window's own HNSW index, shipped whole to each worker) and three exact shards merged: both the
    # same on every executor, and the exact shards the same as one exact index. HNSW from 2,000 vectors on (the
    # pipeline's threshold is 20,000): the same code path on a quarter of the vectors
    from engine.vectors import index as index_module
    from engine.vectors.index import VectorIndex
    from engine.vectors.knn import knn_graph

    monkeypatch.setattr(index_module, "FLAT_MAX", 2_000)
    rng = np.random.default_rng(7)
    x = rng.normal(size=(6_000, 16)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    hnsw = VectorIndex.build(x)
    assert isinstance(hnsw.index, faiss.IndexHNSWFlat)
    s, i = knn_graph(x, 8, ex=ex, index=hnsw, batch=2_000)
    ref_s, ref_i = knn_graph(x, 8, index=hnsw, batch=2_000)
    assert np.array_equal(i, ref_i) and np.array_equal(s, ref_s)
    monkeypatch.undo()  # the exact shards below are compared with one exact index: the pipeline's threshold again
    small = x[:3_000]
    s, i = knn_graph(small, 8, ex=ex, shard_rows=1_000, batch=700)
    ref_s, ref_i = knn_graph(small, 8)
    assert np.array_equal(i, ref_i) and np.allclose(s, ref_s, atol=1e-6)


def test_missing_ray_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.executor.ray import MissingRay

    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    with pytest.raises(MissingRay, match=r'pip install "promptsim\[ray\]"'):
        make_executor("ray", quiet=True)


def test_cli_missing_ray_is_one_line(monkeypatch: pytest.MonkeyPatch, demo_log, tmp_path: Path) -> None:
    from engine.app.cli import main

    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(SystemExit, match=r'promptsim run: .*pip install "promptsim\[ray\]"'):
        main(["run", "-i", str(demo_log["prompts"]), "--store", str(tmp_path / "s"), "-q", "--executor", "ray"])
    assert Store(tmp_path / "s").current() is None


def test_cli_ray_address_needs_ray_executor(demo_log, tmp_path: Path) -> None:
    from engine.app.cli import main

    with pytest.raises(SystemExit, match="--ray-address needs --executor ray"):
        main(["run", "-i", str(demo_log["prompts"]), "--store", str(tmp_path / "s"), "--ray-address", "auto"])


# -- a night on both executors -------------------------------------------------------------------------------------


def _night(demo_log, store: Path, executor: str, monkeypatch: pytest.MonkeyPatch, **cfg_fields):
    # campaign ids hash the run id (random per run): the same id on both sides, so they must come out equal
    monkeypatch.setattr(sys.modules["engine.pipeline.run"], "new_run_id", lambda: "r20260101T000000Z-test")
    cfg = RunConfig(
        inputs=[demo_log["prompts"]],
        accounts=demo_log["accounts"],
        store=store,
        quiet=True,
        executor=executor,
        **cfg_fields,
    )
    report = run(cfg)
    snap = Store(store).require()
    tables = Tables(snap)
    accounts = tables.accounts().sort_by("account_id")
    return {
        "report": report,
        "signatures": snap.array("signatures"),
        "vectors": snap.array("vectors"),
        "texts": snap.query("SELECT text_key, norm_text, skeleton, dup_group, cluster_id FROM texts ORDER BY text_row"),
        "accounts": accounts.select(["account_id", "score", "flagged", "campaign_id"]),
        "campaigns": sorted(tables.campaigns()["campaign_id"].to_pylist()),
    }


@pytest.mark.slow
def test_ray_night_equals_local_night(demo_log, ray_cluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the kNN graph is searched over three index shards (exact, so the same on both sides), by actors on Ray
    local = _night(demo_log, tmp_path / "local", "local", monkeypatch, knn_shard_rows=800)
    on_ray = _night(demo_log, tmp_path / "ray", "ray", monkeypatch, knn_shard_rows=800)
    assert 1_600 < local["report"].texts <= 2_400  # three shards of 800
    assert ray_cluster.is_initialized()  # the executor used the test's instance and left it running
    assert np.array_equal(local["signatures"], on_ray["signatures"])
    assert np.array_equal(local["vectors"], on_ray["vectors"])
    assert local["texts"].equals(on_ray["texts"])  # keys, normalised texts, skeletons, near-dup groups, clusters
    assert local["accounts"].equals(on_ray["accounts"])  # verdicts: score, flagged, campaign id
    assert local["campaigns"] == on_ray["campaigns"] and local["campaigns"]
    assert local["accounts"]["flagged"].to_pylist().count(True) > 0
    lr, rr = local["report"], on_ray["report"]
    assert (lr.accepted, lr.texts, lr.new_embeddings, lr.clusters, lr.campaigns) == (
        rr.accepted,
        rr.texts,
        rr.new_embeddings,
        rr.clusters,
        rr.campaigns,
    )
    assert list(lr.timings) == list(rr.timings)  # the same steps timed

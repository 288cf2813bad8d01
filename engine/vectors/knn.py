"""Stage 5a: the all-points kNN graph that clustering reads, searched over shards of the index.

Every distinct text needs its ``k`` nearest neighbours (self included) before HDBSCAN (``engine.vectors.cluster``).
The queries are independent, so the search is data-parallel: query batches go through ``Executor
.map_batches_actor`` with one ``ShardSearch`` per worker, each holding one shard of the index. A window larger than
``shard_rows`` vectors is cut into contiguous shards (rows ``[a, b)``, each its own FAISS index, exact below
``FLAT_MAX`` and HNSW above); every query batch is searched against every shard and the per-shard answers are
merged by similarity (ties by row), which for exact shards is exactly the unsharded answer. A window that fits one
shard searches the index the index step already built, in the 20k-row batches the graph always used (an exact
index on one BLAS thread, so a Ray actor and this process compute the same sums: ``engine.batches``).

Costs (t texts, d dimensions, s shards, w workers): each worker holds one shard (a Ray actor receives it pickled,
once: O(t d / s) bytes, float32); the queries travel once per shard as float16/float32 rows, the answers back as
``k`` (similarity, row) pairs each, 12 k bytes per text; the merge is an O(t k log k) sort on the driver, in row
blocks. Search time is t/w queries per worker per shard at ~0.2 ms (HNSW, GUIDE §3); shards multiply the queries
(each query visits every shard), so they are for windows that do not fit one machine's memory, not for speed
(``scripts/SCALING.md`` §3). Measured on Ray on the 2-core test machine: the cluster step 100 s against 80 s local at
1M prompts (420k texts), and the driver's peak +4 GB at 3M (830k texts: the pickled index, ~1.1 GB by arithmetic, and its
object-store copy). The shards are built on the driver here; a window too big for the driver builds them
per night where they fit (not built yet, see SCALING.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import faiss
import numpy as np
import pyarrow as pa

from engine.batches import column_matrix, matrix_column, one_blas_thread, vector_column
from engine.vectors.index import VectorIndex

if TYPE_CHECKING:
    from engine.executor import Executor

#: vectors per index shard: a window with more is searched over several shards. 2M float32 vectors of 256
#: dimensions (the static embedder) are 2 GB plus ~0.5 GB of HNSW graph per worker; below it (every window this
#: project has measured, up to 830k texts at 3M prompts) the graph is the unsharded one.
SHARD_ROWS = 2_000_000
#: queries per batch handed to a worker (the batch the unsharded graph always used)
QUERY_BATCH = 20_000


class ShardSearch:
    """One shard of the index, searched for the ``k`` nearest rows of each query: a worker's state.

    Built once per worker (a Ray actor unpickles its shard once); called on batches of queries (column ``v``,
    fixed-size lists of the vectors), it returns ``sims``/``ids`` (fixed-size lists of ``k``) with ids counted
    from ``offset``, the shard's first row in the window, and -1 where the shard has fewer than ``k`` rows.
    """

    def __init__(self, index: VectorIndex, offset: int, k: int) -> None:
        self.index, self.offset, self.k = index, offset, k

    def __call__(self, batch: pa.Table) -> pa.Table:
        q = column_matrix(batch.column("v"))
        sims = np.full((len(q), self.k), -np.inf, dtype=np.float32)
        ids = np.full((len(q), self.k), -1, dtype=np.int64)
        if len(q):
            s, i = _search(self.index, q, self.k)
            width = s.shape[1]
            sims[:, :width], ids[:, :width] = s, np.where(i >= 0, i + self.offset, -1)
        return pa.table({"sims": matrix_column(sims), "ids": matrix_column(ids)})


def _search(index: VectorIndex, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """``index.search``; an exact (flat) index scores by BLAS products, so on one thread (``one_blas_thread``), while
    HNSW scores each pair on its own and gives the same answer with any thread count."""
    if not isinstance(index.index, faiss.IndexFlat):
        return index.search(q, k)
    with one_blas_thread():
        return index.search(q, k)


def knn_graph(
    vectors: np.ndarray,
    k: int,
    *,
    ex: Executor | None = None,
    index: VectorIndex | None = None,
    shard_rows: int = SHARD_ROWS,
    batch: int = QUERY_BATCH,
) -> tuple[np.ndarray, np.ndarray]:
    """``(sims, ids)``, each ``(t, k)``: the ``k`` nearest rows of every row of ``vectors`` (self included).

    ``index`` (the window's own index over exactly these vectors) is searched as the one shard when the window
    fits ``shard_rows``; otherwise, or without it, shards are built from ``vectors``. Rows with fewer than ``k``
    neighbours end in ``ids == -1`` (similarity -1), as ``knn_distance_matrix`` expects.
    """
    from engine.executor import LocalExecutor

    ex = ex or LocalExecutor(quiet=True)
    t = len(vectors)
    k = max(1, min(k, t))
    if index is not None and index.size != t:
        raise ValueError(f"index holds {index.size} vectors, but the window has {t}")
    bounds = [(a, min(a + shard_rows, t)) for a in range(0, t, max(1, shard_rows))]
    queries = pa.table({"v": vector_column(vectors)})
    sims = ids = None
    for a, b in bounds:
        shard = index if (index is not None and len(bounds) == 1) else VectorIndex.build(vectors[a:b])
        part_s = np.empty((t, k), dtype=np.float32)
        part_i = np.empty((t, k), dtype=np.int64)
        row = 0
        for out in ex.iter_batches_actor(
            ShardSearch, queries, batch_size=batch, ctor_kwargs={"index": shard, "offset": a, "k": k}
        ):
            n = out.num_rows
            part_s[row : row + n] = column_matrix(out.column("sims"))
            part_i[row : row + n] = column_matrix(out.column("ids"))
            row += n
        del shard
        sims, ids = (part_s, part_i) if sims is None else merge_top_k(sims, ids, part_s, part_i, k)
    assert sims is not None and ids is not None
    sims[ids < 0] = -1.0
    return sims, ids


def merge_top_k(
    sims: np.ndarray, ids: np.ndarray, more_sims: np.ndarray, more_ids: np.ndarray, k: int, *, block: int = 65_536
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` best of two candidate lists per row, by similarity then row (missing ids, -1, last).

    Shards hold disjoint rows, so no neighbour appears twice. Done in row blocks to bound the temporaries.
    """
    out_s = np.empty((len(sims), k), dtype=np.float32)
    out_i = np.empty((len(sims), k), dtype=np.int64)
    for a in range(0, len(sims), block):
        s = np.concatenate([sims[a : a + block], more_sims[a : a + block]], axis=1)
        i = np.concatenate([ids[a : a + block], more_ids[a : a + block]], axis=1)
        s = np.where(i >= 0, s, -np.inf)
        order = np.lexsort((np.where(i >= 0, i, np.iinfo(np.int64).max), -s), axis=1)[:, :k]
        out_s[a : a + block] = np.take_along_axis(s, order, axis=1)
        out_i[a : a + block] = np.take_along_axis(i, order, axis=1)
    return out_s, out_i

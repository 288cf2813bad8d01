"""What per-batch work needs to give the same answer wherever an executor runs it.

Matrices as Arrow columns: how signatures, vectors and neighbour lists travel through an executor.

The executor contract (``engine.executor``) moves Arrow tables, so that a Ray worker gets them from the
object store without a pickle of every row. A (rows, width) numpy matrix goes as one fixed-size-list column, built
without a copy of its values, and comes back as a matrix the same way (one copy when the column arrived in chunks).

One BLAS thread (:func:`one_blas_thread`): a matrix product's float sums come out in another order with another
thread count (numpy's float32 product of 16k x 256 by 256 x 300 differs by up to 4e-5, FAISS's exact search by
1e-7), and a Ray worker runs with one thread where the local process uses all cores. A tie at a threshold or a
k-th neighbour then breaks differently (seen: 1,467 of 3,271 texts clustered differently on a two-night demo store).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import faiss
import numpy as np
import pyarrow as pa
from threadpoolctl import threadpool_limits


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """numpy's BLAS and FAISS on one thread inside the block, as in a Ray worker, so products sum alike everywhere.

    For batch functions whose result goes through a matrix product (exact kNN search, the nearest capability
    area); the cost is the product's share of the batch (measured: exact search of 20k queries against 20k vectors
    3.2 s instead of 2.2 s). Not for embedding: a model's float noise stays below the float16 the vectors keep.
    """
    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        with threadpool_limits(1, user_api="blas"):
            yield
    finally:
        faiss.omp_set_num_threads(threads)


def matrix_column(m: np.ndarray, dtype: type | None = None) -> pa.FixedSizeListArray:
    """A (rows, width) matrix as a fixed-size-list array of ``width`` values per row (optionally cast first)."""
    m = np.ascontiguousarray(m if dtype is None else np.asarray(m, dtype=dtype))
    if m.ndim != 2:
        raise ValueError(f"a matrix column needs a 2-d array, not shape {m.shape}")
    return pa.FixedSizeListArray.from_arrays(pa.array(m.reshape(-1)), m.shape[1])


def vector_column(vectors: np.ndarray) -> pa.FixedSizeListArray:
    """Vectors as a column, float16 kept as it is (half the bytes to ship) and anything but float32 cast to it."""
    v = np.asarray(vectors)
    return matrix_column(v, None if v.dtype in (np.float16, np.float32) else np.float32)


def column_matrix(col: pa.ChunkedArray | pa.Array, dtype: type | None = None) -> np.ndarray:
    """A fixed-size-list column as a (rows, width) matrix (optionally cast), empty columns included."""
    arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    width = arr.type.list_size
    values = arr.flatten().to_numpy(zero_copy_only=False)
    if dtype is not None:
        values = np.asarray(values, dtype=dtype)
    return values.reshape(len(arr), width)


class LazyTable:
    """Rows that become an Arrow table a slice at a time: ``slice(offset, length)`` builds just those rows.

    For work handed to an executor ahead of time (``Executor.submit_batches_actor``): the per-text signals read
    every distinct text and its payload, and made into one table at 1M prompts those strings are ~0.4 GB more on a
    driver that holds them as Python strings already, for as long as the work runs. Built per slice, only the slices
    in flight exist. ``table()`` builds every row at once, for an executor that needs them all (Ray)."""

    def __init__(self, num_rows: int, build: Callable[[int, int], pa.Table]) -> None:
        self.num_rows, self._build = num_rows, build

    def slice(self, offset: int = 0, length: int | None = None) -> pa.Table:
        end = self.num_rows if length is None else min(self.num_rows, offset + length)
        return self._build(offset, end)

    def table(self) -> pa.Table:
        return self._build(0, self.num_rows)

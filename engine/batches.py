"""Matrices as Arrow columns: how signatures, vectors and neighbour lists travel through an executor.

The executor contract (``engine.pipeline.executor``) moves Arrow tables, so that a Ray worker gets them from the
object store without a pickle of every row. A (rows, width) numpy matrix goes as one fixed-size-list column, built
without a copy of its values, and comes back as a matrix the same way (one copy when the column arrived in chunks).
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa


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

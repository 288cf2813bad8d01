"""Matrices as Arrow columns (engine.batches): what the executor ships must come back bit for bit."""

import numpy as np
import pyarrow as pa
import pytest

from engine.batches import column_matrix, matrix_column, vector_column


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.uint32, np.int64])
def test_a_matrix_round_trips_through_chunks_and_slices(dtype) -> None:
    m = (np.arange(7 * 5) * 3).astype(dtype).reshape(7, 5)
    col = matrix_column(m)
    assert col.type.list_size == 5 and len(col) == 7
    chunked = pa.chunked_array([col.slice(0, 3), col.slice(3, 1), col.slice(4)])
    back = column_matrix(chunked)
    assert back.dtype == dtype and np.array_equal(back, m)
    assert np.array_equal(column_matrix(col.slice(2, 3)), m[2:5])


def test_empty_columns_keep_their_width() -> None:
    col = matrix_column(np.zeros((0, 128), np.uint32))
    assert column_matrix(col).shape == (0, 128)
    assert column_matrix(pa.chunked_array([], type=col.type)).shape == (0, 128)


def test_vectors_keep_half_precision_and_other_types_become_float32() -> None:
    assert vector_column(np.ones((2, 3), np.float16)).type.value_type == pa.float16()
    assert vector_column(np.ones((2, 3), np.float64)).type.value_type == pa.float32()
    assert column_matrix(vector_column(np.ones((2, 3))), np.float64).dtype == np.float64
    with pytest.raises(ValueError, match="2-d"):
        matrix_column(np.ones(3))


def test_capability_areas_do_not_depend_on_the_blas_thread_count() -> None:
    # a Ray actor has one BLAS thread, the local executor all cores: float32 products sum in another order (up to
    # 4e-5 here), enough to move a text across the area threshold or between two near classes
    from threadpoolctl import threadpool_limits

    from engine.detect.signals import AREAS, TextSignalBatches

    rng = np.random.default_rng(5)
    n_classes = len(AREAS) + 3
    owner = np.repeat(np.arange(n_classes), 12)
    # every class's exemplars the same up to 1e-6: which class is nearest rests on the products' last bits
    base = rng.normal(size=(12, 256))
    exemplars = (np.tile(base, (n_classes, 1)) + 1e-6 * rng.normal(size=(len(owner), 256))).astype(np.float32)
    v = rng.normal(size=(8_000, 256)).astype(np.float32)
    batch = pa.table({"norm": ["q"] * len(v), "payload": [""] * len(v), "v": vector_column(v)})
    signals = TextSignalBatches(exemplars, owner, min_sim=-1e9, embedder=None)
    with threadpool_limits(1, user_api="blas"):
        one = signals(batch)["area"].to_numpy()
    many = signals(batch)["area"].to_numpy()
    assert len(np.unique(one)) > 1
    assert np.array_equal(one, many)

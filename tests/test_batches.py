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


def test_a_chat_requests_affixes_are_read_from_its_newest_turn() -> None:
    """A system prompt opens every request of an app's users: the app's words, not a wrapper the asker chose. A row
    with a ``turn`` is read there; a row without one (null) is read whole, and so is a batch with no turn column."""
    from engine.detect.signals import TextSignalBatches
    from engine.text.affixes import affix_keys

    texts = ["you are a careful helper.\n\nhow do tides work", "quick q: is 91 a prime"]
    turns = ["how do tides work", None]
    v = vector_column(np.ones((2, 8), dtype=np.float32))
    signals = TextSignalBatches(np.ones((1, 8), np.float32), np.zeros(1, np.int64), min_sim=-1e9, embedder=None)
    cols = [c for c in signals(pa.table({"norm": texts, "payload": ["", ""], "v": v})).column_names if "affix" in c]
    batch = pa.table({"norm": texts, "payload": ["", ""], "v": v, "turn": pa.array(turns, pa.string())})
    got = np.stack([signals(batch)[c].to_numpy() for c in cols], axis=1)
    assert np.array_equal(got, affix_keys(["how do tides work", texts[1]], 3))
    whole = signals(pa.table({"norm": texts, "payload": ["", ""], "v": v}))
    assert np.array_equal(np.stack([whole[c].to_numpy() for c in cols], axis=1), affix_keys(texts, 3))
    assert not np.array_equal(got[0], affix_keys(texts[:1], 3)[0])  # the system prompt's opening is not the turn's

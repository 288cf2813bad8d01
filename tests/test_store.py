import threading

import numpy as np
import pyarrow as pa
import pytest

from engine.store import KEEP_SNAPSHOTS, Store, StoreError


def _commit(store: Store, run_id: str, value: int) -> None:
    w = store.begin(run_id)
    w.table("t", pa.table({"v": [value]}))
    w.array("a", np.array([value]))
    w.commit({"run_id": run_id})


def test_commit_then_read(tmp_path) -> None:
    store = Store(tmp_path / "s")
    assert store.current() is None
    _commit(store, "r1", 1)
    snap = store.require()
    assert snap.query("SELECT v FROM t")["v"].to_pylist() == [1]
    assert snap.array("a")[0] == 1


def test_failed_write_leaves_last_good_state(tmp_path) -> None:
    store = Store(tmp_path / "s")
    _commit(store, "r1", 1)
    w = store.begin("r2")
    w.table("t", pa.table({"v": [2]}))
    w.abort()  # what the pipeline does on any exception, Ctrl-C included
    assert store.require().name == "r1"
    assert store.require().query("SELECT v FROM t")["v"].to_pylist() == [1]
    # a writer killed without abort leaves a temp dir that readers never see and the next commit removes
    w = store.begin("r3")
    w.table("t", pa.table({"v": [3]}))
    assert store.require().name == "r1"
    _commit(store, "r4", 4)
    assert not (tmp_path / "s" / "snapshots" / ".tmp-r3").exists()


def test_old_snapshots_are_collected(tmp_path) -> None:
    store = Store(tmp_path / "s")
    for i in range(5):
        _commit(store, f"r{i}", i)
    names = sorted(p.name for p in (tmp_path / "s" / "snapshots").iterdir())
    assert len(names) == KEEP_SNAPSHOTS and store.require().name == "r4"


def test_second_writer_is_refused(tmp_path) -> None:
    store = Store(tmp_path / "s")
    entered = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with Store(tmp_path / "s").lock():
            entered.set()
            release.wait(5)

    t = threading.Thread(target=hold)
    t.start()
    entered.wait(5)
    try:
        with pytest.raises(StoreError, match="another run"), store.lock():
            pass
    finally:
        release.set()
        t.join()
    with store.lock():  # free again
        pass


def test_missing_store_says_what_to_do(tmp_path) -> None:
    with pytest.raises(StoreError, match="promptsim run"):
        Store(tmp_path / "nothing").require()

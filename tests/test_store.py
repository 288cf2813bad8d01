import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from engine.store import KEEP_SNAPSHOTS, Store, StoreError

ROOT = Path(__file__).resolve().parents[1]


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


def test_run_killed_between_rename_and_pointer_swap_does_not_cost_the_previous_snapshot(tmp_path) -> None:
    # a real death (os._exit, no except/finally runs) after the new snapshot was renamed into place but before
    # CURRENT named it: that snapshot is complete but was never live, and must not count as one of the kept ones
    store = Store(tmp_path / "s")
    _commit(store, "r1", 1)
    _commit(store, "r2", 2)
    script = (
        "import os, sys, numpy as np, pyarrow as pa\n"
        "from engine.store import Store\n"
        "Store._point_current = lambda self, name: os._exit(9)\n"
        "w = Store(sys.argv[1]).begin('r3')\n"
        "w.table('t', pa.table({'v': [3]}))\n"
        "w.commit({'run_id': 'r3'})\n"
    )
    proc = subprocess.run([sys.executable, "-c", script, str(tmp_path / "s")], cwd=ROOT, capture_output=True)
    assert proc.returncode == 9, proc.stderr
    assert (tmp_path / "s" / "snapshots" / "r3").exists() and store.require().name == "r2"
    _commit(store, "r4", 4)
    names = sorted(p.name for p in (tmp_path / "s" / "snapshots").iterdir())
    assert names == ["r2", "r4"]  # the previous live snapshot is kept; the never-live one is collected
    assert store.require().name == "r4" and store.require().meta()["parent"] == "r2"


def test_failed_pointer_swap_leaves_the_store_as_it_was(tmp_path, monkeypatch) -> None:
    store = Store(tmp_path / "s")
    _commit(store, "r1", 1)

    def full_disk(name: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store, "_point_current", full_disk)
    with pytest.raises(OSError, match="No space"):
        _commit(store, "r2", 2)
    assert store.require().name == "r1"
    assert sorted(p.name for p in (tmp_path / "s" / "snapshots").iterdir()) == ["r1"]


def test_snapshots_without_parent_are_kept_by_age(tmp_path) -> None:
    # stores written before snapshots recorded their parent: the newest by age stand in for the lineage
    store = Store(tmp_path / "s")
    for i in range(3):
        _commit(store, f"r{i}", i)
        (tmp_path / "s" / "snapshots" / f"r{i}" / "snapshot.json").write_text(json.dumps({"run_id": f"r{i}"}))
    old = tmp_path / "s" / "snapshots" / "r-old"
    old.mkdir()
    os.utime(old, (0, 0))
    store._gc()
    assert sorted(p.name for p in (tmp_path / "s" / "snapshots").iterdir()) == ["r1", "r2"]


def test_embedding_cache_removes_what_a_killed_writer_left(tmp_path) -> None:
    # a writer dies (os._exit: no finally runs) inside add(): after its vectors file, while writing its keys
    from engine.embed.cache import EmbeddingCache

    cache = EmbeddingCache(tmp_path, "ns")
    cache.add([b"a" * 16], np.ones((1, 4), dtype=np.float32))
    script = (
        "import os, sys, numpy as np\n"
        "import engine.embed.cache as c\n"
        "real = c.atomic_save\n"
        "def save(path, arr):\n"
        "    if path.name.endswith('.keys.npy'):\n"
        "        (path.parent / f'.tmp-0123-{path.name}').write_bytes(b'half a keys file')\n"
        "        os._exit(9)\n"
        "    real(path, arr)\n"
        "c.atomic_save = save\n"
        "c.EmbeddingCache(sys.argv[1], 'ns').add([b'b' * 16], np.ones((1, 4), dtype=np.float32))\n"
    )
    proc = subprocess.run([sys.executable, "-c", script, str(tmp_path)], cwd=ROOT, capture_output=True)
    assert proc.returncode == 9, proc.stderr
    ns = tmp_path / "ns"
    left = {p.name for p in ns.iterdir()} - {p.name for p in ns.glob("shard-*.keys.npy")}
    assert len(left) == 3  # our shard's vectors, the dead writer's keyless vectors, its half-written temp keys
    # a live writer's shard in progress (this process: its pid is running) must not be touched
    mine = ns / f"shard-{'9' * 20}-{os.getpid()}-abcd1234.vecs.npy"
    mine.write_bytes(b"in progress")
    reopened = EmbeddingCache(tmp_path, "ns")
    assert len(reopened) == 1 and reopened.lookup([b"a" * 16])[0].all()
    (ours,) = (p.name.removesuffix(".keys.npy") for p in ns.glob("shard-*.keys.npy"))
    assert {p.name for p in ns.iterdir()} == {f"{ours}.keys.npy", f"{ours}.vecs.npy", mine.name}

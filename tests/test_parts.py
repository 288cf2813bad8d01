"""The partitioned store (engine.store.parts): a night writes its own data once, prunes drop partitions, compaction
bounds dead rows, the HNSW graph is saved without its vectors, and unreferenced files are collected."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import faiss
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from engine.store import Store, parts
from engine.store.tables import PROMPTS
from engine.vectors.index import GRAPH_FILE, VectorIndex


def _prompts(ids: list[int], day: int) -> pa.Table:
    ts = [datetime(2026, 11, day, 1 + i % 20, tzinfo=timezone.utc) for i in range(len(ids))]
    cols = {f.name: pa.nulls(len(ids), f.type) for f in PROMPTS}  # optional request metadata stays empty
    cols.update(
        prompt_id=pa.array([f"p{i}" for i in ids]),
        account_id=pa.array([f"a{i % 3}" for i in ids]),
        timestamp=pa.array(ts, PROMPTS.field("timestamp").type),
        text=pa.array([f"text {i}" for i in ids]),
        text_key=pa.array([i.to_bytes(16, "big") for i in ids], pa.binary(16)),
        source_file=pa.array(["log.jsonl"] * len(ids)),
        source_line=pa.array(ids, pa.int64()),
    )
    return pa.table(cols).cast(PROMPTS)


def test_prompt_partitions_keep_old_files_and_prune_rewrites_only_the_straddling_one(tmp_path: Path) -> None:
    root = tmp_path / "parts"
    night1 = parts.plan_prompts(root, [], _prompts(list(range(10)), 20), "n1", None)
    night2 = parts.plan_prompts(root, night1.parts, _prompts(list(range(10, 15)), 22), "n2", None)
    assert [p["file"] for p in night2.parts] == ["prompts/n1.parquet", "prompts/n2.parquet"]
    assert night2.written == [root / "prompts/n2.parquet"]  # night 1's file is listed again, not rewritten
    straddle = parts.plan_prompts(root, night2.parts, None, "pr", datetime(2026, 11, 20, 10, tzinfo=timezone.utc))
    assert [p["file"] for p in straddle.parts] == ["prompts/pr-p0.parquet", "prompts/n2.parquet"]
    assert straddle.parts[0]["min_ts"] >= datetime(2026, 11, 20, 10, tzinfo=timezone.utc).timestamp()
    assert 0 < straddle.parts[0]["rows"] < 10
    dropped = parts.plan_prompts(root, night2.parts, None, "pr2", datetime(2026, 11, 21, tzinfo=timezone.utc))
    assert [p["file"] for p in dropped.parts] == ["prompts/n2.parquet"] and dropped.written == []


def _texts(keys: list[int]) -> tuple[list[bytes], list[str], list[str], np.ndarray, np.ndarray]:
    k = [i.to_bytes(16, "big") for i in keys]
    vec = np.array([[i, 1.0] for i in keys], np.float32)
    sig = np.array([[i, i + 1] for i in keys], np.uint32)
    return k, [f"t{i}" for i in keys], [f"s{i}" for i in keys], vec, sig


def test_text_segments_reuse_rows_write_only_new_texts_and_compact_mostly_dead_segments(tmp_path: Path) -> None:
    root = tmp_path / "parts"
    first = parts.plan_texts(root, [], {}, *_texts(list(range(10))), "n1")
    loc = {k: (s, int(o)) for k, s, o in zip(_texts(list(range(10)))[0], first.seg, first.off, strict=True)}
    # night 2: 6 of night 1's 10 texts are still in the window (>= half: the segment is kept), plus 2 new ones
    second = parts.plan_texts(root, first.segments, loc, *_texts([0, 1, 2, 3, 4, 5, 100, 101]), "n2")
    assert [s["seg"] for s in second.segments] == ["n1", "n2"]
    assert second.seg == ["n1"] * 6 + ["n2"] * 2 and second.off.tolist() == [0, 1, 2, 3, 4, 5, 0, 1]
    got = parts.gather(root, second.seg, second.off, "signatures")
    assert got[:, 0].tolist() == [0, 1, 2, 3, 4, 5, 100, 101]
    # night 3: only 2 of night 1's texts remain (< half): they move into tonight's segment and n1 is dropped
    loc2 = {k: (s, int(o)) for k, s, o in zip(_texts([0, 1, 2, 3, 4, 5, 100, 101])[0], second.seg, second.off,
                                                strict=True)}  # fmt: skip
    third = parts.plan_texts(root, second.segments, loc2, *_texts([0, 1, 100, 101, 200]), "n3")
    assert [s["seg"] for s in third.segments] == ["n2", "n3"]
    assert third.seg == ["n3", "n3", "n2", "n2", "n3"]
    vec = parts.gather(root, third.seg, third.off, "vectors")
    assert vec[:, 0].tolist() == [0, 1, 100, 101, 200]


def test_first_night_segment_comes_back_as_a_memory_map(tmp_path: Path) -> None:
    root = tmp_path / "parts"
    plan = parts.plan_texts(root, [], {}, *_texts(list(range(5))), "n1")
    assert isinstance(parts.gather(root, plan.seg, plan.off, "vectors"), np.memmap)


def test_hnsw_graph_saved_without_vectors_answers_like_the_original(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(21_000, 16)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    idx = VectorIndex.build(x)
    assert idx.save(tmp_path) == tmp_path / GRAPH_FILE
    faiss.write_index(idx.index, str(tmp_path / "full.faiss"))
    full = (tmp_path / "full.faiss").stat().st_size
    assert (tmp_path / GRAPH_FILE).stat().st_size <= full - x.nbytes  # the graph only: vectors live with the texts
    back = VectorIndex.open(tmp_path, x.astype(np.float16))
    _, a = idx.search(x[:200], 10)
    _, b = back.search(x[:200], 10)
    assert (a == b).mean() > 0.95  # same graph; the storage is the float16-rounded vectors
    with pytest.raises(ValueError, match="graph of 21000 vectors"):
        VectorIndex.open(tmp_path, x[:10])


def test_flat_index_saves_nothing_and_is_rebuilt_from_vectors(tmp_path: Path) -> None:
    x = np.eye(8, dtype=np.float32)
    assert VectorIndex.build(x).save(tmp_path) is None
    _, ids = VectorIndex.open(tmp_path, x).search(x, 1)
    assert ids[:, 0].tolist() == list(range(8))


def test_gc_deletes_only_files_no_kept_snapshot_lists_and_abort_removes_a_runs_parts(tmp_path: Path) -> None:
    store = Store(tmp_path / "store")
    root = tmp_path / "store" / "parts"
    orphan = root / "prompts" / "dead-run.parquet"
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"left by a killed run")
    w = store.begin("r1")
    w.part_files.append(root / "prompts" / "r1.parquet")
    parts.write_parquet(w.part_files[0], _prompts([1], 20))
    w.commit({"parts": {"prompts": [{"file": "prompts/r1.parquet"}], "texts": []}})
    assert not orphan.exists() and (root / "prompts" / "r1.parquet").exists()
    w2 = store.begin("r2")
    w2.part_files.append(root / "prompts" / "r2.parquet")
    parts.write_parquet(w2.part_files[0], _prompts([2], 21))
    w2.abort()
    assert not (root / "prompts" / "r2.parquet").exists() and (root / "prompts" / "r1.parquet").exists()


def test_save_rows_writes_exactly_what_np_save_of_the_gathered_rows_writes(tmp_path: Path) -> None:
    """The per-text arrays are written a chunk of rows at a time (no whole gathered copy): the same file bytes."""
    from engine.store.parts import save_rows

    rng = np.random.default_rng(0)
    for shape, dtype in (((1000, 7), np.float16), ((0, 3), np.uint32), ((5000, 4), np.uint32)):
        arr = (rng.normal(size=shape) * 100).astype(np.float32)
        rows = rng.permutation(len(arr))[: len(arr) // 2]
        save_rows(tmp_path / "got.npy", arr, rows, dtype, chunk=333)
        np.save(tmp_path / "want.npy", arr[rows].astype(dtype))
        assert (tmp_path / "got.npy").read_bytes() == (tmp_path / "want.npy").read_bytes()
        assert not (tmp_path / "got.npy.tmp").exists()


def test_a_lazy_part_is_written_a_row_group_at_a_time_and_reads_as_the_whole_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from engine.batches import LazyTable

    monkeypatch.setattr(parts, "ROW_GROUP", 4)
    for n in (0, 3, 4, 11):
        whole = pa.table({"off": np.arange(n, dtype=np.int64), "text": [f"t{i}" for i in range(n)]})
        lazy = LazyTable(n, lambda lo, hi, whole=whole: whole.slice(lo, hi - lo))
        parts.write_parquet(tmp_path / f"lazy{n}.parquet", lazy)
        got = pq.read_table(tmp_path / f"lazy{n}.parquet")
        assert got.equals(whole)
        assert pq.ParquetFile(tmp_path / f"lazy{n}.parquet").metadata.num_row_groups == max(1, -(-n // 4))

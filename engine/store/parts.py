"""Partitions: the store's large data written once, by the night that first saw it, and shared by snapshots.

A snapshot used to hold every stored prompt and every window text (with its vector and signature) in its own files,
so each night rewrote the whole history: ~2.2 GB a night on a 1M-prompt store, growing with the store. Here the two
tables that grow with history live under ``parts/`` as immutable files written by the run that first needed them,
and a snapshot lists the ones it reads (``snapshot.json`` → ``parts``):

    parts/prompts/<name>.parquet            prompts a run added (one file a night; a prune rewrites only the file
                                            that straddles its cut-off and drops the older ones)
    parts/texts/<seg>.parquet               distinct normalised texts a run first saw: seg, off, text_key,
                                            norm_text, skeleton (``off`` is the row in the segment)
    parts/texts/<seg>.vectors.npy           their vectors (float16) and MinHash signatures (uint32), row ``off``
    parts/texts/<seg>.signatures.npy

Per night a snapshot then writes: tonight's prompts and new texts, the small per-night tables (labels of the
window's texts, verdicts, clusters, campaigns...) and the HNSW graph, not the history.

Text segments compact themselves: a segment stays referenced while any of its texts is still in the analysis
window; once fewer than ``COMPACT_BELOW`` of its rows are, the live ones are copied into tonight's segment and the
old file is no longer referenced. The dead weight a snapshot references is so bounded to about 2x its window, at an
amortised copy cost. Files no kept snapshot references are deleted by the store's garbage collection; a run killed
before it swapped CURRENT leaves only such unreferenced files behind.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from engine.batches import LazyTable

#: a text segment still referenced by fewer than this share of live rows is compacted into tonight's segment
COMPACT_BELOW = 0.5

SEGMENT = pa.schema(
    [
        ("seg", pa.string()),
        ("off", pa.int64()),
        ("text_key", pa.binary(16)),
        ("norm_text", pa.string()),
        ("skeleton", pa.string()),
    ]
)


def parts_root(store_root: Path) -> Path:
    return store_root / "parts"


#: rows per Parquet row group of a part
ROW_GROUP = 128 * 1024


def write_parquet(path: Path, table: pa.Table | LazyTable) -> int:
    """Write one immutable part (zstd; a file written under a temporary name and renamed) and return its bytes.
    A ``LazyTable`` is built and written one row group at a time."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    if isinstance(table, pa.Table):
        pq.write_table(table, tmp, compression="zstd", row_group_size=ROW_GROUP)
    else:
        first = table.slice(0, ROW_GROUP)
        with pq.ParquetWriter(tmp, first.schema, compression="zstd") as out:
            out.write_table(first, row_group_size=ROW_GROUP)
            for lo in range(ROW_GROUP, table.num_rows, ROW_GROUP):
                out.write_table(table.slice(lo, ROW_GROUP), row_group_size=ROW_GROUP)
    tmp.replace(path)
    return path.stat().st_size


def save_rows(path: Path, arr: np.ndarray, rows: np.ndarray, dtype: np.dtype | type, chunk: int = 65_536) -> None:
    """``np.save(path, arr[rows].astype(dtype))`` (the same bytes), written a chunk of rows at a time under a
    temporary name and renamed. The whole gathered copy was the score step's peak at 1M prompts: the texts'
    float32 vectors taken (516 MB) and then cast (258 MB) while detection ran beside it."""
    tmp = path.with_name(path.name + ".tmp")
    dtype = np.dtype(dtype)
    header = {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False,
              "shape": (len(rows), *arr.shape[1:])}  # fmt: skip
    with open(tmp, "wb") as fh:
        np.lib.format.write_array_header_1_0(fh, header)
        for lo in range(0, len(rows), chunk):
            fh.write(np.ascontiguousarray(arr[rows[lo : lo + chunk]], dtype=dtype).tobytes())
    tmp.replace(path)


def _epoch(col: pa.ChunkedArray | pa.Array) -> np.ndarray:
    return pc.cast(col, pa.timestamp("s", tz="UTC")).cast(pa.int64()).to_numpy(zero_copy_only=False)


# -- prompts --------------------------------------------------------------------------------------------------------


@dataclass
class PromptPlan:
    """The prompt partitions a new snapshot lists, and the files this run wrote for it."""

    parts: list[dict[str, Any]]
    written: list[Path]


def plan_prompts(
    root: Path, prev_parts: list[dict[str, Any]], new: pa.Table | None, name: str, prune_before: datetime | None
) -> PromptPlan:
    """Keep last night's partitions, add tonight's new prompts as one, and apply a prune partition by partition.

    A prune drops partitions wholly older than the cut-off and rewrites (under a new name) only those that straddle
    it; the files of the previous snapshot are never modified, so its readers are unaffected.
    """
    out, written = [], []
    cut = int(prune_before.timestamp()) if prune_before is not None else None
    for i, part in enumerate(prev_parts):
        if cut is None or part["min_ts"] >= cut:
            out.append(part)
        elif part["max_ts"] >= cut:
            tbl = pq.read_table(root / part["file"])
            ts = _epoch(tbl["timestamp"])
            kept = tbl.filter(pa.array(ts >= cut))
            out.append(_write_prompt_part(root, kept, f"{name}-p{i}", written))
    if new is not None and new.num_rows:
        out.append(_write_prompt_part(root, new, name, written))
    return PromptPlan(out, written)


def _write_prompt_part(root: Path, tbl: pa.Table, name: str, written: list[Path]) -> dict[str, Any]:
    rel = f"prompts/{name}.parquet"
    size = write_parquet(root / rel, tbl)
    written.append(root / rel)
    ts = _epoch(tbl["timestamp"])
    return {"file": rel, "rows": tbl.num_rows, "min_ts": int(ts.min()), "max_ts": int(ts.max()), "bytes": size}


# -- texts ----------------------------------------------------------------------------------------------------------


@dataclass
class TextPlan:
    """Where each of tonight's text rows lives (segment name and row in it), and the segments the snapshot lists."""

    seg: list[str]
    off: np.ndarray
    segments: list[dict[str, Any]]
    written: list[Path]


def plan_texts(
    root: Path,
    prev_segments: list[dict[str, Any]],
    prev_loc: dict[bytes, tuple[str, int]],
    keys: list[bytes],
    norm: list[str],
    skeleton: list[str],
    vectors: np.ndarray,
    signatures: np.ndarray,
    name: str,
) -> TextPlan:
    """Reuse last night's segment rows for texts it already stored, write the rest (new or compacted) as one segment.

    ``prev_loc`` maps the previous window's text keys to their segment rows; a text outside it (new tonight, or
    back after leaving the window) is written again, which keeps every lookup a join on (segment, row).
    """
    n = len(keys)
    seg: list[str] = [""] * n
    off = np.full(n, -1, dtype=np.int64)
    live: dict[str, int] = {}
    for i, k in enumerate(keys):
        loc = prev_loc.get(k)
        if loc is not None:
            seg[i], off[i] = loc
            live[loc[0]] = live.get(loc[0], 0) + 1
    rows_of = {s["seg"]: s["rows"] for s in prev_segments}
    compacted = {s for s, c in live.items() if c < COMPACT_BELOW * rows_of.get(s, c)}
    todo = np.array([i for i in range(n) if off[i] < 0 or seg[i] in compacted], dtype=np.int64)
    kept = [s for s in prev_segments if s["seg"] in live and s["seg"] not in compacted]
    written: list[Path] = []
    if len(todo):
        for j, i in enumerate(todo):
            seg[i], off[i] = name, j

        def rows(lo: int, hi: int) -> pa.Table:  # a row group at a time: no whole copy of the texts in Arrow
            part = todo[lo:hi].tolist()
            return pa.table(
                {
                    "seg": pa.array([name] * len(part), pa.string()),
                    "off": np.arange(lo, lo + len(part), dtype=np.int64),
                    "text_key": pa.array([keys[i] for i in part], pa.binary(16)),
                    "norm_text": [norm[i] for i in part],
                    "skeleton": [skeleton[i] for i in part],
                },
                schema=SEGMENT,
            )

        size = write_parquet(root / f"texts/{name}.parquet", LazyTable(len(todo), rows))
        written.append(root / f"texts/{name}.parquet")
        for kind, arr, dtype in (("vectors", vectors, np.float16), ("signatures", signatures, np.uint32)):
            path = root / f"texts/{name}.{kind}.npy"
            save_rows(path, arr, todo, dtype)
            written.append(path)
            size += path.stat().st_size
        kept.append({"seg": name, "rows": int(len(todo)), "bytes": size})
    return TextPlan(seg, off, kept, written)


def gather(root: Path, seg: np.ndarray | list[str], off: np.ndarray, kind: str) -> np.ndarray:
    """Rows of a per-text array (``vectors`` or ``signatures``) in the given (segment, row) order.

    Segments are memory-mapped and read segment by segment; a window held whole by one segment in order (a
    store's first night) comes back as that memory map itself, read lazily.
    """
    seg = np.asarray(seg, dtype=object)
    names = list(dict.fromkeys(seg.tolist()))
    maps = {s: np.load(root / f"texts/{s}.{kind}.npy", mmap_mode="r") for s in names}
    if len(names) == 1 and len(off) == len(maps[names[0]]) and np.array_equal(off, np.arange(len(off))):
        return maps[names[0]]
    if not names:
        return np.zeros((0, 0), np.float16 if kind == "vectors" else np.uint32)
    first = maps[names[0]]
    out = np.empty((len(off), first.shape[1]), dtype=first.dtype)
    for s in names:
        rows = np.flatnonzero(seg == s)
        out[rows] = maps[s][np.asarray(off[rows])]
    return out


def referenced(meta: dict[str, Any]) -> set[str]:
    """Every file under ``parts/`` a snapshot's meta lists (relative paths), for the store's garbage collection."""
    parts = meta.get("parts") or {}
    out = {p["file"] for p in parts.get("prompts", [])}
    for s in parts.get("texts", []):
        out |= {f"texts/{s['seg']}.parquet", f"texts/{s['seg']}.vectors.npy", f"texts/{s['seg']}.signatures.npy"}
    return out


def sql_list(root: Path, files: list[str]) -> str:
    """A DuckDB list literal of absolute file paths (quotes doubled)."""
    return "[" + ", ".join("'" + str(root / f).replace("'", "''") + "'" for f in files) + "]"

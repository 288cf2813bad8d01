"""Content-addressed float16 embedding cache on disk, in append-only shards."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from engine.embed.base import (
    _KEY_DTYPE,
    Embedder,
)

logger = logging.getLogger(__name__)

# --------------------------------------------------------------------------------------------------------------------
# Cache
# --------------------------------------------------------------------------------------------------------------------


def as_keys(keys: Sequence[bytes] | np.ndarray) -> np.ndarray:
    """16-byte keys as a ``V16`` array (compares and sorts as raw bytes: vectorised lookup, no Python dict)."""
    if isinstance(keys, np.ndarray):
        if keys.dtype == _KEY_DTYPE:
            return keys
        if keys.dtype == np.uint8 and keys.ndim == 2 and keys.shape[1] == 16:
            return np.ascontiguousarray(keys).view(_KEY_DTYPE).reshape(-1)
        keys = list(keys)
    if any(len(k) != 16 for k in keys):
        raise ValueError("keys must be 16 bytes each (engine.text.normalize.text_hash)")
    return np.frombuffer(b"".join(keys), dtype=_KEY_DTYPE).copy()


_WRITER_PID = re.compile(r"shard-\d+-(\d+)-[0-9a-f]+\.(?:keys|vecs)\.npy$")  # shard-<time_ns>-<pid>-<rand>


def _running(pid: int) -> bool:
    """Whether a process with this id exists on this machine (one of another user counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def atomic_save(path: Path, arr: np.ndarray) -> None:
    """``np.save`` to a dot-prefixed temp name in the same directory, fsync, then ``os.replace`` into place."""
    tmp = path.with_name(f".tmp-{uuid.uuid4().hex}-{path.name}")
    try:
        with open(tmp, "wb") as f:
            np.save(f, arr, allow_pickle=False)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


class EmbeddingCache:
    """Content-addressed vectors of one embedder on disk: 16-byte text hash -> float16 vector.

    Layout: ``<root>/<namespace>/shard-<time>-<pid>-<rand>.{vecs,keys}.npy``. A shard is written vectors first, keys
    last, each to a temp name then ``os.replace``d, and a shard exists for readers only once its keys file does: a
    crash leaves at most an ignored temp file or keyless vectors file, never a corrupt cache (the next open removes
    them once their writer is gone), and concurrent readers never see half a shard. Shards are append-only and uniquely named, so concurrent writers do not collide (a key
    written twice is harmless: same text, same vector). At open every shard's keys are read and sorted once; lookups
    are a ``searchsorted`` over them and vectors are read from memory-mapped shards, so opening a cache of millions
    of vectors costs the keys (16 bytes each), not the vectors. float16 halves the disk and is far below the noise
    of cosine similarity (see ``embed_texts`` for how results stay identical with or without the cache).
    """

    def __init__(self, root: str | Path, namespace: str) -> None:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", namespace):
            raise ValueError(f"bad cache namespace {namespace!r}")
        self.namespace = namespace
        self.path = Path(root) / namespace
        self.path.mkdir(parents=True, exist_ok=True)
        self.dim: int | None = None
        self._shards: list[np.ndarray] = []  # memory-mapped float16 vectors, one per shard
        self._shard_names: list[str] = []
        self._keys = np.empty(0, dtype=_KEY_DTYPE)  # sorted, unique
        self._where = np.empty((0, 2), dtype=np.int64)  # (shard, row) for each sorted key
        self._sweep()
        self.refresh()

    @classmethod
    def for_embedder(cls, store: str | Path, embedder: Embedder) -> EmbeddingCache:
        """The cache of ``embedder`` in a promptsim store: ``<store>/cache/<embedder.name>/``."""
        return cls(Path(store) / "cache", embedder.name)

    def _sweep(self) -> None:
        """Remove what writers that died left behind: temp files, and vectors files whose keys never followed.

        A writer killed inside ``add`` (a night SIGKILLed during the embed stage) leaves one of these; readers
        ignore them, but nothing else would ever remove them, and each is as large as a flush (tens of MB). A
        file is removed only when the process that wrote it (the pid in its shard name) no longer runs, so a
        concurrent writer's shard in progress is never touched. (The cache lives in a store on a local disk, as
        the store's flock does; a pid says nothing about a writer on another machine.)
        """
        for p in self.path.iterdir():
            name = p.name
            if name.startswith(".tmp-"):
                pass
            elif name.startswith("shard-") and name.endswith(".vecs.npy"):
                if (self.path / (name[: -len(".vecs.npy")] + ".keys.npy")).exists():
                    continue
            else:
                continue
            m = _WRITER_PID.search(name)
            if m is None or _running(int(m.group(1))):
                continue
            logger.info("embedding cache: removing %s, left by a writer that died", name)
            with contextlib.suppress(FileNotFoundError):
                p.unlink()

    def refresh(self) -> None:
        """Pick up shards written since open (by this or another process). Incomplete shards are skipped."""
        known = set(self._shard_names)
        new_keys, new_where = [], []
        for keys_file in sorted(self.path.glob("shard-*.keys.npy")):
            stem = keys_file.name[: -len(".keys.npy")]
            if stem in known:
                continue
            try:
                keys = np.load(keys_file, allow_pickle=False)
                vecs = np.load(self.path / f"{stem}.vecs.npy", mmap_mode="r", allow_pickle=False)
            except (OSError, ValueError) as e:  # a shard removed by compact() meanwhile, or damaged by the disk
                logger.warning("embedding cache: skipping shard %s (%s)", keys_file.name, e)
                continue
            if keys.ndim != 2 or keys.shape[1] != 16 or vecs.ndim != 2 or len(vecs) != len(keys):
                logger.warning("embedding cache: skipping malformed shard %s", keys_file.name)
                continue
            if self.dim is None:
                self.dim = int(vecs.shape[1])
            elif vecs.shape[1] != self.dim:
                logger.warning("embedding cache: skipping shard %s of width %d != %d", stem, vecs.shape[1], self.dim)
                continue
            self._shards.append(vecs)
            self._shard_names.append(stem)
            new_keys.append(as_keys(keys))
            s = len(self._shards) - 1
            new_where.append(np.stack([np.full(len(keys), s), np.arange(len(keys))], axis=1))
        if new_keys:
            self._merge(np.concatenate(new_keys), np.concatenate(new_where))

    def _merge(self, keys: np.ndarray, where: np.ndarray) -> None:
        """Insert new keys into the sorted index in O(n) (no re-sort of what is there); known keys keep their row."""
        uniq, first = np.unique(keys, return_index=True)
        where = where[first]
        if len(self._keys):
            known, _ = self._find(uniq)
            uniq, where = uniq[~known], where[~known]
        pos = np.searchsorted(self._keys, uniq)
        self._keys = np.insert(self._keys, pos, uniq)
        self._where = np.insert(self._where, pos, where, axis=0)

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, key: bytes) -> bool:
        return bool(self.lookup([key])[0][0])

    def _find(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pos = np.searchsorted(self._keys, keys)
        pos = np.minimum(pos, max(len(self._keys) - 1, 0))
        found = self._keys[pos] == keys if len(self._keys) else np.zeros(len(keys), dtype=bool)
        return found, pos

    def lookup(self, keys: Sequence[bytes] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(found_mask, vectors)``: a bool mask over ``keys`` and float16 ``(found_mask.sum(), dim)`` vectors."""
        q = as_keys(keys)
        found, pos = self._find(q)
        where = self._where[pos[found]]
        out = np.empty((len(where), self.dim or 0), dtype=np.float16)
        for s in np.unique(where[:, 0]):
            sel = where[:, 0] == s
            out[sel] = self._shards[s][where[sel, 1]]
        return found, out

    def add(self, keys: Sequence[bytes] | np.ndarray, vectors: np.ndarray) -> int:
        """Persist vectors for keys not yet cached (as one new shard); returns how many were new."""
        q = as_keys(keys)
        vectors = np.asarray(vectors)
        if vectors.ndim != 2 or len(vectors) != len(q):
            raise ValueError(f"{len(q)} keys but vectors of shape {vectors.shape}")
        if self.dim is not None and vectors.shape[1] != self.dim:
            raise ValueError(f"vectors of width {vectors.shape[1]} in a cache of width {self.dim}")
        found, _ = self._find(q)
        uniq, first = np.unique(q[~found], return_index=True)
        if len(uniq) == 0:
            return 0
        fresh = np.ascontiguousarray(vectors[~found][first], dtype=np.float16)
        stem = f"shard-{time.time_ns():020d}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        atomic_save(self.path / f"{stem}.vecs.npy", fresh)
        atomic_save(self.path / f"{stem}.keys.npy", uniq.view(np.uint8).reshape(-1, 16))
        self.refresh()
        return len(uniq)

    def compact(self) -> None:
        """Rewrite all shards as one (many small nightly shards cost file handles and open time).

        The merged shard is committed before the old ones are removed, so a crash in between only leaves
        duplicates, which lookups ignore. Readers that opened the cache earlier keep their memory maps.
        """
        if len(self._shards) <= 1:
            return
        order = np.lexsort((self._where[:, 1], self._where[:, 0]))
        keys, where = self._keys[order], self._where[order]
        vecs = np.empty((len(keys), self.dim or 0), dtype=np.float16)
        for s in np.unique(where[:, 0]):
            sel = where[:, 0] == s
            vecs[sel] = self._shards[s][where[sel, 1]]
        self.reset(keys, vecs)

    def reset(self, keys: Sequence[bytes] | np.ndarray, vectors: np.ndarray) -> None:
        """Keep exactly these entries (after ``promptsim prune``): one new shard, then the old shards removed."""
        q = as_keys(keys)
        uniq, first = np.unique(q, return_index=True)
        old = list(self._shard_names)
        stem = f"shard-{time.time_ns():020d}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        atomic_save(self.path / f"{stem}.vecs.npy", np.ascontiguousarray(np.asarray(vectors)[first], dtype=np.float16))
        atomic_save(self.path / f"{stem}.keys.npy", uniq.view(np.uint8).reshape(-1, 16))
        for name in old:  # keys first: the shard disappears for readers before its vectors do
            for suffix in (".keys.npy", ".vecs.npy"):
                with contextlib.suppress(FileNotFoundError):
                    (self.path / f"{name}{suffix}").unlink()
        self._shards, self._shard_names = [], []
        self._keys, self._where, self.dim = np.empty(0, dtype=_KEY_DTYPE), np.empty((0, 2), dtype=np.int64), None
        self.refresh()

    def __repr__(self) -> str:
        return f"EmbeddingCache({str(self.path)!r}, {len(self)} vectors in {len(self._shards)} shards)"

"""Stage 3, the embed function: prompt texts to unit vectors, each distinct text embedded once ever.

``embed_texts`` dedupes by content key, looks up the cache, embeds only what is new in length-sorted chunks, writes
the new vectors back (also when embedding fails half-way, so an interrupted night keeps its work) and returns
vectors aligned with the input. Embedding is the slowest per-prompt stage by two orders of magnitude (MiniLM ~42
texts/s on a 2-core CPU, GUIDE §3): never doing it twice is the whole point.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np
from tqdm.auto import tqdm

from engine.embed.base import (
    Embedder,
    _l2_normalize,
)
from engine.embed.cache import EmbeddingCache, as_keys

# --------------------------------------------------------------------------------------------------------------------
# Stage function
# --------------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EmbedStats:
    """What ``embed_texts`` did: ``new`` texts embedded, ``cached`` distinct keys served from the cache,
    ``duplicate_in_batch`` rows that repeated an earlier key of the same call, ``seconds`` spent in all."""

    new: int
    cached: int
    duplicate_in_batch: int
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return self.new + self.cached + self.duplicate_in_batch


@dataclass(frozen=True)
class RowOverlay:
    """A matrix that is ``base`` with some rows replaced, read by row ranges, without a second copy of ``base``.

    Each text's payload vector is the text's own vector unless the text is templated, when it is its payload's:
    at 1M prompts a full copy is 516 MB beside the texts' own vectors, where the 195k templated rows are 200 MB.
    Readers take it in slices (the text signals, the capability areas) or ask for the replaced rows themselves.
    """

    base: np.ndarray  # (n, dim), shared, never written
    rows: np.ndarray  # the replaced rows, ascending
    values: np.ndarray  # (len(rows), dim): their vectors

    def __post_init__(self) -> None:
        if len(self.rows) != len(self.values) or np.any(np.diff(self.rows) <= 0):
            raise ValueError("overlay rows must be ascending and unique, one value each")

    def __len__(self) -> int:
        return len(self.base)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.base.shape

    def __getitem__(self, key: slice) -> np.ndarray:
        """Rows ``key`` (a slice of step 1) as a new array, the replaced rows in place."""
        if not isinstance(key, slice) or key.step not in (None, 1):
            raise TypeError("a RowOverlay is read by row ranges")
        a, b, _ = key.indices(len(self.base))
        out = self.base[a:b].copy()
        lo, hi = np.searchsorted(self.rows, [a, max(a, b)])
        out[self.rows[lo:hi] - a] = self.values[lo:hi]
        return out

    def full(self) -> np.ndarray:
        """The whole matrix as one array (tests, small logs)."""
        return self[:]


def _from_f16(x: np.ndarray) -> np.ndarray:
    """Stored float16 vectors to unit float32 rows; fresh vectors take the same road, so cache state is invisible."""
    return _l2_normalize(x.astype(np.float32))


def embed_texts(
    texts: Sequence[str],
    keys: Sequence[bytes] | np.ndarray,
    embedder: Embedder,
    cache: EmbeddingCache | None,
    *,
    show_progress: bool = False,
    batch_size: int = 4096,
    flush_rows: int = 65536,
    flush_seconds: float = 60.0,
    encoder: Callable[[np.ndarray, list[str], int], Iterator[np.ndarray]] | None = None,
) -> tuple[np.ndarray, EmbedStats]:
    """Vectors for ``texts`` (float32, unit rows, aligned with the input), embedding each distinct key once ever.

    ``keys[i]`` is ``text_hash`` of ``texts[i]`` (the normalised text). Rows sharing a key are embedded once;
    keys already in ``cache`` are not embedded at all; the rest are embedded in length-sorted chunks of
    ``batch_size`` texts (longest first: minimal padding, and memory trouble shows at once), and written to the
    cache every ``flush_rows`` vectors or ``flush_seconds``, and on the way out even if embedding fails, so an
    interrupted night keeps the work it did. Every vector goes through float16 (the cache's precision) whether or
    not it came from the cache, so the output does not depend on what was cached.

    ``encoder(todo_rows, todo_texts, batch_size)``, when given, does the encoding instead of ``embedder.encode``
    here: it yields the vectors of consecutive runs of ``todo_texts`` (already length-sorted; ``todo_rows`` are
    their positions in ``texts``) in order, as they are done, and may run them elsewhere (the pipeline's executor:
    a Ray actor pool) or from what it knows of those rows (the texts' segments). Dedupe, cache and flushing stay
    here.
    """
    t0 = time.perf_counter()
    n = len(texts)
    if len(keys) != n:
        raise ValueError(f"{n} texts but {len(keys)} keys")
    if cache is not None and cache.namespace != embedder.name:
        raise ValueError(f"cache namespace {cache.namespace!r} does not belong to embedder {embedder.name!r}")
    if n == 0:
        return np.empty((0, embedder.dim), dtype=np.float32), EmbedStats(0, 0, 0, 0.0)
    q = as_keys(keys)
    uniq, first, inverse = np.unique(q, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    vecs = np.zeros((len(uniq), embedder.dim), dtype=np.float32)
    have = np.zeros(len(uniq), dtype=bool)
    if cache is not None and len(cache):
        have, cached_vecs = cache.lookup(uniq)
        if len(cached_vecs):
            vecs[have] = _from_f16(cached_vecs)
    n_cached = int(have.sum())
    todo = np.flatnonzero(~have)
    if len(todo):
        lengths = np.fromiter((len(texts[first[u]]) for u in todo), dtype=np.int64, count=len(todo))
        todo = todo[np.argsort(-lengths, kind="stable")]
        pending: list[tuple[np.ndarray, np.ndarray]] = []  # (rows, float16 vectors exactly as the cache stores them)
        n_pending, last_flush = 0, time.monotonic()

        def flush() -> None:
            nonlocal pending, n_pending, last_flush
            if cache is not None and pending:
                cache.add(uniq[np.concatenate([r for r, _ in pending])], np.concatenate([v for _, v in pending]))
            pending, n_pending, last_flush = [], 0, time.monotonic()

        bar = tqdm(total=len(todo), desc=f"embed {embedder.name}", unit="text", disable=not show_progress)
        todo_texts = [texts[first[u]] for u in todo]
        chunks = (encoder or partial(_encode_here, embedder))(first[todo], todo_texts, batch_size)
        done = 0
        try:
            for out in chunks:
                rows = todo[done : done + len(out)]
                if out.shape != (len(rows), embedder.dim):
                    raise ValueError(f"{embedder.name} returned {out.shape} for {len(rows)} texts")
                done += len(rows)
                out16 = np.asarray(out, dtype=np.float16)
                vecs[rows] = _from_f16(out16)
                pending.append((rows, out16))
                n_pending += len(rows)
                bar.update(len(rows))
                if n_pending >= flush_rows or time.monotonic() - last_flush >= flush_seconds:
                    flush()
            if done != len(todo):
                raise ValueError(f"{embedder.name} returned {done} vectors for {len(todo)} texts")
        finally:
            flush()
            bar.close()
    stats = EmbedStats(
        new=len(todo), cached=n_cached, duplicate_in_batch=n - len(uniq), seconds=time.perf_counter() - t0
    )
    return vecs[inverse], stats


def _encode_here(embedder: Embedder, rows: np.ndarray, texts: list[str], batch_size: int) -> Iterator[np.ndarray]:
    """``embedder.encode`` in this process, ``batch_size`` texts at a time (``embed_texts``'s default encoder)."""
    for s in range(0, len(texts), batch_size):
        part = texts[s : s + batch_size]
        out = embedder.encode(part, show_progress=False)
        if out.shape != (len(part), embedder.dim):
            raise ValueError(f"{embedder.name} returned {out.shape} for {len(part)} texts")
        yield out

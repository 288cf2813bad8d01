"""Stage 2c: MinHash signatures of word n-gram shingles, and LSH near-duplicate groups.

Why this module exists rather than calling datasketch per prompt: datasketch hashes every shingle with SHA-1 in
Python and builds one object per prompt, which caps it near 13,000 prompts/s (GUIDE §3). Here a whole batch of
prompts is hashed at once with numpy, and the result is *bit-identical* to datasketch's default ``affine32`` scheme
fed with :func:`hash_shingle`, so ``LeanMinHash``/``MinHashLSH`` and anything else built on datasketch accept our
signatures (wrap a row as ``MinHash(hashvalues=row, seed=seed, scheme="affine32")``).

The pipeline for a batch of (already normalised) texts, with no Python call per word or shingle:

1. identical texts are collapsed, so a viral prompt sent 10,000 times is hashed once;
2. texts are lower-cased, encoded to UTF-8 and joined into one byte buffer; word boundaries come from one vectorised
   pass over it (``str.split()`` semantics: every Unicode white space character separates words);
3. each word gets a 64-bit hash of its bytes (murmur3 ``fmix64`` of its first 8 bytes and length; longer words add
   position-keyed mixes of their further 8-byte blocks), read straight out of the buffer;
4. ``ngram`` consecutive word hashes are combined into one 32-bit shingle hash; a text with fewer than ``ngram``
   words is one shingle of all its words (the empty text is one shingle of no words);
5. datasketch's permutation step (``fmix32`` pre-mix, then ``a*h + b`` in wrapping uint32) is applied to runs of
   texts of similar shingle count at once, padded to a common count by repeating a text's last shingle (a repeat
   cannot change a minimum), and each text's minimum is taken per permutation.

Step 5 is about half the time. ``np.minimum.reduceat`` along rows is slow (measured ~6x a plain reduction), hence
the padded runs; see :meth:`MinHasher._fill` for the block layout. Work items are spread over threads, since numpy
releases the GIL in the array work.

LSH (:func:`lsh_pairs`, :func:`lsh_groups`) buckets rows per band by sorting one 64-bit key per band and links each
row to its bucket's first member, so its cost is linear in the number of rows whatever the bucket sizes. On a
distributed executor the same buckets are formed by its sort on (band, key, row) (:func:`lsh_pairs_sorted`); both
forms make their edges with one function (:func:`_star_edges`), and give the same edges.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
from datasketch import MinHash
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from engine.batches import column_matrix, matrix_column

if TYPE_CHECKING:
    from engine.executor import Executor

__all__ = [
    "NUM_PERM",
    "MinHasher",
    "hash_shingle",
    "jaccard",
    "lsh_groups",
    "lsh_pairs",
    "lsh_pairs_sorted",
    "unique_sorted",
]

#: Permutations per signature. 128 with 32 bands of 4 rows puts the LSH threshold near Jaccard 0.42
#: (``(1/32) ** (1/4)``) while a pair at 0.8 collides in some band with probability > 0.9999.
NUM_PERM = 128

_M64 = (1 << 64) - 1
# murmur3 finalisers: fmix64 mixes word hashes; fmix32 is datasketch's pre-mix of each input hash (must match it).
_F64 = (33, 0xFF51AFD7ED558CCD, 33, 0xC4CEB9FE1A85EC53, 33)
_F32 = (16, 0x85EBCA6B, 13, 0xC2B2AE35, 16)
#: Seeds the word hash with the word's byte length, so "a" and "a\0" (zero padding) differ.
_K_WORD = 0x9E3779B97F4A7C15
#: Keys each 8-byte block of a long word with its position, so reordered blocks hash differently.
_K_BLOCK = 0xBF58476D1CE4E5B9
#: Seeds the shingle hash with its word count, so a 2-word shingle never equals a 3-word one by construction.
_K_COUNT = 0xD6E8FEB86659FD93
#: Byte masks keeping the first ``i`` bytes of a little-endian 8-byte block.
_MASKS = np.array([(1 << (8 * i)) - 1 for i in range(8)] + [_M64], dtype=np.uint64)
#: ``bytes.translate`` table: ASCII upper case to lower case, ASCII white space to a plain space.
_ASCII_TABLE = bytes(
    32 if c in b"\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f" else (c + 32 if 65 <= c <= 90 else c) for c in range(256)
)
#: Non-ASCII characters that ``str.split()`` treats as white space (all of them, for CPython 3.10-3.13).
_UNICODE_SPACE = re.compile("[\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]")
#: Padded shingles per permutation block: 8192 x 128 perms x 4 bytes = 4 MiB. Measured: smaller blocks pay numpy's
#: per-call overhead, larger ones fall out of cache; 4-8k was fastest on the 2-core EPYC (1 MiB L2, 32 MiB L3).
_BLOCK_ROWS = 8192
#: Shingles per text from which the text-major block layout is faster (crossover measured between 64 and 100).
_WIDE = 80
#: Most distinct texts per work item (a thread's unit). Bounds the temporaries of one item to a few MiB.
_PART_TEXTS = 8192
#: Fewest distinct texts per work item worth a thread of its own.
_MIN_PART_TEXTS = 1024


def _fmix64_int(x: int) -> int:
    s1, m1, s2, m2, s3 = _F64
    x ^= x >> s1
    x = (x * m1) & _M64
    x ^= x >> s2
    x = (x * m2) & _M64
    return x ^ (x >> s3)


def _fmix64(h: np.ndarray) -> np.ndarray:
    """In-place murmur3 fmix64 of a uint64 array (multiplication wraps, which is the intended mod 2^64).

    One scratch array serves the three shifts, so the five passes allocate once.
    """
    s1, m1, s2, m2, s3 = _F64
    tmp = np.right_shift(h, np.uint64(s1))
    h ^= tmp
    h *= np.uint64(m1)
    h ^= np.right_shift(h, np.uint64(s2), out=tmp)
    h *= np.uint64(m2)
    h ^= np.right_shift(h, np.uint64(s3), out=tmp)
    return h


def _fmix32(h: np.ndarray) -> np.ndarray:
    """murmur3 fmix32 of a uint32 array: datasketch's ``_fmix(h, 32)``, reimplemented so the hot path owns it."""
    s1, m1, s2, m2, s3 = _F32
    h = h ^ (h >> np.uint32(s1))
    h *= np.uint32(m1)
    h ^= h >> np.uint32(s2)
    h *= np.uint32(m2)
    h ^= h >> np.uint32(s3)
    return h


def _position_constants(n: int) -> list[int]:
    """Odd 64-bit multipliers, one per word position in a shingle, so word order matters."""
    return [_fmix64_int(0x2545F4914F6CDD1D * (j + 1) & _M64) | 1 for j in range(n)]


def _word_hash_int(word: bytes) -> int:
    """64-bit hash of one word's UTF-8 bytes: the scalar twin of :func:`_word_hashes`."""
    h = _fmix64_int(((len(word) * _K_WORD) & _M64) ^ int.from_bytes(word[:8], "little"))
    if len(word) > 8:
        tail = 0
        for k in range(1, (len(word) + 7) // 8):
            tail += _fmix64_int(int.from_bytes(word[8 * k : 8 * k + 8], "little") ^ ((k * _K_BLOCK) & _M64))
        h = _fmix64_int((h + tail) & _M64)
    return h


def hash_shingle(b: bytes) -> int:
    """32-bit hash of one shingle given as its words' UTF-8 bytes joined by single spaces.

    This is the ``hashfunc`` to give datasketch (``MinHash(num_perm, seed, hashfunc=hash_shingle)``) so that
    updating it with ``b" ".join(words)`` for every shingle yields exactly :meth:`MinHasher.signatures`. It parses
    the shingle back into words and combines per-word hashes the same way the vectorised path does; it is slow
    (pure Python) and exists for compatibility and tests, not for bulk work.
    """
    words = b.split()
    consts = _position_constants(len(words))
    x = len(words) * _K_COUNT
    for k, w in zip(consts, words, strict=True):
        x += k * _word_hash_int(w)
    return (x & _M64) >> 32


def _encode(text: str) -> bytes:
    """UTF-8 bytes of one text, lower-cased, with non-ASCII white space turned into spaces.

    ASCII texts (the common case) are lower-cased later in one ``bytes.translate`` over the whole batch; ``str.lower``
    is only paid for texts that need Unicode case mapping.
    """
    if text.isascii():
        return text.encode("ascii")
    return _UNICODE_SPACE.sub(" ", text.lower()).encode("utf-8", "surrogatepass")


def _word_hashes(buf: bytes, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """64-bit hash of every word, read from ``buf`` 8 bytes at a time (see :func:`_word_hash_int`).

    ``buf`` must have at least 7 bytes after the last word. An unaligned strided uint64 view lets one fancy index
    fetch the first block of every word at once. Blocks after the first (16% of words in real prompts) are mixed
    independently with their position and summed per word, rather than chained, so all of them are hashed in a
    fixed number of numpy calls however long the longest word (a base64 blob) is.
    """
    view = np.ndarray((len(buf) - 7,), dtype="<u8", buffer=buf, strides=(1,))
    h = lengths.astype(np.uint64)
    h *= np.uint64(_K_WORD)
    h ^= view[starts] & _MASKS.take(np.minimum(lengths, 8))
    _fmix64(h)
    long_words = np.flatnonzero(lengths > 8)
    if long_words.size:
        n_tail = (lengths[long_words] + 7) // 8 - 1  # blocks after the first, per long word
        seg = np.zeros(len(long_words), dtype=np.int64)
        np.cumsum(n_tail[:-1], out=seg[1:])
        k = np.arange(int(seg[-1] + n_tail[-1]), dtype=np.int64) - np.repeat(seg - 1, n_tail)  # block index, from 1
        pos = np.repeat(starts[long_words], n_tail) + 8 * k
        rem = np.repeat(starts[long_words] + lengths[long_words], n_tail) - pos
        blocks = view[pos] & _MASKS.take(np.minimum(rem, 8))
        blocks ^= k.astype(np.uint64) * np.uint64(_K_BLOCK)
        tail = np.add.reduceat(_fmix64(blocks), seg)
        tail += h[long_words]
        h[long_words] = _fmix64(tail)
    return h


def _shingles(texts: Sequence[str], ngram: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Raw 32-bit shingle hashes of a batch of texts.

    Returns ``(sh, first, count)``: text ``t``'s shingles are ``sh[first[t] : first[t] + count[t]]``. Shingles of
    texts with at least ``ngram`` words are computed at every word position of the batch (the few that straddle two
    texts are computed and never referenced, cheaper than masking); shorter texts get one shingle each, appended.
    """
    parts = [t.encode("ascii") if t.isascii() else _encode(t) for t in texts]  # inline test: no call for ASCII
    lens = np.fromiter(map(len, parts), dtype=np.int64, count=len(parts))
    parts.append(b" " * 8)  # padding so the 8-byte reads past the last word stay inside the buffer
    buf = b" ".join(parts).translate(_ASCII_TABLE)
    arr = np.frombuffer(buf, dtype=np.uint8)
    nonspace = arr != 32
    edges = np.flatnonzero(nonspace[1:] != nonspace[:-1]) + 1
    if nonspace[0]:
        edges = np.concatenate(([0], edges))
    starts, ends = edges[0::2], edges[1::2]  # the buffer ends in spaces, so edges pair up
    wh = _word_hashes(buf, starts, ends - starts)

    # Words of text t: those starting in [offset, offset + len). ``edges`` alternates start, end, so the number of
    # edges before a position p, rounded up to even and halved, counts the words starting before p.
    offsets = np.zeros(len(texts), dtype=np.int64)
    np.cumsum(lens[:-1] + 1, out=offsets[1:])
    w_first = (np.searchsorted(edges, offsets) + 1) // 2
    w_count = (np.searchsorted(edges, offsets + lens) + 1) // 2 - w_first

    consts = [np.uint64(k) for k in _position_constants(ngram)]
    n_pos = max(len(wh) - ngram + 1, 0)
    x = np.full(n_pos, np.uint64(ngram * _K_COUNT & _M64), dtype=np.uint64)
    for j, k in enumerate(consts):
        x += wh[j : j + n_pos] * k
    sh_pos = (x >> np.uint64(32)).astype(np.uint32)

    short = np.flatnonzero(w_count < ngram)
    xs = (w_count[short].astype(np.uint64) * np.uint64(_K_COUNT)).astype(np.uint64)
    for j, k in enumerate(consts[:-1]):
        has = w_count[short] > j
        xs[has] += wh[w_first[short[has]] + j] * k
    sh = np.concatenate((sh_pos, (xs >> np.uint64(32)).astype(np.uint32)))

    first = w_first.copy()
    first[short] = n_pos + np.arange(len(short))
    count = np.maximum(w_count - ngram + 1, 1)
    return sh, first, count


class MinHasher:
    """Batch MinHash of word n-gram shingles, bit-compatible with ``datasketch.MinHash(num_perm, seed)``.

    Parameters are fixed at construction; the permutations are taken from datasketch itself (its
    ``_init_permutations`` draws them from ``np.random.RandomState(seed)``), so they can never drift from it.
    """

    def __init__(self, num_perm: int = NUM_PERM, seed: int = 1, ngram: int = 3, threads: int | None = None) -> None:
        if ngram < 1:
            raise ValueError("ngram must be >= 1")
        self.num_perm = num_perm
        self.seed = seed
        self.ngram = ngram
        #: Worker threads, each hashing one work item of ``_PART_TEXTS`` distinct texts. numpy releases the GIL in
        #: the array work (most of it); encoding texts holds it. Default: 2 where there are 2 cores or more.
        self.threads = threads if threads is not None else min(os.cpu_count() or 1, 2)
        ref = MinHash(num_perm=num_perm, seed=seed, scheme="affine32")
        perms = np.asarray(ref.permutations, dtype=np.uint32)
        self.a_ = np.ascontiguousarray(perms[0])
        self.b_ = np.ascontiguousarray(perms[1])

    def shingle_hashes(self, text: str) -> np.ndarray:
        """uint32 hashes of the shingles of one text, in word order (repeats kept), equal to :func:`hash_shingle`.

        Words are ``text.lower().split()``; a text with fewer than ``ngram`` words is one shingle of all its words,
        and the empty text one shingle of no words, so every text has a signature and short ones can still match.
        """
        sh, first, count = _shingles([text], self.ngram)
        return sh[first[0] : first[0] + count[0]].copy()

    def signatures(self, texts: Sequence[str]) -> np.ndarray:
        """``(len(texts), num_perm)`` uint32 MinHash signatures, one row per text, duplicates included.

        Row ``i`` equals ``datasketch.MinHash(num_perm, seed, hashfunc=hash_shingle)`` updated with the UTF-8 bytes
        ``b" ".join(words)`` of each shingle of ``texts[i]``.
        """
        index: dict[str, int] = {}
        inverse = np.fromiter((index.setdefault(t, len(index)) for t in texts), dtype=np.int64, count=len(texts))
        unique = list(index)
        out = np.empty((len(unique), self.num_perm), dtype=np.uint32)
        n_parts = -(-len(unique) // _PART_TEXTS)
        if self.threads > 1 and len(unique) >= 2 * _MIN_PART_TEXTS:
            n_parts = -(-n_parts // self.threads) * self.threads  # equal shares: no thread idles at the end
        size = max(1, -(-len(unique) // max(n_parts, 1)))
        chunks = [(s, unique[s : s + size]) for s in range(0, len(unique), size)]
        if self.threads > 1 and len(chunks) > 1:
            with ThreadPoolExecutor(self.threads) as pool:
                list(pool.map(lambda c: self._fill(c[1], out[c[0] : c[0] + len(c[1])]), chunks))
        else:
            for s, part in chunks:
                self._fill(part, out[s : s + len(part)])
        return out if len(unique) == len(texts) else out[inverse]

    def _fill(self, texts: Sequence[str], out: np.ndarray) -> None:
        """Signatures of distinct ``texts`` written into ``out``: runs of similar length, padded, min per run.

        A run of ``k`` texts padded to ``w`` shingles becomes one ``(num_perm, ., .)`` block so that every numpy
        call has a long contiguous inner loop with a scalar ``a``/``b`` (numpy's fast path): shingle-major
        ``(P, w, k)`` with the minimum taken across the middle axis for short texts, text-major ``(P, k, w)`` with a
        contiguous reduction over the last axis once texts are long enough (``w >= _WIDE``) for that to pay.
        Measured on the benchmark log this is about 2x faster than the natural ``(k, w, P)`` layout, whose inner loop
        is only ``P`` long.
        """
        sh, first, count = _shingles(texts, self.ngram)
        hv = _fmix32(sh)
        order = np.argsort(count, kind="stable")
        counts = count[order]
        firsts = first[order]
        width_max = int(counts[-1]) if len(counts) else 0
        lanes = np.arange(width_max)
        a = self.a_[:, None, None]
        b = self.b_[:, None, None]
        buf = np.empty((_BLOCK_ROWS + width_max) * self.num_perm, np.uint32)
        i, n = 0, len(order)
        while i < n:
            # Largest run whose padded block fits: counts are sorted, so the last text sets the width.
            j = min(n, i + max(1, _BLOCK_ROWS // int(counts[i])))
            while j - i > 1 and (j - i) * int(counts[j - 1]) > _BLOCK_ROWS:
                j = i + max(1, _BLOCK_ROWS // int(counts[j - 1]))
            w, k = int(counts[j - 1]), j - i
            last = counts[i:j] - 1
            if w < _WIDE:
                shingles = hv[firsts[None, i:j] + np.minimum(lanes[:w, None], last[None, :])]  # (w, k)
                block = buf[: w * k * self.num_perm].reshape(self.num_perm, w, k)
                np.multiply(a, shingles[None], out=block)
                block += b
                out[order[i:j]] = np.minimum.reduce(block, axis=1).T
            else:
                shingles = hv[firsts[i:j, None] + np.minimum(lanes[None, :w], last[:, None])]  # (k, w)
                block = buf[: w * k * self.num_perm].reshape(self.num_perm, k, w)
                np.multiply(a, shingles[None], out=block)
                block += b
                out[order[i:j]] = np.minimum.reduce(block, axis=2).T
            i = j


def jaccard(a: np.ndarray, b: np.ndarray) -> np.ndarray | float:
    """Estimated Jaccard similarity: the share of signature slots where ``a`` and ``b`` agree.

    ``a`` and ``b`` broadcast row-wise: ``(n, P)`` vs ``(P,)`` or ``(n, P)`` gives ``(n,)`` floats; two ``(P,)``
    signatures give one float, as ``datasketch.MinHash.jaccard`` does.
    """
    a = np.asarray(a)
    b = np.asarray(b)
    est = np.count_nonzero(a == b, axis=-1) / a.shape[-1]
    return float(est) if np.ndim(est) == 0 else est


def _row_keys(words: np.ndarray, consts: np.ndarray) -> np.ndarray:
    """One uint64 key per row of ``words`` (uint64 columns): a sum of per-column random odd multiples.

    Two different rows share a key with probability about 2^-64, far below any LSH false-positive rate, so keys
    stand in for the rows themselves when bucketing. Processed in row blocks to bound the temporary.
    """
    keys = np.empty(len(words), dtype=np.uint64)
    step = max(1, (1 << 17) // words.shape[1])
    for s in range(0, len(words), step):
        keys[s : s + step] = (words[s : s + step] * consts).sum(axis=1, dtype=np.uint64)
    return keys


def _band_keys(words: np.ndarray, bands: int, per_band: int, consts: np.ndarray) -> np.ndarray:
    """``(bands, n)`` uint64 keys, one per band and row, as :func:`_row_keys` of each band's columns.

    Computed for all bands at once over contiguous row blocks (a band's columns are strided in memory, and 32
    strided passes cost twice this), then transposed so each band's keys are contiguous for its sort.
    """
    n = len(words)
    out = np.empty((bands, n), dtype=np.uint64)
    tiled = np.tile(consts[:per_band], bands)
    step = 1 << 14
    for s in range(0, n, step):
        prod = words[s : s + step, : bands * per_band] * tiled
        keys = prod[:, 0::per_band].copy()
        for j in range(1, per_band):
            keys += prod[:, j::per_band]
        out[:, s : s + step] = keys.T
    return out


def _as_words(sigs: np.ndarray, rows: int) -> tuple[np.ndarray, int]:
    """Signatures as uint64 columns, two uint32 slots per column when ``rows`` is even (half the work), else one."""
    if rows % 2 == 0:
        return np.ascontiguousarray(sigs, dtype=np.uint32).view(np.uint64), rows // 2
    return sigs.astype(np.uint64), rows


def _run_starts(*cols: np.ndarray) -> np.ndarray:
    """Where a run of equal values begins in columns sorted together: True at 0 and wherever any column changes."""
    new = np.empty(len(cols[0]), dtype=bool)
    new[:1] = True
    np.not_equal(cols[0][1:], cols[0][:-1], out=new[1:])
    for col in cols[1:]:
        new[1:] |= col[1:] != col[:-1]
    return new


def _star_edges(new: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Star edges of sorted runs: ``(head, row)`` for every member but the head, the head being the run's smallest row.

    ``new`` marks where each run starts (:func:`_run_starts`) and ``rows`` is the row index at each position; the
    third array marks the positions that got an edge, for callers that carry other columns along. This is the one
    place bucket edges are made, for the in-memory path (:func:`_first_members`) and the sorted blocks of the
    distributed one (:func:`_bucket_block`), so both give the same edges by construction.
    """
    if new.all():
        return rows[:0], rows[:0], np.zeros(len(rows), dtype=bool)
    firsts = np.minimum.reduceat(rows, np.flatnonzero(new))[np.cumsum(new) - 1]
    linked = rows != firsts
    return firsts[linked], rows[linked], linked


def _first_members(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For rows sharing a key with an earlier-sorted row: ``(first, row)`` where ``first`` is the smallest index."""
    order = np.argsort(keys)
    first, row, _ = _star_edges(_run_starts(keys[order]), order)
    return first, row


def unique_sorted(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values of a 1-d array, by one sort.

    ``np.unique`` without ``return_*`` takes a hash-table path in numpy 2.x that grows worse than linearly (measured:
    ~100x a sort at 10M int64, 6.5 s at 3M): every stage that dedupes integer codes uses this instead.
    """
    values = np.sort(np.asarray(values).ravel())
    keep = np.empty(len(values), dtype=bool)
    keep[:1] = True
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    return values[keep]


def _key_consts(columns: int) -> np.ndarray:
    """The odd multipliers of :func:`_row_keys` / :func:`_band_keys` for ``columns`` uint64 columns."""
    return np.array(_position_constants(columns + 1)[1:], dtype=np.uint64)


def _check_bands(sigs: np.ndarray, bands: int, rows: int) -> np.ndarray:
    sigs = np.asarray(sigs)
    if bands * rows > sigs.shape[1]:
        raise ValueError(f"bands * rows = {bands * rows} exceeds the {sigs.shape[1]} signature slots")
    return sigs


def _edges(codes: list[np.ndarray], n: int, sigs: np.ndarray, min_jaccard: float | None) -> np.ndarray:
    """Edge codes ``first * n + row`` to sorted distinct ``(first, row)`` pairs, kept if their Jaccard estimate
    reaches ``min_jaccard`` (checked in slices, to bound the two gathered signature blocks)."""
    code = unique_sorted(np.concatenate(codes))
    edges = np.stack((code // n, code % n), axis=1)
    if min_jaccard is not None and len(edges):
        keep = np.empty(len(edges), dtype=bool)
        step = 1 << 15
        for s in range(0, len(edges), step):
            e = edges[s : s + step]
            keep[s : s + step] = jaccard(sigs[e[:, 0]], sigs[e[:, 1]]) >= min_jaccard
        edges = edges[keep]
    return edges


def lsh_pairs(
    sigs: np.ndarray,
    bands: int = 32,
    rows: int = 4,
    min_jaccard: float | None = None,
    *,
    ex: Executor | None = None,
) -> np.ndarray:
    """Candidate near-duplicate edges ``(m, 2)`` int64, each ``(first, row)`` with ``first < row``, sorted.

    Rows whose band of ``rows`` slots is equal in any of ``bands`` bands share a bucket; each row is linked to its
    bucket's first (smallest-index) member rather than to every member, so a bucket of 10,000 identical prompts is
    9,999 edges, not 50 million, and the edges still connect the bucket. Identical signatures are collapsed before
    banding (they would collide in every band), and edges repeated across bands are kept once. With
    ``min_jaccard`` an edge survives only if the estimated Jaccard of its two rows reaches it.

    Buckets are formed here, by a numpy sort per band, unless ``ex`` is a distributed executor
    (``ex.distributed``): then by :func:`lsh_pairs_sorted`, its distributed sort on band keys. Same edges either way.
    """
    if ex is not None and ex.distributed:
        return lsh_pairs_sorted(sigs, ex, bands, rows, min_jaccard)
    sigs = _check_bands(sigs, bands, rows)
    n = len(sigs)
    words, per_band = _as_words(sigs, rows)
    consts = _key_consts(words.shape[1])
    dup_first, dup_row = _first_members(_row_keys(words, consts))
    reps = np.ones(n, dtype=bool)
    reps[dup_row] = False
    reps = np.flatnonzero(reps)  # ascending, so rep-level edges keep first < row
    codes = [dup_first * n + dup_row]
    band_consts = consts[:per_band]
    for keys in _band_keys(words[reps] if len(reps) < n else words, bands, per_band, band_consts):
        first, row = _first_members(keys)
        codes.append(reps[first] * n + reps[row])
    return _edges(codes, n, sigs, min_jaccard)


#: signatures per batch of the key computation (8 MiB of signatures in, 4 MiB of keys out)
SIG_BATCH = 16_384
#: (band, key, row) rows per sorted block: 14 MiB a block, ~25 blocks for 400k signatures x 33 keys
SORT_BATCH = 1 << 19
#: the columns buckets are sorted by: a run of equal (band, key) is a bucket, its rows ascending, its head first
_BUCKET_SORT = ["band", "key", "row"]
#: the ``band`` of whole-signature keys, which collapse identical signatures
_WHOLE = -1


def _lsh_keys_batch(batch: pa.Table, *, bands: int, rows: int) -> pa.Table:
    """Signatures (``sig``) to their bucket keys (``keys``: the whole-row key, then one key per band), one row each.

    The keys are the numpy path's (:func:`_row_keys`, :func:`_band_keys`), as int64 bit patterns: only equality
    matters to bucketing, and signed keys sort alike on every engine.
    """
    words, per_band = _as_words(column_matrix(batch["sig"], np.uint32), rows)
    consts = _key_consts(words.shape[1])
    keys = np.empty((len(words), bands + 1), dtype=np.uint64)
    keys[:, 0] = _row_keys(words, consts)
    keys[:, 1:] = _band_keys(words, bands, per_band, consts[:per_band]).T
    return pa.table({"keys": matrix_column(keys.view(np.int64))})


def _bucket_block(batch: pa.Table) -> pa.Table:
    """Star edges of one block of (``band``, ``key``, ``row``) rows sorted by those columns, plus what the driver
    needs to finish the runs (buckets) that cross the block's edges.

    A bucket's head is its first row in sorted order, its smallest row, and every other member is linked to it
    (:func:`_star_edges`, as in memory). The block's first run may have begun in an earlier block, where its head
    is: its members are passed on unlinked. Its last run may go on in later blocks: its head is passed on too.
    Passed-on rows have ``head`` -1 and keep their key; edge rows have ``head`` >= 0 and key 0; both keep their band.
    The passed-on rows of consecutive blocks are themselves sorted, so one more :func:`_star_edges` over them links
    each crossing run (over any number of blocks) to its true head (:func:`_sorted_buckets`).
    """
    band, key, row = (batch[c].to_numpy() for c in _BUCKET_SORT)
    new = _run_starts(band, key)
    starts = np.flatnonzero(new)
    lead = int(starts[1]) if len(starts) > 1 else len(row)  # end of the first run
    head, member, linked = _star_edges(new[lead:], row[lead:])
    passed = np.arange(lead) if lead == len(row) else np.append(np.arange(lead), starts[-1])
    return pa.table(
        {
            "band": pa.array(np.concatenate((band[passed], band[lead:][linked]))),
            "key": pa.array(np.concatenate((key[passed], np.zeros(len(head), dtype=key.dtype)))),
            "head": pa.array(np.concatenate((np.full(len(passed), -1, dtype=np.int64), head))),
            "row": pa.array(np.concatenate((row[passed], member))),
        }
    )


def _sorted_buckets(ex: Executor, table: pa.Table, batch_size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Star edges ``(band, head, row)`` of the buckets of (``band``, ``key``, ``row``) rows, by ``ex``'s sort."""
    out = pa.concat_tables(ex.map_sorted(_bucket_block, table, _BUCKET_SORT, batch_size=batch_size))
    band, head, row = (out[c].to_numpy() for c in ("band", "head", "row"))
    passed = head < 0
    new = _run_starts(band[passed], out["key"].to_numpy()[passed])
    first, member, linked = _star_edges(new, row[passed])
    edge = ~passed
    return (
        np.concatenate((band[edge], band[passed][linked])),
        np.concatenate((head[edge], first)),
        np.concatenate((row[edge], member)),
    )


def lsh_pairs_sorted(
    sigs: np.ndarray,
    ex: Executor,
    bands: int = 32,
    rows: int = 4,
    min_jaccard: float | None = None,
    *,
    sig_batch: int = SIG_BATCH,
    sort_batch: int = SORT_BATCH,
) -> np.ndarray:
    """:func:`lsh_pairs` with its buckets formed by ``ex``'s sort on band keys (``Executor.map_sorted``).

    Keys per block of signatures (``ex.map_batches``), then one distributed sort of ``n * (bands + 1)`` rows
    (band, key, row) of 18 bytes: the whole-signature key (band -1) and the ``bands`` band keys of every row, each
    run of equal (band, key) star-linked to its smallest row. Only the fix-up of runs that cross blocks, the
    Jaccard check and the components run here.

    The edges are exactly the numpy path's, which collapses identical signatures and then bands only their
    representatives (each group's smallest row): the band -1 edges are the collapse; a band bucket over all rows
    holds whole groups of identical signatures (they share every key), so its smallest row is a representative,
    the numpy path's head too, and dropping the band edges whose member is a duplicate leaves the numpy path's
    edges. Banding every row costs ``n - n_reps`` rows per band more than banding representatives, and saves a
    second sort (each Ray Data sort costs seconds of scheduling whatever its size).
    """
    sigs = _check_bands(sigs, bands, rows)
    n, p = sigs.shape
    table = pa.table({"sig": matrix_column(sigs, np.uint32)})
    keys = ex.map_batches(partial(_lsh_keys_batch, bands=bands, rows=rows), table, batch_size=sig_batch)
    table = pa.table(
        {
            "band": pa.array(np.tile(np.arange(_WHOLE, bands, dtype=np.int16), n)),
            "key": keys["keys"].combine_chunks().flatten() if n else pa.array([], pa.int64()),
            "row": pa.array(np.repeat(np.arange(n, dtype=np.int64), bands + 1)),
        }
    )
    band, first, row = _sorted_buckets(ex, table, sort_batch)
    whole = band == _WHOLE
    dup = np.zeros(n, dtype=bool)
    dup[row[whole]] = True
    keep = whole | ~dup[row]
    return _edges([first[keep] * n + row[keep]], n, sigs, min_jaccard)


def _components(edges: np.ndarray, n: int) -> np.ndarray:
    """Label of each of ``n`` rows: the smallest row of its connected component under ``edges``."""
    if not len(edges):
        return np.arange(n, dtype=np.int64)
    graph = coo_matrix((np.ones(len(edges), dtype=np.int8), (edges[:, 0], edges[:, 1])), shape=(n, n))
    _, comp = connected_components(graph, directed=False)
    smallest = np.full(comp.max() + 1, n, dtype=np.int64)
    np.minimum.at(smallest, comp, np.arange(n, dtype=np.int64))
    return smallest[comp]


def lsh_groups(
    sigs: np.ndarray,
    bands: int = 32,
    rows: int = 4,
    min_jaccard: float | None = None,
    *,
    ex: Executor | None = None,
) -> np.ndarray:
    """Near-duplicate group of every row: int64 label = smallest row index in its group.

    Groups are the connected components of :func:`lsh_pairs` edges, so near-duplicates chain (A~B, B~C puts A and C
    together even if A and C differ more); ``min_jaccard`` keeps weak LSH collisions from bridging groups. ``ex``
    chooses where buckets are formed (see :func:`lsh_pairs`); the components are taken here.
    """
    return _components(lsh_pairs(sigs, bands, rows, min_jaccard, ex=ex), len(sigs))

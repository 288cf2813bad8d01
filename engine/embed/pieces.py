"""Static-model vectors from shared segments: each distinct segment tokenised once.

A static (model2vec) vector is the mean of the vectors of a text's tokens, and with BERT's tokenizer the tokens of
a text are those of its segments one after another: template mining cuts texts only at whitespace or after a
sentence's punctuation (``engine.text.templates.segments``), and the BERT pre-tokenizer splits at both anyway. So
a text's token ids are its segments' ids concatenated, and each distinct segment needs tokenising once: a wrapper
sentence in 100k texts is tokenised once, not 100k times, and a payload (its text's own segments) not again.
Measured at 1M prompts (public3 --scale 7): 402k distinct segments hold 25M characters against 208M in the 504k
distinct texts; tokenising them took 6.9 s on 2 cores, against ~57 s for the texts (and more for the payloads).

The pooling is model2vec's own (``StaticModel._encode_batch``: rows bucketed by length, the table gathered and
averaged in its dtype, normalised), so the vectors are bit-identical to ``StaticModel.encode`` (the tests check
it); a text the model would truncate (over ``max_length`` tokens, or cut at ``max_length * median_token_length``
characters first) is tokenised whole, as the model tokenises it.
"""

from __future__ import annotations

import json
import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import numpy as np

from engine.embed.base import tokenizer_threads
from engine.text.templates import Segments, ranges

#: the tokenizer parts under which a text's tokens are its segments' tokens concatenated (module doc): the BERT
#: pre-tokenizer isolates every punctuation character and splits at whitespace; its normaliser maps characters
#: one at a time (cleaning, lower case, spaces around CJK ideographs)
ADDITIVE_PRE_TOKENIZERS = {"BertPreTokenizer"}
ADDITIVE_NORMALIZERS = {None, "BertNormalizer", "Lowercase"}
#: distinct segments tokenised per call (bounds the tokenizer's Encoding objects alive at once)
TOKENIZE_CHUNK = 65_536
#: token vectors gathered at once when pooling (x dim x 2 bytes: 64 MB at 256 float16 dimensions). A batch of the
#: longest texts is 4096 rows of 512 tokens: gathered whole that was 1 GB per pooling thread, the embed step's peak
GATHER_TOKENS = 131_072


def additive(model: Any) -> bool:
    """Whether ``model`` (a ``model2vec.StaticModel``) pools plain token vectors (no per-token weights or mapping)
    with a tokenizer whose tokens of a text are those of its segments concatenated."""
    if getattr(model, "weights", None) is not None or getattr(model, "token_mapping", None) is not None:
        return False
    if np.dtype(model.embedding.dtype) not in (np.dtype(np.float16), np.dtype(np.float32)):
        return False  # an integer table is averaged in float64 by numpy: another sum than the float32 one here
    spec = json.loads(model.tokenizer.to_str())
    pre, norm = spec.get("pre_tokenizer") or {}, spec.get("normalizer") or {}
    return pre.get("type") in ADDITIVE_PRE_TOKENIZERS and norm.get("type") in ADDITIVE_NORMALIZERS


class SegmentEncoder:
    """Encodes texts given as rows of a ``Segments`` table, tokenising each distinct segment the first time a row
    needs it (the texts and then their payloads share one encoder, so a segment is tokenised once in all).

    ``encode`` yields ``finish`` of what ``StaticModel.encode`` returns for the same texts (the table's dtype,
    normalised when the model normalises; ``StaticEmbedder`` finishes with its unit float32 rows). A text the model
    truncates is tokenised whole, as the model does it (cut to ``max_length * median_token_length`` characters,
    then to ``max_length`` tokens), all of them in one call."""

    def __init__(self, model: Any, strings: list[str], finish: Callable[[np.ndarray], np.ndarray] | None = None,
                 threads: int | None = None) -> None:  # fmt: skip
        self.model, self.strings = model, strings
        self.finish = finish or (lambda x: x)
        self.threads = threads or min(4, os.cpu_count() or 1)
        self.gather_tokens = GATHER_TOKENS
        n = len(strings)
        self._done = np.zeros(n, dtype=bool)
        self._raw_len = np.zeros(n, dtype=np.int64)  # tokens before the unknown token is dropped (truncation)
        self._flat = np.zeros(0, dtype=np.int64)  # every tokenised segment's ids, the unknown token dropped
        self._tok_start = np.zeros(n, dtype=np.int64)
        self._tok_len = np.zeros(n, dtype=np.int64)
        self.max_tokens: int | None = model.max_length  # None: no truncation
        self.max_chars = model.max_length * model.median_token_length if model.max_length is not None else None

    def _ids(self, strings: list[str], truncate: bool) -> list[np.ndarray]:
        """Token ids of strings, as ``StaticModel.tokenize`` gives them (without the unknown token), and before."""
        tok = self.model.tokenizer
        if truncate and self.max_tokens is not None:
            tok.enable_truncation(self.max_tokens)  # what the model sets for every encode
        else:
            tok.no_truncation()
        try:
            with tokenizer_threads():
                encs = tok.encode_batch_fast(strings, add_special_tokens=False)
        finally:
            if self.max_tokens is not None:
                tok.enable_truncation(self.max_tokens)  # the model's own setting between calls
        return [np.asarray(e.ids, dtype=np.int64) for e in encs]

    def _drop_unknown(self, ids: list[np.ndarray]) -> list[np.ndarray]:
        unk = self.model.unk_token_id
        return ids if unk is None else [x[x != unk] for x in ids]

    def _tokenise(self, pieces: np.ndarray) -> None:
        """Token ids of the given segments not tokenised yet, appended to the flat id array."""
        todo = np.unique(pieces)
        todo = todo[~self._done[todo]]
        if not len(todo):
            return
        parts: list[np.ndarray] = []
        lens = np.zeros(len(todo), dtype=np.int64)
        for lo in range(0, len(todo), TOKENIZE_CHUNK):
            chunk = todo[lo : lo + TOKENIZE_CHUNK]
            raw = self._ids([self.strings[p] for p in chunk.tolist()], truncate=False)
            self._raw_len[chunk] = [len(x) for x in raw]
            ids = self._drop_unknown(raw)
            lens[lo : lo + len(chunk)] = [len(x) for x in ids]
            parts.extend(ids)
        base = len(self._flat)
        self._flat = np.concatenate([self._flat, *parts])
        self._tok_len[todo] = lens
        self._tok_start[todo] = base + np.cumsum(lens) - lens
        self._done[todo] = True

    def encode(self, segs: Segments, rows: np.ndarray, texts: list[str], batch_size: int) -> Iterator[np.ndarray]:
        """Vectors of ``segs`` rows ``rows`` (whose texts are ``texts``), ``batch_size`` at a time, in order; the
        batches are pooled on ``threads`` threads (numpy's gather and mean release the GIL)."""
        rows = np.asarray(rows, dtype=np.int64)
        if not len(rows):
            return
        counts = segs.start[rows + 1] - segs.start[rows]
        pieces = segs.piece[ranges(segs.start[rows], counts)]
        self._tokenise(pieces)
        cut = np.zeros(len(rows), dtype=bool)
        if self.max_tokens is not None:
            raw = np.bincount(np.repeat(np.arange(len(rows)), counts), self._raw_len[pieces], minlength=len(rows))
            chars = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
            cut = (raw >= self.max_tokens) | (chars > self.max_chars)
        whole: dict[int, np.ndarray] = {}  # the truncated texts' own ids, by position
        if cut.any():
            at = np.flatnonzero(cut).tolist()
            ids = self._drop_unknown(self._ids([texts[i][: self.max_chars] for i in at], truncate=True))
            whole = dict(zip(at, ids, strict=True))
        with ThreadPoolExecutor(self.threads) as pool:
            ahead: deque[Future[np.ndarray]] = deque()
            for lo in range(0, len(rows), batch_size):
                part = [whole.get(i) for i in range(lo, min(lo + batch_size, len(rows)))]
                ahead.append(pool.submit(self._batch, segs, rows[lo : lo + batch_size], part))
                if len(ahead) > self.threads:
                    yield ahead.popleft().result()
            while ahead:
                yield ahead.popleft().result()

    def _batch(self, segs: Segments, rows: np.ndarray, whole: list[np.ndarray | None]) -> np.ndarray:
        """One batch pooled: a row's ids are its segments' ids, or its own (``whole``) when the model truncates it."""
        own = np.array([w is not None for w in whole], dtype=bool)
        counts = np.where(own, 0, segs.start[rows + 1] - segs.start[rows])
        pieces = segs.piece[ranges(segs.start[rows], counts)]
        lengths = np.bincount(np.repeat(np.arange(len(rows)), counts), self._tok_len[pieces], minlength=len(rows))
        lengths = lengths.astype(np.int64)
        ids = self._flat[ranges(self._tok_start[pieces], self._tok_len[pieces])]
        if own.any():  # placed after the others' ids
            extra = [w for w in whole if w is not None]
            lengths[own] = [len(w) for w in extra]
            starts = np.empty(len(rows), dtype=np.int64)
            starts[~own] = np.cumsum(lengths[~own]) - lengths[~own]
            starts[own] = len(ids) + np.cumsum(lengths[own]) - lengths[own]
            ids = np.concatenate([ids, *extra])
        else:
            starts = np.cumsum(lengths) - lengths
        emb = self.model.embedding
        out = np.zeros((len(rows), self.model.dim), dtype=emb.dtype)
        for n in np.unique(lengths[lengths > 0]):  # model2vec's buckets: rows of one length averaged together
            bucket = np.flatnonzero(lengths == n)
            step = max(1, self.gather_tokens // int(n))  # each row's mean is its own: any row split gives the same
            for lo in range(0, len(bucket), step):
                at = bucket[lo : lo + step]
                out[at] = emb[ids[starts[at, None] + np.arange(n)]].mean(axis=1)
        if self.model.normalize:
            out32 = out.astype(np.float32)
            out = (out32 / (np.linalg.norm(out32, axis=1, keepdims=True) + 1e-32)).astype(out.dtype)
        return self.finish(out)

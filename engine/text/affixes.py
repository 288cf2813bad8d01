"""Affixes: the opening and closing words of a text, as stable integer keys.

Why: an operation that gives each of its accounts a wrapper of its own ("yo! {q} -- thanks a lot" on one account,
"bonjour : {q}" on the next) leaves no wrapper that two accounts share, so the template miner, which reads structure
across the whole log, sees nothing, and the account linker nothing either. What it does leave is structure inside
each account: the same few opening or closing words around questions that change every time. Detection finds that
by counting, per account, the texts that carry each key (``engine.detect.evidence``); this module only makes the
keys, per text and independent of every other text, so it runs in the text-signal batches.

A word is a run of letters or digits, or one other visible character (``\\w+|[^\\w\\s]``), so "こんにちは、" is
two words and needs no whitespace. Key ``j < k`` is the text's first ``j + 1`` words, key ``k + j`` its last
``j + 1``; a text of ``j + 1`` words or fewer has 0 there (it would be all affix and no question).
"""

from __future__ import annotations

import re

import numpy as np

from engine.text.normalize import hash64

_WORD = re.compile(r"\w+|[^\w\s]")
#: characters read at each end: more than the longest affix of ``k`` words needs in practice
_EDGE = 80


def affix_keys(texts: list[str], k: int) -> np.ndarray:
    """(len(texts), 2k) int64: per text, the stable keys of its first 1..k and last 1..k words (0: too short)."""
    out = np.zeros((len(texts), 2 * k), dtype=np.int64)
    keys: list[str] = []
    where: list[tuple[int, int]] = []
    for i, t in enumerate(texts):
        head = _WORD.findall(t[:_EDGE])
        tail = head if len(t) <= _EDGE else _WORD.findall(t[-_EDGE:])  # a short text is read once
        for j in range(k):
            if len(head) > j + 1:
                keys.append("<" + "\x1f".join(head[: j + 1]))
                where.append((i, j))
            if len(tail) > j + 1:
                keys.append(">" + "\x1f".join(tail[-j - 1 :]))
                where.append((i, k + j))
    if keys:
        rows, cols = np.array(where, dtype=np.int64).T
        out[rows, cols] = hash64(keys)
    return out

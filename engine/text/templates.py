"""Stage 2b: template families mined from the log itself.

A per-prompt mask (``normalize.mask``) hides numbers, quotes and code, but it cannot tell a wrapper sentence
("Show your full chain of thought, then give the final answer.") from the question in its slot: both are words.
The log can. A wrapper sentence is sent by many accounts around many different slot contents; a question's
sentences are not. So we cut every distinct text into segments (lines, then sentences), mask each, and call a
segment *common* when at least ``min_accounts`` accounts sent it inside at least ``min_texts`` distinct texts.

* a prompt's **template** is its sequence of common segments with ``<SLOT>`` for each run of other segments
  ("you are an expert <NUM> tutor. | <SLOT> | show your full chain of thought..."), and its id a stable hash;
* its **payload** is the text with the common segments removed (the whole text where nothing is left): the slot
  contents, which the capability
  taxonomy reads, so that a wrapper about "reasoning" does not make every question look like a reasoning one.

Nothing here knows any wrapper in advance, so a wrapper never seen before is found the same way.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from engine.text.minhash import unique_sorted
from engine.text.normalize import hash64, mask

SLOT = "<SLOT>"
_SENTENCE = re.compile(r"(?<=[.!?:;。？！：])\s+|(?<=[。？！])")
#: segments longer than this are passages, never wrapper text; skipping them keeps the segment table small
MAX_SEGMENT_CHARS = 400
#: a common segment recurring in under 1/QUESTION_RATIO as many texts as the widest wrapper sentence of the same text
#: is a repeated question, kept in the payload (e.g. a grader wrapper in 2,000 texts around an item drawn 3 times)
QUESTION_RATIO = 20
#: (segment, account) candidates expanded per slice when counting a segment's accounts: bounds the temporaries
#: (~5 int64 arrays of this length) whatever the log's largest text-per-account fan-out.
_EXPAND_ROWS = 1 << 22


def segments(text: str) -> list[str]:
    """Lines, then sentences, of a normalised text (empty pieces dropped)."""
    out: list[str] = []
    for line in text.split("\n"):
        line = line.strip()
        if line:
            out.extend(p for p in _SENTENCE.split(line) if p and not p.isspace())
    return out


@dataclass
class Segments:
    """Every text cut into ``segments``, as ids into one list of distinct segment strings: what template mining
    counts, handed on to the embed stage, whose static model tokenises each distinct segment once
    (``engine.embed.pieces``): at 1M prompts the distinct segments hold 25M characters, the distinct texts 208M.

    Text ``i`` is its segments ``strings[piece[start[i]:start[i + 1]]]`` in order, cut only at whitespace or after a
    sentence's punctuation; ``common`` marks the wrapper segments, so a payload is the others (or the whole text when
    there are none; ``TemplateResult.payload``)."""

    strings: list[str]
    piece: np.ndarray  # int64 per occurrence, texts in order
    start: np.ndarray  # int64, one more than the texts
    common: np.ndarray  # bool per occurrence

    def of_payloads(self, rows: np.ndarray) -> Segments:
        """The segments of the payloads of text ``rows``, one row each in that order: their segments that are not
        wrapper text, or all of them when every one is (the text is its own payload)."""
        rows = np.asarray(rows, dtype=np.int64)
        lo, hi = self.start[rows], self.start[rows + 1]
        occ = ranges(lo, hi - lo)
        of_row = np.repeat(np.arange(len(rows)), hi - lo)
        own = ~self.common[occ]
        has_own = np.bincount(of_row[own], minlength=len(rows)) > 0
        keep = own | ~has_own[of_row]
        counts = np.bincount(of_row[keep], minlength=len(rows))
        kept = occ[keep]
        return Segments(self.strings, self.piece[kept], np.concatenate(([0], np.cumsum(counts))), self.common[kept])

    def own_tail(self, row: int, count: int) -> str | None:
        """What text ``row``'s last ``count`` segments ask: those that are not wrapper text, joined by spaces as a
        payload is; None when every one of them is wrapper text (the caller keeps the segments as they are).

        A chat request's newest turn is its text's tail, cut the same way (``segments``), so this is the turn's
        payload: "Task: <question>" under a system prompt is the question."""
        hi = int(self.start[row + 1])
        occ = np.arange(max(int(self.start[row]), hi - count), hi)
        own = occ[~self.common[occ]]
        return " ".join(self.strings[j] for j in self.piece[own].tolist()) if len(own) else None


def ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``concatenate([arange(s, s + n) for s, n in zip(starts, lengths)])``, without the loop."""
    lengths = np.asarray(lengths, dtype=np.int64)
    ends = np.cumsum(lengths)
    total = int(ends[-1]) if len(ends) else 0
    return np.repeat(np.asarray(starts, dtype=np.int64) - (ends - lengths), lengths) + np.arange(total)


@dataclass
class TemplateResult:
    """Per distinct text: template id (0 = no common segment), template string (``<SLOT>`` = what varies), payload
    (the text's own segments: what it asks, without the wrapper); and the segments themselves (``Segments``)."""

    template_id: np.ndarray  # int64 per text
    template: list[str]
    payload: list[str]
    segments: Segments | None = None  # released once the embed stage has used them (``engine.pipeline.run``)


def mine_templates(
    texts: Sequence[str],
    text_rows: np.ndarray,
    account_codes: np.ndarray,
    *,
    min_accounts: int = 2,
    min_texts: int = 3,
) -> TemplateResult:
    """Find common segments across accounts and derive each text's template and payload.

    ``texts`` are the distinct normalised texts; ``text_rows``/``account_codes`` give, per prompt, its text row and
    an integer account code, so a segment's spread is counted in accounts, not in prompts.

    Cost: a wrapper sentence recurs in thousands of texts, so each *distinct* segment is masked and each distinct
    skeleton hashed once (a 1M-prompt log has ~4x fewer distinct segments than segment occurrences); counting is
    sorts over integer codes; and only texts holding a common segment are walked in Python to build their template.
    """
    n = len(texts)
    # segment occurrences as integer ids of distinct segments: the strings are held once each, not per occurrence
    seg_ids: dict[str, int] = {}
    n_segs = np.empty(n, dtype=np.int64)
    occ_list: list[int] = []
    for i, t in enumerate(texts):
        ss = segments(t)
        n_segs[i] = len(ss)
        occ_list.extend([seg_ids.setdefault(x, len(seg_ids)) for x in ss])
    occ = np.array(occ_list, dtype=np.int64)
    del occ_list
    if len(occ) == 0:
        none = Segments([], occ, np.zeros(n + 1, np.int64), np.zeros(0, bool))
        return TemplateResult(np.zeros(n, np.int64), [""] * n, list(texts), none)
    uniq_segs = list(seg_ids)
    del seg_ids
    skel_ids: dict[str, int] = {}
    seg_skel = np.fromiter(
        (skel_ids.setdefault(mask(x) if len(x) <= MAX_SEGMENT_CHARS else "", len(skel_ids)) for x in uniq_segs),
        dtype=np.int64,
        count=len(uniq_segs),
    )
    seg_len = np.fromiter(map(len, uniq_segs), dtype=np.int64, count=len(uniq_segs))
    skels = list(skel_ids)
    # segment code = rank of the skeleton's 64-bit hash, so equal skeletons share a code (the original contract)
    seg_code, skel_code = np.unique(hash64(skels), return_inverse=True)
    skel_code = skel_code.reshape(-1)
    inverse = skel_code[seg_skel[occ]]  # per occurrence
    n_seg = len(seg_code)
    seg_text = np.repeat(np.arange(n, dtype=np.int64), n_segs)

    # distinct texts per segment
    st = unique_sorted(inverse * n + seg_text)
    st_seg, st_text = st // n, st % n
    del st
    texts_per_seg = np.bincount(st_seg, minlength=n_seg)

    # distinct accounts per segment: (text, account) pairs joined to distinct (segment, text) pairs, expanded by the
    # accounts of each text in slices (a viral text's thousands of accounts times its segments stay bounded)
    n_acc = int(account_codes.max()) + 1
    pairs = unique_sorted(text_rows.astype(np.int64) * n_acc + account_codes)
    pair_text, pair_acc = pairs // n_acc, pairs % n_acc
    del pairs
    acc_start = np.searchsorted(pair_text, np.arange(n))
    acc_count = np.bincount(pair_text, minlength=n)
    reps_all = acc_count[st_text]
    ends = np.cumsum(reps_all)
    sa_parts = []
    lo = 0
    while lo < len(st_seg):
        hi = int(np.searchsorted(ends, ends[lo] - reps_all[lo] + _EXPAND_ROWS, side="right"))
        hi = max(hi, lo + 1)
        reps = reps_all[lo:hi]
        seg_rep = np.repeat(st_seg[lo:hi], reps)
        sa_parts.append(unique_sorted(seg_rep * n_acc + pair_acc[ranges(acc_start[st_text[lo:hi]], reps)]))
        lo = hi
    sa = unique_sorted(np.concatenate(sa_parts)) if len(sa_parts) > 1 else sa_parts[0]
    del sa_parts, st_seg, st_text, reps_all, ends
    accounts_per_seg = np.bincount(sa // n_acc, minlength=n_seg)

    common = (accounts_per_seg >= min_accounts) & (texts_per_seg >= min_texts)
    if "" in skel_ids:  # passages (and empty skeletons) are never wrapper text
        common[skel_code[skel_ids[""]]] = False
    is_common = common[inverse]
    # a question asked more than once (a benchmark item several accounts drew) is "common" too, but it recurs in a
    # handful of texts while the wrapper around it recurs in hundreds: within a text, a common segment in fewer than
    # 1/QUESTION_RATIO as many texts as the text's most widespread wrapper sentence is what it asks, not its wrapper
    spread = texts_per_seg[inverse] * is_common
    starts = np.concatenate(([0], np.cumsum(n_segs)[:-1]))
    has_segs = n_segs > 0
    widest = np.zeros(n, dtype=np.int64)
    widest[has_segs] = np.maximum.reduceat(spread, starts[has_segs])
    is_common &= spread * QUESTION_RATIO >= widest[seg_text]

    # texts with wrapper characters: a common segment of non-zero length
    wrap_chars = np.bincount(seg_text, weights=seg_len[occ] * is_common, minlength=n)
    del seg_text

    template_str = [""] * n
    payload = list(texts)
    first_occ = np.concatenate(([0], np.cumsum(n_segs)[:-1])).tolist()
    n_segs_l = n_segs.tolist()
    seg_skel_l = seg_skel.tolist()
    templated = np.flatnonzero(wrap_chars > 0)
    for i in templated.tolist():
        parts: list[str] = []
        rest: list[str] = []
        lo, hi = first_occ[i], first_occ[i] + n_segs_l[i]
        for o, c in zip(occ[lo:hi].tolist(), is_common[lo:hi].tolist(), strict=True):
            if c:
                parts.append(skels[seg_skel_l[o]])
            else:
                rest.append(uniq_segs[o])
                if not parts or parts[-1] != SLOT:
                    parts.append(SLOT)
        template_str[i] = " | ".join(parts)
        # a text made only of common segments (a copied prompt) is its own payload: what it asks is the text
        if rest:
            payload[i] = " ".join(rest)
    tid = np.zeros(n, np.int64)
    if len(templated):
        t_ids: dict[str, int] = {}
        t_of = np.fromiter(
            (t_ids.setdefault(template_str[i], len(t_ids)) for i in templated), np.int64, count=len(templated)
        )
        tid[templated] = hash64(t_ids)[t_of]
    segs = Segments(uniq_segs, occ, np.concatenate(([0], np.cumsum(n_segs))), is_common)
    return TemplateResult(tid, template_str, payload, segs)

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

from engine.normalize import hash64, mask

SLOT = "<SLOT>"
_SENTENCE = re.compile(r"(?<=[.!?:;。？！：])\s+|(?<=[。？！])")
#: segments longer than this are passages, never wrapper text; skipping them keeps the segment table small
MAX_SEGMENT_CHARS = 400


def segments(text: str) -> list[str]:
    """Lines, then sentences, of a normalised text (empty pieces dropped)."""
    out: list[str] = []
    for line in text.split("\n"):
        line = line.strip()
        if line:
            out.extend(p for p in _SENTENCE.split(line) if p and not p.isspace())
    return out


@dataclass
class TemplateResult:
    """Per distinct text: template id (0 = no common segment), template string, payload, wrapper share."""

    template_id: np.ndarray  # int64 per text
    template: list[str]
    payload: list[str]
    wrapper_share: np.ndarray  # float32: share of the text's characters that are common segments
    n_common_segments: int


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
    """
    n = len(texts)
    segs = [segments(t) for t in texts]
    flat_skel = [mask(s) if len(s) <= MAX_SEGMENT_CHARS else "" for ss in segs for s in ss]
    seg_text = np.repeat(np.arange(n, dtype=np.int64), [len(ss) for ss in segs])
    if not flat_skel:
        return TemplateResult(np.zeros(n, np.int64), [""] * n, list(texts), np.zeros(n, np.float32), 0)
    seg_code, inverse = np.unique(hash64(flat_skel), return_inverse=True)
    n_seg = len(seg_code)

    # distinct texts per segment
    st = np.unique(inverse.astype(np.int64) * n + seg_text)
    texts_per_seg = np.bincount(st // n, minlength=n_seg)

    # distinct accounts per segment: (text, account) pairs joined to (segment, text) occurrences
    pairs = np.unique(text_rows.astype(np.int64) * (int(account_codes.max()) + 1) + account_codes)
    n_acc = int(account_codes.max()) + 1
    pair_text, pair_acc = pairs // n_acc, pairs % n_acc
    order = np.argsort(seg_text, kind="stable")
    occ_seg, occ_text = inverse[order], seg_text[order]
    # for each (segment occurrence), every account of its text: expand by accounts-per-text counts
    acc_start = np.searchsorted(pair_text, np.arange(n))
    acc_count = np.bincount(pair_text, minlength=n)
    reps = acc_count[occ_text]
    seg_rep = np.repeat(occ_seg, reps)
    base = np.repeat(acc_start[occ_text], reps)
    within = np.arange(len(seg_rep)) - np.repeat(np.cumsum(reps) - reps, reps)
    acc_rep = pair_acc[base + within]
    sa = np.unique(seg_rep.astype(np.int64) * n_acc + acc_rep)
    accounts_per_seg = np.bincount(sa // n_acc, minlength=n_seg)

    common = (accounts_per_seg >= min_accounts) & (texts_per_seg >= min_texts)
    blank = np.array([s == "" for s in flat_skel])
    common[np.unique(inverse[blank])] = False
    is_common = common[inverse]

    template_str: list[str] = []
    payload: list[str] = []
    share = np.zeros(n, np.float32)
    pos = 0
    for i, ss in enumerate(segs):
        parts: list[str] = []
        rest: list[str] = []
        wrap_chars = 0
        for j, s in enumerate(ss):
            if is_common[pos + j]:
                parts.append(flat_skel[pos + j])
                wrap_chars += len(s)
            else:
                rest.append(s)
                if not parts or parts[-1] != SLOT:
                    parts.append(SLOT)
        pos += len(ss)
        total = sum(len(s) for s in ss) or 1
        share[i] = wrap_chars / total
        if wrap_chars:
            template_str.append(" | ".join(parts))
            # a text made only of common segments (a copied prompt) is its own payload: what it asks is the text
            payload.append(" ".join(rest) if rest else texts[i])
        else:
            template_str.append("")
            payload.append(texts[i])
    tid = np.zeros(n, np.int64)
    has = np.array([bool(t) for t in template_str])
    if has.any():
        tid[has] = hash64([t for t in template_str if t])
    return TemplateResult(tid, template_str, payload, share, int(common.sum()))

"""Linking accounts into cohorts: what one operator leaves behind in many accounts at once.

Two kinds of trace link accounts: the same wrapper sentences around varying questions (template segments mined
from the log, weighted by how rare they are across accounts, so a stock "You are a helpful assistant." links less
than a bespoke instruction), and a payment card used by several accounts. Cohorts are HDBSCAN clusters of that
account graph, the same density clustering the prompts get: unlike connected components, one account that shares
a little with two groups does not fuse them.

A second pass (``merge_bursts``) joins flagged cohorts that are one operation split by how it was linked.
"""

from __future__ import annotations

import re

import numpy as np
import scipy.sparse as sp

from engine.detect.settings import DetectSettings
from engine.detect.signals import AccountSignals, Context
from engine.detect.taxonomy import UNSPACED_SCRIPTS
from engine.text.templates import SLOT
from engine.vectors.cluster import BRIDGE_DISTANCE, bridge_components, hdbscan_precomputed

#: a character of a script written without spaces between words: there a word is about two characters
_UNSPACED = re.compile(f"[{UNSPACED_SCRIPTS}]")


def word_count(segment: str) -> int:
    """Words in a wrapper segment, slots left out. A space-separated token counts one, or, written in a script without
    spaces, one per two of its characters: counted by spaces alone, a Chinese or Japanese instruction of a dozen
    characters would be one word, and no wrapper in those languages could ever link two accounts."""
    n = 0
    for tok in segment.split():
        if tok.startswith("<"):
            continue
        cjk = len(_UNSPACED.findall(tok))
        n += max(1, (cjk + 1) // 2) if cjk else 1
    return n


def segment_matrix(template: list[str]) -> sp.csr_matrix:
    """(distinct texts x template segments) binary matrix; segments of under two words (``word_count``) or only slots
    are dropped."""
    seg_id: dict[str, int] = {}
    kept: dict[str, bool] = {}  # whether a segment counts, decided once per distinct segment
    rows, cols = [], []
    for i, tmpl in enumerate(template):
        if not tmpl:
            continue
        for s in dict.fromkeys(tmpl.split(" | ")):  # ordered: segment ids must not depend on hash seeds
            ok = kept.get(s)
            if ok is None:
                ok = kept[s] = s != SLOT and word_count(s) >= 2
            if not ok:
                continue
            rows.append(i)
            cols.append(seg_id.setdefault(s, len(seg_id)))
    data = np.ones(len(rows), dtype=np.float32)
    return sp.csr_matrix((data, (rows, cols)), shape=(len(template), max(len(seg_id), 1)))


def account_segment_weights(
    ctx: Context, n_prompts: np.ndarray, t: sp.csr_matrix, tools: np.ndarray | None = None
) -> sp.csr_matrix:
    """Rows: accounts; columns: wrapper segments, then the tool-schema sets of ``tools`` (a code per prompt, -1 for
    none); L2-normalised tf-idf of them in the account's prompts.

    Each prompt carries a total weight of one, split over its segments and its tool set, so a long text pasted by
    two people (thirty shared sentences) counts as one shared prompt, not thirty, and cannot outweigh a wrapper used
    all night. A tool set is one more wrapper of an agent's request: an operation that gives every account its own
    system prompt but one bespoke set of tools still shares that set, and a public product's tool set sent by
    hundreds of unrelated accounts weighs as little as a stock system prompt (its idf), the crowd then judged
    against random crowds like any other.
    """
    n_acc = len(n_prompts)
    per_text = np.asarray(t.sum(axis=1)).ravel()
    on = np.zeros(len(ctx.text_row), bool) if tools is None else tools >= 0
    share = 1 / np.maximum(per_text[ctx.text_row] + on, 1.0)
    p = sp.csr_matrix((share, (ctx.account_codes, ctx.text_row)), shape=(n_acc, t.shape[0]))
    a = p @ t
    if on.any():
        assert tools is not None
        by_tool = sp.csr_matrix((share[on], (ctx.account_codes[on], tools[on])), shape=(n_acc, int(tools.max()) + 1))
        a = sp.hstack([a, by_tool])
    a = a.tocsr()
    acc_per_seg = np.asarray((a > 0).sum(axis=0)).ravel()
    idf = np.log((n_acc + 1) / (acc_per_seg + 1))
    a = sp.diags(1 / np.maximum(n_prompts, 1)) @ a @ sp.diags(idf)
    norms = np.sqrt(np.asarray(a.multiply(a).sum(axis=1)).ravel())
    return (sp.diags(1 / np.maximum(norms, 1e-12)) @ a).tocsr()


def wrapper_edges(w: sp.csr_matrix, s: DetectSettings, block: int = 2000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each account's nearest accounts by wrapper cosine (>= link_cosine, at most account_knn): rows, cols, distance.

    Computed in blocks of accounts so the account x account similarity is never held whole.
    """
    rows, cols, dist = [], [], []
    for start in range(0, w.shape[0], block):
        sims = (w[start : start + block] @ w.T).tocsr()
        for i in range(sims.shape[0]):
            lo, hi = sims.indptr[i], sims.indptr[i + 1]
            if hi == lo:
                continue
            vals, idx = sims.data[lo:hi], sims.indices[lo:hi]
            keep = (vals >= s.link_cosine) & (idx != start + i)
            vals, idx = vals[keep], idx[keep]
            if len(vals) > s.account_knn:
                top = np.lexsort((idx, -vals))[
                    : s.account_knn
                ]  # ties broken by account index: the same graph every run
                vals, idx = vals[top], idx[top]
            rows.append(np.full(len(idx), start + i))
            cols.append(idx)
            dist.append(1.0 - vals)
    if not rows:
        return np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0)
    return np.concatenate(rows), np.concatenate(cols), np.concatenate(dist)


def payment_edges(payment: np.ndarray, s: DetectSettings) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A chain of edges through the accounts sharing each payment card (enough to connect them), at payment_distance."""
    pay = payment.astype(str)
    idx = np.flatnonzero(pay != "")
    order = idx[np.argsort(pay[idx], kind="stable")]
    same = pay[order[1:]] == pay[order[:-1]]
    return order[1:][same], order[:-1][same], np.full(int(same.sum()), s.payment_distance)


def link_accounts(
    ctx: Context, acc: AccountSignals, t: sp.csr_matrix, s: DetectSettings, *, wrappers: bool = True,
    cards: bool = True,
) -> tuple[np.ndarray, sp.csr_matrix]:  # fmt: skip
    """Cohort label per account (-1: none) and the accounts' wrapper profiles: HDBSCAN over the account graph
    (``wrappers`` / ``cards`` False leave that kind of link out, for the ablation table)."""
    n_acc = len(acc.n_prompts)
    # linked by wrapper segments and tool sets; the cohort's wrapper profile (returned) is its segments alone
    linking = account_segment_weights(ctx, acc.n_prompts, t, ctx.tool_set if wrappers else None)
    w = linking[:, : t.shape[1]].tocsr()
    empty = (np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0))
    parts = [wrapper_edges(linking, s) if wrappers else empty, payment_edges(acc.payment, s) if cards else empty]
    r, c, d = (np.concatenate([p[i] for p in parts]) for i in range(3))
    linked = np.unique(np.concatenate([r, c]))
    if len(linked) < s.min_cohort:
        return np.full(n_acc, -1, np.int64), w
    remap = np.full(n_acc, -1, np.int64)
    remap[linked] = np.arange(len(linked))
    g = sp.csr_matrix((np.clip(d, 0, 2) + 1e-6, (remap[r], remap[c])), shape=(len(linked), len(linked)))
    g = bridge_components(g.maximum(g.T).tocsr())
    cohort, _ = hdbscan_precomputed(
        g,
        min_cluster_size=s.min_account_cluster,
        min_samples=2,
        cluster_selection_epsilon=s.cohort_epsilon,
        max_dist=BRIDGE_DISTANCE,
    )
    labels = np.full(n_acc, -1, np.int64)
    labels[linked] = cohort
    return labels, w


def merge_bursts(labels: np.ndarray, flagged: list[dict], s: DetectSettings) -> np.ndarray | None:
    """Join flagged cohorts that are one operation split by how it was linked (e.g. one cohort per payment card).

    ``flagged`` rows carry ``members``, ``burst`` (start, days, share of the cohort in it), ``hist`` (capability
    areas) and ``templates``. Two are joined when both were created in one short burst, the bursts start within
    merge_burst_days of each other, their capability-area profiles agree and their wrappers do not disagree (both
    without templates, or sharing some). Unflagged cohorts are never joined, so this cannot pull ordinary users
    into a campaign. Returns new labels, or None when nothing is joined.
    """
    rows = [r for r in flagged if r["burst"][2] >= s.merge_burst_share and r["burst"][1] <= s.merge_burst_window]
    parent = list(range(len(rows)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    joined = False
    for i in range(len(rows)):
        for j in range(i + 1, len(rows)):
            a, b = rows[i], rows[j]
            if abs(a["burst"][0] - b["burst"][0]) > s.merge_burst_days * 86400:
                continue
            ha, hb = a["hist"], b["hist"]
            cos = float(ha @ hb / max(np.linalg.norm(ha) * np.linalg.norm(hb), 1e-12))
            ta, tb = set(a["templates"]), set(b["templates"])
            same_wrappers = (not ta and not tb) or (
                ta and tb and len(ta & tb) / len(ta | tb) >= s.merge_template_overlap
            )
            if cos >= s.merge_area_cosine and same_wrappers:
                parent[find(i)] = find(j)
                joined = True
    if not joined:
        return None
    out = labels.copy()
    for i, r in enumerate(rows):
        out[r["members"]] = labels[rows[find(i)]["members"][0]]
    return out

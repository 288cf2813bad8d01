"""Account profiles: what each account asks and how it asks it, against the log's bulk, clustered.

Wrapper sentences and payment cards link the accounts of a careless operation; a careful one (aged accounts, one
card each, a wrapper per account or none, the question set split so no two accounts send the same question) leaves
no shared trace. What it cannot hide is that its accounts *behave alike and unlike everyone else*: the same mix
of capability probes, the same volume, the same round-the-clock or scheduled clock, the same model and client
choices. That is coordinated behaviour in the SynchroTrap sense, and it is measured here:

* **what** an account asks: mean probe probability (``engine.detect.content_model``), share of each capability
  area, non-English share, share of each extraction marker (reasoning, grading, refusal);
* **how** it asks: requests per day (log), how flat its 24-hour shape is, minute-of-hour regularity, spread of
  the gaps between its requests, its mix of models and of clients (user agents), and the account's age where an
  account table gives it (fragments of one operation were made alike: all fresh, or all bought old).

Each column is centred on the median account and divided by its spread among accounts (robust z-scores), so a
profile says how far an account is from the log's own bulk in each respect; each block of columns (probe, areas,
language, markers, rate and clock, models, clients, age) weighs the same whatever its number of columns. Accounts with too few requests to measure a clock are left out.

``profile_cohorts`` clusters the profiles with the same HDBSCAN the prompts get (over a FAISS kNN graph), and
``join`` folds those clusters into the wrapper/card cohorts: unlinked accounts and small fragments (a card group, a
wrapper variant, bare-question accounts) whose profiles fall in one tight cluster become one cohort. After scoring,
``merge_alike`` joins cohorts whose mean profiles lie close to a flagged one: the fragments of one operation.
"""

from __future__ import annotations

from dataclasses import dataclass

import faiss
import numpy as np
import pyarrow as pa
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from engine.detect.settings import DetectSettings
from engine.detect.signals import AREAS, AccountSignals, Context, TextSignals, value_codes
from engine.ingest.records import epoch_seconds
from engine.vectors.cluster import BRIDGE_DISTANCE, bridge_components, hdbscan_precomputed

#: the commonest models and clients of the log get a column each; rarer ones share an "other" column
TOP_VALUES = 8
#: a profile column counts at most this many spreads from the median: one wrapper's marker (an account always
#: asking for reasoning) must not outweigh everything else the account does
CLIP_Z = 3.0


@dataclass
class Profiles:
    """Robust z-scored profile per eligible account, and which accounts those rows are."""

    vectors: np.ndarray  # (eligible accounts x columns), float32
    accounts: np.ndarray  # account codes of the rows, ascending
    columns: list[str]

    def rows_of(self, accounts: np.ndarray) -> np.ndarray:
        """Row of each account in ``vectors``; -1 for an account too quiet to profile."""
        pos = np.minimum(np.searchsorted(self.accounts, accounts), max(len(self.accounts) - 1, 0))
        found = len(self.accounts) > 0 and self.accounts[pos] == accounts
        return np.where(found, pos, -1)


def _shares(codes: np.ndarray, col: pa.ChunkedArray, n_acc: int, n: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Per account, the share of its requests with each of the log's TOP_VALUES commonest values (+ other)."""
    inv, uniq = value_codes(col)
    counts = np.bincount(inv, minlength=len(uniq))
    top = np.argsort(-counts, kind="stable")[:TOP_VALUES]
    col_of = np.full(len(uniq), len(top), dtype=np.int64)
    col_of[top] = np.arange(len(top))
    m = np.zeros((n_acc, len(top) + 1))
    np.add.at(m, (codes, col_of[inv]), 1.0)
    names = [str(uniq[i]) for i in top] + ["other"]
    return m / np.maximum(n, 1)[:, None], names


def account_profiles(ctx: Context, ts: TextSignals, acc: AccountSignals, s: DetectSettings) -> Profiles:
    """Profiles of the accounts with at least ``min_prompts_for_clock`` requests (see module doc)."""
    codes = ctx.account_codes
    n_acc = len(acc.n_prompts)
    n = acc.n_prompts
    rows = ctx.text_row

    def share(x: np.ndarray) -> np.ndarray:
        return np.bincount(codes, weights=x.astype(np.float64), minlength=n_acc) / np.maximum(n, 1)

    area = ts.area[rows]
    t = epoch_seconds(ctx.window["timestamp"]).astype(np.float64)
    order = np.lexsort((t, codes))
    gaps = np.diff(t[order])
    same = codes[order][1:] == codes[order][:-1]
    lg, gc = np.log10(np.maximum(gaps[same], 1.0)), codes[order][1:][same]
    cnt = np.maximum(np.bincount(gc, minlength=n_acc), 1)
    mean = np.bincount(gc, lg, minlength=n_acc) / cnt
    gap_sd = np.sqrt(np.maximum(np.bincount(gc, lg**2, minlength=n_acc) / cnt - mean**2, 0))
    models, model_names = _shares(codes, ctx.window["model"], n_acc, n)
    clients, client_names = _shares(codes, ctx.window["user_agent"], n_acc, n)
    age = np.log10(np.clip(np.nan_to_num(acc.age_days, nan=365.0), 1, None))
    # (name, columns): each block weighs the same in a distance whatever its number of columns, so ten client
    # columns do not outvote the one probe column
    blocks: list[tuple[list[str], list[np.ndarray]]] = [
        (["probe"], [share(ts.probe[rows])]),
        (list(AREAS), [share(area == a) for a in range(len(AREAS))]),
        (["foreign"], [share(ts.foreign[rows])]),
        (list(ts.markers), [share(m[rows]) for m in ts.markers.values()]),
        (
            ["log_per_day", "flat_clock", "minute_regularity", "log_gap", "gap_spread"],
            [np.log10(np.maximum(acc.per_day, 1e-3)), 1 - acc.max_hour_gap / 24, acc.minute_r, mean, gap_sd],
        ),
        ([f"model:{m}" for m in model_names], list(models.T)),
        ([f"client:{c}" for c in client_names], list(clients.T)),
        (["log_age_days"], [age]),
    ]
    eligible = np.flatnonzero(n >= s.min_prompts_for_clock)
    # the bulk: every account with a few requests, not only the busy ones profiled (those are where campaigns are)
    bulk = n >= s.baseline_min_prompts
    parts, names = [], []
    for cols_names, cols in blocks:
        if not cols:
            continue
        x = np.stack(cols, axis=1)
        parts.append(_robust_z(x[eligible], x[bulk], s.profile_min_spread) / np.sqrt(x.shape[1]))
        names += cols_names
    vec = np.concatenate(parts, axis=1) if len(eligible) else np.zeros((0, len(names)))
    return Profiles(np.ascontiguousarray(vec, dtype=np.float32), eligible, names)


def _robust_z(x: np.ndarray, bulk: np.ndarray, min_spread: float) -> np.ndarray:
    """(x - median) / spread per column, both of ``bulk``; spread = IQR / 1.349 floored at ``min_spread``;
    clipped to +-CLIP_Z.

    The floor keeps a column that almost every account shares (everyone on one client) from turning a tiny
    difference into a huge z; the clip keeps one extreme column from deciding a distance alone.
    """
    if not len(x) or not len(bulk):
        return x
    q1, med, q3 = np.percentile(bulk, [25, 50, 75], axis=0)
    spread = np.maximum((q3 - q1) / 1.349, min_spread)
    return np.clip((x - med) / spread, -CLIP_Z, CLIP_Z)


def profile_cohorts(p: Profiles, n_acc: int, s: DetectSettings) -> np.ndarray:
    """HDBSCAN label per account over its profile's kNN graph (-1: noise or not profiled)."""
    labels = np.full(n_acc, -1, np.int64)
    m = len(p.accounts)
    if m < max(s.profile_min_cluster, 3):
        return labels
    k = min(s.profile_knn + 1, m)
    index = faiss.IndexFlatL2(p.vectors.shape[1])
    index.add(p.vectors)
    d2, ids = index.search(p.vectors, k)
    rows = np.repeat(np.arange(m), k)
    cols = ids.ravel()
    keep = (cols >= 0) & (cols != rows)
    # distances in robust-z units, scaled into the graph's range (BRIDGE_DISTANCE joins separate components)
    dist = np.sqrt(np.maximum(d2.ravel()[keep], 0)) / s.profile_scale + 1e-6
    g = sp.csr_matrix((np.minimum(dist, BRIDGE_DISTANCE / 2), (rows[keep], cols[keep])), shape=(m, m))
    g = bridge_components(g.maximum(g.T).tocsr())
    lab, _ = hdbscan_precomputed(
        g, min_cluster_size=s.profile_min_cluster, min_samples=s.profile_min_samples, max_dist=BRIDGE_DISTANCE
    )
    labels[p.accounts] = lab
    return labels


def join(linked: np.ndarray, profiled: np.ndarray, s: DetectSettings) -> np.ndarray:
    """Fold profile clusters into the linked cohorts (see module doc); returns new cohort labels.

    Inside each profile cluster, accounts that are unlinked or in a linked cohort smaller than
    ``profile_absorb_size`` are the *loose* ones; they become one cohort (a small linked cohort moves whole).
    Whether that cohort belongs to a larger campaign is decided after scoring, by ``merge_alike``: a loose group
    joins a flagged cohort only when its mean profile is close to that cohort's, not merely because some of the
    campaign's accounts fell in the same profile cluster as ordinary ones.
    """
    out = linked.copy()
    if (profiled < 0).all():
        return out
    size = np.bincount(linked[linked >= 0]) if (linked >= 0).any() else np.zeros(0, np.int64)
    big = np.zeros(len(linked), dtype=bool)
    has = linked >= 0
    big[has] = size[linked[has]] >= s.profile_absorb_size
    next_label = int(linked.max(initial=-1)) + 1
    for lab in np.unique(profiled[profiled >= 0]):
        members = np.flatnonzero(profiled == lab)
        loose = members[~big[members]]
        if len(loose) < 2:
            continue
        small = np.unique(linked[loose][linked[loose] >= 0])
        out[np.isin(linked, small) & (linked >= 0)] = next_label
        out[loose] = next_label
        next_label += 1
    return out


def merge_alike(labels: np.ndarray, rows: list[dict], p: Profiles, s: DetectSettings) -> np.ndarray | None:
    """Join cohorts whose members' mean profiles are within ``profile_merge_distance`` of a flagged one: fragments
    of one operation (a wrapper variant, a card group, a few bare-question accounts) that ask alike and behave
    alike. Flagged cohorts join each other (single linkage); an unflagged one joins only a flagged one, never
    another unflagged one, and only a fragment: smaller than ``profile_absorb_size`` and scoring at least
    flag_score but for the small-cohort discount (``unsized``), so ordinary accounts are not gathered in. Two
    flagged cohorts of which one was created in a sign-up burst and the other not, or in bursts days apart, are
    never joined. ``rows`` carry ``members``, ``flagged``, ``unsized`` and ``burst``
    (start, days, share, evidence). Returns new labels, or None when none join."""
    cents, kept = [], []
    for r in rows:
        at = p.rows_of(r["members"])
        if (at >= 0).sum() >= 2:
            cents.append(p.vectors[at[at >= 0]].mean(axis=0))
            kept.append(r)
    flagged = np.array([r["flagged"] for r in kept], dtype=bool)
    if len(kept) < 2 or not flagged.any():
        return None
    c = np.stack(cents)
    d = np.sqrt(np.maximum(((c[:, None, :] - c[None, flagged, :]) ** 2).sum(-1), 0))  # every cohort x flagged
    fi = np.flatnonzero(flagged)
    # provenance may veto: accounts made in a sign-up burst and accounts that were not, or in two bursts days
    # apart, are two operations however alike they behave
    burst = np.array([r["burst"][3] >= s.burst_veto for r in kept], dtype=bool)
    start = np.array([r["burst"][0] for r in kept], dtype=float)
    same_origin = (burst[:, None] == burst[None, fi]) & (
        ~burst[:, None] | (np.abs(start[:, None] - start[None, fi]) <= s.merge_burst_days * 86400)
    )
    near = (d < s.profile_merge_distance) & same_origin
    src: list[int] = []
    dst: list[int] = []
    for i, r in enumerate(kept):
        if flagged[i]:
            to = fi[near[i]]
        elif (
            (d[i] < s.profile_merge_distance).any()
            and len(r["members"]) < s.profile_absorb_size
            and (r["unsized"] >= s.flag_score)
        ):
            # an unflagged cohort attaches to its nearest flagged one only, so it cannot bridge two campaigns; and
            # only a fragment: small (a large unflagged cohort is something of its own), and scoring as a campaign
            # but for its size (ordinary accounts, or an old org's eval harness, that behave alike stay out); a
            # fragment's own "burst" (a few accounts) is too small to veto anything
            to = fi[[int(np.argmin(np.where(d[i] < s.profile_merge_distance, d[i], np.inf)))]]
        else:
            continue
        src += [i] * len(to)
        dst += to.tolist()
    graph = sp.csr_matrix((np.ones(len(src)), (src, dst)), shape=(len(kept), len(kept)))
    n_comp, comp = connected_components(graph.tocsr(), directed=False)
    if n_comp == len(kept):
        return None
    out = labels.copy()
    for i, r in enumerate(kept):
        out[r["members"]] = labels[kept[int(np.flatnonzero(comp == comp[i])[0])]["members"][0]]
    return out


def typicality(members: np.ndarray, p: Profiles) -> np.ndarray:
    """How typical each member's profile is of its cohort, in [0, 1]: 1 within 1.5 times the median member's
    distance from the cohort's mean profile, falling to 0 at 2.5 times it; NaN (nothing known) for accounts too
    quiet to profile, and for all when fewer than three members are profiled. On public2 every campaign's members
    lie within 1.62 times their median (most within 1.3); an old org's eval harness placed in an aged campaign's
    cohort at 1M lay at 2.33."""
    at = p.rows_of(members)
    out = np.full(len(members), np.nan)
    if (at >= 0).sum() < 3:
        return out
    x = p.vectors[at[at >= 0]]
    d = np.sqrt(((x - x.mean(axis=0)) ** 2).sum(axis=1))
    med = max(float(np.median(d)), 1e-6)
    out[at >= 0] = np.clip(2.5 - d / med, 0, 1)
    return out

"""Account profiles: what each account asks and how it asks it, against the log's bulk, clustered.

Wrapper sentences and payment cards link the accounts of a careless operation; a careful one (aged accounts, one
card each, a wrapper per account or none, the question set split so no two accounts send the same question) leaves
no shared trace. What it cannot hide is that its accounts *behave alike and unlike everyone else*: the same mix
of capability probes, the same volume, the same round-the-clock or scheduled clock, the same model and client
choices. That is coordinated behaviour in the SynchroTrap sense, and it is measured here:

* **what** an account asks: mean probe probability (``engine.detect.content_model``), share of each capability
  area, non-English share, share of each extraction marker (reasoning, grading, refusal);
* **how** it asks: requests per day of the window (log), how flat its 24-hour shape is, minute-of-hour regularity,
  spread of the gaps between its requests, its mix of models and of clients (user agents), and the account's age
  where an account table gives it (fragments of one operation were made alike: all fresh, or all bought old).

Each column is centred on the median account and divided by its spread among accounts (robust z-scores), so a
profile says how far an account is from the log's own bulk in each respect; each block of columns (probe, areas,
language, markers, rate and clock, models, clients, age, adoption of a new model) weighs the same whatever its number of
columns. Quiet accounts are profiled with their uncertainty: rates shrunk toward the log's (``account_profiles``).

``profile_cohorts`` clusters the profiles with the same HDBSCAN the prompts get (over a FAISS kNN graph), and
``join`` folds those clusters into the wrapper/card cohorts: unlinked accounts and small fragments (a card group, a
wrapper variant, bare-question accounts) whose profiles fall in one tight cluster become one cohort. After scoring,
``merge_alike`` joins cohorts whose mean profiles lie close to a flagged one: the fragments of one operation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import faiss
import numpy as np
import pyarrow as pa
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from engine.detect import finite
from engine.detect.settings import DEFAULTS, DetectSettings
from engine.detect.signals import AREAS, AccountSignals, Context, TextSignals, value_codes
from engine.ingest.records import epoch_seconds
from engine.vectors.cluster import BRIDGE_DISTANCE, bridge_components, hdbscan_precomputed

RATE_CLOCK = ("log_per_day", "flat_clock", "minute_regularity", "log_gap", "gap_spread")
#: the adoption block's two columns (share moved to a new model, delay after its release): one block, one weight
ADOPTION = ("adoption", "adoption_delay")
#: grid points of the binned kernel densities (over each column's range): a numerical resolution, not a threshold
#: (the densities are smooth at the bandwidths ``fingerprint_min_sd`` allows)
KDE_GRID = 512
#: rounds of the EM that estimates a flagged campaign's share of the log (``membership_odds``): a cap on
#: iterations, not a threshold; it settles in a few
EM_ROUNDS = 30


@dataclass
class Profiles:
    """Robust z-scored profile per eligible account, and which accounts those rows are."""

    vectors: np.ndarray  # (eligible accounts x columns), float32
    accounts: np.ndarray  # account codes of the rows, ascending
    columns: list[str]
    #: the settings the profiles were built with: fingerprints read from them are bounded by the same values
    settings: DetectSettings = DEFAULTS
    #: (rows x the log's prompt clusters) how many of each account's requests fall in each cluster, and per row its
    #: requests in all (those in no cluster included): where in prompt space it asks (``region_llr``). None: not
    #: measured (the regions family left out, or profiles built by hand)
    visits: sp.csr_matrix | None = None
    requests: np.ndarray | None = None

    @cached_property
    def cluster_requests(self) -> np.ndarray:
        """Per prompt cluster: the profiled accounts' requests there (``visits``' column sums), read by every
        campaign's ``region_llr``."""
        assert self.visits is not None
        return np.asarray(self.visits.sum(axis=0)).ravel()

    def block_ids(self) -> np.ndarray:
        """Per column: which block it belongs to (its name's prefix before ':' -- ``model:``, ``client:``, ``marker:``
        -- or the name itself for the blocks of named columns: areas, the rate-and-clock columns, adoption). The
        blocks are those ``account_profiles`` weighs alike, so a fingerprint counts each as one piece of evidence."""
        groups = {a: "areas" for a in AREAS} | dict.fromkeys(RATE_CLOCK, "clock") | dict.fromkeys(ADOPTION, "adoption")
        keys = [groups.get(c, c.split(":", 1)[0]) for c in self.columns]
        _, ids = np.unique(keys, return_inverse=True)
        return ids

    def rows_of(self, accounts: np.ndarray) -> np.ndarray:
        """Row of each account in ``vectors``; -1 for an account too quiet to profile."""
        pos = np.minimum(np.searchsorted(self.accounts, accounts), max(len(self.accounts) - 1, 0))
        found = len(self.accounts) > 0 and self.accounts[pos] == accounts
        return np.where(found, pos, -1)


def _shares(
    codes: np.ndarray, col: pa.ChunkedArray, n_acc: int, n: np.ndarray, pseudo: float, top_values: int
) -> tuple[np.ndarray, list[str]]:
    """Per account, the share of its requests with each of the log's ``top_values`` commonest values (+ other), shrunk
    toward the log's own shares by ``pseudo`` requests: a quiet account's one request is not a 100% preference."""
    inv, uniq = value_codes(col)
    counts = np.bincount(inv, minlength=len(uniq))
    top = np.argsort(-counts, kind="stable")[:top_values]
    col_of = np.full(len(uniq), len(top), dtype=np.int64)
    col_of[top] = np.arange(len(top))
    m = np.zeros((n_acc, len(top) + 1))
    np.add.at(m, (codes, col_of[inv]), 1.0)
    prior = m.sum(axis=0) / max(m.sum(), 1.0)
    names = [str(uniq[i]) for i in top] + ["other"]
    return (m + pseudo * prior) / (np.asarray(n, dtype=np.float64) + pseudo)[:, None], names


def account_profiles(
    ctx: Context,
    ts: TextSignals,
    acc: AccountSignals,
    s: DetectSettings,
    pop=None,  # noqa: ANN001
    *,
    regions: bool = True,
) -> Profiles:
    """Profiles of the accounts with at least ``profile_min_prompts`` requests (see module doc), and, unless
    ``regions`` is off, which prompt clusters each sends to (``Profiles.visits``).

    Quiet accounts are profiled too: every rate is shrunk toward the log's by the account's own uncertainty
    (``engine.detect.null.RateNull.shrunk``, or ``profile_pseudo`` requests for shares of areas, models and
    clients), so eight requests place an account roughly and eighty precisely, and hundreds of quiet accounts of one
    operation still fall together. A clock shape needs ``min_prompts_for_clock`` requests: below that the account
    sits at the log's median clock (it says nothing either way)."""
    from engine.detect.evidence import Population

    if pop is None:
        pop = Population.measure(ctx, ts, acc, s)
    codes = ctx.account_codes
    n_acc = len(acc.n_prompts)
    n = acc.n_prompts
    rows = ctx.text_row
    k = s.profile_pseudo

    area = ts.area[rows]
    area_counts = np.stack([np.bincount(codes, (area == a).astype(np.float64), n_acc) for a in range(len(AREAS))], 1)
    area_prior = area_counts.sum(axis=0) / max(float(len(area)), 1.0)
    area_share = (area_counts + k * area_prior) / (n + k)[:, None]
    t = epoch_seconds(ctx.window["timestamp"]).astype(np.float64)
    # the rate column is requests per day of the *window*, not per active day (the volume evidence's): how much of
    # the night's traffic an account sends, beside the gap columns for how bursty it is. Per active day here formed
    # a 10-account cohort of ordinary round-the-clock users in the evasion map's "days 1" row (public4, drip-swarm,
    # scale 0.3: 5 ordinary accounts flagged) and changed nothing on public3 and public4; set by looking at those
    span_days = max(1.0, float(t.max() - t.min()) / 86400.0) if len(t) else 1.0
    order = np.lexsort((t, codes))
    gaps = np.diff(t[order])
    same = codes[order][1:] == codes[order][:-1]
    lg, gc = np.log10(np.maximum(gaps[same], 1.0)), codes[order][1:][same]
    cnt = np.maximum(np.bincount(gc, minlength=n_acc), 1)
    mean = np.bincount(gc, lg, minlength=n_acc) / cnt
    gap_sd = np.sqrt(np.maximum(np.bincount(gc, lg**2, minlength=n_acc) / cnt - mean**2, 0))
    models, model_names = _shares(codes, ctx.window["model"], n_acc, n, k, s.profile_top_values)
    clients, client_names = _shares(codes, ctx.window["user_agent"], n_acc, n, k, s.profile_top_values)
    age = np.log10(np.clip(np.nan_to_num(acc.age_days, nan=365.0), 1, None))
    clocked = n >= s.min_prompts_for_clock
    flat = np.where(clocked, 1 - acc.max_hour_gap / 24, np.nan)
    minute = np.where(clocked, acc.minute_r, np.nan)
    rate = {name: r.shrunk() for name, r in pop.rates.items()}
    marker_names = [m for m in ts.markers if m in rate]
    # (name, columns): each block weighs the same in a distance whatever its number of columns, so ten client
    # columns do not outvote the one probe column
    blocks: list[tuple[list[str], list[np.ndarray]]] = [
        (["probe"], [rate["probe"]]),
        (list(AREAS), list(area_share.T)),
        (["foreign"], [rate["foreign"]]),
        # prefixed: "reasoning" is an extraction marker and a capability area, two columns of two blocks
        ([f"marker:{m}" for m in marker_names], [rate[m] for m in marker_names]),
        (
            list(RATE_CLOCK),
            [np.log10(np.maximum(n / span_days, 1e-3)), flat, minute, mean, gap_sd],
        ),
        ([f"model:{m}" for m in model_names], list(models.T)),
        ([f"client:{c}" for c in client_names], list(clients.T)),
        (["log_age_days"], [age]),
    ]
    if "adoption" in rate and pop.new_model is not None:
        # how much the account moved to a model released in the window, and how soon after the release it first
        # used it (hours, log): an operation switches at one moment, ordinary accounts over days
        model, model_vals = value_codes(ctx.window["model"])
        j = model_vals.index(pop.new_model.name) if pop.new_model.name in model_vals else -1
        after = (model == j) & (t >= pop.new_model.release)
        first = np.full(n_acc, np.inf)
        np.minimum.at(first, codes[after], t[after])
        delay = np.where(np.isfinite(first), np.log10(1 + (first - pop.new_model.release) / 3600.0), np.nan)
        blocks.append((list(ADOPTION), [rate["adoption"], delay]))
    eligible = np.flatnonzero(n >= s.profile_min_prompts)
    # the bulk: every account with a few requests, not only the busy ones (those are where campaigns are)
    bulk = n >= s.baseline_min_prompts
    parts, names = [], []
    for cols_names, cols in blocks:
        if not cols:
            continue
        x = np.stack(cols, axis=1)
        med = _known_median(x[bulk])
        x = np.where(np.isnan(x), med, x)  # unknown (a clock of a quiet account): the median, no pull either way
        parts.append(_robust_z(x[eligible], x[bulk], s.profile_min_spread, s.profile_clip_z) / np.sqrt(x.shape[1]))
        names += cols_names
    vec = np.concatenate(parts, axis=1) if len(eligible) else np.zeros((0, len(names)))
    finite.check_columns(vec, names, "account profile", "the log's profiled accounts")
    visits = _visits(ctx, eligible) if regions else None
    return Profiles(np.ascontiguousarray(vec, dtype=np.float32), eligible, names, s, visits, n[eligible])


def _visits(ctx: Context, accounts: np.ndarray) -> sp.csr_matrix:
    """Per account of ``accounts`` (ascending codes): its requests in each of the log's prompt clusters."""
    cl = np.asarray(ctx.text_cluster, np.int64)[ctx.text_row]
    pos = np.searchsorted(accounts, ctx.account_codes)
    on = (cl >= 0) & (pos < len(accounts))
    on[on] = accounts[pos[on]] == ctx.account_codes[on]
    shape = (len(accounts), int(cl.max()) + 1 if len(cl) else 0)
    return sp.csr_matrix((np.ones(int(on.sum())), (pos[on], cl[on])), shape=shape)


def _known_median(x: np.ndarray) -> np.ndarray:
    """Per column: the median of its known (not NaN) values; 0 for a column with none. A column no account of the
    bulk has a value in (no account busy enough to show a clock, nobody used the new model) has nothing to compare
    with, so every account is put at one value there and the column says nothing either way."""
    out = np.zeros(x.shape[1])
    for j in range(x.shape[1]):
        v = x[:, j][~np.isnan(x[:, j])]
        if len(v):
            out[j] = np.median(v)
    return out


def _robust_z(x: np.ndarray, bulk: np.ndarray, min_spread: float, clip: float) -> np.ndarray:
    """(x - median) / spread per column, both of ``bulk``; spread = IQR / 1.349 floored at ``min_spread``;
    clipped to +-``clip`` (``DetectSettings.profile_clip_z``).

    The floor keeps a column that almost every account shares (everyone on one client) from turning a tiny
    difference into a huge z; the clip keeps one extreme column from deciding a distance alone.
    """
    if not len(x) or not len(bulk):
        # no bulk to measure against (every account too quiet): no account is far from anything
        return np.zeros_like(x)
    q1, med, q3 = np.percentile(bulk, [25, 50, 75], axis=0)
    spread = np.maximum((q3 - q1) / 1.349, min_spread)
    return np.clip((x - med) / spread, -clip, clip)


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
    # distances in robust-z units, scaled into the graph's range (BRIDGE_DISTANCE joins separate components)
    dist = np.minimum(np.sqrt(np.maximum(d2, 0)) / s.profile_scale + 1e-6, BRIDGE_DISTANCE / 2)
    labels[p.accounts] = _knn_clusters(ids, dist, s)
    return labels


def _knn_clusters(ids: np.ndarray, dist: np.ndarray, s: DetectSettings) -> np.ndarray:
    """HDBSCAN label per row over a kNN graph: ``ids`` (rows x k, -1: none) and ``dist`` (the same shape, already
    in the graph's 0..BRIDGE_DISTANCE/2 range), made symmetric and its components bridged. The one account
    clustering of profiles and regions, with the profiles' minimum group size and density."""
    m, k = ids.shape
    rows = np.repeat(np.arange(m), k)
    cols = ids.ravel()
    keep = (cols >= 0) & (cols != rows)
    g = sp.csr_matrix((dist.ravel()[keep], (rows[keep], cols[keep])), shape=(m, m))
    g = bridge_components(g.maximum(g.T).tocsr())
    lab, _ = hdbscan_precomputed(
        g, min_cluster_size=s.profile_min_cluster, min_samples=s.profile_min_samples, max_dist=BRIDGE_DISTANCE
    )
    return lab


def region_cohorts(p: Profiles, n_acc: int, s: DetectSettings) -> np.ndarray:
    """HDBSCAN label per account over *where* it asks (-1: noise, not profiled, or no request in any cluster).

    The CopyCatch view of the night: accounts x prompt clusters. A crowd that splits one benchmark between its
    accounts sends no two of them the same question and may share no wrapper, card or network, but its questions
    fall in the same clusters (word problems of one kind, one language's drills), which ordinary accounts seldom
    visit together. Each account's row is its share of requests in each cluster weighted by the cluster's rarity
    among the profiled accounts (tf-idf: a cluster everyone visits links no one), projected to ``region_dims``
    dimensions (a seeded random projection: the log's clusters number in the thousands at a million requests) and
    compared by cosine over a kNN graph, clustered by the same HDBSCAN as the profiles. Ordinary accounts asking
    alike things by chance visit overlapping but different clusters; a split benchmark's accounts visit the same
    ones in the same proportions."""
    labels = np.full(n_acc, -1, np.int64)
    if p.visits is None or p.requests is None:
        return labels
    v = p.visits.tocsr().astype(np.float64)
    rows = np.flatnonzero(np.diff(v.indptr) > 0)
    if len(rows) < max(s.profile_min_cluster, 3) or v.shape[1] < 2:
        return labels
    v = v[rows]
    df = np.bincount(v.indices, minlength=v.shape[1])
    idf = np.log((len(rows) + 1.0) / (df + 1.0))
    x = sp.csr_matrix(sp.diags(1.0 / np.maximum(p.requests[rows], 1.0)) @ v @ sp.diags(idf))
    # a seeded Gaussian projection keeps every pair's cosine (within ~1/sqrt(dims)) whatever the direction: a
    # truncated SVD keeps the log's large groups and folds a small crowd's rare clusters into them
    proj = np.random.default_rng(0).standard_normal((v.shape[1], s.region_dims)).astype(np.float32)
    z = np.ascontiguousarray(x @ proj, dtype=np.float32)
    faiss.normalize_L2(z)
    k = min(s.profile_knn + 1, len(rows))
    index = faiss.IndexFlatIP(z.shape[1])
    index.add(z)
    sim, ids = index.search(z, k)
    # 1 - cosine: 0 for the same mix of clusters, 1 for none shared, inside the graph's 0..2 range
    labels[p.accounts[rows]] = _knn_clusters(ids, np.clip(1.0 - sim, 1e-6, BRIDGE_DISTANCE / 2), s)
    return labels


def join(linked: np.ndarray, profiled: np.ndarray, s: DetectSettings) -> np.ndarray:
    """Fold profile clusters into the linked cohorts (see module doc); returns new cohort labels.

    Inside each profile cluster, accounts that are unlinked or in a linked cohort smaller than
    ``profile_absorb_size`` are the *loose* ones; they become one cohort (a small linked cohort moves whole). In a
    cluster holding more than ``profile_bulk_share`` of the profiled accounts only the unlinked ones do.
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
    n_profiled = int((profiled >= 0).sum())
    for lab in np.unique(profiled[profiled >= 0]):
        members = np.flatnonzero(profiled == lab)
        if len(members) > s.profile_bulk_share * n_profiled:
            # the log's bulk, not a group: its unlinked accounts still gather, but a small linked cohort (a wrapper
            # variant of a few accounts) keeps its identity, to be merged with its campaign or left alone
            members = members[linked[members] < 0]
        loose = members[~big[members]]
        if len(loose) < 2:
            continue
        small = np.unique(linked[loose][linked[loose] >= 0])
        out[np.isin(linked, small) & (linked >= 0)] = next_label
        out[loose] = next_label
        next_label += 1
    return out


def split_lifecycles(labels: np.ndarray, linked: np.ndarray, traits: list[np.ndarray], s: DetectSettings) -> np.ndarray:
    """Each cohort's unlinked accounts that share a lifecycle fewer than half of its accounts have (``traits``: per
    account 1 = has it, 0 = known not to, NaN = unknown; made just before use and gone, woke after months) split off
    as a cohort of their own when there are at least ``profile_min_cluster`` of them; returns new labels. A
    campaign's own cohort is mostly of its lifecycle (burner-daily's three quarters: the statistic misses accounts
    made more than a day before use) and stays whole.

    A lifecycle is a trace of one operator (``campaigns._tied``), but a profile reads what an account asks and how,
    not its history: with two fifths of its requests ordinary, a rotation of one-day accounts asks like the log's
    new users trying the API for a day, and its accounts fell in one profile cluster with 230 ordinary accounts and
    a launch-day crowd, as one cohort whose ordinary majority hid them (public4.json's burner-daily alone at
    --scale 0.3, cover 40%, seed 41: 12 of 90 flagged). Split off, the one-day accounts are scored on their own;
    the new users among them keep them ordinary, or rank below them by their typicality."""
    out = labels.copy()
    fresh = int(labels.max(initial=-1)) + 1
    for trait in traits:
        has = (trait == 1) & (linked < 0) & (out >= 0)
        size = np.bincount(out[out >= 0], minlength=fresh)
        for lab in np.unique(out[has]):
            move = np.flatnonzero(has & (out == lab))
            if len(move) >= s.profile_min_cluster and 2 * len(move) < size[lab]:
                out[move] = fresh
                fresh += 1
    return out


def merge_alike(labels: np.ndarray, rows: list[dict], p: Profiles, s: DetectSettings) -> np.ndarray | None:
    """Join cohorts whose members' mean profiles are within ``profile_merge_distance`` of a flagged one: fragments
    of one operation (a wrapper variant, a card group, a few bare-question accounts) that ask alike and behave
    alike; a wrapper variant may differ in the marker columns alone (see ``variant_distance``). Flagged cohorts join
    each other (single linkage); an unflagged one joins only a flagged one, never another unflagged one, and only a
    fragment: smaller than ``profile_absorb_size`` and scoring at least
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
    sq = (c[:, None, :] - c[None, flagged, :]) ** 2  # every cohort x flagged, per column
    d = np.sqrt(np.maximum(sq.sum(-1), 0))
    # a fragment split off by its wrapper variant differs from the rest in what that wrapper says (a request for
    # reasoning in one language the markers know and not in another), so it is also compared without the marker
    # columns, which are the wrapper's: an unflagged fragment at profile_merge_distance, two flagged campaigns only
    # at the tighter variant_distance, since two operations may differ in little else than what they ask for
    unmarked = np.array([not name.startswith("marker:") for name in p.columns], dtype=bool)
    d_frag = np.sqrt(np.maximum(sq[..., unmarked].sum(-1), 0))
    fi = np.flatnonzero(flagged)
    # provenance may veto: accounts made in a sign-up burst and accounts that were not, or in two bursts days
    # apart, are two operations however alike they behave. Bursts are compared as windows (the densest window's
    # start and length): an operation that registered its accounts over weeks and wakes a batch a day forms one
    # burst cohort per batch, each window weeks long and overlapping the others (the evasion map's burner-daily,
    # accounts made 60-120 days before: five flagged fragments, windows of 30-60 days starting within 23 days)
    burst = np.array([r["burst"][3] >= s.burst_veto for r in kept], dtype=bool)
    start = np.array([r["burst"][0] for r in kept], dtype=float)
    end = start + np.array([r["burst"][1] for r in kept], dtype=float) * 86400
    tol = s.merge_burst_days * 86400
    overlap = (start[:, None] <= end[None, fi] + tol) & (start[None, fi] <= end[:, None] + tol)
    same_origin = (burst[:, None] == burst[None, fi]) & (~burst[:, None] | overlap)
    near = ((d < s.profile_merge_distance) | (d_frag < s.variant_distance)) & same_origin
    src: list[int] = []
    dst: list[int] = []
    for i, r in enumerate(kept):
        if flagged[i]:
            to = fi[near[i]]
        elif (d_frag[i] < s.profile_merge_distance).any() and (
            (len(r["members"]) < s.profile_absorb_size and r["unsized"] >= s.flag_score)
            or r["unsized"] >= s.fragment_score
        ):
            # an unflagged cohort attaches to its nearest flagged one only, so it cannot bridge two campaigns; and
            # only a fragment: small (a large unflagged cohort is something of its own), and scoring as a campaign
            # but for its size (ordinary accounts, or an old org's eval harness, that behave alike stay out); a
            # fragment's own "burst" (a few accounts) is too small to veto anything. A larger one joins only when it
            # nearly scores as a campaign itself (fragment_score): a swarm's wrapper variants each fall just short
            to = fi[[int(np.argmin(np.where(d_frag[i] < s.profile_merge_distance, d_frag[i], np.inf)))]]
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


def _log_density(x: np.ndarray, sample: np.ndarray, h: np.ndarray, loo: bool = False) -> np.ndarray:
    """Per row of ``x`` and column: log of a Gaussian kernel density of ``sample``'s column (bandwidth ``h``),
    binned: the sample's histogram on a fine grid convolved with the kernel, read at ``x`` by interpolation, so it
    costs O(rows + sample + grid) per column whatever the sizes (a million-prompt night scores tens of thousands of
    accounts against each campaign). ``loo``: the rows of ``x`` are ``sample`` itself, and each row's own kernel is
    taken out (leave-one-out), so that an outlier is not made typical of a cohort by its own presence in it."""
    out = np.empty(x.shape)
    for j in range(x.shape[1]):
        lo = min(float(x[:, j].min()), float(sample[:, j].min())) - 4 * h[j]
        hi = max(float(x[:, j].max()), float(sample[:, j].max())) + 4 * h[j]
        step = (hi - lo) / (KDE_GRID - 1)
        counts = np.bincount(np.clip(np.rint((sample[:, j] - lo) / step).astype(np.int64), 0, KDE_GRID - 1),
                             minlength=KDE_GRID).astype(np.float64)  # fmt: skip
        half = int(np.ceil(4 * h[j] / step))
        kernel = np.exp(-0.5 * (np.arange(-half, half + 1) * step / h[j]) ** 2)
        dens = np.convolve(counts, kernel / (kernel.sum() * step), mode="same")[:KDE_GRID] / max(len(sample), 1)
        grid = lo + step * np.arange(KDE_GRID)
        at = np.interp(x[:, j], grid, dens)
        if loo and len(sample) > 1:
            n = len(sample)
            at = (n * at - 1.0 / (kernel.sum() * step)) / (n - 1)  # the kernel's peak: a row's own share
        out[:, j] = np.log(np.maximum(at, 1e-12))
    return out


def fingerprint_llr(
    x: np.ndarray,
    members: np.ndarray,
    bulk: np.ndarray,
    blocks: np.ndarray,
    s: DetectSettings = DEFAULTS,
    own: bool = False,
) -> np.ndarray:
    """Per row of ``x``: log-likelihood ratio (nats) of its profile under a campaign's members against the log's
    profiled accounts, column by column, each block of columns averaged so that a block of ten correlated client
    columns counts as one. Each side's column is a kernel density of its accounts (so an operation whose accounts
    come in two kinds, with and without a reasoning suffix, fits both), bandwidth by Silverman's rule floored at
    ``fingerprint_min_sd``; the log's side is a fixed sample of at most ``fingerprint_bulk`` accounts. A column the
    campaign spreads over as widely as the log does says nothing (both terms cancel); one it holds tight, away from
    the log's bulk, says much. ``own``: ``x`` is ``members`` (each is scored against the others, leave-one-out)."""
    if len(bulk) > s.fingerprint_bulk:
        bulk = bulk[np.linspace(0, len(bulk) - 1, s.fingerprint_bulk).astype(np.int64)]

    def bandwidth(a: np.ndarray) -> np.ndarray:
        return np.maximum(1.06 * a.std(axis=0) * max(len(a), 1) ** -0.2, s.fingerprint_min_sd)

    per_col = _log_density(x, members, bandwidth(members), loo=own) - _log_density(x, bulk, bandwidth(bulk))
    per_col = np.clip(per_col, -s.fingerprint_clip, s.fingerprint_clip)
    out = np.zeros(len(x))
    for b in np.unique(blocks):
        out += per_col[:, blocks == b].mean(axis=1)
    return out


def region_llr(p: Profiles, members: np.ndarray, cand: np.ndarray, own: bool = False) -> np.ndarray:
    """Per candidate (rows of ``p``): log-likelihood ratio (nats) of *where* it asks, under a campaign's members
    against the rest of the log -- coordination that leaves no shared text. A crowd that splits a benchmark between
    its accounts sends no two accounts the same question, but its questions fall in the same regions of prompt space
    (a cluster of competition maths, of translation drills), which ordinary accounts seldom visit; an ordinary
    account's coding and writing questions fall where the log's bulk asks. Each cluster's ratio is the members'
    share of requests there against the other accounts' (Jeffreys-smoothed, so a cluster seen once decides little;
    clipped at ``fingerprint_clip`` like a profile column), and a candidate's is the mean over its requests, shrunk
    toward zero by ``profile_pseudo`` requests: one block of evidence beside the profile's, whatever its volume --
    the sum would let a busy account's hundred ordinary requests outvote everything else it does. ``own``:
    ``cand`` is ``members``, each measured against the others (leave-one-out), so that an ordinary account that
    rode into a campaign's cohort is not made typical of it by its own requests. Zeros when ``p`` has no visits."""
    if p.visits is None or p.requests is None or not p.visits.shape[1]:
        return np.zeros(len(cand))
    mine = np.asarray(p.visits[members].sum(axis=0)).ravel()
    rest = p.cluster_requests - mine
    half = 0.5 * p.visits.shape[1]
    lrest = np.log((rest + 0.5) / (rest.sum() + half))
    clip = p.settings.fingerprint_clip
    v = p.visits[cand].tocoo()
    if own:
        # each member's own requests taken out of the members' counts before its ratio is read
        out_of = mine.sum() - np.bincount(v.row, weights=v.data, minlength=len(cand))
        mine_c = np.maximum(mine[v.col] - v.data, 0.0)
        ratio = np.log((mine_c + 0.5) / (np.maximum(out_of[v.row], 0.0) + half)) - lrest[v.col]
    else:
        ratio = (np.log((mine + 0.5) / (mine.sum() + half)) - lrest)[v.col]
    total = np.bincount(v.row, weights=v.data * np.clip(ratio, -clip, clip), minlength=len(cand))
    return total / (p.requests[cand] + p.settings.profile_pseudo)


def posterior(log_odds: np.ndarray) -> np.ndarray:
    """The probability that log odds (nats) give, clipped at +-30 so that exp never overflows."""
    return 1.0 / (1.0 + np.exp(-np.clip(log_odds, -30, 30)))


def membership_odds(
    p: Profiles,
    members: np.ndarray,
    cand: np.ndarray,
    *,
    estimate: bool = False,
    x: np.ndarray | None = None,
    blocks: np.ndarray | None = None,
    known: int | None = None,
) -> np.ndarray:
    """Log odds (nats) that each candidate (rows of ``p``) is one of a campaign's accounts (``members``, rows of
    ``p``) rather than one of the log's: its fingerprint's likelihood ratio (``fingerprint_llr``) plus the prior odds
    of membership at all, the campaign's share of the profiled accounts, plus the ratio of where it asks
    (``region_llr``), one more block of evidence.

    Counted from the members alone, that share undercounts exactly the campaigns worth finding: a swarm's quiet
    accounts are the ones nothing linked to it. ``estimate`` instead takes the share as the weight of a two-part
    mixture (the campaign's fingerprint, the log's bulk) and estimates it by EM over the candidates, the fingerprint
    held fixed: each round a candidate counts by its posterior of membership. The share starts at the members' own
    and is capped at ``attach_max_share``; ordinary candidates, whose ratios are below one, pull it back down.
    ``known``: how many profiled accounts the campaign already holds, when the fingerprint is read from fewer of
    them (``match_flagged``: not from those a fingerprint claimed); default all of ``members``."""
    x = p.vectors.astype(np.float64) if x is None else x
    blocks = p.block_ids() if blocks is None else blocks
    m = len(p.accounts)
    llr = fingerprint_llr(x[cand], x[members], x, blocks, p.settings) + region_llr(p, members, cand)
    held = len(members) if known is None else known
    share = held / max(m, 1)
    if estimate and len(cand):
        for _ in range(EM_ROUNDS):
            prior = math.log(share / (1.0 - share))
            post = posterior(llr + prior)
            new = min((held + float(post.sum())) / m, p.settings.attach_max_share)
            if abs(new - share) <= 1e-6 * share:
                break
            share = new
    return llr + math.log(share / max(1.0 - share, 1e-12))


@dataclass
class Match:
    """Profiled accounts outside every flagged cohort, each against the flagged cohort whose fingerprint it fits best."""

    accounts: np.ndarray  # account codes of the candidates
    llr: np.ndarray  # log odds (nats) that it is that cohort's member rather than one of the log's, prior included
    cohort: np.ndarray  # index into ``flagged`` (-1: none)
    flagged: list[dict]  # the flagged cohorts' rows


def match_flagged(
    rows: list[dict], p: Profiles, s: DetectSettings, free: np.ndarray | None = None, claimed: np.ndarray | None = None
) -> Match | None:
    """Score every profiled account outside the flagged cohorts against each flagged cohort's fingerprint.

    Each flagged cohort's profiled members give its fingerprint (``fingerprint_llr``); a candidate's log odds of
    membership count the prior odds of being a member at all (``membership_odds``: the campaign's share of the log,
    estimated as a mixture weight), so an ordinary account that is merely unusual in one respect does not fit, and a
    swarm whose linked members are few is not taken to be small. Only ``free`` accounts are candidates (default:
    all). A fingerprint is read from the members something other than a fingerprint tied to the cohort (a
    wrapper, a card, a profile cluster; ``claimed`` is NaN for them): fitted again on the accounts it claimed, it
    widens toward the log's bulk and claims ordinary accounts, which widen it further (the evasion map's "rate
    3/day" row, drip-swarm in public4.json at scale 0.3, seed 42: the second attach claimed 8 ordinary accounts
    and 1 of the swarm's). Those claimed count toward the campaign's share all the same. None when nothing can be
    scored."""
    flagged = [r for r in rows if r["flagged"] and len(r["members"]) >= s.profile_min_cluster]
    m = len(p.accounts)
    if not flagged or m < 2:
        return None
    inside = np.zeros(m, dtype=bool)
    for r in rows:
        if r["flagged"]:
            at = p.rows_of(r["members"])
            inside[at[at >= 0]] = True
    if free is not None:
        inside |= ~np.asarray(free, dtype=bool)[p.accounts]
    cand = np.flatnonzero(~inside)
    if not len(cand):
        return None
    blocks = p.block_ids()
    best_llr = np.full(len(cand), -np.inf)
    best = np.full(len(cand), -1)
    x = p.vectors.astype(np.float64)
    for i, r in enumerate(flagged):
        at = p.rows_of(r["members"])
        core = at[(at >= 0) & (True if claimed is None else np.isnan(claimed[r["members"]]))]
        if len(core) < s.profile_min_cluster:
            continue
        llr = membership_odds(p, core, cand, estimate=True, x=x, blocks=blocks, known=int((at >= 0).sum()))
        better = llr > best_llr
        best_llr[better], best[better] = llr[better], i
    return Match(p.accounts[cand], best_llr, best, flagged)


def attach(
    labels: np.ndarray,
    rows: list[dict],
    p: Profiles,
    s: DetectSettings,
    free: np.ndarray | None = None,
    claimed: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray] | None:
    """Accounts that match a flagged campaign's fingerprint join it: a swarm's quiet accounts that carry no wrapper
    variant of their own (nothing links them) but ask and behave as its members do.

    An account joins the flagged cohort it fits best (``match_flagged``) when it is at least ``attach_odds`` times
    more likely a member than not. Only ``free`` accounts are candidates: the pipeline passes those that no wrapper
    or card links to a cohort of their own -- a team on one card belongs to its team. Members are read from the
    cohorts as they stood: one round, no chain. Set on public3.json: a second round, its fingerprints refitted on the
    grown cohorts, added 36 swarm and 4 ordinary accounts (a fingerprint refitted on attached accounts widens toward
    the log's bulk); one round added 93 swarm, 16 aged-sweep, no ordinary one. Near misses are ranked instead
    (``resemblance``). Returns the new labels and, per account, the posterior with which it was claimed (NaN for
    every account that did not join): nothing but that posterior ties it to the campaign. None when none joins."""
    match = match_flagged(rows, p, s, free, claimed)
    if match is None:
        return None
    join = match.llr >= math.log(s.attach_odds)
    if not join.any():
        return None
    out = labels.copy()
    claimed = np.full(len(labels), np.nan)
    for a, b in zip(match.accounts[join], match.cohort[join], strict=True):
        out[a] = labels[match.flagged[b]["members"][0]]
    claimed[match.accounts[join]] = posterior(match.llr[join])
    return out, claimed


def resemblance(
    rows: list[dict], p: Profiles, s: DetectSettings, n_acc: int, claimed: np.ndarray | None = None
) -> np.ndarray:
    """Per account outside the flagged cohorts: the posterior that it belongs to the flagged cohort it fits best,
    times that cohort's score -- how to rank an account a campaign's fingerprint nearly claimed (a swarm account
    just short of ``attach_odds``) above one that resembles nothing. Used for ranking only, capped below any flag."""
    out = np.zeros(n_acc)
    match = match_flagged(rows, p, s, claimed=claimed)
    if match is None:
        return out
    ok = match.cohort >= 0
    post = posterior(match.llr[ok])
    out[match.accounts[ok]] = post * np.array([match.flagged[b]["score"] for b in match.cohort[ok]])
    return out


def typicality(members: np.ndarray, p: Profiles) -> np.ndarray:
    """How typical each member's profile is of its cohort, in [0, 1]: the posterior that it is one of the cohort's
    rather than one of the log's accounts, from the cohort's fingerprint (``fingerprint_llr``), at even prior odds:
    a member is already tied to the cohort by what formed it (a wrapper, a card, its profile cluster), so its profile
    needs only to be more like the cohort's than like the log's. An outsider must also overcome the prior odds of
    membership (``attach``). NaN (nothing known) for accounts too quiet to profile, and for all when fewer than three members
    are profiled. An eval harness that landed in a campaign's cohort through shared wrapper sentences sits far
    from the members' fingerprint and is not typical of it."""
    at = p.rows_of(members)
    out = np.full(len(members), np.nan)
    ok = at >= 0
    m = len(p.accounts)
    if ok.sum() < 3 or m <= ok.sum():
        return out
    x = p.vectors.astype(np.float64)
    own = x[at[ok]]
    llr = fingerprint_llr(own, own, x, p.block_ids(), p.settings, own=True) + region_llr(p, at[ok], at[ok], own=True)
    out[ok] = posterior(llr)
    return out

"""Stage 5b: HDBSCAN's dense cores grown into communities of the kNN graph, and those grouped into topics.

HDBSCAN over the kNN graph (``engine.vectors.cluster``) finds the dense cores of prompt space cleanly, but on real
requests most texts sit between cores with no density gap around them: CLINC150 (22,500 assistant requests, 150
intents; ``scripts/bench_clusters.py``) left 66% of its texts out, and placing them by a neighbour vote reached ARI
0.48 only, below KMeans told the true k (0.54). The cores are right; the rest of the partition is not a density
question but a graph one: which group holds most of a text's neighbours.

So the cores seed a partition of the same kNN graph (edge weight: how near a neighbour is on the scale of the
text's own neighbourhood, ``similarity_graph``; each edge once, both directions merged) that is improved for the
Constant Potts Model: a group is worth the edge weight inside it minus ``resolution`` for every pair of texts it holds (Traag, Van Dooren & Nesterov 2011; Leiden's CPM). Unlike
modularity, CPM has no resolution limit: what counts as one group does not depend on how large the log is, the
same grain at 20k texts and at 1M. A group holds together while the mean edge weight a member has inside it exceeds
``resolution`` times its size, so on a k-neighbour graph no group outgrows about k / resolution texts: a wrapper
copied 50,000 times becomes a few dozen groups of its own, which the topic level gathers again.

Two moves, as Louvain and Leiden make them, in arrays:

* local moves: every text goes to the neighbouring group with the largest gain (or alone, if every group costs
  more than it brings), half of the texts at random each round so that neighbours do not swap in lockstep;
* merges: two groups join when the edge weight between them exceeds ``resolution`` times the product of their
  sizes; each round joins mutually best pairs only, so no gain is counted on sizes that changed.

Measured with ``scripts/bench_clusters.py`` (static embedder, every text placed):

=========================  ==========================  ==========================
log                        cores + neighbour vote      cores + CPM (this module)
=========================  ==========================  ==========================
CLINC150 (150 intents)     220 clusters, ARI 0.478     197 clusters, ARI 0.628, NMI 0.856
banking77 (one domain)     142 clusters, ARI 0.367     124 clusters, ARI 0.462, NMI 0.760
=========================  ==========================  ==========================

against KMeans told the true k on the same vectors 0.539 / 0.813 and 0.311 / 0.653. Over five seeds of the move
order CLINC150 gives ARI 0.626-0.629 and NMI 0.854-0.856. With the cosine similarity as the edge weight (at
resolution 0.01) it was 0.615 / 0.849 and 0.442 / 0.748, and neither squaring or cubing it, k (10 to 24,
resolution scaled with it), more rounds nor the dissolve size moved NMI off 0.85: the local scale of
``similarity_graph`` did. The same moves from every text alone (no HDBSCAN seed) gave 0.62 and 0.46 (cosine
weights); from HDBSCAN's clusters with the outliers already placed, 0.58 and 0.43: a seed that is wrong at its
edges is harder to undo than no seed. At 504k texts (public3 --scale 7) the graph, moves, merges and topics take
~18 s.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

#: CPM resolution: a group is worth its inner edge weight minus this much per pair of texts. With k = 16 neighbours
#: of mean weight ~0.46 no group outgrows ~1,500 texts. Chosen by looking at scripts/bench_clusters.py: with cosine
#: weights (mean ~0.78) 0.01 was best on CLINC150 (0.015: ARI 0.616, 0.02: 0.58) and on banking77; with the
#: local-scale weights of ``similarity_graph`` 0.004 to 0.006 give the same figures on both sets (CLINC150 NMI
#: 0.850-0.856, banking77 0.756-0.760; 0.003 and 0.007 fall off on one of them), and 0.005 is the middle
RESOLUTION = 0.005
#: added to each text's sigma (``similarity_graph``): a text whose neighbours are all equally near gets weight 1
SIGMA_FLOOR = 1e-6
#: topics: groups of clusters, the same objective at a coarser resolution. Set by looking at CLINC150 against its
#: ten domains (clinc/oos-eval data/domains.json, read with fetch): resolution / 2, 10, 20, 50 gave 149, 73, 51, 32
#: topics over its ~200 clusters, NMI 0.57, 0.60, 0.60, 0.60 and ARI 0.13, 0.23, 0.32, 0.40, the last with one topic
#: of 4,698 texts: /20 is the finest grain at the best NMI (the same choice as with cosine weights)
TOPIC_RESOLUTION = RESOLUTION / 20
#: merge rounds for topics (each joins mutually best pairs of clusters only)
TOPIC_ROUNDS = 64
#: local-move rounds before the first merge, and after each merge level
FIRST_ROUNDS = 20
LATER_ROUNDS = 5
#: merge levels (each: merge rounds, then local moves); CLINC150 settles after 3-4
MAX_LEVELS = 8
MERGE_ROUNDS = 3
#: local moves stop when no more than this share of the texts would still move, and merge levels when a level
#: joined no more than this share of the clusters: the last rounds and levels moved a handful of texts each at a
#: full pass over the graph (180k texts: 0.17 s per round, 0.3 s per level). Set by looking at bench_clusters:
#: 0.001 / 0.005 / 0.01 gave CLINC150 ARI 0.623 / 0.622 / 0.619 and banking77 0.442 / 0.443 / 0.443, and the
#: moves on 180k texts 3.0 / 2.1 / 1.6 s
SETTLED = 0.005
SETTLED_MERGES = 0.01
#: a text moves in a given round with this probability (synchronous moves of every text oscillate: two neighbours
#: each joining the other's group)
MOVE_SHARE = 0.5


def similarity_graph(sims: np.ndarray, ids: np.ndarray) -> sp.csr_matrix:
    """Symmetric text x text graph of a kNN result, each edge weighted by how near the neighbour is on the scale
    of the text's own neighbourhood, as UMAP's fuzzy graph does: w = exp(-(d - rho) / sigma), with d the cosine
    distance, rho the text's nearest-neighbour distance and sigma its neighbours' mean distance beyond rho; an edge
    found from both ends is joined as a fuzzy union, a + b - ab. No self loops; a neighbour at cosine similarity 0
    or below is no edge (the texts of all-zero vectors stay unconnected).

    Why not the similarity itself: prompt space is denser in some regions than others (the neighbours of a banking
    request are all at 0.85, those of a rare question at 0.6), and a CPM resolution constant to both splits the
    loose regions and lumps the dense ones. Measured with ``scripts/bench_clusters.py`` against cosine weights (at
    ``RESOLUTION`` scaled by the mean weight, 0.78 -> 0.46): CLINC150 ARI 0.615 -> 0.62, NMI 0.849 -> 0.855;
    banking77 ARI 0.442 -> 0.46, NMI 0.748 -> 0.76."""
    n, k = ids.shape
    valid = (ids >= 0) & (ids != np.arange(n)[:, None]) & (sims > 0)
    d = np.where(valid, 1.0 - sims.astype(np.float64), np.inf)
    rho = np.where(valid.any(axis=1, keepdims=True), d.min(axis=1, keepdims=True), 0.0)
    excess = np.where(valid, d - rho, 0.0)
    sigma = excess.sum(axis=1, keepdims=True) / np.maximum(valid.sum(axis=1, keepdims=True), 1) + SIGMA_FLOOR
    w = np.where(valid, np.exp(-excess / sigma), 0.0)
    rows = np.repeat(np.arange(n, dtype=np.int64), k)
    keep = valid.ravel()
    a = sp.csr_matrix((w.ravel()[keep], (rows[keep], ids.ravel()[keep].astype(np.int64))), shape=(n, n))
    a.sum_duplicates()
    at = a.T.tocsr()
    return (a + at - a.multiply(at)).tocsr()


def _compact(labels: np.ndarray) -> np.ndarray:
    return np.unique(labels, return_inverse=True)[1].astype(np.int64)


def _edge_rows(graph: sp.csr_matrix) -> np.ndarray:
    """The row of each stored edge of a CSR graph (its ``indices`` give the column)."""
    return np.repeat(np.arange(graph.shape[0], dtype=np.int64), np.diff(graph.indptr))


def local_moves(
    graph: sp.csr_matrix, labels: np.ndarray, resolution: float, rounds: int, rng: np.random.Generator
) -> np.ndarray:
    """Texts move to the neighbouring group that gains most under CPM (see module doc); returns compact labels.

    Gain of text i in group c: its similarity to c's members minus ``resolution`` x c's size without i. Every
    (text, neighbouring group) sum comes from one sort of the edges by (row, neighbour's group). After the first
    round only the texts whose neighbourhood changed are looked at again (the moved texts and their neighbours, as
    Leiden's fast local move queues them): at 504k texts the later rounds look at a few percent of the graph."""
    n = graph.shape[0]
    labels = _compact(labels)
    active = np.arange(n, dtype=np.int64)
    for _ in range(rounds):
        if not len(active):
            break
        k = int(labels.max()) + 1 if n else 0
        size = np.bincount(labels, minlength=k).astype(np.float64)
        sub = graph[active] if len(active) < n else graph
        # per (text, neighbouring group), the summed edge weight: a text x group matrix whose duplicates scipy sums
        # row by row in C++ (each row's groups sorted ascending), 1.3x faster than one sort of every edge's
        # (row, group) key and 0.2 GB lighter at 504k texts
        by_group = _rows_by_group(sub, labels, k)
        sums, c = by_group.data, by_group.indices.astype(np.int64)
        counts = np.diff(by_group.indptr)
        r = np.repeat(np.arange(len(active), dtype=np.int64), counts)
        mine = labels[active]
        own = c == mine[r]
        gain = sums - resolution * (size[c] - own)
        stay = -resolution * (size[mine] - 1)  # in its group with no neighbour there: the pairs it costs
        stay[r[own]] = gain[own]
        # best group per text: the largest gain, ties to the lower group id (the sort keeps ids ascending)
        best_gain = np.full(len(active), -np.inf)
        if len(r):
            best_gain[counts > 0] = np.maximum.reduceat(gain, by_group.indptr[:-1][counts > 0])
        first = np.flatnonzero(gain == best_gain[r])
        if len(first):  # none when no text looked at has a neighbour (texts whose vectors are all zero)
            first = first[np.r_[True, r[first][1:] != r[first][:-1]]]
        best = mine.copy()
        best[r[first]] = c[first]
        go = (best_gain > stay) & (best_gain > 0) & (best != mine)
        alone = (stay < 0) & ~(best_gain > 0)
        if (go | alone).sum() <= SETTLED * n:
            break
        pick = rng.random(len(active)) < MOVE_SHARE
        moved, split = go & pick, alone & pick
        labels[active[moved]] = best[moved]  # labels is this function's own (a fresh _compact array)
        labels[active[split]] = k + np.arange(int(split.sum()))
        labels = _compact(labels)
        touched = np.zeros(n)
        touched[active[moved | split]] = 1.0
        # the texts that changed group, the ones they are neighbours of, and the ones not moved by the coin
        again = (graph @ touched > 0) | (touched > 0)
        again[active[(go | alone) & ~pick]] = True
        active = np.flatnonzero(again)
    return labels


def _rows_by_group(graph: sp.csr_matrix, labels: np.ndarray, k: int) -> sp.csr_matrix:
    """Row x group: each row's edge weight summed per group of its neighbours (``labels`` in ``[0, k)``), the
    groups of a row in ascending order."""
    cols = labels[graph.indices].astype(np.int32 if k < 2**31 else np.int64)
    # copies: summing duplicates rewrites the arrays in place, and graph's own must stay as they are
    out = sp.csr_matrix((graph.data.copy(), cols, graph.indptr.copy()), shape=(graph.shape[0], max(k, 1)))
    out.sum_duplicates()
    return out


def group_graph(graph: sp.csr_matrix, labels: np.ndarray, k: int) -> sp.csr_matrix:
    """Group x group similarity (each text-text edge once per direction, as the graph holds it); edges of a text
    outside every group (label -1) are left out.

    Summed per (row, group) first, then per group of the row: the first sum is row by row (a text's neighbours
    fall in few groups) and leaves the second far fewer entries to gather. At 504k texts (11.7M edges), with the
    local moves' own per-group sums done the same way: the whole refinement (``grow_cores``) 22.4 -> 14.8 s and
    ``topics_of`` 2.9 -> 1.4 s, the same labels, 0.3 GB lower peak."""
    outside = labels < 0
    lab = np.where(outside, k, labels) if outside.any() else labels  # one more group, dropped at the end
    by_group = _rows_by_group(graph, lab, k + 1)
    rows = lab[_edge_rows(by_group)]
    out = sp.csr_matrix((by_group.data, (rows, by_group.indices)), shape=(k + 1, k + 1))
    return out[:k, :k].tocsr()


def merge_groups(
    graph: sp.csr_matrix, labels: np.ndarray, resolution: float, rounds: int, weight: np.ndarray | None = None
) -> np.ndarray:
    """Join groups whose similarity exceeds ``resolution`` x the product of their sizes, mutually best pairs first,
    ``rounds`` times; returns compact labels. ``weight``: how many texts each node of ``graph`` stands for (1 for a
    text; a cluster's size when the graph is one of clusters, ``topics_of``)."""
    labels = _compact(labels)
    k = int(labels.max()) + 1 if len(labels) else 0
    if k < 2:
        return labels
    # every round works on the graph of the groups as they stood, merged further as it goes: the text graph is
    # aggregated once (at 504k texts, 11.7M edges: 0.7 s) and each round costs what the group graph has
    size = np.bincount(labels, weights=weight, minlength=k).astype(np.float64)
    groups = group_graph(graph, labels, k)
    of = np.arange(k)  # group of each original group
    for _ in range(rounds):
        k = len(size)
        if k < 2:
            break
        w = groups.tocoo()
        up = w.row < w.col  # symmetric: each pair once
        a, b = w.row[up].astype(np.int64), w.col[up].astype(np.int64)
        gain = w.data[up] - resolution * size[a] * size[b]
        good = gain > 0
        if not good.any():
            break
        ends, other, g = np.r_[a[good], b[good]], np.r_[b[good], a[good]], np.r_[gain[good], gain[good]]
        order = np.lexsort((other, -g, ends))
        first = order[np.r_[True, ends[order][1:] != ends[order][:-1]]]
        partner = np.full(k, -1, np.int64)
        partner[ends[first]] = other[first]
        me = np.arange(k)
        mutual = np.flatnonzero((partner >= 0) & (partner[np.maximum(partner, 0)] == me) & (me < partner))
        root = me.copy()
        root[partner[mutual]] = mutual
        root = _compact(root)
        of = root[of]
        size = np.bincount(root, weights=size)
        groups = group_graph(groups, root, int(root.max()) + 1)
    return _compact(of[labels])


def grow_cores(cores: np.ndarray, graph: sp.csr_matrix, *, resolution: float = RESOLUTION, seed: int = 0) -> np.ndarray:
    """Partition every text: HDBSCAN's ``cores`` (-1 = left out) as the seed, each left-out text alone, then local
    moves and merge levels until nothing merges (module doc). Deterministic for a given ``seed``."""
    n = len(cores)
    if n == 0:
        return np.zeros(0, np.int64)
    rng = np.random.default_rng(seed)
    start = cores.astype(np.int64).copy()
    out = start < 0
    start[out] = (start.max() + 1 if (~out).any() else 0) + np.arange(int(out.sum()))
    labels = local_moves(graph, start, resolution, FIRST_ROUNDS, rng)
    for _ in range(MAX_LEVELS):
        merged = merge_groups(graph, labels, resolution, MERGE_ROUNDS)
        if merged.max() >= (1 - SETTLED_MERGES) * labels.max():
            labels = merged
            break
        labels = local_moves(graph, merged, resolution, LATER_ROUNDS, rng)
    return labels


def neighbour_share(graph: sp.csr_matrix, labels: np.ndarray) -> np.ndarray:
    """Each text's membership strength: the share of its neighbours' similarity that lies in its own cluster (0 for
    a text with no neighbour, or outside every cluster)."""
    n = graph.shape[0]
    rows = _edge_rows(graph)
    same = (labels[rows] == labels[graph.indices]) & (labels[rows] >= 0)
    inside = np.bincount(rows, weights=graph.data * same, minlength=n)
    total = np.bincount(rows, weights=graph.data, minlength=n)
    return np.where(total > 0, inside / np.maximum(total, 1e-12), 0.0).astype(np.float32)


def topics_of(graph: sp.csr_matrix, labels: np.ndarray, *, resolution: float = TOPIC_RESOLUTION) -> np.ndarray:
    """Topic of each cluster (index = cluster id): clusters merged whole under CPM at a coarser resolution, so every
    cluster lies in exactly one topic (a tree: topic -> clusters -> prompts). Texts outside every cluster (-1) are
    ignored; a cluster no other one is close to is a topic of its own."""
    k = int(labels.max()) + 1 if len(labels) and labels.max() >= 0 else 0
    if k == 0:
        return np.zeros(0, np.int64)
    size = np.bincount(labels[labels >= 0], minlength=k).astype(np.float64)
    return merge_groups(group_graph(graph, labels, k), np.arange(k), resolution, TOPIC_ROUNDS, weight=size)

"""Stage 5: HDBSCAN over the FAISS k-nearest-neighbour graph.

GUIDE §3 measured the alternatives on 100k vectors: HDBSCAN on the symmetrised kNN graph given as a sparse
precomputed distance matrix took 14 s with ARI 0.96, while the common PCA/UMAP-then-HDBSCAN recipe took minutes
and scored 0.72 or collapsed. So we never reduce dimensions: we hand HDBSCAN the graph FAISS already built.

hdbscan refuses a sparse graph with several connected components, and a kNN graph of real prompts has many (an
isolated language, a block of identical texts). We join the components with a chain of edges at a distance larger
than any real one (cosine distance is at most 2), which HDBSCAN's hierarchy then cuts first: the result is the
same as clustering each component alone, in one call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import hdbscan
import numpy as np
import pyarrow as pa
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components, minimum_spanning_tree

from engine.text.minhash import unique_sorted
from engine.vectors.index import VectorIndex
from engine.vectors.knn import SHARD_ROWS, knn_graph
from engine.vectors.refine import grow_cores, neighbour_share, similarity_graph, topics_of

if TYPE_CHECKING:
    from engine.executor import Executor

BRIDGE_DISTANCE = 4.0


@dataclass
class ClusterResult:
    """Per clustered row: its cluster (-1 = in none) and membership strength in [0, 1]; per cluster: its topic."""

    labels: np.ndarray
    probabilities: np.ndarray
    n_clusters: int
    topics: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))

    @property
    def n_topics(self) -> int:
        return int(self.topics.max()) + 1 if len(self.topics) else 0


def knn_distance_matrix(sims: np.ndarray, ids: np.ndarray) -> sp.csr_matrix:
    """Symmetric sparse cosine-distance matrix from a kNN result, components bridged (see module doc)."""
    n, k = ids.shape
    rows = np.repeat(np.arange(n, dtype=np.int64), k)
    cols = ids.ravel()
    keep = (cols >= 0) & (cols != rows)
    # a tiny floor: hdbscan treats an explicit 0 as "no edge", and exact duplicates have distance 0
    dist = np.clip(1.0 - sims.ravel()[keep], 0.0, 2.0) + 1e-6
    m = sp.csr_matrix((dist, (rows[keep], cols[keep])), shape=(n, n))
    return bridge_components(m.maximum(m.T).tocsr())


def bridge_components(m: sp.csr_matrix) -> sp.csr_matrix:
    """Join the connected components of a symmetric distance graph by a chain of BRIDGE_DISTANCE edges."""
    n = m.shape[0]
    n_comp, comp = connected_components(m, directed=False)
    if n_comp > 1:
        _, first = np.unique(comp, return_index=True)
        bridge = sp.csr_matrix((np.full(n_comp - 1, BRIDGE_DISTANCE), (first[:-1], first[1:])), shape=(n, n))
        m = (m + bridge + bridge.T).tocsr()
    return m


def cluster_vectors(
    index: VectorIndex,
    *,
    k: int = 16,
    min_cluster_size: int = 10,
    min_samples: int = 5,
    vectors: np.ndarray | None = None,
    ex: Executor | None = None,
    shard_rows: int = SHARD_ROWS,
) -> ClusterResult:
    """Cluster every vector of ``index``: HDBSCAN on its kNN graph (searched through ``ex``: ``knn_graph``) finds the
    dense cores, ``engine.vectors.refine`` grows them into a partition of every text and groups the clusters into
    topics. Clusters smaller than ``min_cluster_size`` are dissolved and their texts placed by their neighbours
    (``place_outliers``); cluster ids run from the largest cluster down."""
    n = index.size
    if n < max(min_cluster_size, 3):
        return ClusterResult(np.full(n, -1, np.int64), np.zeros(n, np.float32), 0)
    k = min(k, n)
    if vectors is None:
        vectors = index.index.reconstruct_n(0, n)
    sims, ids = knn_graph(vectors, k, ex=ex, index=index, shard_rows=shard_rows)
    dist = knn_distance_matrix(sims, ids)
    cores, density = hdbscan_precomputed(
        dist,
        min_cluster_size=min_cluster_size,
        min_samples=min(min_samples, k - 1),
        max_cluster_size=max(int(MAX_CLUSTER_SHARE * n), MAX_CLUSTER_FLOOR * min_cluster_size),
    )
    del dist
    graph = similarity_graph(sims, ids)
    labels = grow_cores(cores, graph)
    labels = np.where(np.bincount(labels)[labels] >= min_cluster_size, labels, -1)
    labels, _ = place_outliers(by_size(labels), np.zeros(n, np.float32), sims, ids)
    labels = by_size(labels)
    # how surely a text belongs: the share of its neighbours' similarity inside its cluster, times how deep it lies in
    # HDBSCAN's dense cores (1 at a core's heart, PLACED_STRENGTH outside every core), so that "outlier" is a
    # strength (at most CORE_STRENGTH) and not a bin
    density = np.clip(np.nan_to_num(density, nan=1.0), 0.0, 1.0)  # a membership hdbscan left undefined counts as full
    depth = PLACED_STRENGTH + (1 - PLACED_STRENGTH) * np.where(cores >= 0, density, 0.0)
    strength = (neighbour_share(graph, labels) * depth).astype(np.float32)
    return ClusterResult(labels, strength, int(labels.max() + 1), topics_of(graph, labels))


def by_size(labels: np.ndarray) -> np.ndarray:
    """Labels renumbered 0, 1, ... from the largest cluster down (ties: the lower old id first); -1 stays -1."""
    out = np.full(len(labels), -1, np.int64)
    keep = labels >= 0
    if not keep.any():
        return out
    ids, inv, counts = np.unique(labels[keep], return_inverse=True, return_counts=True)
    rank = np.empty(len(ids), np.int64)
    rank[np.lexsort((ids, -counts))] = np.arange(len(ids))
    out[keep] = rank[inv]
    return out


#: no prompt cluster holds more than this share of the window's texts (HDBSCAN's bounded excess-of-mass selection:
#: a larger candidate gives way to its children). Without it a log from one domain, whose density hierarchy has no
#: gap until deep down, is selected as the root's two children: banking77 (13k customer requests, 77 intents) gave 2
#: clusters, ARI 0.00; with it 141 clusters, ARI 0.37, NMI 0.69 (KMeans at the true k: 0.31 / 0.65), and CLINC150
#: is unchanged (218 clusters, ARI 0.48). Any share from 2% to 20% gave these figures on both sets; 10% was chosen
#: by looking at them, as the middle of that range
MAX_CLUSTER_SHARE = 0.1
#: ... but never under this many times min_cluster_size (a small log)
MAX_CLUSTER_FLOOR = 10
#: rounds of ``place_outliers``: each round places the texts one neighbour further from a cluster's core
PLACE_ROUNDS = 30
#: the strength of a text outside HDBSCAN's dense cores is scaled by this (``place_outliers``, ``cluster_vectors``):
#: below every core text whose neighbours mostly share its cluster
PLACED_STRENGTH = 0.5
#: a text is in its cluster's core when its strength is above this: most of its neighbours' similarity lies inside
#: the cluster and it lies in one of HDBSCAN's dense cores. Summaries speak for the core, ``outlier_share`` counts
#: the rest
CORE_STRENGTH = 0.5


def place_outliers(
    labels: np.ndarray, strength: np.ndarray, sims: np.ndarray, ids: np.ndarray, rounds: int = PLACE_ROUNDS
) -> tuple[np.ndarray, np.ndarray]:
    """Every text HDBSCAN left out (-1) joins the cluster its nearest neighbours vote for, with a strength that says
    how surely: so summaries, exports and ``similar`` cover the whole log, and "outlier" is a strength, not a bin.

    On real requests HDBSCAN's density hierarchy leaves most texts out (CLINC150: 66% noise, clustered third at
    purity 0.92; ``scripts/bench_clusters.py``): their neighbours are mostly right (82% of a text's 10 nearest share
    its intent), there is just no density gap around them. Each round, each unplaced text joins the cluster with
    the largest summed similarity among its kNN neighbours already placed (ties: the lower cluster id), so texts
    are placed outward from the cores, nearest first; its strength is that cluster's share of the similarity to
    all its neighbours, times ``PLACED_STRENGTH``. Measured on CLINC150 (static vectors): noise 65.9% -> 0%, ARI
    0.21 -> 0.48, NMI 0.72 -> 0.79 (nearest centroid instead: 0.47 / 0.78). A text with no placed neighbour after
    ``rounds`` (an island of texts no cluster reaches) stays -1. O(texts x k) per round, in arrays."""
    labels, strength = labels.copy(), strength.copy()
    if not (labels >= 0).any():
        return labels, strength
    n, k = ids.shape
    w_all = np.where(ids >= 0, np.maximum(sims, 0.0), 0.0).astype(np.float64)
    own = ids == np.arange(n)[:, None]
    w_all[own] = 0.0
    total = w_all.sum(axis=1)
    for _ in range(rounds):
        todo = np.flatnonzero(labels < 0)
        if not len(todo):
            break
        nb, wt = ids[todo], w_all[todo]
        lab = np.where(nb >= 0, labels[np.maximum(nb, 0)], -1)
        ok = (lab >= 0) & (wt > 0)
        if not ok.any():
            break
        row = np.broadcast_to(np.arange(len(todo))[:, None], lab.shape)[ok]
        cl, w = lab[ok], wt[ok]
        # sum the similarity per (text, cluster), then keep each text's best cluster (largest sum, lowest id)
        order = np.lexsort((cl, row))
        row, cl, w = row[order], cl[order], w[order]
        first = np.r_[True, (row[1:] != row[:-1]) | (cl[1:] != cl[:-1])]
        starts = np.flatnonzero(first)
        sums = np.add.reduceat(w, starts)
        r, c = row[starts], cl[starts]
        best = np.lexsort((c, -sums, r))
        keep = best[np.r_[True, r[best][1:] != r[best][:-1]]]
        at = todo[r[keep]]
        labels[at] = c[keep]
        strength[at] = (PLACED_STRENGTH * sums[keep] / np.maximum(total[at], 1e-12)).astype(strength.dtype)
    return labels, strength


def hdbscan_precomputed(
    dist: sp.csr_matrix,
    *,
    min_cluster_size: int,
    min_samples: int,
    cluster_selection_epsilon: float = 0.0,
    max_dist: float = 0.0,
    max_cluster_size: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Labels and probabilities of ``hdbscan.HDBSCAN(metric="precomputed", ...).fit(dist)`` for a sparse graph.

    The one HDBSCAN path of the project: prompts (kNN graph of their vectors) and accounts (graph of shared
    wrappers and cards) alike. ``max_dist`` > 0 stands in for a mutual reachability that is infinite (a row with
    fewer than ``min_samples`` neighbours), as hdbscan's own ``max_dist`` does; 0 leaves such edges out.
    ``max_cluster_size`` > 0: no selected cluster is larger (hdbscan's bounded selection); 0: unbounded.

    The same result, computed the same way, minus hdbscan's slow step: for a sparse matrix it converts the graph to
    a ``lil_matrix`` and builds the mutual-reachability graph one element at a time through scipy's Python-level
    ``lil`` indexing (measured: ~20 s for 75k texts, ~0.25 ms per edge). Here core distances and mutual
    reachability are array operations (``kth_smallest_per_row``); the single-linkage tree is scikit-learn's
    (``single_linkage``: the same array as hdbscan's, 40x faster); the minimum spanning tree, condensing and
    excess-of-mass selection are hdbscan's own functions on the same inputs. Falls back to the estimator if a
    future hdbscan moves those functions. At 504k texts (public3 --scale 7): 13 s, where the lexsort of every
    entry and hdbscan's ``label`` took 33 s.
    """
    try:
        from hdbscan._hdbscan_linkage import label
        from hdbscan.hdbscan_ import _tree_to_labels
    except ImportError:  # pragma: no cover - other hdbscan layouts: the reference path, just slower
        model = hdbscan.HDBSCAN(
            metric="precomputed",
            min_cluster_size=min_cluster_size,
            min_samples=min_samples,
            cluster_selection_epsilon=cluster_selection_epsilon,
            max_dist=max_dist,
            max_cluster_size=max_cluster_size,
            core_dist_n_jobs=1,
        ).fit(dist)
        return model.labels_, model.probabilities_
    n = dist.shape[0]
    min_samples = max(min(n - 1, min_samples), 1)
    m = sp.csr_matrix(dist, dtype=np.float64, copy=True)
    m.sum_duplicates()  # canonical: sorted column indices, one entry per (row, column), as lil rows are
    if connected_components(m, directed=False, return_labels=False) > 1:
        raise ValueError("Sparse distance matrix has multiple connected components; bridge them first")
    rows = np.repeat(np.arange(n, dtype=np.int32), np.diff(m.indptr))
    core = kth_smallest_per_row(m, min_samples)
    # mutual reachability of every stored edge, in m's own (canonical) layout; temporaries freed as they go, since
    # at 1M prompts each array here is ~10M entries
    mr = core[rows]
    np.maximum(mr, core[m.indices], out=mr)
    np.maximum(mr, m.data, out=mr)
    if max_dist > 0:
        mr[~np.isfinite(mr)] = max_dist
    keep = (m.data != 0) & np.isfinite(mr)  # lil.nonzero() skips explicit zeros; infinite edges are left out
    if keep.all():
        mreach = sp.csr_matrix((mr, m.indices, m.indptr), shape=(n, n))
    else:
        mreach = sp.csr_matrix((mr[keep], (rows[keep], m.indices[keep])), shape=(n, n))
    del m, rows, mr, keep
    if connected_components(mreach, directed=False, return_labels=False) > 1:
        raise ValueError(f"some points have fewer than min_samples={min_samples} neighbours in the graph")
    mst = minimum_spanning_tree(mreach)
    del mreach
    mst_r, mst_c = mst.nonzero()
    weight = np.asarray(mst[mst_r, mst_c], dtype=np.float64).ravel()
    edges = np.vstack((mst_r, mst_c, weight)).T
    edges = np.ascontiguousarray(edges[np.argsort(edges.T[2]), :])  # hdbscan's sort, so ties fall the same way
    labels, probabilities, *_ = _tree_to_labels(
        None, single_linkage(edges, label), min_cluster_size, "eom", False, False, cluster_selection_epsilon, 0.0,
        max_cluster_size, float("inf"),
    )  # fmt: skip
    return labels, probabilities


#: ``kth_smallest_per_row`` lays rows up to this long out in a padded block (longer rows: a sort of their own);
#: a kNN graph at k = 16 symmetrised has a median row of ~19 and a 90th percentile of ~34
PAD_WIDTH = 32
#: rows per padded block: 65,536 x 32 float64 is 16 MB
PAD_ROWS = 1 << 16


def kth_smallest_per_row(m: sp.csr_matrix, k: int) -> np.ndarray:
    """The k-th smallest stored value of each row of a CSR matrix (inf where a row stores fewer than k): HDBSCAN's
    core distance. Rows are laid out in padded blocks and partitioned, rows longer than the pad sorted on their own;
    one ``lexsort`` of every entry by (row, value) gives the same answer 10x slower (504k texts: 4.4 s vs 0.4 s)."""
    n = m.shape[0]
    length = np.diff(m.indptr)
    out = np.full(n, np.inf)
    for lo in range(0, n, PAD_ROWS):
        hi = min(n, lo + PAD_ROWS)
        a, b = m.indptr[lo], m.indptr[hi]
        ln = length[lo:hi]
        width = max(k, min(PAD_WIDTH, int(ln.max())))
        row = np.repeat(np.arange(hi - lo), ln)
        pos = np.arange(b - a) - np.repeat(m.indptr[lo:hi] - a, ln)
        fits = pos < width
        pad = np.full((hi - lo, width), np.inf)
        pad[row[fits], pos[fits]] = m.data[a:b][fits]
        out[lo:hi] = np.partition(pad, k - 1, axis=1)[:, k - 1]
        long = ln > width
        if long.any():  # a hub's row: its entries sorted by (row, value), the k-th of each taken
            sel = long[row]
            r, d = row[sel], m.data[a:b][sel]
            order = np.lexsort((d, r))
            starts = np.r_[0, np.cumsum(ln[long])[:-1]]
            out[lo + np.flatnonzero(long)] = d[order][starts + k - 1]
    out[length < k] = np.inf
    return out


def single_linkage(edges: np.ndarray, fallback: Any) -> np.ndarray:
    """hdbscan's single-linkage tree of MST edges sorted by weight (rows: left, right, distance, size), computed by
    scikit-learn's typed union-find: the same array as hdbscan's ``label`` (array_equal at 504k texts) in 0.4 s
    instead of 15 s, where hdbscan indexes its result row by row in Python objects. scikit-learn is hdbscan's own
    dependency; ``fallback`` (hdbscan's ``label``) serves if its private module moves."""
    try:
        from sklearn.cluster._hdbscan._linkage import MST_edge_dtype, make_single_linkage
    except ImportError:  # pragma: no cover - another scikit-learn layout: the reference path, just slower
        return fallback(edges)
    mst = np.empty(len(edges), MST_edge_dtype)
    mst["current_node"], mst["next_node"], mst["distance"] = edges[:, 0], edges[:, 1], edges[:, 2]
    tree = make_single_linkage(mst)
    return np.column_stack([tree["left_node"], tree["right_node"], tree["value"], tree["cluster_size"]]).astype(
        np.float64
    )


def summarize(
    result: ClusterResult,
    texts: list[str],
    vectors: np.ndarray,
    text_row: np.ndarray,
    account_codes: np.ndarray,
    templates: list[str],
    template_ids: np.ndarray,
    *,
    n_representatives: int = 3,
    terms: int = 8,
    sample: int = 200,
) -> pa.Table:
    """One row per cluster: size in prompts and texts, accounts, most central texts, top terms, dominant template.

    Top terms are class-based TF-IDF (a term frequent in this cluster and rare in the others), computed on at most
    ``sample`` texts per cluster so that a cluster of 100,000 copies of one wrapper costs what a small one does.
    Representatives are the texts nearest the cluster's mean vector: the prompt an analyst should read first. Both
    come from the cluster's core (strength above ``CORE_STRENGTH``); ``outlier_share`` is the share of its
    texts below it (placed outliers and weak members).
    """
    labels = result.labels
    n_clusters = result.n_clusters
    empty = {
        "cluster_id": pa.array([], pa.int64()),
        "topic_id": pa.array([], pa.int64()),
        "prompts": pa.array([], pa.int64()),
        "texts": pa.array([], pa.int64()),
        "accounts": pa.array([], pa.int64()),
        "outlier_share": pa.array([], pa.float32()),
        "top_terms": pa.array([], pa.list_(pa.string())),
        "representatives": pa.array([], pa.list_(pa.string())),
        "dominant_template": pa.array([], pa.string()),
        "dominant_template_share": pa.array([], pa.float32()),
    }
    if n_clusters == 0:
        return pa.table(empty)
    prompt_label = labels[text_row]
    in_c = prompt_label >= 0
    prompts_per = np.bincount(prompt_label[in_c], minlength=n_clusters)
    texts_per = np.bincount(labels[labels >= 0], minlength=n_clusters)
    n_acc = int(account_codes.max()) + 1 if len(account_codes) else 1
    pairs = unique_sorted(prompt_label[in_c] * n_acc + account_codes[in_c])
    accounts_per = np.bincount(pairs // n_acc, minlength=n_clusters)
    weak = np.bincount(labels[(labels >= 0) & (result.probabilities <= CORE_STRENGTH)], minlength=n_clusters)

    order = np.argsort(labels, kind="stable")
    starts = np.searchsorted(labels[order], np.arange(n_clusters))
    ends = np.searchsorted(labels[order], np.arange(n_clusters), side="right")
    rng = np.random.default_rng(0)
    docs, reps, dom, dom_share = [], [], [], []
    for c in range(n_clusters):
        members = order[starts[c] : ends[c]]
        # what the cluster is about is said by its core, not by the texts at its edge
        core = members[result.probabilities[members] > CORE_STRENGTH]
        core = core if len(core) else members
        pick = core if len(core) <= sample else rng.choice(core, sample, replace=False)
        docs.append(" ".join(texts[i][:500] for i in pick))
        v = vectors[pick].astype(np.float32)
        centre = v.mean(axis=0)
        best = pick[np.argsort(-(v @ centre))[:n_representatives]]
        reps.append([texts[i][:300] for i in best])
        tids, tcounts = np.unique(template_ids[members], return_counts=True)
        j = int(np.argmax(np.where(tids != 0, tcounts, -1))) if (tids != 0).any() else -1
        if j >= 0:
            first = members[np.flatnonzero(template_ids[members] == tids[j])[0]]
            dom.append(templates[first])
            dom_share.append(float(tcounts[j] / len(members)))
        else:
            dom.append("")
            dom_share.append(0.0)
    top = class_tfidf_terms(docs, terms)
    return pa.table(
        {
            "cluster_id": pa.array(np.arange(n_clusters, dtype=np.int64)),
            "topic_id": pa.array(
                result.topics.astype(np.int64) if len(result.topics) == n_clusters else np.full(n_clusters, -1)
            ),
            "prompts": pa.array(prompts_per.astype(np.int64)),
            "texts": pa.array(texts_per.astype(np.int64)),
            "accounts": pa.array(accounts_per.astype(np.int64)),
            "outlier_share": pa.array((weak / np.maximum(texts_per, 1)).astype(np.float32)),
            "top_terms": pa.array(top, pa.list_(pa.string())),
            "representatives": pa.array(reps, pa.list_(pa.string())),
            "dominant_template": pa.array(dom, pa.string()),
            "dominant_template_share": pa.array(np.array(dom_share, dtype=np.float32)),
        }
    )


def summarize_topics(
    clusters: pa.Table, result: ClusterResult, texts: list[str], *args: Any, **kwargs: Any
) -> pa.Table:  # fmt: skip
    """One row per topic (``result.topics``: the topic of each cluster), summarised from the topic's texts as
    ``summarize`` does a cluster (same arguments after ``result``), with the ids of its clusters (``clusters``: the
    night's cluster rows), largest first."""
    text_topic = (
        np.where(result.labels >= 0, result.topics[np.maximum(result.labels, 0)], -1)
        if result.n_topics
        else result.labels
    )
    table = summarize(ClusterResult(text_topic, result.probabilities, result.n_topics), texts, *args, **kwargs)
    members: list[list[int]] = [[] for _ in range(result.n_topics)]
    for cid, tid in zip(clusters["cluster_id"].to_pylist(), clusters["topic_id"].to_pylist(), strict=True):
        if tid is not None and 0 <= tid < result.n_topics:
            members[tid].append(cid)  # cluster ids run from the largest cluster down: so does each list
    table = table.drop_columns(["topic_id"]).rename_columns(
        ["topic_id" if c == "cluster_id" else c for c in table.column_names if c != "topic_id"]
    )
    return table.add_column(1, "clusters", pa.array(members, pa.list_(pa.int64())))


def class_tfidf_terms(docs: list[str], n_terms: int) -> list[list[str]]:
    """c-TF-IDF: each cluster's documents as one class document, terms weighted by tf * log(1 + A / df)."""
    from sklearn.feature_extraction.text import CountVectorizer

    try:
        cv = CountVectorizer(stop_words="english", token_pattern=r"(?u)\b[^\W\d_]{3,}\b", max_features=50_000)
        counts = cv.fit_transform(docs)
    except ValueError:  # every document empty of terms
        return [[] for _ in docs]
    vocab = np.array(cv.get_feature_names_out())
    tf = sp.csr_matrix(counts, dtype=np.float64)
    words_per_class = np.asarray(tf.sum(axis=1)).ravel()
    avg = words_per_class.mean() if len(words_per_class) else 1.0
    freq = np.asarray(tf.sum(axis=0)).ravel()
    idf = np.log1p(avg / np.maximum(freq, 1))
    tf = sp.diags(1 / np.maximum(words_per_class, 1)) @ tf
    scores = (tf @ sp.diags(idf)).tocsr()
    out = []
    for i in range(scores.shape[0]):
        row = scores.getrow(i)
        top = row.indices[np.argsort(-row.data)[:n_terms]]
        out.append(vocab[top].tolist())
    return out

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from engine.vectors.cluster import class_tfidf_terms, cluster_vectors, hdbscan_precomputed, knn_distance_matrix
from engine.vectors.index import VectorIndex
from engine.vectors.knn import knn_graph, merge_top_k


def _planted(n_clusters: int = 20, per: int = 60, noise: int = 300, dim: int = 32, seed: int = 0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_clusters, dim))
    x = np.concatenate([c + 0.15 * rng.normal(size=(per, dim)) for c in centres] + [rng.normal(size=(noise, dim))])
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    truth = np.r_[np.repeat(np.arange(n_clusters), per), np.full(noise, -1)]
    return x.astype(np.float32), truth


def test_hdbscan_on_knn_graph_recovers_planted_clusters() -> None:
    x, truth = _planted()
    res = cluster_vectors(VectorIndex.build(x), k=16, min_cluster_size=10)
    inside = truth >= 0
    assert adjusted_rand_score(truth[inside], res.labels[inside]) > 0.9
    assert res.n_clusters >= 18


def test_disconnected_graph_is_bridged_not_rejected() -> None:
    x, _ = _planted(n_clusters=3, per=30, noise=0)
    x[:30] = x[0]  # a block of identical vectors: its own component in the kNN graph
    res = cluster_vectors(VectorIndex.build(x), k=8, min_cluster_size=5)
    assert len(set(res.labels[:30])) == 1 and res.labels[0] >= 0


def test_distance_matrix_is_symmetric() -> None:
    x, _ = _planted(n_clusters=4, per=20, noise=10)
    sims, ids = knn_graph(x, 6)
    m = knn_distance_matrix(sims, ids)
    assert abs(m - m.T).max() < 1e-6


def test_class_tfidf_picks_distinctive_terms() -> None:
    terms = class_tfidf_terms(["pasta tomato basil pasta sauce", "python function list python code"], 2)
    assert "pasta" in terms[0] and "python" in terms[1]


def test_fast_hdbscan_equals_the_estimator_on_a_knn_graph() -> None:
    # hdbscan_precomputed replaces hdbscan's element-by-element lil path; it must give the estimator's exact output
    import hdbscan

    from engine.vectors.cluster import hdbscan_precomputed

    x, _ = _planted(n_clusters=12, per=40, noise=200, seed=3)
    x[:25] = x[0]  # exact duplicates: distance ties and a separate component, bridged
    sims, ids = knn_graph(x, 12)
    dist = knn_distance_matrix(sims, ids)
    ref = hdbscan.HDBSCAN(metric="precomputed", min_cluster_size=10, min_samples=5, core_dist_n_jobs=1).fit(dist)
    labels, probabilities = hdbscan_precomputed(dist, min_cluster_size=10, min_samples=5)
    assert np.array_equal(labels, ref.labels_)
    assert np.array_equal(probabilities, ref.probabilities_)


def test_kth_smallest_per_row_equals_a_sort_of_each_row(monkeypatch: pytest.MonkeyPatch) -> None:
    # rows short, padded, longer than the pad (hubs) and empty, over several blocks
    import scipy.sparse as sp

    import engine.vectors.cluster as cl

    monkeypatch.setattr(cl, "PAD_ROWS", 7)
    rng = np.random.default_rng(2)
    n = 40
    lengths = rng.choice([0, 2, 5, 9, 31, 32, 33, 40], n)
    rows = np.repeat(np.arange(n), lengths)
    cols = np.concatenate([rng.choice(n, ln, replace=False) for ln in lengths])
    m = sp.csr_matrix((rng.random(len(rows)) + 0.01, (rows, cols)), shape=(n, n))
    m.sum_duplicates()
    for k in (1, 5, 33):
        want = [np.sort(m.data[m.indptr[i] : m.indptr[i + 1]])[k - 1] if lengths[i] >= k else np.inf for i in range(n)]
        assert np.array_equal(cl.kth_smallest_per_row(m, k), np.array(want))


def test_single_linkage_equals_hdbscans_label() -> None:
    from hdbscan._hdbscan_linkage import label

    from engine.vectors.cluster import single_linkage

    rng = np.random.default_rng(4)
    n = 200
    parent = np.array([rng.integers(0, i) for i in range(1, n)])  # a random spanning tree with tied weights
    w = rng.choice([0.1, 0.2, 0.3, 0.5], n - 1)
    edges = np.column_stack([np.arange(1, n), parent, w]).astype(np.float64)
    edges = np.ascontiguousarray(edges[np.argsort(edges[:, 2])])
    assert np.array_equal(single_linkage(edges, label), label(edges))


def test_fast_hdbscan_equals_the_estimator_on_an_account_graph() -> None:
    """The account path: a sparse graph where many rows have fewer than min_samples neighbours (max_dist stands in
    for their infinite reachability) and a cluster_selection_epsilon keeps close groups whole."""
    import hdbscan
    import scipy.sparse as sp

    from engine.vectors.cluster import BRIDGE_DISTANCE, bridge_components, hdbscan_precomputed

    rng = np.random.default_rng(7)
    n = 300
    group = rng.integers(0, 12, n)
    rows, cols = np.nonzero(np.triu((group[:, None] == group[None, :]) & (rng.random((n, n)) < 0.15), 1))
    noise_r, noise_c = rng.integers(0, n, 60), rng.integers(0, n, 60)
    r, c = np.r_[rows, noise_r], np.r_[cols, noise_c]
    keep = r != c
    d = np.r_[rng.uniform(0.05, 0.4, len(rows)), rng.uniform(0.5, 0.9, 60)][keep] + 1e-6
    g = sp.csr_matrix((d, (r[keep], c[keep])), shape=(n, n))
    g = bridge_components(g.maximum(g.T).tocsr())
    for eps in (0.0, 0.2):
        ref = hdbscan.HDBSCAN(
            metric="precomputed", min_cluster_size=5, min_samples=2, max_dist=BRIDGE_DISTANCE,
            cluster_selection_epsilon=eps,
        ).fit(g)  # fmt: skip
        labels, probabilities = hdbscan_precomputed(
            g, min_cluster_size=5, min_samples=2, cluster_selection_epsilon=eps, max_dist=BRIDGE_DISTANCE
        )
        assert ref.labels_.max() >= 3  # a real clustering, not all noise
        assert np.array_equal(labels, ref.labels_)
        assert np.allclose(probabilities, ref.probabilities_)


# -- the kNN graph over shards of the index -----------------------------------------------------------------------


def test_sharded_knn_graph_equals_the_unsharded_exact_graph() -> None:
    # exact (flat) shards merged by similarity are exactly one flat index's answer: 4 shards, one of 1 row
    x, _ = _planted(n_clusters=6, per=30, noise=61, seed=5)
    whole_s, whole_i = knn_graph(x, 9, index=VectorIndex.build(x))
    for rows in (60, len(x) - 1):
        s, i = knn_graph(x, 9, shard_rows=rows)
        assert np.array_equal(i, whole_i)
        assert np.allclose(s, whole_s, atol=1e-6)
    assert (whole_i[:, 0] == np.arange(len(x))).all()  # self first


def test_shards_smaller_than_k_still_give_k_neighbours() -> None:
    # every shard alone has fewer rows than k (its answer padded with -1); merged, each row has all k
    x, _ = _planted(n_clusters=1, per=7, noise=0)
    s, i = knn_graph(x, 5, shard_rows=2)
    whole_s, whole_i = knn_graph(x, 5)
    assert (i >= 0).all() and np.array_equal(i, whole_i) and np.allclose(s, whole_s, atol=1e-6)


def test_merge_top_k_orders_by_similarity_then_row() -> None:
    sims = np.array([[0.9, 0.5, -1.0]], np.float32)
    ids = np.array([[4, 7, -1]])
    more_s = np.array([[0.5, 0.7, 0.1]], np.float32)
    more_i = np.array([[2, 9, 11]])
    s, i = merge_top_k(sims, ids, more_s, more_i, 4)
    assert i.tolist() == [[4, 9, 2, 7]] and np.allclose(s, [[0.9, 0.7, 0.5, 0.5]])


def test_knn_graph_rejects_an_index_of_other_vectors() -> None:
    x, _ = _planted(n_clusters=2, per=10, noise=0)
    import pytest

    with pytest.raises(ValueError, match="index holds"):
        knn_graph(x, 3, index=VectorIndex.build(x[:5]))


def test_flat_shard_search_does_not_depend_on_the_thread_count() -> None:
    # a Ray actor runs with one thread, the local executor with all cores: BLAS sums in another order would change
    # the last bit of similarities and so which of two tied neighbours is kept (seen on a demo night)
    import faiss

    rng = np.random.default_rng(11)
    x = rng.normal(size=(3_000, 256)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    before = faiss.omp_get_max_threads()
    try:
        faiss.omp_set_num_threads(1)
        one = knn_graph(x, 16, shard_rows=1_000)
        faiss.omp_set_num_threads(max(2, before))
        many = knn_graph(x, 16, shard_rows=1_000)
    finally:
        faiss.omp_set_num_threads(before)
    assert np.array_equal(one[0], many[0]) and np.array_equal(one[1], many[1])


def _bench_clusters():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "scripts" / "bench_clusters.py"
    spec = importlib.util.spec_from_file_location("bench_clusters", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_the_clustering_benchmark_counts_noise_as_singletons() -> None:
    """scripts/bench_clusters.py: leaving prompts out costs what it should (each noise prompt its own cluster)."""
    b = _bench_clusters()
    truth = np.array([0, 0, 0, 1, 1, 1])
    assert b.scores(truth, np.array([0, 0, 0, 1, 1, 1]))["ari"] == 1.0
    left_out = b.scores(truth, np.array([0, -1, -1, 1, -1, -1]))
    assert left_out["ari"] < 0.5 and left_out["noise"] == 4 / 6 and left_out["purity"] == 1.0
    assert left_out["clusters"] == 2
    merged = b.scores(truth, np.array([0, 0, 0, 0, 0, 0]))
    assert merged["ari"] == 0.0 and merged["purity"] == 0.5
    # noise to the nearest cluster mean
    v = np.array([[1, 0], [1, 0], [0.9, 0.1], [0, 1], [0, 1], [0.1, 0.9]], dtype=np.float64)
    assert b.nearest_centroid(np.array([0, 0, -1, 1, 1, -1]), v).tolist() == [0, 0, 0, 1, 1, 1]


def test_every_text_hdbscan_left_out_is_placed_by_its_neighbours() -> None:
    from engine.vectors.cluster import CORE_STRENGTH, PLACED_STRENGTH, place_outliers

    x, truth = _planted(n_clusters=8, per=40, noise=0, seed=7)
    rng = np.random.default_rng(8)
    # loose texts around each cluster's centre: no density core of their own, but their neighbours are the cluster
    loose = np.concatenate([x[truth == c].mean(axis=0) + 0.35 * rng.normal(size=(15, x.shape[1])) for c in range(8)])
    loose /= np.linalg.norm(loose, axis=1, keepdims=True)
    xs = np.concatenate([x, loose.astype(np.float32)])
    want = np.r_[truth, np.repeat(np.arange(8), 15)]
    res = cluster_vectors(VectorIndex.build(xs), k=16, min_cluster_size=10)
    assert (res.labels >= 0).all()  # every text placed
    assert adjusted_rand_score(want, res.labels) > 0.85  # placed in their own cluster, nearly all
    core = res.probabilities > CORE_STRENGTH
    assert core[: len(x)].mean() > 0.9 and core[len(x) :].mean() < 0.5  # placed texts are weaker than the core

    # by hand: a chain placed outward from the core, a tie to the lower id, an island no cluster reaches stays -1
    ids = np.array([[0, 1, 2], [1, 0, 2], [2, 1, 0], [3, 4, 2], [4, 3, 5], [5, 6, -1], [6, 5, -1]])
    sims = np.where(ids >= 0, 0.9, -1.0).astype(np.float32)
    labels = np.array([0, 0, -1, 1, -1, -1, -1])
    out, strength = place_outliers(labels, np.where(labels >= 0, 1.0, 0.0).astype(np.float32), sims, ids)
    assert out.tolist() == [0, 0, 0, 1, 1, -1, -1]
    assert strength[2] == PLACED_STRENGTH and 0 < strength[4] < PLACED_STRENGTH  # half its neighbours agree
    # a text with one neighbour in each of two clusters: the tie goes to the lower cluster id
    tie_ids = np.array([[0, 1, -1], [1, 0, -1], [2, 0, 1]])
    out, _ = place_outliers(np.array([1, 0, -1]), np.ones(3, np.float32), np.full((3, 3), 0.5, np.float32), tie_ids)
    assert out[2] == 0


def test_a_log_from_one_domain_is_split_as_finely_as_a_mixed_one() -> None:
    """Two broad domains of ten tight topics each: unbounded excess-of-mass keeps a few broad clusters (the root's
    children, as banking77 gave 2), the bounded selection (no cluster above MAX_CLUSTER_SHARE of the texts) the
    topics."""
    rng = np.random.default_rng(3)
    x, topic = [], []
    for i, centre in enumerate(rng.normal(size=(2, 32))):
        for j in range(10):
            sub = centre + 0.1 * rng.normal(size=32)
            x.append(sub + 0.08 * rng.normal(size=(30, 32)))
            topic += [10 * i + j] * 30
    x = np.concatenate(x)
    x = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    sims, ids = knn_graph(x, 16)
    broad, _ = hdbscan_precomputed(knn_distance_matrix(sims, ids), min_cluster_size=10, min_samples=5)
    fine = cluster_vectors(VectorIndex.build(x), k=16, min_cluster_size=10)
    assert broad.max() + 1 <= 5 and fine.n_clusters >= 15
    assert adjusted_rand_score(topic, fine.labels) > adjusted_rand_score(topic, broad) + 0.3


def test_cores_grow_into_a_partition_of_every_text_and_merge_where_the_graph_says() -> None:
    """engine.vectors.refine: texts HDBSCAN left out join the group holding most of their neighbours; two seeds of
    one planted cluster merge; two planted clusters stay apart."""
    from engine.vectors.refine import grow_cores, similarity_graph

    x, truth = _planted(n_clusters=6, per=50, noise=0, seed=5)
    sims, ids = knn_graph(x, 16)
    graph = similarity_graph(sims, ids)
    assert abs(graph - graph.T).max() < 1e-9 and graph.diagonal().sum() == 0
    seeds = np.full(len(x), -1)
    seeds[:20] = 0  # cluster 0 seeded as two cores
    seeds[20:40] = 1
    seeds[100:120] = 2  # cluster 2 seeded; the other four not at all
    out = grow_cores(seeds, graph)
    assert adjusted_rand_score(truth, out) == 1.0
    assert np.array_equal(out, grow_cores(seeds, graph))  # deterministic


def test_a_block_larger_than_the_resolution_allows_splits_and_its_topic_gathers_it() -> None:
    """CPM bounds a group by its density, not by the log's size: 3,000 copies of one wrapper (16 neighbours each)
    become several clusters, which the topic level holds together, apart from an unrelated cluster."""
    from engine.vectors.refine import grow_cores, similarity_graph, topics_of

    rng = np.random.default_rng(9)
    a = rng.normal(size=32) + 0.01 * rng.normal(size=(3_000, 32))
    b = rng.normal(size=32) + 0.15 * rng.normal(size=(200, 32))
    x = np.concatenate([a, b])
    x = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    sims, ids = knn_graph(x, 16)
    graph = similarity_graph(sims, ids)
    labels = grow_cores(np.full(len(x), -1), graph)
    assert len(np.unique(labels[:3_000])) >= 2 and not set(labels[:3_000]) & set(labels[3_000:])
    topic = topics_of(graph, labels)
    assert len(topic) == labels.max() + 1  # one topic per cluster
    assert len(set(topic[labels[:3_000]])) == 1 and topic[labels[0]] not in set(topic[labels[3_000:]])


def test_every_cluster_lies_in_one_topic_and_each_topic_lists_its_clusters() -> None:
    import pyarrow as pa

    from engine.vectors.cluster import summarize, summarize_topics

    rng = np.random.default_rng(4)
    x, _ = _planted(n_clusters=12, per=40, noise=0, seed=4)
    res = cluster_vectors(VectorIndex.build(x), k=16, min_cluster_size=10)
    assert res.n_topics >= 1 and len(res.topics) == res.n_clusters
    texts = [f"text {i} about topic {lab}" for i, lab in enumerate(res.labels)]
    args = (texts, x, np.arange(len(x)), rng.integers(0, 30, len(x)), texts, np.zeros(len(x), np.int64))
    clusters = summarize(res, *args)
    topics = summarize_topics(clusters, res, *args)
    assert clusters["topic_id"].to_pylist() == res.topics.tolist()
    listed = sorted(c for cs in topics["clusters"].to_pylist() for c in cs)
    assert listed == list(range(res.n_clusters))  # every cluster in exactly one topic
    assert pa.compute.sum(topics["texts"]).as_py() == len(x)
    np.testing.assert_array_equal(np.diff(clusters["texts"].to_numpy()) <= 0, True)  # ids from the largest down


def test_texts_similar_to_nothing_form_no_cluster_and_do_not_crash() -> None:
    """Vectors of all zeros (a script the model has no tokens for) have similarity 0 to everything: the graph has no
    edge, so nothing is grown, nothing placed, and every text stays outside any cluster (a log of them ran into an
    IndexError in the local moves; the every-log property test found it)."""
    from engine.vectors.refine import grow_cores, similarity_graph

    x = np.zeros((30, 8), np.float32)
    res = cluster_vectors(VectorIndex.build(x), k=8, min_cluster_size=5)
    assert res.n_clusters == 0 and (res.labels == -1).all() and res.n_topics == 0
    sims, ids = knn_graph(x, 8)
    assert similarity_graph(sims, ids).nnz == 0
    assert len(set(grow_cores(np.array([0] * 10 + [1] * 10 + [-1] * 10), similarity_graph(sims, ids)))) == 30

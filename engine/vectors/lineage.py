"""Stage 5c: cluster and topic ids carried from night to night.

Clustering numbers tonight's clusters from the largest down, so without this step "cluster 12" is another group of
prompts every night, and an analyst's bookmark, an export joined to yesterday's, or a campaign's list of clusters
means nothing the next day. The texts tonight shares with last night link the two partitions: a cluster keeps last
night's id when each is the other's largest overlap (counted in shared texts), as cluster-tracking methods match
clusters across snapshots (MONIC's "survival"). So when a cluster splits its largest piece keeps the id, when two
merge the merged one keeps the id of the one it drew most from, and every other cluster gets a fresh id, never one
used before (``next_id`` is kept in the snapshot). Topics are carried the same way, through their texts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa


@dataclass
class Carried:
    """Tonight's ids: ``ids[g]`` for tonight's group g (0..n-1), ``kept`` of them last night's, and the next unused
    id after tonight."""

    ids: np.ndarray
    kept: int
    next_id: int


def carry_ids(before: np.ndarray, after: np.ndarray, n_groups: int, next_id: int) -> Carried:
    """Ids for tonight's ``n_groups`` groups, from the shared texts' group last night (``before``: its id, -1 for a
    text in none) and tonight (``after``: 0..n_groups-1, -1 for none), paired by position.

    A group keeps last night's id when the two are each other's largest overlap (ties: the lower id); the others
    get ``next_id``, ``next_id + 1``, ... in tonight's order (largest first), so the first night numbers its
    groups 0..n-1 as clustering does."""
    ids = np.full(n_groups, -1, np.int64)
    both = (before >= 0) & (after >= 0)
    b, a = before[both].astype(np.int64), after[both].astype(np.int64)
    if len(a):
        old, b = np.unique(b, return_inverse=True)
        pairs, count = np.unique(a * len(old) + b, return_counts=True)
        pa_, pb = pairs // len(old), pairs % len(old)
        # each side's largest overlap: sort by (side, -count, other side) and keep the first of each side
        best_a = np.lexsort((pb, -count, pa_))
        best_a = best_a[np.r_[True, pa_[best_a][1:] != pa_[best_a][:-1]]]
        best_b = np.lexsort((pa_, -count, pb))
        best_b = best_b[np.r_[True, pb[best_b][1:] != pb[best_b][:-1]]]
        mutual = np.intersect1d(best_a, best_b)
        ids[pa_[mutual]] = old[pb[mutual]]
        next_id = max(next_id, int(old.max()) + 1)
    fresh = ids < 0
    ids[fresh] = next_id + np.arange(int(fresh.sum()))
    return Carried(ids, int((~fresh).sum()), next_id + int(fresh.sum()))


def carry_night(
    before: np.ndarray, after: np.ndarray, n_clusters: int, topics: np.ndarray, cluster_topic: dict[int, int],
    next_cluster: int, next_topic: int,
) -> tuple[Carried, Carried]:  # fmt: skip
    """Tonight's cluster ids and topic ids. ``before``/``after``: each shared text's cluster last night (its id, -1
    in none) and tonight (0..n_clusters-1, -1); ``topics``: tonight's topic of each cluster; ``cluster_topic``: last
    night's cluster id -> topic id. Topics are carried through the same texts, by their topics on either night."""
    clusters = carry_ids(before, after, n_clusters, next_cluster)
    topic_before = np.full(len(before), -1, np.int64)
    if cluster_topic:
        known = np.array(sorted(cluster_topic), np.int64)
        their = np.array([cluster_topic[int(c)] for c in known], np.int64)
        at = np.minimum(np.searchsorted(known, before), len(known) - 1)
        topic_before = np.where(known[at] == before, their[at], -1)
    topic_after = np.where(after >= 0, topics[np.maximum(after, 0)], -1) if len(topics) else after
    n_topics = int(topics.max()) + 1 if len(topics) else 0
    return clusters, carry_ids(topic_before, topic_after, n_topics, next_topic)


def relabel(
    labels: np.ndarray, clusters: pa.Table, topics: pa.Table, cluster_ids: np.ndarray, topic_ids: np.ndarray
) -> tuple[np.ndarray, pa.Table, pa.Table]:
    """Tonight's per-text labels and cluster and topic rows (``engine.vectors.cluster.summarize``: numbered
    0..n-1) renumbered with the carried ids."""
    out = np.where(labels >= 0, cluster_ids[np.maximum(labels, 0)], -1) if len(cluster_ids) else labels.copy()

    def swap(tbl: pa.Table, name: str, new: pa.Array) -> pa.Table:
        return tbl.set_column(tbl.schema.get_field_index(name), name, new)

    def take(ids: np.ndarray, col: pa.ChunkedArray) -> pa.Array:
        old = col.to_numpy(zero_copy_only=False).astype(np.int64)
        return pa.array(np.where(old >= 0, ids[np.maximum(old, 0)], -1) if len(ids) else old, pa.int64())

    clusters = swap(clusters, "cluster_id", take(cluster_ids, clusters["cluster_id"]))
    clusters = swap(clusters, "topic_id", take(topic_ids, clusters["topic_id"]))
    topics = swap(topics, "topic_id", take(topic_ids, topics["topic_id"]))
    members = [[int(cluster_ids[c]) for c in row] for row in topics["clusters"].to_pylist()]
    topics = swap(topics, "clusters", pa.array(members, pa.list_(pa.int64())))
    return out, clusters, topics

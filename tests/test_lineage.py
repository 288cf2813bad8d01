"""Cluster and topic ids carried across nights (engine.vectors.lineage)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from engine.vectors.lineage import carry_ids, carry_night, relabel


def test_first_night_numbers_groups_as_clustering_does() -> None:
    c = carry_ids(np.zeros(0, np.int64), np.zeros(0, np.int64), 4, 0)
    assert c.ids.tolist() == [0, 1, 2, 3] and c.kept == 0 and c.next_id == 4


def test_a_group_keeps_its_id_a_split_keeps_it_for_the_larger_piece_and_new_groups_get_unused_ids() -> None:
    # last night: clusters 7 (texts 0-9) and 3 (texts 10-14); 9 was used before and vanished (next id 12).
    before = np.array([7] * 10 + [3] * 5 + [-1] * 2)
    # tonight: 7 split into group 0 (6 texts) and group 2 (4 texts); 3 is now group 1; group 3 is new
    after = np.array([0] * 6 + [2] * 4 + [1] * 5 + [3, 3])
    c = carry_ids(before, after, 4, 12)
    assert c.ids.tolist() == [7, 3, 12, 13] and c.kept == 2 and c.next_id == 14


def test_a_merge_keeps_the_id_it_drew_most_from_and_ties_go_to_the_lower_id() -> None:
    before = np.array([5] * 3 + [2] * 7 + [8] * 4 + [4] * 4)
    after = np.array([0] * 10 + [1] * 8)  # 5 and 2 merged into group 0; 8 and 4 tie in group 1
    c = carry_ids(before, after, 2, 9)
    assert c.ids.tolist() == [2, 4] and c.kept == 2 and c.next_id == 9


def test_ids_are_never_reused_even_without_a_recorded_next_id() -> None:
    c = carry_ids(np.array([40, 40]), np.array([1, 1]), 2, 0)  # a snapshot from before lineage: no next id
    assert c.ids.tolist() == [41, 40] and c.next_id == 42


def test_relabel_renumbers_texts_clusters_and_topics_together() -> None:
    labels = np.array([0, 1, 1, -1, 2])
    clusters = pa.table({"cluster_id": [0, 1, 2], "topic_id": [0, 0, 1], "prompts": [1, 2, 1]})
    topics = pa.table({"topic_id": [0, 1], "clusters": [[0, 1], [2]]})
    out, cl, tp = relabel(labels, clusters, topics, np.array([10, 4, 11]), np.array([6, 2]))
    assert out.tolist() == [10, 4, 4, -1, 11]
    assert cl["cluster_id"].to_pylist() == [10, 4, 11] and cl["topic_id"].to_pylist() == [6, 6, 2]
    assert tp["topic_id"].to_pylist() == [6, 2] and tp["clusters"].to_pylist() == [[10, 4], [11]]


def test_topics_are_carried_through_their_texts_with_the_clusters() -> None:
    # last night: clusters 4 and 9 in topic 2, cluster 6 in topic 5; tonight 4 and 9 merged (group 0), 6 is group 1
    before = np.array([4, 4, 9, 6, 6, 6])
    after = np.array([0, 0, 0, 1, 1, 1])
    clusters, topics = carry_night(before, after, 2, np.array([1, 0]), {4: 2, 9: 2, 6: 5}, 10, 7)
    assert clusters.ids.tolist() == [4, 6] and clusters.next_id == 10
    assert topics.ids.tolist() == [5, 2] and topics.kept == 2  # tonight's topic 0 holds cluster 6, topic 1 cluster 4

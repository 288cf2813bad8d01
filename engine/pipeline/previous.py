"""The previous night's state, read once at the start of a run.

A run starts from the live snapshot: its prompts (tonight's are added to them), its distinct texts in row order
(whose signatures and vectors are reused by content key, and whose index grows in place), the partitions it lists
(tonight's snapshot lists them again and adds its own), its account attributes, its clusters and topics (whose ids
tonight's carry on: engine.vectors.lineage), its campaign history and its run log. Everything is read here, in one
place, so no step goes back to the store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from engine.store import Snapshot
from engine.store.tables import CAMPAIGN_EVENTS, CAMPAIGN_HISTORY, CAMPAIGN_NIGHTS, RUNS, Tables


@dataclass
class Previous:
    """The live snapshot's state as a run needs it; all empty (``Previous()``) for a store's first run."""

    prompts: pa.Table | None = None
    text_keys: list[bytes] = field(default_factory=list)
    norm_by_key: dict[bytes, str] = field(default_factory=dict)
    signatures: np.ndarray | None = None  # one row per text key (memory-mapped where stored in order)
    index_dir: Path | None = None  # the snapshot directory whose saved index tonight may grow in place
    prompt_parts: list[dict[str, Any]] = field(default_factory=list)  # partitions it lists (engine.store.parts)
    text_segments: list[dict[str, Any]] = field(default_factory=list)
    text_locations: dict[bytes, tuple[str, int]] = field(default_factory=dict)  # text key -> (segment, row)
    accounts: pa.Table | None = None
    text_cluster: np.ndarray | None = None  # cluster id of each text row, -1 in none (engine.vectors.lineage)
    cluster_topic: dict[int, int] = field(default_factory=dict)  # cluster id -> its topic id
    history: pa.Table = field(default_factory=CAMPAIGN_HISTORY.empty_table)
    nights: pa.Table = field(default_factory=CAMPAIGN_NIGHTS.empty_table)
    events: pa.Table = field(default_factory=CAMPAIGN_EVENTS.empty_table)
    runs: pa.Table = field(default_factory=RUNS.empty_table)
    meta: dict[str, Any] = field(default_factory=dict)
    _row_of_key: dict[bytes, int] | None = field(default=None, repr=False)

    def rows_of(self, keys: list[bytes]) -> np.ndarray:
        """The stored text row of each content key (-1: a text the snapshot did not hold). The key index is built
        once a run: the MinHash step (signatures) and the cluster step (last night's cluster ids) both ask."""
        if self._row_of_key is None:
            self._row_of_key = {k: i for i, k in enumerate(self.text_keys)}
        where = self._row_of_key
        return np.array([where.get(k, -1) for k in keys], dtype=np.int64)

    @classmethod
    def load(cls, snap: Snapshot | None) -> Previous:
        if snap is None:
            return cls()
        t = Tables(snap)
        keys, norm = t.text_index()
        text_cluster, _ = t.text_labels()
        cl = t.clusters().to_pydict()
        topic_of = cl.get("topic_id") or [-1] * len(cl["cluster_id"])  # a snapshot from before topics
        return cls(
            prompts=t.prompts(),
            text_keys=keys,
            norm_by_key=dict(zip(keys, norm, strict=True)),
            signatures=snap.array("signatures") if snap.has_array("signatures") else None,
            index_dir=snap.path,
            prompt_parts=list((snap.parts or {}).get("prompts", [])),
            text_segments=list((snap.parts or {}).get("texts", [])),
            text_locations=t.text_locations(),
            accounts=t.account_attributes(),
            text_cluster=text_cluster,
            cluster_topic={c: -1 if tp is None else tp for c, tp in zip(cl["cluster_id"], topic_of, strict=True)},
            history=t.history(),
            nights=t.nights(),
            events=t.events(),
            runs=t.runs(),
            meta=snap.meta(),
        )

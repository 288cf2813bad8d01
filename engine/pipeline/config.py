"""What a run needs, and what of it the store remembers.

``RunConfig`` is filled by the CLI from flags, by tests and by drivers directly. The settings that shape results
(embedder, models directory, window, clustering and detection settings) are stored in each snapshot's meta, so a
later run on the same store, and ``promptsim prune`` above all, reuses them unless told otherwise: a prune must not
quietly re-score a store with a 7-day window that was built with a 3-day one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from engine.detect.settings import DetectSettings
from engine.executor import Executor, make_executor
from engine.vectors.knn import SHARD_ROWS

DEFAULT_STORE = "promptsim-store"

#: RunConfig fields stored with each snapshot and reused by later runs on the store
PERSISTED = ("embedder", "models_dir", "window_days", "min_cluster_size", "knn")


@dataclass
class RunConfig:
    """Everything a run needs."""

    inputs: Sequence[str | Path]
    store: str | Path = DEFAULT_STORE
    accounts: str | Path | None = None
    embedder: str = "static"
    models_dir: str | Path | None = None
    window_days: float = 7.0
    min_cluster_size: int = 10
    knn: int = 16
    detect: DetectSettings = field(default_factory=DetectSettings)
    quiet: bool = False
    prune_before: datetime | None = None  # drop stored prompts older than this (``promptsim prune``)
    fail_after: str | None = None  # test hook: raise after this step, to prove a failed run changes nothing
    # where the per-batch work runs (engine.executor): never persisted, since it must not change results
    executor: str = "local"  # "local" or "ray"
    workers: int | None = None  # parallel workers (Ray tasks / actors); None: the cluster's CPUs
    ray_address: str | None = None  # "auto" or HOST:PORT of a running Ray cluster; None: a local Ray instance
    # vectors per index shard of the kNN graph search (engine.vectors.knn); a window that fits one is searched in
    # the index itself. Not persisted: exact shards give the unsharded graph; approximate (HNSW) shards, a graph
    # of the same quality, not the same edges
    knn_shard_rows: int = SHARD_ROWS
    # how tonight's files are read (engine.ingest.envelopes): per night, never persisted
    input_format: str | None = None  # a name of engine.ingest.envelopes.ENVELOPES; None: the records decide
    field_map: Sequence[str] = ()  # "FIELD=PATH": a field from a JSON path into each record
    fill: Sequence[str] = ()  # "FIELD=VALUE": a value for a field the records lack (a batch file's account)
    asn_db: str | None = None  # MaxMind-format ASN database for records' client "ip" (engine.ingest.network)

    def persisted(self) -> dict[str, Any]:
        """The settings a later run on this store reuses (written into the snapshot's meta)."""
        out: dict[str, Any] = {k: getattr(self, k) for k in PERSISTED}
        out["models_dir"] = str(self.models_dir) if self.models_dir is not None else None
        out["detect"] = self.detect.to_dict()
        return out

    @classmethod
    def from_stored(cls, stored: dict[str, Any] | None, **given: Any) -> RunConfig:
        """A config whose unset fields come from a snapshot's stored settings, then from the defaults.

        ``given`` are the values the user actually set (``None`` means "not given"); ``detect_overrides`` (a dict)
        is applied on top of the stored detection settings rather than replacing them.
        """
        stored = dict(stored or {})
        overrides = given.pop("detect_overrides", None) or {}
        values = {k: v for k, v in given.items() if v is not None}
        for k in PERSISTED:
            if k not in values and stored.get(k) is not None:
                values[k] = stored[k]
        known_settings = DetectSettings.names()
        kept = {k: v for k, v in (stored.get("detect") or {}).items() if k in known_settings}  # since removed: dropped
        detect = values.pop("detect", None) or DetectSettings().with_values(kept)
        known = {f.name for f in fields(cls)}
        cfg = cls(**{k: v for k, v in values.items() if k in known})
        return replace(cfg, detect=detect.with_values(overrides) if overrides else detect)


def executor_for(cfg: RunConfig) -> Executor:
    """The executor ``cfg`` asks for (``executor``, ``workers``, ``ray_address``, ``quiet``, ``fail_after``)."""
    return make_executor(
        cfg.executor, quiet=cfg.quiet, fail_after=cfg.fail_after, workers=cfg.workers, ray_address=cfg.ray_address
    )

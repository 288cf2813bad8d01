"""The nightly job as a list of named steps, run by an executor, committed as one snapshot.

A run is incremental by construction: it starts from the live snapshot (read once, ``Previous``), adds the new
night's prompts (ids already stored are skipped, so re-running a night adds nothing), reuses every signature and
embedding it has seen before (content-addressed), and re-derives templates, clusters and campaigns over a rolling
window so a campaign spread over several nights is seen whole. Nothing is live until the final commit swaps the
store's CURRENT pointer: a run that fails or is killed leaves the last good state as it was.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pyarrow as pa

from engine.detect.casework import Casework
from engine.embed import as_keys
from engine.executor import Executor, InjectedFailure, Pending
from engine.ingest import envelopes
from engine.ingest.network import Networks
from engine.pipeline import steps
from engine.pipeline.config import DEFAULT_STORE, RunConfig, executor_for
from engine.pipeline.previous import Previous
from engine.store import SnapshotWriter, Store, parts
from engine.store.journal import labels_journal
from engine.store.tables import SnapshotData, write_snapshot

__all__ = ["DEFAULT_STORE", "InjectedFailure", "RunConfig", "RunReport", "run"]


@dataclass
class RunReport:
    run_id: str
    accepted: int
    quarantined: int
    already_stored: int
    pruned: int
    quarantine_path: str | None
    quarantine_by_reason: dict[str, int]
    prompts_in_store: int
    prompts_in_window: int
    texts: int
    new_embeddings: int
    cached_embeddings: int
    clusters: int
    campaigns: int
    flagged_accounts: int
    labels_seen: int = 0  # casework journal records (labels, rules) in force: as they stood when the run started
    bytes_written: int = 0  # by the commit: tonight's partitions and the snapshot's own files
    timings: dict[str, float] = field(default_factory=dict)
    peak_rss_mb: dict[str, float] = field(default_factory=dict)

    def summary(self) -> str:
        t = "  ".join(f"{k} {v:.1f}s" for k, v in self.timings.items())
        q = f" (see {self.quarantine_path})" if self.quarantined else ""
        return (
            f"run {self.run_id}: accepted {self.accepted:,} prompts, quarantined {self.quarantined:,}{q}, "
            f"already stored {self.already_stored:,}" + (f", pruned {self.pruned:,}" if self.pruned else "") + "\n"
            f"  window: {self.prompts_in_window:,} prompts, {self.texts:,} distinct texts "
            f"({self.new_embeddings:,} embedded, {self.cached_embeddings:,} from cache)\n"
            f"  {self.clusters:,} clusters, {self.campaigns:,} suspected campaigns, "
            f"{self.flagged_accounts:,} flagged accounts; wrote {self.bytes_written / 1e6:,.1f} MB\n"
            f"  casework: {self.labels_seen:,} label/rule records, as they stood when the run started\n  timings: {t}"
        )


def new_run_id() -> str:
    return datetime.now(timezone.utc).strftime("r%Y%m%dT%H%M%SZ-") + secrets.token_hex(2)


def run(cfg: RunConfig) -> RunReport:
    """Run the nightly job and commit one new snapshot (or, on any failure, leave the store as it was)."""
    store = Store(cfg.store)
    with store.lock(), executor_for(cfg) as ex:
        run_id, started = new_run_id(), datetime.now(timezone.utc)
        prev = Previous.load(store.current())
        # labels written from here on apply from the next night: this run uses the journal as it is now
        case = Casework.from_records(labels_journal(store.root).read())
        models = Path(cfg.models_dir) if cfg.models_dir else None

        reading = envelopes.Reading.parse(cfg.input_format, cfg.field_map, cfg.fill)
        networks = Networks(cfg.asn_db)  # client IPs to networks, each distinct address looked up once a night
        try:
            ing = ex.step("ingest", steps.ingest, cfg.inputs, cfg.accounts, prev, store.quarantine_path(run_id),
                          cfg.prune_before, reading, networks)  # fmt: skip
        finally:
            networks.close()  # a night whose ingest fails leaves no database open either
        texts = ex.step("normalize", steps.normalize_texts, ing, prev, cfg.window_days, ex=ex)
        tmpl = ex.step("templates", steps.templates, texts)
        sig = ex.step("minhash", steps.minhash, texts, tmpl, prev, ex=ex)
        emb = ex.step("embed", steps.embed, texts, tmpl, cfg.embedder, models, store.root, show_progress=not cfg.quiet,
                      ex=ex)  # fmt: skip
        tmpl.result.segments = None  # only the embed step reads them: ~100 MB at 1M prompts, not held to the end
        signals = steps.start_text_signals(texts, tmpl, emb, cfg, ex=ex)  # in the background on a local executor
        idx = ex.step("index", steps.index, texts, emb, prev)
        cl = ex.step("cluster", steps.cluster_texts, texts, tmpl, emb, idx, cfg.knn, cfg.min_cluster_size, ex=ex,
                    shard_rows=cfg.knn_shard_rows, prev=prev)  # fmt: skip
        # tonight's prompts are the merged table's tail; a store from before partitions hands over all it held
        new = texts.prompts.slice(texts.prompts.num_rows - ing.accepted) if prev.prompt_parts else texts.prompts
        writer = store.begin(run_id)
        ahead = PartsAhead(writer, prev, new, texts, emb, sig, cfg.prune_before)
        try:
            det = ex.step("score", steps.detect_campaigns, texts, tmpl, sig, emb, cl, prev, cfg, run_id, ex=ex,
                          case=case, text_signals=signals)  # fmt: skip
            report = RunReport(
                run_id=run_id,
                accepted=ing.accepted,
                quarantined=ing.quarantined,
                already_stored=ing.already_stored,
                pruned=ing.pruned,
                quarantine_path=str(ing.quarantine_path) if ing.quarantined else None,
                quarantine_by_reason=ing.quarantine_by_reason,
                prompts_in_store=texts.prompts.num_rows,
                prompts_in_window=texts.window.num_rows,
                texts=len(texts.keys),
                new_embeddings=emb.new,
                cached_embeddings=emb.cached,
                clusters=cl.result.n_clusters,
                campaigns=det.campaigns,
                flagged_accounts=det.flagged_accounts,
                labels_seen=det.labels_seen,
            )
            report.timings, report.peak_rss_mb = dict(ex.timings), dict(ex.peak_rss_mb)  # so far: the runs table's copy
            data = _snapshot_data(cfg, run_id, started, prev, texts, tmpl, sig, emb, cl, det, report)
            report.bytes_written = ex.step("commit", _commit, ahead, data, idx, ex)
        except BaseException:
            ahead.abort()  # nothing of tonight is left behind: the store is as it was
            raise
        if cfg.prune_before is not None:
            # the cache is content-addressed and shared by snapshots: after a prune keep only what is still referenced
            emb.cache.reset(
                np.concatenate([as_keys(emb.keys), as_keys(emb.payload_keys)]),
                np.concatenate([emb.vectors, emb.payload_vectors.values]),
            )
    report.timings, report.peak_rss_mb = dict(ex.timings), dict(ex.peak_rss_mb)
    return report


def _snapshot_data(
    cfg: RunConfig, run_id: str, started: datetime, prev: Previous, texts: steps.Texts, tmpl: steps.Templates,
    sig: steps.Signatures, emb: steps.Embedded, cl: steps.Clusters, det: steps.Detected, report: RunReport,
) -> SnapshotData:  # fmt: skip
    """Everything tonight commits, table by table (schemas in engine.store.tables)."""
    labels = pa.table(
        {
            "text_row": np.arange(len(texts.keys), dtype=np.int64),
            "text_key": pa.array(texts.keys, pa.binary(16)),
            "template_id": tmpl.result.template_id,
            "dup_group": sig.dup_group.astype(np.int64),
            "cluster_id": cl.labels.astype(np.int64),
            "cluster_prob": cl.result.probabilities.astype(np.float32),
        }
    )
    this_run = {
        "run_id": run_id,
        "started_at": started.isoformat(),
        "finished_at": datetime.now(timezone.utc).isoformat(),
        "inputs": json.dumps([str(p) for p in cfg.inputs]),
        "embedder": emb.embedder.name,
        "report": json.dumps(asdict(report), default=str),
    }
    tables = {
        "text_labels": labels,  # completed with where each text is stored by the commit
        "window_prompts": pa.table({"prompt_id": texts.window["prompt_id"], "text_row": texts.text_row}),
        "accounts": det.verdicts.accounts,
        "clusters": cl.table,
        "topics": cl.topics,
        "templates": tmpl.table(texts.text_row),
        "campaigns": det.verdicts.campaigns,
        "campaign_history": det.tracking.history,
        "campaign_nights": det.tracking.nights,
        "campaign_events": det.tracking.events,
        "runs": pa.concat_tables([prev.runs, pa.Table.from_pylist([this_run], schema=prev.runs.schema)]),
    }
    meta = {
        "run_id": run_id,
        "embedder": emb.embedder.name,
        "embedder_spec": cfg.embedder,
        "dim": int(emb.vectors.shape[1]),
        "texts": len(texts.keys),
        "prompts": texts.prompts.num_rows,
        "window_days": cfg.window_days,
        "next_cluster_id": cl.next_cluster_id,  # ids never handed out again (engine.vectors.lineage)
        "next_topic_id": cl.next_topic_id,
        "config": cfg.persisted(),
    }
    return SnapshotData(tables=tables, meta=meta)


class PartsAhead:
    """Tonight's prompt and text partitions (``engine.store.parts``), written in the background (a ``Pending``)
    while the score step runs: they hold what the earlier steps made (prompts, normalised texts, skeletons, vectors,
    signatures) and nothing detection decides, and the score step's driver leaves a core idle for much of its time.
    Measured at 1M prompts (public3 --scale 7): the commit step 9.2-9.8 s -> 1.4 s.

    The files land where ``SnapshotWriter`` tracks them (``part_files``), so an abort removes them; ``abort`` waits
    for the writing first, so nothing is written after the clean-up."""

    def __init__(self, writer: SnapshotWriter, prev: Previous, new: pa.Table, texts: steps.Texts,
                 emb: steps.Embedded, sig: steps.Signatures, prune_before: datetime | None) -> None:  # fmt: skip
        self.writer = writer

        def write(_: Pending[tuple[parts.PromptPlan, parts.TextPlan]]) -> tuple[parts.PromptPlan, parts.TextPlan]:
            prompts = parts.plan_prompts(writer.parts_root, prev.prompt_parts, new, writer.run_id, prune_before)
            writer.part_files += prompts.written
            txt = parts.plan_texts(
                writer.parts_root, prev.text_segments, prev.text_locations, texts.keys, texts.norm, texts.skeleton,
                emb.vectors, sig.signatures, writer.run_id,
            )  # fmt: skip
            writer.part_files += txt.written
            return prompts, txt

        self._pending = Pending(write).start()

    def result(self) -> tuple[parts.PromptPlan, parts.TextPlan]:
        """Both plans, once written; what the writing raised, raised here."""
        return self._pending.result()

    def abort(self) -> None:
        """Remove what this run wrote (the writer's temporary snapshot and partitions), once the writing is done."""
        self._pending.wait()
        self.writer.abort()


def _commit(ahead: PartsAhead, data: SnapshotData, idx: steps.Indexed, ex: Executor) -> int:
    """Write the snapshot beside tonight's partitions (``PartsAhead``) under a temporary name and make it live
    (the caller aborts on any failure, changing nothing). Returns the bytes written."""
    writer = ahead.writer
    prompts, txt = ahead.result()
    labels = data.tables["text_labels"]
    data.tables["text_labels"] = labels.append_column("seg", pa.array(txt.seg, pa.string())).append_column(
        "off", pa.array(txt.off)
    )
    data.meta["parts"] = {"prompts": prompts.parts, "texts": txt.segments}
    write_snapshot(writer, data)
    idx.index.save(writer.tmp)
    ex.check("commit-tables")
    written = writer.bytes_written()
    writer.commit({**data.meta, "bytes_written": written})
    return written

"""The nightly job: ingest → normalise/mask → templates → MinHash + LSH → embed → index → cluster → score → commit.

Each stage is a function of a module named after it; this module only wires them together, times them and hands
the results to the store. A run is incremental by construction: it starts from the live snapshot, adds the new
night's prompts (ids already stored are skipped, so re-running a night adds nothing), reuses every signature and
embedding it has seen before (content-addressed), and re-derives templates, clusters and campaigns over a rolling
window so a campaign spread over several nights is seen whole.
"""

from __future__ import annotations

import json
import resource
import secrets
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from engine.detect import campaigns, history, signals
from engine.embed import EmbeddingCache, as_keys, embed_texts, get_embedder
from engine.ingest import read_accounts, read_prompts
from engine.ingest.records import ACCOUNT_SCHEMA, PROMPT_SCHEMA, InputError, Quarantine, epoch_seconds
from engine.store import Store, StoreError
from engine.text.minhash import MinHasher, lsh_groups
from engine.text.normalize import mask, normalize, text_hash
from engine.text.templates import mine_templates
from engine.vectors import cluster
from engine.vectors.index import VectorIndex

DEFAULT_STORE = "promptsim-store"


@dataclass
class RunConfig:
    """Everything a run needs; the CLI fills it from flags, tests and Ray drivers build it directly."""

    inputs: Sequence[str | Path]
    store: str | Path = DEFAULT_STORE
    accounts: str | Path | None = None
    embedder: str = "static"
    models_dir: str | Path | None = None
    window_days: float = 7.0
    min_cluster_size: int = 10
    knn: int = 16
    quiet: bool = False
    prune_before: datetime | None = None  # drop stored prompts older than this (``promptsim prune``)
    fail_after: str | None = None  # test hook: raise after this stage, to prove a failed run changes nothing


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
            f"{self.flagged_accounts:,} flagged accounts\n  timings: {t}"
        )


class InjectedFailure(RuntimeError):
    """Raised by ``RunConfig.fail_after``: lets tests kill a run at a chosen stage."""


class _Timer:
    """Wall time and peak resident memory (so far) at the end of each stage, printed unless quiet."""

    def __init__(self, quiet: bool, fail_after: str | None) -> None:
        self.quiet, self.fail_after = quiet, fail_after
        self.timings: dict[str, float] = {}
        self.peak_rss_mb: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        t0 = time.perf_counter()
        yield
        self.timings[name] = round(time.perf_counter() - t0, 3)
        self.peak_rss_mb[name] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        if not self.quiet:
            print(f"[{name}] {self.timings[name]:.1f}s, peak RSS {self.peak_rss_mb[name]:,.0f} MB", flush=True)
        if self.fail_after == name:
            raise InjectedFailure(f"injected failure after stage {name}")

    def say(self, msg: str) -> None:
        if not self.quiet:
            print(msg, flush=True)


def new_run_id() -> str:
    return datetime.now(timezone.utc).strftime("r%Y%m%dT%H%M%SZ-") + secrets.token_hex(2)


def run(cfg: RunConfig) -> RunReport:
    """Run the nightly job and commit one new snapshot (or, on any failure, leave the store as it was)."""
    store = Store(cfg.store)
    with store.lock():
        return _run_locked(cfg, store)


def _run_locked(cfg: RunConfig, store: Store) -> RunReport:
    timer = _Timer(cfg.quiet, cfg.fail_after)
    run_id = new_run_id()
    started = datetime.now(timezone.utc)
    prev = store.current()

    # -- 1. ingest -------------------------------------------------------------------------------------------
    with timer.stage("ingest"):
        qpath = store.quarantine_path(run_id)
        quarantine = Quarantine(qpath)
        batches: list[pa.Table] = []
        seen: set[str] = set()
        for path in cfg.inputs:
            batches.extend(read_prompts(path, quarantine=quarantine, seen_ids=seen))
        accounts_new = read_accounts(cfg.accounts, quarantine=quarantine) if cfg.accounts else None
        quarantine.close()
        new = pa.concat_tables(batches) if batches else None
        already = 0
        old_prompts = prev.query("SELECT * FROM prompts") if prev else None
        pruned = 0
        if cfg.prune_before is not None and old_prompts is not None:
            keep = epoch_seconds(old_prompts["timestamp"]) >= int(cfg.prune_before.timestamp())
            pruned = int((~keep).sum())
            old_prompts = old_prompts.filter(pa.array(keep))
            if not old_prompts.num_rows:
                raise StoreError(f"{store.root}: pruning before {cfg.prune_before:%Y-%m-%d} would remove every prompt")
        if new is not None and old_prompts is not None and old_prompts.num_rows:
            known = pc.is_in(new["prompt_id"], value_set=old_prompts["prompt_id"])
            already = int(pc.sum(known).as_py() or 0)
            new = new.filter(pc.invert(known))
        accepted = new.num_rows if new is not None else 0
        if accepted == 0 and old_prompts is None:
            raise InputError(
                ", ".join(str(p) for p in cfg.inputs), "no valid prompt row to process (see the quarantine file)"
            )
        timer.say(
            f"  accepted {accepted:,}, quarantined {quarantine.count:,}"
            + (f" -> {qpath}" if quarantine.count else "")
            + (f", already in store {already:,}" if already else "")
        )

    # -- 2. normalise / mask ---------------------------------------------------------------------------------
    with timer.stage("normalize"):
        new_keys, new_norm = _normalise_new(new)
        prompts = _merge_prompts(old_prompts, new, new_keys)
        # the merged table holds its own combined copy: drop the ingest batches (~0.7 GB at 1M prompts)
        del batches, new, old_prompts, new_keys
        accounts = _merge_accounts(prev, accounts_new, prompts)
        window = _window(prompts, cfg.window_days)
        texts_idx = _distinct_texts(window["text_key"])
        old_keys, norm_by_key = _known_texts(prev)
        norm_by_key.update(new_norm)
        del new_norm
        text_keys = texts_idx.keys
        norm = [norm_by_key[k] for k in text_keys]
        del norm_by_key
        skeleton = [mask(t) for t in norm]
        text_row = texts_idx.row_of_prompt

    # -- 2b. template families -------------------------------------------------------------------------------
    with timer.stage("templates"):
        acc_codes, acc_names = _codes(window["account_id"])
        tmpl = mine_templates(norm, text_row, acc_codes)

    # -- 3. MinHash + LSH ------------------------------------------------------------------------------------
    with timer.stage("minhash"):
        sigs = _signatures(prev, old_keys, text_keys, norm)
        dup_group = lsh_groups(sigs, min_jaccard=0.5)
        # near-duplicate groups of the slot contents: "how many different things does a cohort ask?" must not
        # be answered by the wrapper, which makes every prompt of a long template look alike
        templated = np.flatnonzero(tmpl.template_id != 0)
        payload_sigs = sigs.copy()
        if len(templated):
            payload_sigs[templated] = MinHasher().signatures([tmpl.payload[i] for i in templated])
        payload_group = lsh_groups(payload_sigs, min_jaccard=0.5)
        del payload_sigs  # only the groups are kept (it is the size of all signatures)

    # -- 4. embed --------------------------------------------------------------------------------------------
    with timer.stage("embed"):
        embedder = get_embedder(cfg.embedder, Path(cfg.models_dir) if cfg.models_dir else None)
        cache = EmbeddingCache.for_embedder(store.root, embedder)
        vectors, estats = embed_texts(norm, list(text_keys), embedder, cache, show_progress=not cfg.quiet)
        # payloads (slot contents) of templated texts, for the capability taxonomy; plain texts are their own payload
        p_texts = [tmpl.payload[i] for i in templated]
        p_keys = [text_hash(t) for t in p_texts]
        p_vecs, pstats = embed_texts(p_texts, p_keys, embedder, cache, show_progress=False)
        payload_vectors = vectors.copy()
        payload_vectors[templated] = p_vecs
        timer.say(f"  {estats.new + pstats.new:,} texts embedded, {estats.cached + pstats.cached:,} from cache")

    # -- 5. index --------------------------------------------------------------------------------------------
    with timer.stage("index"):
        index, added = _grow_or_build_index(prev, old_keys, text_keys, vectors, embedder.name)
        if added is None:
            timer.say(f"  index built over {index.size:,} vectors")
        else:
            timer.say(f"  index grown in place by {added:,} vectors to {index.size:,}")

    # -- 6. cluster ------------------------------------------------------------------------------------------
    with timer.stage("cluster"):
        result = cluster.cluster_vectors(index, k=cfg.knn, min_cluster_size=cfg.min_cluster_size, vectors=vectors)
        text_cluster = result.labels
        clusters_tbl = cluster.summarize(result, norm, vectors, text_row, acc_codes, tmpl.template, tmpl.template_id)

    # -- 7. score --------------------------------------------------------------------------------------------
    with timer.stage("score"):
        ctx = signals.Context(
            window=window,
            accounts=accounts,
            text_row=text_row,
            account_codes=acc_codes,
            account_names=acc_names,
            norm=norm,
            template_id=tmpl.template_id,
            template=tmpl.template,
            payload=tmpl.payload,
            wrapper_share=tmpl.wrapper_share,
            payload_vectors=payload_vectors,
            dup_group=dup_group,
            payload_group=payload_group,
            text_cluster=text_cluster,
            embedder=embedder,
        )
        verdicts = campaigns.detect(ctx)
        payment_of = dict(
            zip(accounts["account_id"].to_pylist(), [p or "" for p in accounts["payment_fp"].to_pylist()], strict=True)
        )
        old_history = [_table(prev, t) for t in ("campaign_history", "campaign_nights", "campaign_events")]
        tracking = history.track(*old_history, verdicts.campaigns, window, payment_of, run_id)
        if cfg.prune_before is not None:
            # a prune changes what is stored, not what happened: keep the ids it matched, not its events
            tracking = history.keep_history(tracking, *old_history)
        verdicts = verdicts.with_ids(tracking.stable_id, tracking.continued)

    # -- 8. commit -------------------------------------------------------------------------------------------
    with timer.stage("commit"):
        texts_tbl = pa.table(
            {
                "text_row": pa.array(np.arange(len(norm), dtype=np.int64)),
                "text_key": pa.array(list(text_keys), pa.binary(16)),
                "norm_text": pa.array(norm, pa.string()),
                "skeleton": pa.array(skeleton, pa.string()),
                "template_id": pa.array(tmpl.template_id),
                "dup_group": pa.array(dup_group.astype(np.int64)),
                "cluster_id": pa.array(text_cluster.astype(np.int64)),
                "cluster_prob": pa.array(result.probabilities.astype(np.float32)),
            }
        )
        writer = store.begin(run_id)
        try:
            writer.table("prompts", prompts)
            writer.table("texts", texts_tbl)
            writer.table(
                "window_prompts",
                pa.table({"prompt_id": window["prompt_id"], "text_row": pa.array(text_row.astype(np.int64))}),
            )
            writer.table("accounts", verdicts.accounts)
            writer.table("clusters", clusters_tbl)
            writer.table("templates", _templates_table(tmpl, text_row, acc_codes))
            writer.table("campaigns", verdicts.campaigns)
            writer.table("campaign_history", tracking.history)
            writer.table("campaign_nights", tracking.nights)
            writer.table("campaign_events", tracking.events)
            writer.array("vectors", vectors.astype(np.float16))
            writer.array("signatures", sigs)
            index.save(writer.path("index.faiss"))
            n_flagged = int(pc.sum(verdicts.accounts["flagged"]).as_py() or 0)
            report = RunReport(
                run_id=run_id,
                accepted=accepted,
                quarantined=quarantine.count,
                already_stored=already,
                pruned=pruned,
                quarantine_path=str(qpath) if quarantine.count else None,
                quarantine_by_reason=dict(quarantine.by_reason),
                prompts_in_store=prompts.num_rows,
                prompts_in_window=window.num_rows,
                texts=len(norm),
                new_embeddings=estats.new + pstats.new,
                cached_embeddings=estats.cached + pstats.cached,
                clusters=result.n_clusters,
                campaigns=int(pc.sum(verdicts.campaigns["flagged"]).as_py() or 0),
                flagged_accounts=n_flagged,
                timings=dict(timer.timings),
                peak_rss_mb=dict(timer.peak_rss_mb),
            )
            runs = prev.query("SELECT * FROM runs").to_pylist() if prev else []
            runs.append(
                {
                    "run_id": run_id,
                    "started_at": started.isoformat(),
                    "finished_at": datetime.now(timezone.utc).isoformat(),
                    "inputs": json.dumps([str(p) for p in cfg.inputs]),
                    "embedder": embedder.name,
                    "report": json.dumps(report.__dict__, default=str),
                }
            )
            writer.table("runs", pa.Table.from_pylist(runs))
            if cfg.fail_after == "commit-tables":
                raise InjectedFailure("injected failure while writing the snapshot")
            writer.commit(
                {
                    "run_id": run_id,
                    "embedder": embedder.name,
                    "embedder_spec": cfg.embedder,
                    "dim": int(vectors.shape[1]),
                    "texts": len(norm),
                    "prompts": prompts.num_rows,
                    "window_days": cfg.window_days,
                }
            )
        except BaseException:
            writer.abort()
            raise
    if cfg.prune_before is not None:
        # the cache is content-addressed and shared by snapshots: after a prune keep only what is still referenced
        cache.reset(np.concatenate([as_keys(list(text_keys)), as_keys(p_keys)]), np.concatenate([vectors, p_vecs]))
    report.timings = dict(timer.timings)
    report.peak_rss_mb = dict(timer.peak_rss_mb)
    return report


# -- helpers -----------------------------------------------------------------------------------------------------


def _normalise_new(new: pa.Table | None) -> tuple[pa.Array, dict[bytes, str]]:
    """Normalise the new prompts once: their content keys, and the normalised text of each new key.

    Each distinct raw text is normalised and hashed once (Arrow's dictionary encoding finds them in C++): a night
    repeats itself a lot (templated traffic, retries, viral prompts; ~2.4x at 1M benchmark prompts), and
    ``normalize`` is a Python call of a few regexes.
    """
    if new is None or new.num_rows == 0:
        return pa.array([], pa.binary(16)), {}
    enc = pc.dictionary_encode(new["text"]).combine_chunks()
    norm_u = [normalize(raw) for raw in enc.dictionary.to_pylist()]
    keys_u = [text_hash(t) for t in norm_u]
    norm_by_key: dict[bytes, str] = {}
    for k, t in zip(keys_u, norm_u, strict=True):
        norm_by_key.setdefault(k, t)
    return pa.array(keys_u, pa.binary(16)).take(enc.indices), norm_by_key


def _merge_prompts(old: pa.Table | None, new: pa.Table | None, new_keys: pa.Array | list[bytes]) -> pa.Table:
    """Stored prompts plus the new ones, in the ingest schema (DuckDB hands timestamps back in microseconds)."""
    schema = PROMPT_SCHEMA.append(pa.field("text_key", pa.binary(16)))
    parts = []
    if old is not None and old.num_rows:
        parts.append(old.select(schema.names).cast(schema))
    if new is not None and new.num_rows:
        keys = new_keys if isinstance(new_keys, pa.Array) else pa.array(new_keys, pa.binary(16))
        parts.append(new.append_column("text_key", keys).select(schema.names).cast(schema))
    if not parts:
        raise ValueError("no prompts: the input held no valid row and the store is empty")
    return pa.concat_tables(parts).combine_chunks()


def _merge_accounts(prev: Any, new: pa.Table | None, prompts: pa.Table) -> pa.Table:
    """Account attributes: the newest account table wins; accounts seen only in prompts get empty attributes."""
    cols = [f.name for f in ACCOUNT_SCHEMA]
    parts = []
    if new is not None:
        parts.append(new.select(cols).cast(ACCOUNT_SCHEMA))
    if prev is not None:
        parts.append(prev.query(f"SELECT {', '.join(cols)} FROM accounts").cast(ACCOUNT_SCHEMA))
    seen_ids = pc.unique(prompts["account_id"])
    parts.append(
        pa.table(
            {
                c: (seen_ids if c == "account_id" else pa.nulls(len(seen_ids), f.type))
                for c, f in zip(cols, ACCOUNT_SCHEMA, strict=True)
            }
        ).cast(ACCOUNT_SCHEMA)
    )
    merged = pa.concat_tables(parts)
    _, first = np.unique(merged["account_id"].to_numpy(zero_copy_only=False), return_index=True)
    return merged.take(pa.array(np.sort(first)))


def _window(prompts: pa.Table, days: float) -> pa.Table:
    """Prompts of the last ``days`` days (relative to the newest prompt), the span clustering and scoring see."""
    ts = epoch_seconds(prompts["timestamp"])
    keep = ts >= ts.max() - int(days * 86400)
    return prompts.filter(pa.array(keep)) if not keep.all() else prompts


@dataclass
class _Distinct:
    keys: list[bytes]
    row_of_prompt: np.ndarray


def _distinct_texts(keys: pa.ChunkedArray | pa.Array) -> _Distinct:
    """Distinct content keys in first-seen order and each prompt's row among them.

    Arrow's dictionary encoding assigns codes in order of first occurrence, which is exactly this contract, in one
    hash pass (4x the previous sort of 16-byte records at 1M prompts).
    """
    enc = pc.dictionary_encode(keys)
    if isinstance(enc, pa.ChunkedArray):
        enc = enc.combine_chunks()  # one dictionary for all chunks: the kernel's memo table spans them
    return _Distinct(enc.dictionary.to_pylist(), enc.indices.to_numpy(zero_copy_only=False).astype(np.int64))


def _grow_or_build_index(
    prev: Any, old: list[bytes], keys: list[bytes], vectors: np.ndarray, embedder: str
) -> tuple[VectorIndex, int | None]:
    """Last night's index with tonight's new texts added in place (index, vectors added), or (new index, None).

    Text rows are ordered by first appearance in the window, so while the window only grows, last night's texts
    are a prefix of tonight's and their vector ids are unchanged: the HNSW graph is extended, not rebuilt. When
    texts leave the window (it slid, or a prune), the embedder changed, or the index outgrows the exact flat index,
    it is built anew.
    """
    if prev is not None and prev.has("index.faiss") and prev.meta().get("embedder") == embedder:
        fits = VectorIndex.kind_for(len(keys)) == VectorIndex.kind_for(len(old))
        if fits and len(old) <= len(keys) and keys[: len(old)] == old:
            index = VectorIndex.load(prev.path / "index.faiss")
            if index.size == len(old):
                index.add(vectors[len(old) :])
                return index, len(keys) - len(old)
    return VectorIndex.build(vectors), None


def _table(prev: Any, name: str) -> pa.Table | None:
    """A table of the previous snapshot, or None (first run, or a store written before the table existed)."""
    if prev is None:
        return None
    try:
        return prev.query(f'SELECT * FROM "{name}"')
    except Exception:  # noqa: BLE001 - duckdb raises CatalogException; a missing table simply means no history
        return None


def _known_texts(prev: Any) -> tuple[list[bytes], dict[bytes, str]]:
    """The previous snapshot's text keys in row order (its vector and signature ids) and their normalised texts."""
    if prev is None:
        return [], {}
    tbl = prev.query("SELECT text_key, norm_text FROM texts ORDER BY text_row")
    keys = tbl["text_key"].to_pylist()
    return keys, dict(zip(keys, tbl["norm_text"].to_pylist(), strict=True))


def _signatures(prev: Any, old_keys: list[bytes], keys: list[bytes], norm: list[str]) -> np.ndarray:
    """MinHash signatures: reused from the previous snapshot by content key, computed for new texts only."""
    hasher = MinHasher()
    sigs = np.empty((len(keys), hasher.num_perm), dtype=np.uint32)
    todo = np.ones(len(keys), dtype=bool)
    if prev is not None and prev.has("signatures.npy"):
        where = {k: i for i, k in enumerate(old_keys)}
        hit = np.array([where.get(k, -1) for k in keys], dtype=np.int64)
        found = hit >= 0
        if found.any():
            sigs[found] = prev.array("signatures")[hit[found]]
            todo &= ~found
    if todo.any():
        idx = np.flatnonzero(todo)
        sigs[idx] = hasher.signatures([norm[i] for i in idx])
    return sigs


def _codes(col: pa.ChunkedArray) -> tuple[np.ndarray, list[str]]:
    """Dictionary-encode a string column: integer codes per row and the names they stand for."""
    enc = pc.dictionary_encode(col).combine_chunks()
    return enc.indices.to_numpy(zero_copy_only=False).astype(np.int64), enc.dictionary.to_pylist()


def _templates_table(tmpl: Any, text_row: np.ndarray, acc_codes: np.ndarray) -> pa.Table:
    ids = tmpl.template_id[text_row]
    has = ids != 0
    if not has.any():
        return pa.table(
            {
                "template_id": pa.array([], pa.int64()),
                "template": pa.array([], pa.string()),
                "prompts": pa.array([], pa.int64()),
                "accounts": pa.array([], pa.int64()),
            }
        )
    uniq, first, counts = np.unique(ids[has], return_index=True, return_counts=True)
    pairs = np.unique(np.stack([ids[has], acc_codes[has]], axis=1), axis=0)
    _, n_acc = np.unique(pairs[:, 0], return_counts=True)
    rows_with = np.flatnonzero(has)
    names = [tmpl.template[text_row[rows_with[f]]] for f in first]
    return pa.table(
        {
            "template_id": pa.array(uniq),
            "template": pa.array(names),
            "prompts": pa.array(counts),
            "accounts": pa.array(n_acc),
        }
    )


ProgressFn = Callable[[str], None]

"""The nightly run's steps: plain functions with explicit inputs and outputs, in pipeline order.

Each step takes what earlier steps produced (small dataclasses below) and returns its own result; none reads the
store or a global, so each can be run and tested alone, and an executor (``engine.executor``) decides how
and where it runs. The stage logic itself lives in the stage packages (``engine.ingest``, ``engine.text``,
``engine.embed``, ``engine.vectors``, ``engine.detect``); these functions only connect them.

The per-text work (normalise and mask, MinHash, embedding) goes through the executor's data-parallel contract
(``ex.map_batches`` / ``ex.iter_batches_actor``) with the batch functions at the end of this module, so a Ray run
calls exactly the functions a local run calls; ``ex`` defaults to an in-process ``LocalExecutor``. Everything else
runs on the driver (costs listed in ``engine.executor``).

    ingest → normalize → templates → minhash → embed → index → cluster → detect → commit
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from engine.batches import column_matrix, matrix_column
from engine.detect import casework, history
from engine.detect.campaigns import Verdicts, detect
from engine.detect.signals import Context, PendingTextSignals, submit_text_signals
from engine.embed import Embedder, EmbeddingCache, RowOverlay, embed_texts, get_embedder
from engine.executor import Executor, LocalExecutor
from engine.ingest import (
    ACCOUNT_SCHEMA,
    InputError,
    Quarantine,
    chat_offsets,
    envelopes,
    epoch_seconds,
    read_accounts,
    read_prompts,
    sources,
)
from engine.ingest.network import Networks
from engine.pipeline.config import RunConfig
from engine.pipeline.previous import Previous
from engine.store import StoreError
from engine.store.tables import PROMPTS, TEMPLATES
from engine.text.minhash import MinHasher, lsh_groups
from engine.text.normalize import MaskBatches, normalize, normalize_request, text_hash
from engine.text.templates import Segments, TemplateResult, mine_templates, ranges, segments
from engine.vectors import cluster, lineage
from engine.vectors.index import VectorIndex
from engine.vectors.knn import SHARD_ROWS

# -- 1. ingest ---------------------------------------------------------------------------------------------------


@dataclass
class Ingested:
    """Tonight's new prompts (ids already stored removed) beside the stored ones, and what was set aside."""

    new: pa.Table | None
    stored: pa.Table | None
    accounts: pa.Table | None
    accepted: int
    already_stored: int
    pruned: int
    quarantined: int
    quarantine_path: Path
    quarantine_by_reason: dict[str, int]

    def describe(self) -> str:
        q = f" -> {self.quarantine_path}" if self.quarantined else ""
        already = f", already in store {self.already_stored:,}" if self.already_stored else ""
        return f"  accepted {self.accepted:,}, quarantined {self.quarantined:,}{q}{already}"


def ingest(
    inputs: list[str | Path],
    accounts_file: str | Path | None,
    prev: Previous,
    quarantine_path: Path,
    prune_before: datetime | None = None,
    reading: envelopes.Reading | None = None,
    networks: Networks | None = None,
) -> Ingested:
    """Read tonight's files (bad rows to the quarantine), drop prompts already stored, apply a prune.

    Reading stays on the driver whatever the executor: the quarantine is one file whose records name the file,
    line and field of each bad row in reading order, and the duplicate-id check (``seen``) spans files, so the
    first occurrence of an id wins across the whole night. Reading files in parallel would need a second pass to
    dedupe ids across workers and a merge of per-worker quarantine files in order. Cost: one pass over the input
    bytes on one core (the JSONL path is ~1 s per 100k prompts here), memory O(one batch) while reading plus the
    accepted prompts as Arrow tables.
    """
    quarantine = Quarantine(quarantine_path)
    batches: list[pa.Table] = []
    seen: set[str] = set()
    for path in inputs:
        for log in sources.expand(path):  # a file, a (Hive-partitioned) directory, or the same on object storage
            with sources.local_copy(log) as local:
                batches.extend(
                    read_prompts(local, quarantine=quarantine, seen_ids=seen, reading=reading,
                                 name=log.name if log.uri else None, partition=log.partition or None,
                                 networks=networks)
                )  # fmt: skip
    accounts_new = read_accounts(accounts_file, quarantine=quarantine) if accounts_file else None
    quarantine.close()
    new = pa.concat_tables(batches) if batches else None
    del batches
    stored, pruned, already = prev.prompts, 0, 0
    if prune_before is not None and stored is not None:
        keep = epoch_seconds(stored["timestamp"]) >= int(prune_before.timestamp())
        pruned = int((~keep).sum())
        stored = stored.filter(pa.array(keep))
        if not stored.num_rows:
            raise StoreError(f"pruning before {prune_before:%Y-%m-%d} would remove every prompt")
    if new is not None and stored is not None and stored.num_rows:
        known = pc.is_in(new["prompt_id"], value_set=stored["prompt_id"])
        already = int(pc.sum(known).as_py() or 0)
        new = new.filter(pc.invert(known))
    accepted = new.num_rows if new is not None else 0
    if accepted == 0 and stored is None:
        why = ", ".join(f"{r} {c}" for r, c in sorted(quarantine.by_reason.items(), key=lambda kv: -kv[1]))
        said = f"{quarantine.count:,} rows quarantined ({why}) in {quarantine_path}" if quarantine.count else "no rows"
        raise InputError(", ".join(str(p) for p in inputs), f"no valid prompt row to process: {said}")
    return Ingested(
        new=new,
        stored=stored,
        accounts=accounts_new,
        accepted=accepted,
        already_stored=already,
        pruned=pruned,
        quarantined=quarantine.count,
        quarantine_path=quarantine_path,
        quarantine_by_reason=dict(quarantine.by_reason),
    )


# -- 2. normalise / mask -----------------------------------------------------------------------------------------


@dataclass
class Texts:
    """All stored prompts, the analysis window, and the window's distinct normalised texts.

    ``text_row[i]`` is the row among ``keys``/``norm`` of the window's i-th prompt; a text row is also the text's
    vector, signature and FAISS id.
    """

    prompts: pa.Table
    accounts: pa.Table
    window: pa.Table
    keys: list[bytes]
    norm: list[str]
    skeleton: list[str]
    text_row: np.ndarray
    old_keys: list[bytes]  # the previous snapshot's text keys, in its row order
    # chat requests whose text holds a system prompt: their text rows (ascending) and the newest turn alone,
    # normalised, which is what the embed step embeds for them (``engine.ingest.envelopes``, ``turn_at``)
    turn_rows: np.ndarray
    turn_norm: list[str]

    def describe(self) -> str:
        return f"  window {self.window.num_rows:,} prompts, {len(self.keys):,} distinct texts"

    def embed_inputs(self, segs: Segments | None = None) -> tuple[list[str], list[bytes]]:
        """Per text row, what its vector is of and that string's content key: the normalised text, or for a chat
        request under a system prompt its newest turn (the system prompt is shared by thousands of requests, and
        a 20-step agent session under one is 20 tasks, not 20 copies of one long prompt with a task appended).

        Given the mined ``segs``, a turn is read without the wrapper text inside it too ("Task: <question>" is the
        question), so its vector also serves as its payload's (``_own_payloads``): agent sessions that put a
        wrapper in every turn would otherwise embed each task twice."""
        if not len(self.turn_rows):
            return self.norm, self.keys
        norm, keys = list(self.norm), list(self.keys)
        for r, t in self.turns().items():
            norm[r], keys[r] = t, text_hash(t)
        if segs is not None:
            # only the turns that hold wrapper text are cut again (one Python pass each): the others stay as sent,
            # keys and cached vectors included
            rows = self.turn_rows
            hi = segs.start[rows + 1]
            k = np.minimum(np.fromiter((len(segments(t)) for t in self.turn_norm), np.int64, len(rows)),
                           hi - segs.start[rows])  # fmt: skip
            occ = ranges(hi - k, k)
            wrapped = np.bincount(np.repeat(np.arange(len(rows)), k)[segs.common[occ]], minlength=len(rows)) > 0
            for i in np.flatnonzero(wrapped).tolist():
                own = segs.own_tail(int(rows[i]), int(k[i]))
                if own is not None:
                    norm[rows[i]] = own
                    keys[rows[i]] = text_hash(own)
        return norm, keys

    def turns(self) -> dict[int, str]:
        """Text row -> its newest turn alone, normalised, for the chat requests under a system prompt: what is
        embedded for them (``embed_inputs``) and where their affixes are read (``start_text_signals``)."""
        return dict(zip(self.turn_rows.tolist(), self.turn_norm, strict=True))


def normalize_texts(ing: Ingested, prev: Previous, window_days: float, *, ex: Executor | None = None) -> Texts:
    """Normalise tonight's prompts, merge them with the stored ones, cut the window, list its distinct texts.

    Consumes ``ing.new`` and ``ing.stored`` (set to None): the merged table holds its own copy, and at 1M prompts
    the ingest batches are ~0.7 GB that no later step needs. Normalising and masking run through ``ex``; the
    merge, window and distinct texts are Arrow hash passes on the driver (O(prompts)).
    """
    ex = ex or LocalExecutor(quiet=True)
    new_keys, new_norm = _normalise_new(ing.new, ex)
    prompts = _merge_prompts(ing.stored, ing.new, new_keys)
    ing.new = ing.stored = None
    accounts = _merge_accounts(prev.accounts, ing.accounts, prompts)
    window = _window(prompts, window_days)
    keys, text_row = _distinct_texts(window["text_key"])
    norm_by_key = dict(prev.norm_by_key)
    norm_by_key.update(new_norm)
    norm = [norm_by_key[k] for k in keys]
    turn_rows, turn_norm = _chat_turns(window, text_row, norm)
    return Texts(
        prompts=prompts,
        accounts=accounts,
        window=window,
        keys=keys,
        norm=norm,
        skeleton=_skeletons(norm, ex),
        text_row=text_row,
        old_keys=prev.text_keys,
        turn_rows=turn_rows,
        turn_norm=turn_norm,
    )


def _chat_turns(window: pa.Table, text_row: np.ndarray, norm: list[str]) -> tuple[np.ndarray, list[str]]:
    """Text rows of chat requests under a system prompt, and each one's newest turn alone, normalised.

    The first such prompt of a text row decides (prompts sharing a normalised text share its system prompt, but
    for a flat prompt that happens to read like one); a turn that normalises to the whole text is left out."""
    at = chat_offsets(window["meta"], "turn_at")
    hit = np.flatnonzero(at > 0)
    if not len(hit):
        return np.zeros(0, dtype=np.int64), []
    rows, first = np.unique(text_row[hit], return_index=True)
    prompts = hit[first]
    raw = window["text"].take(pa.array(prompts)).to_pylist()
    out_rows, out_norm = [], []
    for r, i, t in zip(rows.tolist(), prompts.tolist(), raw, strict=True):
        turn = normalize(t[int(at[i]) :])
        if turn and turn != norm[r]:
            out_rows.append(r)
            out_norm.append(turn)
    return np.asarray(out_rows, dtype=np.int64), out_norm


# -- 3. templates ------------------------------------------------------------------------------------------------


@dataclass
class Templates:
    """Wrapper templates mined across accounts, and the window's accounts as integer codes."""

    result: TemplateResult
    account_codes: np.ndarray  # per window prompt
    account_names: list[str]

    @property
    def templated(self) -> np.ndarray:
        """Text rows that carry a shared wrapper (their payload differs from the text)."""
        return np.flatnonzero(self.result.template_id != 0)

    def table(self, text_row: np.ndarray) -> pa.Table:
        """One row per template: its text, prompts and accounts."""
        return _templates_table(self.result, text_row, self.account_codes)


def templates(texts: Texts) -> Templates:
    codes, names = _codes(texts.window["account_id"])
    return Templates(mine_templates(texts.norm, texts.text_row, codes), codes, names)


# -- 4. MinHash + LSH --------------------------------------------------------------------------------------------


@dataclass
class Signatures:
    signatures: np.ndarray  # (texts, num_perm) uint32
    dup_group: np.ndarray  # LSH near-duplicate group of each text
    payload_group: np.ndarray  # ... of each text's payload (slot contents)


def minhash(texts: Texts, tmpl: Templates, prev: Previous, *, ex: Executor | None = None) -> Signatures:
    """Signatures (reused by content key from the previous night), near-duplicate groups of texts and payloads.

    Payload groups answer "how many different things does a cohort ask?" without the wrapper, which makes every
    prompt of a long template look alike. Signatures are computed through ``ex``, and so are LSH buckets: by a
    numpy sort per band here with a local executor, by the executor's distributed sort on band keys with a
    distributed one (Ray), the same groups either way (``engine.text.minhash.lsh_pairs``). The Jaccard check of
    candidate edges and the connected components run here: O(t) signatures (512 bytes per text) and O(edges).
    """
    ex = ex or LocalExecutor(quiet=True)
    sigs = _signatures(prev, texts.keys, texts.norm, ex)
    dup_group = lsh_groups(sigs, min_jaccard=0.5, ex=ex)
    templated = tmpl.templated
    payload_sigs = sigs.copy()
    if len(templated):
        payload_sigs[templated] = _minhash_texts([tmpl.result.payload[i] for i in templated], ex)
    return Signatures(sigs, dup_group, lsh_groups(payload_sigs, min_jaccard=0.5, ex=ex))


# -- 5. embed ----------------------------------------------------------------------------------------------------


@dataclass
class Embedded:
    embedder: Embedder
    cache: EmbeddingCache
    vectors: np.ndarray  # per text
    keys: list[bytes]  # per text: the content key of what its vector is of (``Texts.embed_inputs``)
    payload_vectors: RowOverlay  # per text: its payload's vector (the text's own when not templated)
    payload_keys: list[bytes]  # content keys of the templated texts' payloads
    new: int
    cached: int

    def describe(self) -> str:
        return f"  {self.new:,} texts embedded, {self.cached:,} from cache"


def embed(texts: Texts, tmpl: Templates, embedder_spec: str, models_dir: Path | None, store_root: Path, *,
          show_progress: bool, ex: Executor | None = None) -> Embedded:  # fmt: skip
    """Vectors of the window's texts and of the templated texts' payloads (for the capability taxonomy).

    The cache lookup and writes stay on the driver (``embed_texts``); only the texts the cache lacks are encoded,
    through ``ex.iter_batches_actor`` with one model per actor (``EmbedBatches``), streamed back so the cache is
    written as vectors arrive. The driver keeps its own embedder for the cache namespace, the dimension and the
    detect stage's few exemplar encodings; in-process (local executor) the actor reuses it rather than loading
    the model twice.

    A static model encodes from the texts' segments instead (``StaticEmbedder.segment_encoder``: each distinct
    segment tokenised once, the same vectors bit for bit), on the driver whatever the executor: at 1M prompts
    that is ~23 s of work on 2 cores against ~50 s for the texts alone, less than shipping them to actors costs.
    """
    ex = ex or LocalExecutor(quiet=True)
    embedder = get_embedder(embedder_spec, models_dir)
    cache = EmbeddingCache.for_embedder(store_root, embedder)
    ctor = {"spec": embedder_spec, "models_dir": str(models_dir) if models_dir is not None else None}

    def encoder(rows: np.ndarray, todo: list[str], batch_size: int) -> Iterator[np.ndarray]:
        table = pa.table({"text": pa.array(todo, pa.string())})
        for out in ex.iter_batches_actor(EmbedBatches, table, batch_size=batch_size, ctor_kwargs=ctor):
            yield column_matrix(out["vector"], np.float16)

    segs = tmpl.result.segments
    norm, keys = texts.embed_inputs(segs)
    templated = _own_payloads(tmpl, norm, texts.turn_rows)
    by_segment = getattr(embedder, "segment_encoder", None)
    pieces = by_segment(segs.strings) if by_segment is not None and segs is not None else None
    text_encoder, payload_encoder = encoder, encoder
    if pieces is not None:  # a static model: each distinct segment tokenised once (engine.embed.pieces)
        payload_segs = segs.of_payloads(templated)

        def by_segments(rows: np.ndarray, todo: list[str], batch_size: int) -> Iterator[np.ndarray]:
            return pieces.encode(segs, rows, todo, batch_size)

        # a chat turn is not one of the mined segments' texts: those rows are encoded as they are
        text_encoder = _encode_split(by_segments, encoder, texts.turn_rows, len(norm))

        def payload_encoder(rows: np.ndarray, todo: list[str], batch_size: int) -> Iterator[np.ndarray]:
            return pieces.encode(payload_segs, rows, todo, batch_size)

    _LOADED[(ctor["spec"], ctor["models_dir"])] = embedder
    try:
        vectors, s1 = embed_texts(norm, keys, embedder, cache, show_progress=show_progress, encoder=text_encoder)
        p_texts = [tmpl.result.payload[i] for i in templated]
        p_keys = [text_hash(t) for t in p_texts]
        p_vecs, s2 = embed_texts(p_texts, p_keys, embedder, cache, show_progress=False, encoder=payload_encoder)
    finally:
        _LOADED.pop((ctor["spec"], ctor["models_dir"]), None)
    payload_vectors = RowOverlay(vectors, np.asarray(templated, dtype=np.int64), p_vecs)
    return Embedded(embedder, cache, vectors, keys, payload_vectors, p_keys, s1.new + s2.new, s1.cached + s2.cached)


def _own_payloads(tmpl: Templates, inputs: list[str], turn_rows: np.ndarray) -> np.ndarray:
    """Templated text rows whose payload needs a vector of its own.

    A chat turn under a system prompt is embedded alone, without the wrapper text inside it (``Texts.embed_inputs``);
    when the rest of the mined wrapper is that system prompt, the payload is that same string, or the turn with its
    line breaks joined by spaces, which a word-piece tokenizer reads as the same tokens, so the turn's vector
    serves it."""
    templated = tmpl.templated
    if not len(turn_rows) or not len(templated):
        return templated
    turned = templated[np.isin(templated, turn_rows)]
    payload = tmpl.result.payload
    same = [r for r in turned.tolist() if payload[r].split() == inputs[r].split()]
    return np.setdiff1d(templated, same)


Encoder = Callable[[np.ndarray, list[str], int], Iterator[np.ndarray]]


def _encode_split(main: Encoder, other: Encoder, other_rows: np.ndarray, n: int) -> Encoder:
    """An ``embed_texts`` encoder that hands rows in ``other_rows`` to ``other`` and the rest to ``main``, a
    batch at a time, the vectors back in the order asked (``embed_texts`` reads them as consecutive runs)."""
    if not len(other_rows):
        return main
    is_other = np.zeros(n, dtype=bool)
    is_other[other_rows] = True

    def encode(rows: np.ndarray, todo: list[str], batch_size: int) -> Iterator[np.ndarray]:
        rows = np.asarray(rows, dtype=np.int64)
        for s in range(0, len(rows), batch_size):
            r, o = rows[s : s + batch_size], is_other[rows[s : s + batch_size]]
            out: np.ndarray | None = None
            for pick, enc in ((~o, main), (o, other)):
                at = np.flatnonzero(pick)
                if not len(at):
                    continue
                got = np.concatenate(list(enc(r[at], [todo[s + i] for i in at.tolist()], batch_size)))
                if out is None:
                    out = np.empty((len(r), got.shape[1]), dtype=got.dtype)
                out[at] = got
            assert out is not None
            yield out

    return encode


# -- 6. index ----------------------------------------------------------------------------------------------------


@dataclass
class Indexed:
    index: VectorIndex
    grown_by: int | None  # vectors added to last night's index, or None when built anew

    def describe(self) -> str:
        if self.grown_by is None:
            return f"  index built over {self.index.size:,} vectors"
        return f"  index grown in place by {self.grown_by:,} vectors to {self.index.size:,}"


def index(texts: Texts, emb: Embedded, prev: Previous) -> Indexed:
    """Last night's index with tonight's new texts added in place, or a new one.

    Text rows are ordered by first appearance in the window, so while the window only grows, last night's texts
    are a prefix of tonight's and their vector ids are unchanged: the HNSW graph is extended, not rebuilt. When
    texts leave the window (it slid, or a prune), the embedder changed, or the index outgrows the exact flat index,
    it is built anew.
    """
    old, keys = texts.old_keys, texts.keys
    if prev.index_dir is not None and prev.meta.get("embedder") == emb.embedder.name:
        fits = VectorIndex.kind_for(len(keys)) == VectorIndex.kind_for(len(old))
        if fits and len(old) <= len(keys) and keys[: len(old)] == old:
            idx = VectorIndex.open(prev.index_dir, emb.vectors[: len(old)])
            if idx.size == len(old):
                idx.add(emb.vectors[len(old) :])
                return Indexed(idx, len(keys) - len(old))
    return Indexed(VectorIndex.build(emb.vectors), None)


# -- 7. cluster --------------------------------------------------------------------------------------------------


@dataclass
class Clusters:
    """Tonight's clustering with ids carried from last night (``engine.vectors.lineage``): ``labels`` is each text's
    cluster id as stored and shown, ``result`` the clustering as computed (0..n-1)."""

    result: cluster.ClusterResult
    labels: np.ndarray
    table: pa.Table
    topics: pa.Table
    clusters_kept: int = 0
    topics_kept: int = 0
    next_cluster_id: int = 0
    next_topic_id: int = 0

    def describe(self) -> str:
        kept = f" ({self.clusters_kept:,} and {self.topics_kept:,} kept their ids)" if self.clusters_kept else ""
        return f"  {self.result.n_clusters:,} clusters in {self.result.n_topics:,} topics{kept}"


def cluster_texts(
    texts: Texts, tmpl: Templates, emb: Embedded, idx: Indexed, knn: int, min_size: int, *,
    ex: Executor | None = None, shard_rows: int = SHARD_ROWS, prev: Previous | None = None,
) -> Clusters:  # fmt: skip
    """HDBSCAN's dense cores of the texts' kNN graph grown into clusters of every text and grouped into topics
    (``engine.vectors.refine``), one summary row per cluster and per topic, and the ids of last night's clusters
    and topics carried onto tonight's through the texts they share (``engine.vectors.lineage``).

    The graph's queries are searched through ``ex`` over shards of the index (``engine.vectors.knn``: in parallel on
    Ray); HDBSCAN itself is global and runs here (its cost: executor module doc).
    """
    result = cluster.cluster_vectors(
        idx.index, k=knn, min_cluster_size=min_size, vectors=emb.vectors, ex=ex, shard_rows=shard_rows
    )
    args = (texts.norm, emb.vectors, texts.text_row, tmpl.account_codes, tmpl.result.template, tmpl.result.template_id)
    table = cluster.summarize(result, *args)
    topics = cluster.summarize_topics(table, result, *args)
    prev = prev or Previous()
    meta = prev.meta or {}
    shared, before = np.zeros(0, np.int64), np.zeros(0, np.int64)
    if prev.text_cluster is not None and len(prev.text_cluster) == len(prev.text_keys):
        rows = prev.rows_of(texts.keys)
        shared = np.flatnonzero(rows >= 0)
        before = prev.text_cluster[rows[shared]].astype(np.int64)
    cl_ids, tp_ids = lineage.carry_night(
        before, result.labels[shared], result.n_clusters, result.topics, prev.cluster_topic,
        int(meta.get("next_cluster_id", 0)), int(meta.get("next_topic_id", 0)),
    )  # fmt: skip
    labels, table, topics = lineage.relabel(result.labels, table, topics, cl_ids.ids, tp_ids.ids)
    return Clusters(result, labels, table, topics, cl_ids.kept, tp_ids.kept, cl_ids.next_id, tp_ids.next_id)


# -- 8. detect ---------------------------------------------------------------------------------------------------


@dataclass
class Detected:
    verdicts: Verdicts
    tracking: history.Tracking
    labels_seen: int = 0  # casework journal records in force (as they stood when the run started)

    @property
    def flagged_accounts(self) -> int:
        return int(pc.sum(self.verdicts.accounts["flagged"]).as_py() or 0)

    @property
    def campaigns(self) -> int:
        return int(pc.sum(self.verdicts.campaigns["flagged"]).as_py() or 0)

    def describe(self) -> str:
        return f"  {self.campaigns:,} suspected campaigns, {self.flagged_accounts:,} flagged accounts"


def start_text_signals(texts: Texts, tmpl: Templates, emb: Embedded, cfg: RunConfig, *,
                       ex: Executor | None = None) -> PendingTextSignals:  # fmt: skip
    """The scoring step's per-text signals (``engine.detect.signals.submit_text_signals``), started as soon as
    their inputs exist (after embed): a local executor computes them in the background while the index and the
    clusters are built, which left a core idle for much of their time (measured at 1M prompts, public3 --scale 7:
    ~45 idle core-seconds in the cluster step, against ~60 core-seconds of text signals; the score step went
    62 -> 37 s, the night 333 -> 309 and 316 s wall in two runs, the same verdicts). Starting the markers and language in a pass of
    their own after the templates was measured slower: MinHash and embed lost more (+15 s) than scoring gained."""
    return submit_text_signals(
        texts.norm, tmpl.result.payload, emb.payload_vectors, emb.embedder, cfg.detect, ex, turns=texts.turns()
    )


def detect_campaigns(
    texts: Texts, tmpl: Templates, sig: Signatures, emb: Embedded, cl: Clusters, prev: Previous, cfg: RunConfig,
    run_id: str, *, ex: Executor | None = None, case: casework.Casework | None = None,
    text_signals: PendingTextSignals | None = None,
) -> Detected:  # fmt: skip
    """Signals → cohorts → scored campaigns with reasons, then matched to the campaigns of earlier nights, then the
    analysts' labels and allowlist rules applied (``case``: the journal as it stood when the run started).

    The per-text signals and the per-account aggregates go through ``ex`` (``engine.detect.signals``); cohorts and
    campaign scoring run here. Casework changes what is flagged, after the history has matched the engine's own
    verdicts, so a campaign keeps its id whatever an analyst said."""
    ctx = Context(
        window=texts.window,
        accounts=texts.accounts,
        text_row=texts.text_row,
        account_codes=tmpl.account_codes,
        account_names=tmpl.account_names,
        norm=texts.norm,
        template_id=tmpl.result.template_id,
        template=tmpl.result.template,
        payload=tmpl.result.payload,
        payload_vectors=emb.payload_vectors,
        payload_group=sig.payload_group,
        text_cluster=cl.labels,
        executor=ex,
        embedder=emb.embedder,
        **_earlier_activity(texts.prompts, texts.window, tmpl.account_names),
    )
    verdicts = detect(ctx, cfg.detect, ts=text_signals.result() if text_signals is not None else None)
    acc = texts.accounts
    payment_of = dict(zip(acc["account_id"].to_pylist(), [p or "" for p in acc["payment_fp"].to_pylist()], strict=True))
    labelled = set(case.campaign) if case is not None else set()
    tracking = history.track(
        prev.history,
        prev.nights,
        prev.events,
        verdicts.campaigns,
        texts.window,
        payment_of,
        run_id,
        cfg.detect,
        labelled,
    )
    if cfg.prune_before is not None:
        # a prune changes what is stored, not what happened: keep the ids it matched, not its events
        tracking = history.keep_history(tracking, prev.history, prev.nights, prev.events)
    verdicts = verdicts.with_ids(tracking.stable_id, tracking.continued, cfg.detect.min_member_strength)
    if case is not None:
        night = str(pc.max(texts.window["timestamp"]).as_py())[:10] if texts.window.num_rows else ""
        verdicts = Verdicts(
            *casework.apply(verdicts.accounts, verdicts.campaigns, case, ctx, night, cfg.detect, verdicts.profiles),
            verdicts.profiles,
        )
    return Detected(verdicts, tracking, case.seen if case is not None else 0)


# -- helpers -----------------------------------------------------------------------------------------------------


def _normalise_new(new: pa.Table | None, ex: Executor) -> tuple[pa.Array, dict[bytes, str]]:
    """Normalise the new prompts once: their content keys, and the normalised text of each new key.

    Each distinct raw text is normalised and hashed once (Arrow's dictionary encoding finds them in C++, on the
    driver): a night repeats itself a lot (templated traffic, retries, viral prompts; ~2.4x at 1M benchmark
    prompts), and ``normalize`` is a Python call of a few regexes, run by ``ex`` (``_normalise_batch``).
    """
    if new is None or new.num_rows == 0:
        return pa.array([], pa.binary(16)), {}
    enc = pc.dictionary_encode(new["text"]).combine_chunks()
    # where a chat request's newest turn starts (0: no system prompt before it), per distinct raw text
    turn_at = np.zeros(len(enc.dictionary), dtype=np.int64)
    np.maximum.at(turn_at, enc.indices.to_numpy(zero_copy_only=False), chat_offsets(new["meta"], "turn_at"))
    table = pa.table({"raw": enc.dictionary, "turn_at": turn_at})
    out = ex.map_batches(_normalise_batch, table, batch_size=TEXT_BATCH)
    norm_u = out["norm"].to_pylist()
    keys = out["key"].combine_chunks()
    norm_by_key: dict[bytes, str] = {}
    for k, t in zip(keys.to_pylist(), norm_u, strict=True):
        norm_by_key.setdefault(k, t)
    return keys.take(enc.indices), norm_by_key


def _merge_prompts(old: pa.Table | None, new: pa.Table | None, new_keys: pa.Array) -> pa.Table:
    """Stored prompts plus the new ones, in the stored schema."""
    parts = []
    if old is not None and old.num_rows:
        parts.append(old.select(PROMPTS.names).cast(PROMPTS))
    if new is not None and new.num_rows:
        parts.append(new.append_column("text_key", new_keys).select(PROMPTS.names).cast(PROMPTS))
    if not parts:
        raise ValueError("no prompts: the input held no valid row and the store is empty")
    return pa.concat_tables(parts).combine_chunks()


def _merge_accounts(old: pa.Table | None, new: pa.Table | None, prompts: pa.Table) -> pa.Table:
    """Account attributes: the newest account table wins; accounts seen only in prompts get empty attributes."""
    cols = ACCOUNT_SCHEMA.names
    parts = [t.select(cols).cast(ACCOUNT_SCHEMA) for t in (new, old) if t is not None]
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


def _earlier_activity(prompts: pa.Table, window: pa.Table, names: list[str]) -> dict:
    """What the store holds from before the window, for the lifecycle statistics (``evidence.sleepers``): per
    window account (in ``names`` order), the time of its latest stored request before the window (NaN: none),
    and the oldest stored prompt's time. Empty when nothing stored is older than the window (a first night)."""
    ts = epoch_seconds(prompts["timestamp"])
    cut = int(epoch_seconds(window["timestamp"]).min()) if window.num_rows else int(ts.max(initial=0))
    before = ts < cut
    if not before.any():
        return {}
    old = pa.table({"account_id": prompts["account_id"], "t": ts}).filter(pa.array(before))
    last = old.group_by("account_id").aggregate([("t", "max")])
    at = pc.fill_null(pc.index_in(last["account_id"], value_set=pa.array(names, pa.string())), -1).to_numpy()
    earlier = np.full(len(names), np.nan)
    ok = at >= 0  # accounts with a request tonight; the others are not judged
    earlier[at[ok]] = last["t_max"].to_numpy()[ok]
    return {"earlier": earlier, "history_start": float(ts[before].min())}


def _distinct_texts(keys: pa.ChunkedArray | pa.Array) -> tuple[list[bytes], np.ndarray]:
    """Distinct content keys in first-seen order and each prompt's row among them.

    Arrow's dictionary encoding assigns codes in order of first occurrence, which is exactly this contract, in one
    hash pass (4x the previous sort of 16-byte records at 1M prompts).
    """
    enc = pc.dictionary_encode(keys)
    if isinstance(enc, pa.ChunkedArray):
        enc = enc.combine_chunks()  # one dictionary for all chunks: the kernel's memo table spans them
    return enc.dictionary.to_pylist(), enc.indices.to_numpy(zero_copy_only=False).astype(np.int64)


def _signatures(prev: Previous, keys: list[bytes], norm: list[str], ex: Executor) -> np.ndarray:
    """MinHash signatures: reused from the previous snapshot by content key, computed for new texts only."""
    hasher = MinHasher()
    sigs = np.empty((len(keys), hasher.num_perm), dtype=np.uint32)
    todo = np.ones(len(keys), dtype=bool)
    if prev.signatures is not None:
        hit = prev.rows_of(keys)
        found = hit >= 0
        if found.any():
            sigs[found] = prev.signatures[hit[found]]
            todo &= ~found
    if todo.any():
        idx = np.flatnonzero(todo)
        sigs[idx] = _minhash_texts([norm[i] for i in idx], ex)
    return sigs


def _codes(col: pa.ChunkedArray) -> tuple[np.ndarray, list[str]]:
    """Dictionary-encode a string column: integer codes per row and the names they stand for."""
    enc = pc.dictionary_encode(col).combine_chunks()
    return enc.indices.to_numpy(zero_copy_only=False).astype(np.int64), enc.dictionary.to_pylist()


def _templates_table(tmpl: TemplateResult, text_row: np.ndarray, acc_codes: np.ndarray) -> pa.Table:
    ids = tmpl.template_id[text_row]
    has = ids != 0
    if not has.any():
        return TEMPLATES.empty_table()
    uniq, first, counts = np.unique(ids[has], return_index=True, return_counts=True)
    pairs = np.unique(np.stack([ids[has], acc_codes[has]], axis=1), axis=0)
    _, n_acc = np.unique(pairs[:, 0], return_counts=True)
    rows_with = np.flatnonzero(has)
    names = [tmpl.template[text_row[rows_with[f]]] for f in first]
    return pa.table({"template_id": uniq, "template": names, "prompts": counts, "accounts": n_acc})


# -- per-batch functions (what an executor runs, locally or on Ray workers) ----------------------------------------

#: rows per batch of the per-text functions: big enough that a batch's Python work dwarfs its scheduling (on Ray,
#: a task and two object-store copies), small enough that a batch's temporaries stay a few tens of MB
TEXT_BATCH = 16_384


def _normalise_batch(batch: pa.Table) -> pa.Table:
    """Raw texts (``raw``, with ``turn_at``) to their normalised text (``norm``) and content key (``key``)."""
    at = batch["turn_at"].to_pylist() if "turn_at" in batch.column_names else [0] * batch.num_rows
    norm = [normalize_request(raw, a) for raw, a in zip(batch["raw"].to_pylist(), at, strict=True)]
    return pa.table({"norm": pa.array(norm, pa.string()), "key": pa.array([text_hash(t) for t in norm], pa.binary(16))})


def _minhash_batch(batch: pa.Table) -> pa.Table:
    """Texts (``text``) to their MinHash signatures (``sig``: fixed-size lists of ``num_perm`` uint32)."""
    hasher = MinHasher()
    sigs = hasher.signatures(batch["text"].to_pylist())
    return pa.table({"sig": matrix_column(sigs, np.uint32)})


#: embedders already loaded in this process, by (spec, models_dir): ``embed`` registers the driver's own for the
#: duration of the step, so an in-process ``EmbedBatches`` reuses it instead of loading the model a second time
_LOADED: dict[tuple[str, str | None], Embedder] = {}


class EmbedBatches:
    """One embedder per worker (a Ray actor, or this process), encoding batches of texts to float16 vectors.

    float16 is the cache's precision, and ``embed_texts`` rounds every vector through it anyway: converting in
    the worker halves what travels back.
    """

    def __init__(self, spec: str, models_dir: str | None) -> None:
        loaded = _LOADED.get((spec, models_dir))
        self.embedder = loaded or get_embedder(spec, Path(models_dir) if models_dir is not None else None)

    def __call__(self, batch: pa.Table) -> pa.Table:
        texts = batch["text"].to_pylist()
        out = np.asarray(self.embedder.encode(texts, show_progress=False), dtype=np.float16)
        if out.shape != (len(texts), self.embedder.dim):
            raise ValueError(f"{self.embedder.name} returned {out.shape} for {len(texts)} texts")
        return pa.table({"vector": matrix_column(out)})


def _minhash_texts(texts: list[str], ex: Executor) -> np.ndarray:
    """``MinHasher().signatures(texts)`` through ``ex`` (``_minhash_batch``), as a (texts, num_perm) uint32 array."""
    out = ex.map_batches(_minhash_batch, pa.table({"text": pa.array(texts, pa.string())}), batch_size=TEXT_BATCH)
    return column_matrix(out["sig"], np.uint32)


def _skeletons(norm: list[str], ex: Executor) -> list[str]:
    """``mask`` of every text, through ``ex`` (``MaskBatches``: on both cores of a local run)."""
    out = ex.map_batches_actor(MaskBatches, pa.table({"norm": pa.array(norm, pa.string())}), batch_size=TEXT_BATCH)
    return out["skeleton"].to_pylist()

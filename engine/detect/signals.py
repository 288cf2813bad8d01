"""Stage 6a: signals per prompt and per account.

Everything here is a measurement, not a verdict: what each prompt asks for (capability area of its payload,
language, extraction markers), and how each account behaves (volume, clock, provenance, infrastructure). The
campaign stage (``engine.detect.campaigns``) links accounts and turns these into scores with reasons.

All group-bys are vectorised over the window's prompts (one sort by account, then ``np.add.reduceat``-style
reductions), so the stage is linear in prompts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from engine.batches import LazyTable, column_matrix, one_blas_thread, vector_column
from engine.detect.content_model import ProbeModel
from engine.detect.settings import DEFAULTS, DetectSettings
from engine.detect.taxonomy import CAPABILITY_AREAS, MARKERS, ORDINARY_CLASSES, language_of, markers_of
from engine.embed.stage import RowOverlay
from engine.ingest.envelopes import TOOL_RESULT_PREFIX
from engine.ingest.records import chat_hashes, epoch_seconds
from engine.text.affixes import affix_keys

if TYPE_CHECKING:
    from engine.executor import Executor, Pending

AREAS = list(CAPABILITY_AREAS)
#: texts per batch of the per-text signals (the pipeline's per-text batch size)
SIGNAL_BATCH = 16_384


@dataclass
class Context:
    """What the scoring stage reads: the window's prompts and the per-text results of the earlier stages."""

    window: pa.Table
    accounts: pa.Table
    text_row: np.ndarray
    account_codes: np.ndarray
    account_names: list[str]
    norm: list[str]
    template_id: np.ndarray
    template: list[str]
    payload: list[str]
    payload_vectors: np.ndarray | RowOverlay  # read by row ranges only
    payload_group: np.ndarray
    text_cluster: np.ndarray
    embedder: Any
    #: where the per-text signals and per-account aggregates run (engine.executor); None: this process
    executor: Executor | None = None
    #: per account code: its latest stored request before the window (epoch s, NaN: none), and the oldest stored
    #: prompt's time; None when the store holds nothing from before the window (a first night)
    earlier: np.ndarray | None = None
    history_start: float | None = None

    @property
    def embedder_name(self) -> str | None:
        return getattr(self.embedder, "name", None)

    @cached_property
    def tool_set(self) -> np.ndarray:
        """Per prompt of the window, the code of its request's tool-schema set (-1: a request without tools, or a
        log without chat structure), from the hash ingest keeps (``engine.ingest.envelopes.chat_text``)."""
        if "meta" not in self.window.column_names or not self.window.num_rows:
            return np.full(self.window.num_rows, -1, np.int64)
        codes = pc.dictionary_encode(chat_hashes(self.window["meta"], "tools_hash")).indices
        return pc.fill_null(codes, -1).to_numpy(zero_copy_only=False).astype(np.int64)

    @cached_property
    def tool_result(self) -> np.ndarray:
        """Per distinct text: whether it is an agent's tool result (``[tool NAME] ...``, as ingest writes a step whose
        newest turn is one), what the account's tools returned rather than anything it asked."""
        return np.fromiter((t.startswith(TOOL_RESULT_PREFIX) for t in self.norm), bool, len(self.norm))

    def warm(self) -> None:
        """Build the lazy per-prompt parts now, before threads read them (``campaigns.score_cohorts``)."""
        _ = self.tool_set, self.tool_result, self.tool_set_accounts, self._tool_set_first

    def tool_set_reach(self, rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The tool-schema sets sent among prompt ``rows`` (all the window's when None) and, per set, how many
        distinct accounts send it there: one count for the log's idf and a cohort's evidence alike."""
        codes = self.tool_set if rows is None else self.tool_set[rows]
        accounts = self.account_codes if rows is None else self.account_codes[rows]
        on = codes >= 0
        n_acc = max(len(self.account_names), 1)
        pairs = np.unique(codes[on] * n_acc + accounts[on])
        return np.unique(pairs // n_acc, return_counts=True)

    @cached_property
    def tool_set_accounts(self) -> np.ndarray:
        """Per tool-schema set (code of ``tool_set``), how many of the log's accounts send it."""
        sets, accounts = self.tool_set_reach()
        out = np.zeros(int(self.tool_set.max()) + 1 if len(sets) else 0, np.int64)
        out[sets] = accounts
        return out

    @cached_property
    def _tool_set_first(self) -> np.ndarray:
        """Per tool-schema set, the first prompt row that sends it."""
        on = np.flatnonzero(self.tool_set >= 0)
        codes, first = np.unique(self.tool_set[on], return_index=True)
        out = np.zeros(int(codes.max()) + 1 if len(codes) else 0, np.int64)
        out[codes] = on[first]
        return out

    def tool_set_named(self, code: int) -> tuple[str, list[str]]:
        """One tool-schema set's hash and its tools' names, from the first request that sends it."""
        row = int(self._tool_set_first[code])
        chat = json.loads(self.window["meta"][row].as_py() or "{}").get("chat") or {}
        return str(chat.get("tools_hash") or ""), [str(x) for x in chat.get("tools") or []]


@dataclass
class TextSignals:
    """Per distinct text: capability area (index into AREAS, -1 = ordinary/other), language, markers."""

    area: np.ndarray
    foreign: np.ndarray
    markers: dict[str, np.ndarray]  # ... in the whole text (its wrapper included)
    probe: np.ndarray  # probability the payload is a capability probe (engine.detect.content_model)
    payload_markers: dict[str, np.ndarray] | None = None  # ... in the payload alone (what the slot asks)
    #: (texts, 2 x affix_words) keys of each text's opening and closing words (``engine.text.affixes``), a chat
    #: request's of its newest turn; None: not read
    affixes: np.ndarray | None = None


def classify_areas(
    payload_vectors: np.ndarray | RowOverlay, embedder: Any, min_sim: float = DEFAULTS.min_area_sim
) -> np.ndarray:
    """Nearest class by mean of the top-3 exemplar cosines; capability areas get their index, the rest -1
    (also when no class comes within ``min_sim``: too short or too odd to place)."""
    exemplars, owner = exemplar_vectors(embedder)
    out = np.full(len(payload_vectors), -1, dtype=np.int64)
    for start in range(0, len(payload_vectors), 50_000):
        out[start : start + 50_000] = nearest_area(payload_vectors[start : start + 50_000], exemplars, owner, min_sim)
    return out


def exemplar_vectors(embedder: Any) -> tuple[np.ndarray, np.ndarray]:
    """The class exemplars' vectors (capability areas first, then ordinary classes) and each one's class index."""
    exemplars = [CAPABILITY_AREAS[a] for a in AREAS] + [ORDINARY_CLASSES[c] for c in ORDINARY_CLASSES]
    flat = [e for ex in exemplars for e in ex]
    owner = np.repeat(np.arange(len(exemplars)), [len(ex) for ex in exemplars])
    return np.asarray(embedder.encode(flat), dtype=np.float32), owner


def nearest_area(vectors: np.ndarray, exemplars: np.ndarray, owner: np.ndarray, min_sim: float) -> np.ndarray:
    """``classify_areas`` for one block of vectors, given the exemplars' vectors and classes."""
    n_classes = int(owner.max()) + 1 if len(owner) else 0
    v = np.asarray(vectors, dtype=np.float32)
    sims = v @ exemplars.T
    per_class = np.full((len(v), n_classes), -1.0, dtype=np.float32)
    for c in range(n_classes):
        s = np.sort(sims[:, owner == c], axis=1)[:, -3:]
        per_class[:, c] = s.mean(axis=1)
    if not len(v) or not n_classes:
        return np.full(len(v), -1, dtype=np.int64)
    best = per_class.argmax(axis=1)
    ok = (per_class.max(axis=1) >= min_sim) & (best < len(AREAS))
    return np.where(ok, best, -1).astype(np.int64)


class TextSignalBatches:
    """The per-text signals of one batch of texts: a worker's state (the probe model and the class exemplars).

    Called on batches with ``norm`` and ``payload`` (strings, payload "" when the text is not templated), ``v``
    (the payloads' vectors as fixed-size lists) and optionally ``turn`` (a chat request's newest turn under its
    system prompt, null for any other text: its affixes are read there), it returns ``area``, ``foreign``,
    ``probe``, one ``marker:NAME`` column per marker and ``affix:J`` columns (``engine.text.affixes``). Every output
    depends on its own row only, so batching never changes a result.
    """

    #: pure Python per text (markers, language, n-grams): a local executor may run it in worker processes
    processes = True

    def __init__(
        self, exemplars: np.ndarray, owner: np.ndarray, min_sim: float, embedder: str | None, affix_words: int = 3
    ) -> None:
        self.exemplars, self.owner, self.min_sim, self.embedder = exemplars, owner, min_sim, embedder
        self.affix_words = affix_words
        self.model = ProbeModel.load()

    def __call__(self, batch: pa.Table) -> pa.Table:
        norm = batch.column("norm").to_pylist()
        payloads = [p or t for p, t in zip(batch.column("payload").to_pylist(), norm, strict=True)]
        v = column_matrix(batch.column("v"))
        marks = [markers_of(t) for t in norm]
        # a payload is a part of its text: a marker the whole text lacks is not looked for in it again (the one
        # difference, a match the normaliser's folding of the slot's whitespace makes, was 1 text in 114k on public4)
        pmarks = [
            m if p == t or not any(m.values()) else markers_of(p, among=m)
            for p, t, m in zip(payloads, norm, marks, strict=True)
        ]
        with one_blas_thread():  # an area at its threshold must not depend on where the batch ran
            area = nearest_area(v, self.exemplars, self.owner, self.min_sim)
        out = {
            "area": area,
            "foreign": np.array([language_of(p) != "en" for p in payloads], dtype=bool),
            "probe": np.asarray(self.model.probe_probability(payloads, v, self.embedder), dtype=np.float32),
        }
        out.update({f"marker:{m}": np.array([d[m] for d in marks], dtype=bool) for m in MARKERS})
        out.update({f"pmarker:{m}": np.array([d[m] for d in pmarks], dtype=bool) for m in MARKERS})
        # a wrapper is the asker's: a chat request's opening is its system prompt, the app's, so read the newest turn
        turns = batch.column("turn").to_pylist() if "turn" in batch.column_names else [None] * len(norm)
        affixes = affix_keys([u or t for u, t in zip(turns, norm, strict=True)], self.affix_words)
        out.update({f"affix:{j}": affixes[:, j] for j in range(affixes.shape[1])})
        return pa.table(out)


class PendingTextSignals:
    """Text signals started ahead of the scoring step (``submit_text_signals``): ``result()`` waits for them."""

    def __init__(self, pending: Pending[pa.Table]) -> None:
        self._pending = pending
        self._ts: TextSignals | None = None

    def result(self) -> TextSignals:
        if self._ts is None:
            out = self._pending.result()
            self._ts = TextSignals(
                area=out.column("area").to_numpy(),
                foreign=out.column("foreign").to_numpy(zero_copy_only=False),
                markers={m: out.column(f"marker:{m}").to_numpy(zero_copy_only=False) for m in MARKERS},
                probe=out.column("probe").to_numpy(),
                payload_markers={m: out.column(f"pmarker:{m}").to_numpy(zero_copy_only=False) for m in MARKERS},
                affixes=_affix_matrix(out),
            )
        return self._ts


def _affix_matrix(out: pa.Table) -> np.ndarray | None:
    """The batches' ``affix:J`` columns as one (texts, J) matrix; None when no affix was read (``affix_words`` 0)."""
    cols = [out.column(c).to_numpy() for c in out.column_names if c.startswith("affix:")]
    return np.stack(cols, axis=1).astype(np.int64) if cols else None


def submit_text_signals(
    norm: list[str], payload: list[str], payload_vectors: np.ndarray | RowOverlay, embedder: Any,
    s: DetectSettings = DEFAULTS,
    executor: Executor | None = None,
    turns: dict[int, str] | None = None,
) -> PendingTextSignals:  # fmt: skip
    """``text_signals`` started now, collected later (``Executor.submit_batches_actor``): they read only the texts,
    their payloads and the payloads' vectors, all known once the embed step is done, so the pipeline starts them
    then and a local executor runs them in the background while the index and clusters are built. The rows are
    made into Arrow a slice at a time (``LazyTable``): only the slices in flight exist as a second copy. ``turns``:
    per text row of a chat request under a system prompt, its newest turn (``engine.pipeline.steps.Texts``), where
    its affixes are read."""
    from engine.executor import LocalExecutor

    exemplars, owner = exemplar_vectors(embedder)

    def rows(a: int, b: int) -> pa.Table:
        cols = {
            "norm": pa.array(norm[a:b], pa.string()),
            "payload": pa.array([p or "" for p in payload[a:b]], pa.string()),
            "v": vector_column(payload_vectors[a:b]),
        }
        if turns:
            cols["turn"] = pa.array([turns.get(r) for r in range(a, b)], pa.string())
        return pa.table(cols)

    ctor = {
        "exemplars": exemplars,
        "owner": owner,
        "min_sim": s.min_area_sim,
        "embedder": getattr(embedder, "name", None),
        "affix_words": s.affix_words,
    }
    ex = executor or LocalExecutor(quiet=True)
    pending = ex.submit_batches_actor(TextSignalBatches, LazyTable(len(norm), rows), batch_size=SIGNAL_BATCH,
                                      ctor_kwargs=ctor)  # fmt: skip
    return PendingTextSignals(pending)


def text_signals(ctx: Context, s: DetectSettings = DEFAULTS) -> TextSignals:
    """Capability area of each text's payload, whether it is not English, which markers it carries, and how likely
    it is a capability probe (the content model reads the payload: the question, not the wrapper).

    Per text and independent of the others, so computed in batches through the context's executor (Ray tasks on
    Ray), one ``TextSignalBatches`` per worker.
    """
    return submit_text_signals(ctx.norm, ctx.payload, ctx.payload_vectors, ctx.embedder, s, ctx.executor).result()


@dataclass
class AccountSignals:
    """Per account (indexed by account code): behaviour and provenance measured over the window."""

    n_prompts: np.ndarray
    #: requests per *active* day (UTC days with at least one request): an account that lives one day and sends 30
    #: requests is a 30-a-day account, not a 6-a-day one because the window has five days
    per_day: np.ndarray
    capability_share: np.ndarray
    marker_share: np.ndarray
    max_hour_gap: np.ndarray  # longest stretch of the day (hours) with no request: short = round-the-clock
    minute_r: np.ndarray  # concentration of minute-of-hour (1 = always the same minute: a scheduler)
    created: np.ndarray  # epoch seconds, NaN unknown
    age_days: np.ndarray  # at first request
    org: np.ndarray  # object arrays of strings ('' unknown)
    payment: np.ndarray
    asn: np.ndarray
    # lifecycle within the window: first and last request (epoch s) and the UTC days with any request
    first_seen: np.ndarray
    last_seen: np.ndarray
    active_days: np.ndarray


def account_signals(ctx: Context, ts: TextSignals) -> AccountSignals:
    """Per-account measurements over the window's prompts.

    The plain aggregates (prompts, first request, capability and marked prompts per account) are one group-by
    through the context's executor (a Ray groupby on Ray). The rest are not plain aggregates (longest empty stretch
    of the day, minute-of-hour concentration, most common ASN) and are vectorised passes here; executor module doc.
    """
    codes = ctx.account_codes
    n_acc = len(ctx.account_names)
    t = epoch_seconds(ctx.window["timestamp"])

    cap = ts.area[ctx.text_row] >= 0
    marked = np.zeros(len(codes), dtype=bool)
    for m in ts.markers.values():
        marked |= m[ctx.text_row]
    n, first_ts, last_ts, n_cap, n_marked = _plain_aggregates(ctx, codes, t, cap, marked)
    # lifecycle: distinct (account, UTC day) pairs; a burner lives one or two of them, a steady user most
    day = (t // 86400).astype(np.int64)
    day -= day.min() if len(day) else 0
    days = int(day.max()) + 1 if len(day) else 1
    active = np.bincount(np.unique(codes.astype(np.int64) * days + day) // days, minlength=n_acc).astype(np.float64)

    # clock: longest empty stretch of the (UTC) day, and minute-of-hour concentration
    hour = (t % 86400) / 3600.0
    order = np.lexsort((hour, codes))
    h_sorted, c_sorted = hour[order], codes[order]
    starts = np.searchsorted(c_sorted, np.arange(n_acc))
    gaps = np.diff(h_sorted, append=np.nan)
    same = np.r_[c_sorted[1:] == c_sorted[:-1], False]
    gaps = np.where(same, gaps, np.nan)
    has = n > 0
    inner = np.zeros(n_acc)
    valid = ~np.isnan(gaps)
    np.maximum.at(inner, c_sorted[valid], gaps[valid])
    first_h = np.where(has, h_sorted[np.minimum(starts, len(h_sorted) - 1)], 0.0)
    last_idx = np.minimum(starts + n.astype(np.int64) - 1, len(h_sorted) - 1)
    wrap = np.where(has, first_h + 24.0 - h_sorted[last_idx], 24.0)
    max_gap = np.where(n > 1, np.maximum(inner, wrap), 24.0)

    ang = (t % 3600) / 3600.0 * 2 * np.pi
    cs = np.bincount(codes, weights=np.cos(ang), minlength=n_acc)
    sn = np.bincount(codes, weights=np.sin(ang), minlength=n_acc)
    minute_r = np.hypot(cs, sn) / np.maximum(n, 1)

    acc = _account_attributes(ctx)
    created = acc["created"]
    age = (first_ts - created) / 86400.0

    asn = _most_common_per_account(ctx.window["ip_asn"], codes, n_acc)
    return AccountSignals(
        n_prompts=n,
        per_day=n / np.maximum(active, 1.0),
        capability_share=n_cap / np.maximum(n, 1),
        marker_share=n_marked / np.maximum(n, 1),
        max_hour_gap=max_gap,
        minute_r=minute_r,
        created=created,
        age_days=age,
        org=acc["org"],
        payment=acc["payment"],
        asn=asn,
        first_seen=np.where(has, first_ts, 0).astype(np.int64),
        last_seen=np.where(has, last_ts, 0).astype(np.int64),
        active_days=active,
    )


def _plain_aggregates(
    ctx: Context, codes: np.ndarray, t: np.ndarray, cap: np.ndarray, marked: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Prompts (float), first and last request (epoch s; int64 max / min when none), capability and marked prompts
    per account code: integer counts, sums, minima and maxima, so any executor's group-by gives them exactly."""
    from engine.executor import LocalExecutor

    n_acc = len(ctx.account_names)
    table = pa.table({"account": codes, "t": t, "cap": cap.astype(np.int64), "marked": marked.astype(np.int64)})
    aggs = [("t", "count"), ("t", "min"), ("t", "max"), ("cap", "sum"), ("marked", "sum")]
    got = (ctx.executor or LocalExecutor(quiet=True)).group_aggregate(table, ["account"], aggs)
    at = got["account"].to_numpy()
    n, n_cap, n_marked = np.zeros(n_acc), np.zeros(n_acc), np.zeros(n_acc)
    first_ts = np.full(n_acc, np.iinfo(np.int64).max)
    last_ts = np.full(n_acc, np.iinfo(np.int64).min)
    n[at] = got["t_count"].to_numpy()
    first_ts[at] = got["t_min"].to_numpy()
    last_ts[at] = got["t_max"].to_numpy()
    n_cap[at] = got["cap_sum"].to_numpy()
    n_marked[at] = got["marked_sum"].to_numpy()
    return n, first_ts, last_ts, n_cap, n_marked


def _account_attributes(ctx: Context) -> dict[str, np.ndarray]:
    """Account-table attributes aligned with the window's account codes (unknown -> NaN / '')."""
    tbl = ctx.accounts
    ids = tbl["account_id"].to_pylist()
    where = {a: i for i, a in enumerate(ids)}
    idx = np.array([where.get(a, -1) for a in ctx.account_names], dtype=np.int64)
    created_all = epoch_seconds(tbl["created_at"])
    created_all = np.asarray(created_all, dtype=np.float64)
    created = np.where(idx >= 0, created_all[np.maximum(idx, 0)], np.nan) if len(ids) else np.full(len(idx), np.nan)

    def col(name: str) -> np.ndarray:
        vals = np.array([v or "" for v in tbl[name].to_pylist()], dtype=object)
        return np.where(idx >= 0, vals[np.maximum(idx, 0)], "") if len(ids) else np.full(len(idx), "", dtype=object)

    return {"created": created, "org": col("org_id"), "payment": col("payment_fp")}


def value_codes(col: pa.ChunkedArray) -> tuple[np.ndarray, list[str]]:
    """Integer code per row and the distinct values of a string column (null and empty are ""), encoded in Arrow:
    a million rows take milliseconds, not a Python pass over a list of strings."""
    enc = pc.dictionary_encode(pc.fill_null(col.cast(pa.string()), "")).combine_chunks()
    return enc.indices.to_numpy(zero_copy_only=False).astype(np.int64), enc.dictionary.to_pylist()


def _most_common_per_account(col: pa.ChunkedArray, codes: np.ndarray, n_acc: int) -> np.ndarray:
    vals = np.array([v or "" for v in col.to_pylist()], dtype=object)
    uniq, inv = np.unique(vals.astype(str), return_inverse=True)
    pair = codes * len(uniq) + inv
    p, c = np.unique(pair, return_counts=True)
    acc, val = p // len(uniq), p % len(uniq)
    order = np.lexsort((-c, acc))
    acc, val = acc[order], val[order]
    first = np.r_[True, acc[1:] != acc[:-1]]
    out = np.full(n_acc, "", dtype=object)
    out[acc[first]] = uniq[val[first]]
    return out

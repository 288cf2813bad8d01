"""Every table a snapshot holds: its schema, what a row means, the typed readers, and the one snapshot writer.

This is the only module that knows table names and SQL. Stages hand plain Arrow tables to :func:`write_snapshot`,
which casts each to its declared schema (so a stage that drifts fails loudly at commit, before anything is live);
the analyst side (CLI, reports, queries, the future API) reads through :class:`Tables`, whose methods return Arrow
tables or plain dicts and never expose SQL. A table missing from an older snapshot reads as empty.

Tables (one snapshot = one night's complete state):

* ``prompts``: every stored request (the ingest record plus its content key); grows night by night, so it is
  stored as partitions, one per night (engine.store.parts), and read through a view of the same name.
* ``texts``: one row per distinct normalised text of the analysis window; ``text_row`` is its vector, signature and
  index id. A view: the night's ``text_labels`` (template, near-duplicate group, cluster; where the text is stored)
  joined with the text segments that hold each text's content once.
* ``window_prompts``: the prompts of the analysis window and their text row.
* ``accounts``: the account table's attributes plus tonight's verdict and the signals behind it.
* ``clusters``, ``templates``, ``campaigns``: tonight's prompt clusters, wrapper templates and scored cohorts.
* ``campaign_history``, ``campaign_nights``, ``campaign_events``: campaigns across nights (engine.detect.history).
* ``runs``: one row per run that built this lineage, with its report.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from engine.ingest.records import ACCOUNT_SCHEMA, PROMPT_SCHEMA, TIMESTAMP_TYPE

if TYPE_CHECKING:  # pragma: no cover
    from engine.store.snapshots import Snapshot, SnapshotWriter

TS = pa.timestamp("s", tz="UTC")

PROMPTS = PROMPT_SCHEMA.append(pa.field("text_key", pa.binary(16)))
TEXTS = pa.schema(
    [
        ("text_row", pa.int64()),
        ("text_key", pa.binary(16)),
        ("norm_text", pa.string()),
        ("skeleton", pa.string()),
        ("template_id", pa.int64()),
        ("dup_group", pa.int64()),
        ("cluster_id", pa.int64()),
        ("cluster_prob", pa.float32()),
    ]
)
TEXT_LABELS = pa.schema(
    [
        ("text_row", pa.int64()),
        ("text_key", pa.binary(16)),
        ("seg", pa.string()),  # the text segment holding its text, vector and signature (engine.store.parts)
        ("off", pa.int64()),  # its row there
        ("template_id", pa.int64()),
        ("dup_group", pa.int64()),
        ("cluster_id", pa.int64()),
        ("cluster_prob", pa.float32()),
    ]
)
WINDOW_PROMPTS = pa.schema([("prompt_id", pa.string()), ("text_row", pa.int64())])
#: the account table's attributes, then the verdict: score (0..1, higher is more suspicious), the campaign it is
#: flagged in, its cohort (flagged or not) and how typical of it the account is, and the signals behind the score
ACCOUNTS = pa.schema(
    [
        *ACCOUNT_SCHEMA,
        ("score", pa.float64()),
        ("campaign_id", pa.string()),
        ("flagged", pa.bool_()),
        ("cohort_id", pa.string()),
        ("member_strength", pa.float64()),
        ("prompts", pa.int64()),
        ("per_day", pa.float64()),  # requests per active day
        # lifecycle in the window: first and last request, and the UTC days with any request
        ("first_seen", TIMESTAMP_TYPE),
        ("last_seen", TIMESTAMP_TYPE),
        ("active_days", pa.int64()),
        ("capability_share", pa.float64()),
        ("marker_share", pa.float64()),
        ("reasons", pa.string()),  # JSON list of sentences
    ]
)
CLUSTERS = pa.schema(
    [
        ("cluster_id", pa.int64()),
        ("topic_id", pa.int64()),
        ("prompts", pa.int64()),
        ("texts", pa.int64()),
        ("accounts", pa.int64()),
        ("outlier_share", pa.float32()),
        ("top_terms", pa.list_(pa.string())),
        ("representatives", pa.list_(pa.string())),
        ("dominant_template", pa.string()),
        ("dominant_template_share", pa.float32()),
    ]
)
#: a topic's row is a cluster's, with the ids of its clusters in place of its own topic
TOPICS = pa.schema(
    [("topic_id", pa.int64()), ("clusters", pa.list_(pa.int64()))]
    + [f for f in CLUSTERS if f.name not in ("cluster_id", "topic_id")]
)
TEMPLATES = pa.schema(
    [("template_id", pa.int64()), ("template", pa.string()), ("prompts", pa.int64()), ("accounts", pa.int64())]
)
CAMPAIGNS = pa.schema(
    [
        ("campaign_id", pa.string()),
        ("score", pa.float64()),
        ("flagged", pa.bool_()),
        ("accounts", pa.int64()),
        ("prompts", pa.int64()),
        ("first_seen", TS),
        ("last_seen", TS),
        ("evidence", pa.string()),  # JSON object: each family's evidence in [0, 1] and the discounts applied
        ("reasons", pa.string()),  # JSON list of sentences, strongest first
        ("mitigations", pa.string()),  # JSON list: why it may be legitimate
        ("areas", pa.string()),  # JSON object: capability area -> prompts
        ("member_ids", pa.list_(pa.string())),
        ("templates", pa.list_(pa.string())),
        ("clusters", pa.list_(pa.int64())),
        ("samples", pa.list_(pa.string())),
    ]
)
CAMPAIGN_HISTORY = pa.schema(
    [
        ("campaign_id", pa.string()),
        ("status", pa.string()),
        ("first_seen_run", pa.string()),
        ("last_seen_run", pa.string()),
        ("first_seen", TS),
        ("last_seen", TS),
        ("accounts", pa.int64()),
        ("accounts_ever", pa.int64()),
        ("prompts", pa.int64()),
        ("score", pa.float64()),
        ("templates", pa.list_(pa.string())),
        ("payment_fps", pa.list_(pa.string())),
        ("member_ids", pa.list_(pa.string())),
    ]
)
CAMPAIGN_NIGHTS = pa.schema(
    [
        ("campaign_id", pa.string()),
        ("night", pa.string()),
        ("accounts", pa.int64()),
        ("prompts", pa.int64()),
        ("joined", pa.int64()),
        ("left", pa.int64()),
    ]
)
CAMPAIGN_EVENTS = pa.schema(
    [("run_id", pa.string()), ("campaign_id", pa.string()), ("event", pa.string()), ("detail", pa.string())]
)
RUNS = pa.schema(
    [
        ("run_id", pa.string()),
        ("started_at", pa.string()),
        ("finished_at", pa.string()),
        ("inputs", pa.string()),  # JSON list of paths
        ("embedder", pa.string()),
        ("report", pa.string()),  # JSON of the run's RunReport
    ]
)

#: tables a snapshot reads through views over partitions rather than holding (see engine.store.parts)
VIEWS = frozenset({"prompts", "texts"})

SCHEMAS: dict[str, pa.Schema] = {
    "prompts": PROMPTS,
    "texts": TEXTS,
    "text_labels": TEXT_LABELS,
    "window_prompts": WINDOW_PROMPTS,
    "accounts": ACCOUNTS,
    "clusters": CLUSTERS,
    "topics": TOPICS,
    "templates": TEMPLATES,
    "campaigns": CAMPAIGNS,
    "campaign_history": CAMPAIGN_HISTORY,
    "campaign_nights": CAMPAIGN_NIGHTS,
    "campaign_events": CAMPAIGN_EVENTS,
    "runs": RUNS,
}


def conform(name: str, tbl: pa.Table, *, fill: bool = False) -> pa.Table:
    """``tbl`` with exactly the columns and types of table ``name`` (DuckDB hands timestamps back in microseconds,
    an empty Python list has no type): the one place a table is checked against its declaration. ``fill``: a
    column the table lacks is read as nulls (a snapshot written before the column was added), else an error."""
    schema = SCHEMAS[name]
    missing = [f.name for f in schema if f.name not in tbl.column_names]
    if missing and not fill:
        raise ValueError(f"table {name}: missing columns {missing}")
    for f in schema:
        if f.name in missing:
            tbl = tbl.append_column(f.name, pa.nulls(tbl.num_rows, f.type))
    return tbl.select(schema.names).cast(schema)


@dataclass
class SnapshotData:
    """Everything one night commits: the tables above, the arrays, and the snapshot's meta (see snapshot.json)."""

    tables: dict[str, pa.Table]  # every table but the views (prompts and texts live in partitions)
    meta: dict[str, Any]  # holds ``parts``: the partitions the snapshot reads


def write_snapshot(writer: SnapshotWriter, data: SnapshotData) -> None:
    """Write every table (checked against its schema) into the writer's temporary snapshot.

    The partitions were written by ``engine.store.parts`` and the HNSW graph by its owner
    (``writer.path("index.hnsw")``); ``writer.commit(meta)`` then makes the whole snapshot live at once.
    """
    unknown = set(data.tables) - (set(SCHEMAS) - VIEWS)
    if unknown:
        raise ValueError(f"unknown tables {sorted(unknown)}")
    for name, tbl in data.tables.items():
        writer.table(name, conform(name, tbl))


class Tables:
    """Typed readers over one snapshot. Each returns Arrow tables (``pa.Table``) or plain dicts."""

    def __init__(self, snap: Snapshot) -> None:
        self.snap = snap
        self._names: set[str] | None = None
        self._accounts: tuple[dict[str, int], pa.Table] | None = None  # account id -> row, read on first use

    def has(self, name: str) -> bool:
        """Whether this snapshot holds table ``name`` (older snapshots lack tables added since)."""
        if self._names is None:
            self._names = set(
                self.snap.query(
                    "SELECT table_name AS n FROM duckdb_tables() UNION ALL "
                    "SELECT view_name AS n FROM duckdb_views() WHERE NOT internal"
                )["n"].to_pylist()
            )
        return name in self._names

    def _read(self, name: str, where: str = "", params: list | None = None, order: str = "") -> pa.Table:
        if not self.has(name):
            return SCHEMAS[name].empty_table()
        sql = f'SELECT * FROM "{name}"' + (f" WHERE {where}" if where else "") + (f" ORDER BY {order}" if order else "")
        return conform(name, self.snap.query(sql, params), fill=True)

    def _one(self, name: str, key: str, value: object) -> dict | None:
        rows = self._read(name, f"{key} = ?", [value]).to_pylist()
        return rows[0] if rows else None

    # -- prompts and texts ---------------------------------------------------------------------------------------
    def prompts(self) -> pa.Table:
        """Every stored prompt (in and out of the analysis window)."""
        return self._read("prompts")

    def prompt(self, prompt_id: str) -> dict | None:
        """One stored prompt by id, whether or not it lies in the analysis window."""
        return self._one("prompts", "prompt_id", str(prompt_id))

    def account_prompts_between(self, account_id: str, start: object, end: object, limit: int = 2000) -> list[dict]:
        """One account's stored prompts sent between two times (id, time, text, meta), oldest first: the requests
        around one, to put a conversation or agent session back together (``engine.app.sessions``)."""
        if not self.has("prompts"):
            return []
        sql = (
            'SELECT prompt_id, "timestamp", text, meta FROM "prompts" WHERE account_id = ? AND "timestamp" BETWEEN ? '
            'AND ? ORDER BY "timestamp", prompt_id LIMIT ?'
        )
        return self.snap.query(sql, [str(account_id), start, end, int(limit)]).to_pylist()

    def has_chat_requests(self) -> bool:
        """Whether any stored prompt came from a chat request (ingest keeps its parts under ``meta["chat"]``): only
        then can an account's requests form conversations and sessions."""
        if not self.has("prompts"):
            return False
        sql = """SELECT EXISTS (SELECT 1 FROM "prompts" WHERE meta LIKE '%"chat": {%') AS x"""
        return bool(self.snap.query(sql)["x"][0].as_py())

    def text_locations(self) -> dict[bytes, tuple[str, int]]:
        """Where each window text is stored (segment, row): what the next night reuses instead of writing it again.
        Empty for a snapshot that predates partitions (the next night then writes every text once)."""
        if not self.has("text_labels"):
            return {}
        t = self.snap.query("SELECT text_key, seg, off FROM text_labels")
        return dict(zip(t["text_key"].to_pylist(), zip(t["seg"].to_pylist(), t["off"].to_pylist(), strict=True),
                        strict=True))  # fmt: skip

    def text_index(self) -> tuple[list[bytes], list[str]]:
        """Content keys and normalised texts of the window's distinct texts, in text-row order."""
        t = self.snap.query("SELECT text_key, norm_text FROM texts ORDER BY text_row")
        return t["text_key"].to_pylist(), t["norm_text"].to_pylist()

    def text_labels(self) -> tuple[np.ndarray, np.ndarray]:
        """Cluster id and near-duplicate group of each distinct text, in text-row order."""
        labels = "text_labels" if self.has("text_labels") else "texts"
        t = self.snap.query(f"SELECT cluster_id, dup_group FROM {labels} ORDER BY text_row")
        return t["cluster_id"].to_numpy(), t["dup_group"].to_numpy()

    def window(self) -> pa.Table:
        """The analysis window's prompts (prompt_id, text_row, account_id, timestamp, text), by text row."""
        return self.snap.query(
            "SELECT w.prompt_id, w.text_row, p.account_id, p.timestamp, p.text FROM window_prompts w "
            "JOIN prompts p USING (prompt_id) ORDER BY w.text_row, w.prompt_id"
        )

    def memberships(self) -> pa.Table:
        """prompt_id -> account, topic, cluster, text row, near-duplicate group and template, for the window's prompts
        (topic null for a snapshot written before topics existed)."""
        topic = "c.topic_id" if self.has("topics") else "CAST(NULL AS BIGINT)"
        return self.snap.query(
            f"SELECT w.prompt_id, p.account_id, {topic} AS topic_id, t.cluster_id, t.cluster_prob, w.text_row, "
            "t.dup_group, t.template_id "
            "FROM window_prompts w JOIN texts t USING (text_row) JOIN prompts p USING (prompt_id) "
            "LEFT JOIN clusters c ON c.cluster_id = t.cluster_id "
            "ORDER BY w.text_row, w.prompt_id"
        )

    # -- accounts --------------------------------------------------------------------------------------------------
    def account_attributes(self) -> pa.Table:
        """The account table as ingested (no verdicts): what the next night merges its own account table into."""
        return self._read("accounts").select(ACCOUNT_SCHEMA.names).cast(ACCOUNT_SCHEMA)

    def accounts(self) -> pa.Table:
        """Every account's verdict, most suspicious first."""
        return self._read("accounts", order="score DESC, account_id")

    def account(self, account_id: str) -> dict | None:
        """One account's verdict row. The table is read whole once and looked up in memory after that: a server
        asks for accounts one page at a time, and each DuckDB point query scanned the table (4 ms of a 5 ms account
        answer at 35k accounts), where the whole table is a few megabytes per ten thousand accounts."""
        if self._accounts is None:
            tbl = self._read("accounts")
            self._accounts = ({a: i for i, a in enumerate(tbl["account_id"].to_pylist())}, tbl)
        at, tbl = self._accounts
        i = at.get(str(account_id))
        return tbl.slice(i, 1).to_pylist()[0] if i is not None else None

    def accounts_page(
        self, *, flagged: bool | None = None, campaign_id: str | None = None, limit: int = 50, offset: int = 0
    ) -> tuple[int, pa.Table]:
        """One page of verdicts, most suspicious first, and how many match the filters (for paging)."""
        conds, params = [], []
        if flagged is not None:
            conds.append("flagged = ?")
            params.append(flagged)
        if campaign_id is not None:
            conds.append("(campaign_id = ? OR cohort_id = ?)")
            params += [campaign_id, campaign_id]
        if not self.has("accounts"):
            return 0, SCHEMAS["accounts"].empty_table()
        where = (" WHERE " + " AND ".join(conds)) if conds else ""
        total = self.snap.query(f'SELECT count(*) AS n FROM "accounts"{where}', params)["n"][0].as_py()
        page = self.snap.query(
            f'SELECT * FROM "accounts"{where} ORDER BY score DESC, account_id LIMIT ? OFFSET ?',
            [*params, int(limit), int(offset)],
        )
        return int(total), conform("accounts", page)

    # -- clusters, templates, campaigns --------------------------------------------------------------------------
    def clusters(self, limit: int | None = None) -> pa.Table:
        """Prompt clusters, largest first."""
        t = self._read("clusters", order="prompts DESC, cluster_id")
        return t.slice(0, limit) if limit is not None else t

    def cluster(self, cluster_id: int) -> dict | None:
        return self._one("clusters", "cluster_id", int(cluster_id))

    def topics(self, limit: int | None = None) -> pa.Table:
        """Topics (groups of clusters), largest first; empty for a snapshot written before topics existed."""
        t = self._read("topics", order="prompts DESC, topic_id")
        return t.slice(0, limit) if limit is not None else t

    def topic(self, topic_id: int) -> dict | None:
        return self._one("topics", "topic_id", int(topic_id))

    def clusters_by_id(self, cluster_ids: list[int]) -> list[dict]:
        """The given clusters' rows, in one query."""
        return self._read("clusters", "cluster_id IN (SELECT unnest(?))", [[int(c) for c in cluster_ids]]).to_pylist()

    def template(self, template_id: int) -> dict | None:
        return self._one("templates", "template_id", int(template_id))

    def text_rows(self, rows: list[int]) -> pa.Table:
        """The ``texts`` rows (skeleton, template, near-duplicate group, cluster) of the given text rows."""
        return self._read("texts", "text_row IN (SELECT unnest(?))", [[int(r) for r in rows]], order="text_row")

    def templates(self) -> pa.Table:
        """Wrapper templates shared across accounts, the most used first."""
        return self._read("templates", order="prompts DESC, template_id")

    def campaigns(self, *, flagged_only: bool = False, limit: int | None = None) -> pa.Table:
        """Scored cohorts, highest score first; ``flagged_only`` keeps the suspected campaigns."""
        t = self._read("campaigns", "flagged" if flagged_only else "", order="score DESC, accounts DESC, campaign_id")
        return t.slice(0, limit) if limit is not None else t

    def campaign(self, campaign_id: str) -> dict | None:
        return self._one("campaigns", "campaign_id", str(campaign_id))

    # -- history ---------------------------------------------------------------------------------------------------
    def history(self, campaign_id: str | None = None) -> pa.Table:
        """Campaigns across nights: status, first and last seen, accounts ever."""
        if campaign_id is None:
            return self._read("campaign_history", order="first_seen, campaign_id")
        return self._read("campaign_history", "campaign_id = ?", [campaign_id])

    def nights(self, campaign_id: str | None = None) -> pa.Table:
        """Per campaign and night: accounts, prompts, accounts joined and left."""
        if campaign_id is None:
            return self._read("campaign_nights", order="campaign_id, night")
        return self._read("campaign_nights", "campaign_id = ?", [campaign_id], order="night")

    def events(self, campaign_id: str | None = None) -> pa.Table:
        """Campaign events (new, grown, merged, split, quiet, ...) in the order the runs recorded them."""
        if campaign_id is None:
            return self._read("campaign_events")
        return self._read("campaign_events", "campaign_id = ?", [campaign_id])

    def runs(self) -> pa.Table:
        """Every run of this store's lineage, oldest first."""
        return self._read("runs", order="started_at")

    def run_ids(self) -> list[str]:
        return self.runs()["run_id"].to_pylist()

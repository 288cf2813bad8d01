"""Exports and the analyst report: what leaves the store for other tools and for people.

Files written by ``export`` (one format chosen: csv, parquet or json; ``accounts.csv`` and ``campaigns.json`` are
always written too, because ``../shared/bench/score.py`` and most analysts' scripts read exactly those):

* ``topics``: one row per topic, a group of clusters (its cluster ids, then as a cluster's row);
* ``clusters``: one row per cluster (its topic, size, accounts, top terms, representatives, dominant template);
* ``memberships``: prompt_id -> topic_id, cluster_id, strength, text row, near-duplicate group, template id;
* ``campaigns``: one row per scored cohort, with evidence, reasons and mitigations;
* ``accounts.csv``: ``account_id, score, campaign_id, flagged`` plus the signals behind them;
* ``campaigns.json``: flagged campaigns with members, clusters, templates, reasons, samples, first/last seen;
* ``report.md``: the ranked campaigns, readable as they are.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

if TYPE_CHECKING:
    from engine.app.redact import Redactor

from engine.store import Snapshot
from engine.store.tables import Tables

FORMATS = ("csv", "parquet", "json", "html")
#: columns of ``accounts.csv``: the verdict first (what ``score.py`` reads), then the signals and attributes behind it
ACCOUNT_EXPORT = [
    "account_id",
    "score",
    "campaign_id",
    "flagged",
    "prompts",
    "per_day",
    "active_days",
    "first_seen",
    "last_seen",
    "capability_share",
    "marker_share",
    "created_at",
    "org_id",
    "payment_fp",
    "country",
    "tier",
    "reasons",
]


def _write(tbl: pa.Table, path: Path, fmt: str) -> Path:
    """One table as ``path.csv``, ``path.parquet`` or ``path.jsonl`` (JSON lines: one object per row, so it streams
    and never collides with ``campaigns.json``, the flagged-campaign summary)."""
    out = path.with_suffix("." + ("jsonl" if fmt == "json" else fmt))
    if fmt == "parquet":
        pq.write_table(tbl, out)
    elif fmt == "csv":
        flat = tbl
        for i, f in enumerate(tbl.schema):
            if pa.types.is_list(f.type) or pa.types.is_binary(f.type) or pa.types.is_fixed_size_binary(f.type):
                vals = [json.dumps(v) if not isinstance(v, bytes) else v.hex() for v in tbl[f.name].to_pylist()]
                flat = flat.set_column(i, f.name, pa.array(vals, pa.string()))
        pcsv.write_csv(flat, out)
    else:
        with open(out, "w", encoding="utf-8") as fh:
            for row in tbl.to_pylist():
                fh.write(json.dumps(row, default=str, ensure_ascii=False) + "\n")
    return out


def export(snap: Snapshot, out_dir: str | Path, fmt: str = "csv", redactor: Redactor | None = None) -> list[Path]:
    """Write all exports of a snapshot into ``out_dir``; returns the files written. ``redactor``: privacy mode
    (``engine.app.redact``): no raw text, ids hashed, small campaigns and clusters left out."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if fmt == "html":
        return [html_report(snap, out / "report.html", redactor)]
    tables = Tables(snap)
    r = redactor.table if redactor else (lambda t: t)
    history = r(tables.history())
    nights_tbl = r(tables.nights())
    files = [
        _write(r(tables.topics()), out / "topics", fmt),
        _write(r(tables.clusters()), out / "clusters", fmt),
        _write(r(tables.memberships()), out / "memberships", fmt),
        _write(r(tables.campaigns()), out / "campaigns", fmt),
        _write(history, out / "campaign_history", fmt),
        _write(nights_tbl, out / "campaign_nights", fmt),
        _write(r(tables.events()), out / "campaign_events", fmt),
    ]
    pcsv.write_csv(r(tables.accounts().select(ACCOUNT_EXPORT)), out / "accounts.csv")
    files.append(out / "accounts.csv")
    nights: dict[str, list[dict]] = {}
    for n in nights_tbl.sort_by([("night", "ascending")]).to_pylist():
        nights.setdefault(n.pop("campaign_id"), []).append(n)
    status = {h["campaign_id"]: h for h in history.to_pylist()}
    camps = [
        _campaign_record(row, status.get(row["campaign_id"]), nights.get(row["campaign_id"], []))
        for row in r(tables.campaigns(flagged_only=True)).to_pylist()
    ]
    (out / "campaigns.json").write_text(json.dumps(camps, indent=1, default=str, ensure_ascii=False))
    files.append(out / "campaigns.json")
    (out / "report.md").write_text(markdown_report(snap, redactor))
    files.append(out / "report.md")
    return files


def _campaign_record(r: dict, hist: dict | None, nights: list[dict]) -> dict:
    return {
        "campaign_id": r["campaign_id"],
        "status": hist["status"] if hist else None,
        "first_seen_ever": str(hist["first_seen"]) if hist else None,
        "accounts_ever": hist["accounts_ever"] if hist else r["accounts"],
        "history": nights,
        "score": r["score"],
        "accounts": r["accounts"],
        "prompts": r["prompts"],
        "first_seen": str(r["first_seen"]),
        "last_seen": str(r["last_seen"]),
        "reasons": json.loads(r["reasons"]),
        "evidence": json.loads(r["evidence"]),
        "areas": json.loads(r["areas"]),
        "skeletons": r["templates"],
        "clusters": r["clusters"],
        "sample_prompts": r["samples"],
        "members": r["member_ids"],
    }


def campaign_rows(snap: Snapshot, *, include_all: bool = False, limit: int = 50,
                  redactor: Redactor | None = None) -> list[dict]:  # fmt: skip
    """Campaigns ranked by score (flagged only unless ``include_all``), as dicts."""
    rows = Tables(snap).campaigns(flagged_only=not include_all, limit=limit).to_pylist()
    return redactor.scrub(rows) if redactor else rows


def markdown_report(snap: Snapshot, redactor: Redactor | None = None) -> str:
    meta = snap.meta()
    lines = [
        f"# promptsim report: run {meta['run_id']}",
        "",
        f"{meta['prompts']:,} prompts in store, {meta['texts']:,} distinct texts in the "
        f"{meta['window_days']:g}-day window, embedder `{meta['embedder']}`.",
        "",
    ]
    flagged = campaign_rows(snap, redactor=redactor)
    lines.append(f"## {len(flagged)} suspected extraction campaigns")
    for r in flagged:
        lines += [
            "",
            f"### {r['campaign_id']}: score {r['score']:.2f}, {r['accounts']} accounts, {r['prompts']:,} prompts",
            f"first seen {r['first_seen']}, last seen {r['last_seen']}",
            "",
        ]
        lines += [f"- {x}" for x in json.loads(r["reasons"])]
        if r["templates"]:
            lines += ["", "Shared template (`<SLOT>` = what varies):", ""]
            lines += [f"    {t[:300]}" for t in r["templates"][:2]]
        if r["samples"]:
            lines += ["", "Sample prompts:", ""] + [f"> {' '.join(s[:200].split())}" for s in r["samples"][:3]]
    others = [r for r in campaign_rows(snap, include_all=True, limit=200, redactor=redactor) if not r["flagged"]]
    lines += ["", "## Templated look-alikes scored low", ""]
    for r in others[:15]:
        why = "; ".join(json.loads(r["mitigations"])) or "weak evidence"
        lines.append(f"- {r['campaign_id']} ({r['accounts']} accounts, score {r['score']:.2f}): {why}")
    return "\n".join(lines) + "\n"


def html_report(snap: Snapshot, path: str | Path, redactor: Redactor | None = None) -> Path:
    """One self-contained ``report.html`` (inline CSS and SVG plots, no script, nothing fetched): the campaign
    pages of the web UI, for a mail or a ticket. Written to a temporary name and renamed, so a reader never opens
    half a report."""
    from engine.app.redact import RedactedState
    from engine.app.views import State
    from engine.app.web import report_html

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    state = State.open(snap, serving=False)
    tmp.write_text(report_html(RedactedState(state, redactor) if redactor else state), encoding="utf-8")
    tmp.replace(path)
    return path

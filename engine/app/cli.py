"""``promptsim``: the command line, a thin shell over the pipeline, the store and the queries."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

from engine.app.report import ACCOUNT_EXPORT
from engine.detect.finite import NonFiniteError
from engine.detect.settings import DetectSettings
from engine.ingest import envelopes
from engine.ingest.network import Networks
from engine.ingest.records import InputError
from engine.pipeline import DEFAULT_STORE, RunConfig
from engine.store import Store, StoreError
from engine.store.tables import Tables


def _store_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--store",
        default=os.environ.get("PROMPTSIM_STORE", DEFAULT_STORE),
        help="store directory (default: $PROMPTSIM_STORE or ./promptsim-store)",
    )


def _fmt_ts(v: object) -> str:
    if isinstance(v, datetime):
        return v.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M")
    return str(v)


def _config(a: argparse.Namespace, **given: object) -> RunConfig:
    """The run's config: the flags given, then what the store's last run used, then the defaults."""
    overrides: dict[str, object] = {}
    if getattr(a, "settings", None):
        try:
            values = json.loads(Path(a.settings).read_text(encoding="utf-8"))
            if not isinstance(values, dict):
                raise ValueError("expected a JSON object of setting: value")
            overrides.update(values)
        except (OSError, ValueError) as e:
            raise SystemExit(f"promptsim {a.command}: --settings {a.settings}: {e}") from None
    for assignment in getattr(a, "set", None) or []:
        name, sep, value = assignment.partition("=")
        if not sep:
            raise SystemExit(f"promptsim {a.command}: --set {assignment!r}: expected NAME=VALUE")
        overrides[name.strip()] = value.strip()
    snap = Store(a.store).current()
    meta = snap.meta() if snap is not None else {}
    # stores written before the config was kept: what their meta says
    stored = meta.get("config") or {"embedder": meta.get("embedder_spec"), "window_days": meta.get("window_days")}
    try:
        return RunConfig.from_stored(stored, store=a.store, quiet=a.quiet, detect_overrides=overrides, **given)
    except ValueError as e:
        raise SystemExit(f"promptsim {a.command}: {e}") from None


def cmd_run(a: argparse.Namespace) -> int:
    from engine.pipeline import run

    if a.ray_address and a.executor != "ray":
        raise SystemExit("promptsim run: --ray-address needs --executor ray")
    if a.workers is not None and a.workers < 1:
        raise SystemExit("promptsim run: --workers must be at least 1")
    if a.knn_shard_rows is not None and a.knn_shard_rows < 1:
        raise SystemExit("promptsim run: --knn-shard-rows must be at least 1")
    cfg = _config(
        a, inputs=a.input, accounts=a.accounts, embedder=a.embedder, models_dir=a.models_dir, window_days=a.window_days
    )
    # where the work runs is not a setting the store remembers: it must not change results
    cfg.executor, cfg.workers, cfg.ray_address = a.executor, a.workers, a.ray_address
    try:
        envelopes.Reading.parse(a.input_format, a.field_map, a.fill)
    except ValueError as e:
        raise SystemExit(f"promptsim run: {e}") from None
    cfg.input_format, cfg.field_map, cfg.fill = a.input_format, tuple(a.field_map), tuple(a.fill)
    if a.asn_db:
        try:
            Networks(a.asn_db).close()  # a database that will not open is a one-line error now, not mid-run
        except ValueError as e:
            raise SystemExit(f"promptsim run: --asn-db {e}") from None
        cfg.asn_db = a.asn_db
    if a.knn_shard_rows is not None:
        cfg.knn_shard_rows = a.knn_shard_rows
    try:
        report = run(cfg)
    except ImportError as e:
        if a.executor != "ray":
            raise
        raise SystemExit(f"promptsim run: {e}") from None
    print(report.summary())
    if report.campaigns and not a.quiet:
        print()
        return cmd_campaigns(argparse.Namespace(store=a.store, all=False, limit=10, json=False))
    return 0


def cmd_similar(a: argparse.Namespace) -> int:
    from engine.app.query import Searcher

    if not a.prompt_id and not a.text:
        raise SystemExit("promptsim similar: give a PROMPT_ID or --text")
    s = Searcher(Store(a.store).require())
    res = s.similar_text(a.text, a.k) if a.text else s.similar(a.prompt_id, a.k)
    if a.json:
        print(json.dumps(res.to_dict(), indent=1, ensure_ascii=False))
        return 0
    q = res.query
    if "prompt_id" in q:
        where = f"cluster {q['cluster_id']}" if q.get("in_window", True) else "(outside the analysis window)"
        print(f"{q['prompt_id']}  account {q['account_id']}  {q['timestamp']}  {where}")
        print(f"  {q['snippet'][:160]}")
        if q.get("note"):
            print(f"  note: this prompt lies {q['note']}")
    for title, rows, label in (
        ("near-duplicates (MinHash)", res.near_duplicates, "jaccard"),
        ("semantic neighbours (FAISS)", res.semantic, "cosine"),
    ):
        print(f"\n{title}:")
        if not rows:
            print("  none")
        for n in rows:
            same = f" (+{n.same_text_prompts - 1} same text)" if n.same_text_prompts > 1 else ""
            print(
                f"  {label} {n.score:.2f}  {n.prompt_id}  {n.account_id}  {n.timestamp}  cluster {n.cluster_id}{same}"
            )
            print(f"      {n.snippet[:140]}")
    return 0


def cmd_clusters(a: argparse.Namespace) -> int:
    tables = Tables(Store(a.store).require())
    if a.topics:
        return _print_topics(tables.topics(limit=a.limit).to_pylist(), a.json)
    rows = tables.clusters(limit=a.limit).to_pylist()
    if a.json:
        print(json.dumps(rows, indent=1, default=str, ensure_ascii=False))
        return 0
    print(f"{'cluster':>7} {'topic':>5} {'prompts':>8} {'texts':>7} {'accounts':>8} {'outl':>5}  top terms / template")
    for r in rows:
        topic = "" if r["topic_id"] is None else r["topic_id"]
        print(
            f"{r['cluster_id']:>7} {topic:>5} {r['prompts']:>8,} {r['texts']:>7,} {r['accounts']:>8,} "
            f"{r['outlier_share']:>5.0%}  {', '.join(r['top_terms'][:6])}"
        )
        if r["dominant_template"]:
            print(f"{'':>46}{r['dominant_template_share']:.0%} {r['dominant_template'][:90]}")
    return 0


def _print_topics(rows: list[dict], as_json: bool) -> int:
    if as_json:
        print(json.dumps(rows, indent=1, default=str, ensure_ascii=False))
        return 0
    print(f"{'topic':>5} {'clusters':>8} {'prompts':>8} {'accounts':>8}  top terms / its largest clusters")
    for r in rows:
        ids = r["clusters"] or []
        print(
            f"{r['topic_id']:>5} {len(ids):>8,} {r['prompts']:>8,} {r['accounts']:>8,}  {', '.join(r['top_terms'][:6])}"
        )
        print(f"{'':>33}clusters {', '.join(map(str, ids[:10]))}{' ...' if len(ids) > 10 else ''}")
    if not rows:
        print("no topics (a store written before topics existed: run the night again)")
    return 0


def cmd_campaigns(a: argparse.Namespace) -> int:
    from engine.app.report import campaign_rows

    rows = campaign_rows(Store(a.store).require(), include_all=a.all, limit=a.limit)
    if a.json:
        print(json.dumps(rows, indent=1, default=str, ensure_ascii=False))
        return 0
    if not rows:
        print("no suspected campaigns" + ("" if a.all else " (use --all to list the templated cohorts scored low)"))
        return 0
    print(f"{'campaign':<10} {'score':>5} {'flag':>4} {'accounts':>8} {'prompts':>8}  first seen        reasons")
    for r in rows:
        reasons = json.loads(r["reasons"])[1:3] if r["flagged"] else json.loads(r["mitigations"])[:2]
        print(
            f"{r['campaign_id']:<10} {r['score']:>5.2f} {'yes' if r['flagged'] else 'no':>4} {r['accounts']:>8,} "
            f"{r['prompts']:>8,}  {_fmt_ts(r['first_seen'])}  {'; '.join(reasons)[:150]}"
        )
    return 0


def cmd_campaign(a: argparse.Namespace) -> int:
    tables = Tables(Store(a.store).require())
    r = tables.campaign(a.campaign_id)
    if r is None:
        raise StoreError(f"no campaign {a.campaign_id!r} in {a.store} (see `promptsim campaigns --all`)")
    if a.json:
        print(json.dumps(r, indent=1, default=str, ensure_ascii=False))
        return 0
    print(f"campaign {r['campaign_id']}  score {r['score']:.2f}  {'FLAGGED' if r['flagged'] else 'not flagged'}")
    print(
        f"  {r['accounts']} accounts, {r['prompts']:,} prompts, {_fmt_ts(r['first_seen'])} .. {_fmt_ts(r['last_seen'])}"
    )
    print("\nevidence:")
    for x in json.loads(r["reasons"]):
        print(f"  - {x}")
    for x in json.loads(r["mitigations"]):
        print(f"  - (against) {x}")
    print(f"\ncapability areas: {r['areas']}")
    print("\ntemplates (<SLOT> = what varies):")
    for t in r["templates"]:
        print(f"  {t[:200]}")
    print(f"\nclusters: {r['clusters']}")
    _print_history(tables, r["campaign_id"])
    print("\nsample prompts:")
    for s in r["samples"]:
        print(f"  > {' '.join(s[:200].split())}")
    print(
        f"\nmembers ({len(r['member_ids'])}): {', '.join(r['member_ids'][:20])}{' ...' if len(r['member_ids']) > 20 else ''}"
    )
    return 0


def _print_history(tables: Tables, cid: str) -> None:
    """Status and per-night activity of a tracked campaign (nothing for cohorts that were never flagged)."""
    hist = tables.history(cid).to_pylist()
    if not hist:
        return
    h = hist[0]
    print(
        f"\nstatus: {h['status']}  first seen {_fmt_ts(h['first_seen'])}  last seen {_fmt_ts(h['last_seen'])}  "
        f"accounts ever {h['accounts_ever']}"
    )
    print(f"  {'night':<11} {'accounts':>8} {'prompts':>8} {'joined':>6} {'left':>5}")
    for n in tables.nights(cid).to_pylist():
        print(f"  {n['night']:<11} {n['accounts']:>8,} {n['prompts']:>8,} {n['joined']:>6,} {n['left']:>5,}")
    for e in tables.events(cid).to_pylist():
        print(f"  {e['run_id']}  {e['event']}: {e['detail']}")


def cmd_diff(a: argparse.Namespace) -> int:
    from engine.detect.history import diff_events

    tables = Tables(Store(a.store).require())
    runs = tables.run_ids()
    events = diff_events(tables.events(), runs, a.since)
    if a.json:
        print(json.dumps(events, indent=1))
        return 0
    since = a.since or (runs[-2] if len(runs) > 1 else "the start")
    print(f"changes since {since} (latest run {runs[-1]}):")
    if not events:
        print("  none")
    titles = {
        "new": "new campaigns",
        "grown": "grown",
        "new_accounts": "new accounts in known campaigns",
        "quiet": "gone quiet",
        "resumed": "active again",
        "merged": "merged",
        "split": "split",
    }
    for kind, title in titles.items():
        rows = [e for e in events if e["event"] == kind]
        if rows:
            print(f"\n{title}:")
            for e in rows:
                print(f"  {e['campaign_id']}  {e['detail']}")
    return 0


def cmd_prune(a: argparse.Namespace) -> int:
    from engine.pipeline import run

    try:
        before = datetime.fromisoformat(a.before).replace(tzinfo=timezone.utc)
    except ValueError:
        raise SystemExit(f"promptsim prune: --before {a.before!r} is not a date (YYYY-MM-DD)") from None
    Store(a.store).require()
    report = run(_config(a, inputs=[], prune_before=before))
    print(report.summary())
    return 0


def cmd_account(a: argparse.Namespace) -> int:
    r = Tables(Store(a.store).require()).account(a.account_id)
    if r is None:
        raise StoreError(f"no account {a.account_id!r} in {a.store}")
    r["reasons"] = json.loads(r["reasons"])
    if a.json:
        print(json.dumps(r, indent=1, default=str, ensure_ascii=False))
        return 0
    print(
        f"account {r['account_id']}  score {r['score']:.2f}  {'FLAGGED in ' + r['campaign_id'] if r['flagged'] else 'not flagged'}"
    )
    for k in ACCOUNT_EXPORT:
        if k not in ("account_id", "score", "campaign_id", "flagged", "reasons"):  # said above, or below
            print(f"  {k:<17} {r[k]}")
    for x in r["reasons"]:
        print(f"  - {x}")
    return 0


def _redactor(a: argparse.Namespace, snap):  # noqa: ANN001, ANN202 - Snapshot -> Redactor | None
    """The privacy mode's redactor when ``--redact`` was given (key: --redact-key or $PROMPTSIM_REDACT_KEY)."""
    if not getattr(a, "redact", False):
        return None
    from engine.app.redact import Redactor

    key = a.redact_key or os.environ.get("PROMPTSIM_REDACT_KEY", "")
    try:
        return Redactor(Tables(snap), key, a.min_accounts)
    except ValueError as e:
        raise SystemExit(f"promptsim {a.command}: {e}") from None


def _redact_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--redact", action="store_true",
                   help="privacy mode: no raw prompt text (template skeletons only), ids as keyed hashes")  # fmt: skip
    p.add_argument("--redact-key", help="key of the id hashes (default $PROMPTSIM_REDACT_KEY; at least 8 characters)")
    p.add_argument("--min-accounts", type=int, default=1,
                   help="with --redact: campaigns and clusters of fewer accounts are left out (default 1)")  # fmt: skip


def cmd_export(a: argparse.Namespace) -> int:
    from engine.app.report import export

    snap = Store(a.store).require()
    files = export(snap, a.out, a.format, _redactor(a, snap))
    for f in files:
        print(f)
    return 0


def cmd_serve(a: argparse.Namespace) -> int:
    from engine.app.api import serve

    Store(a.store).require()
    key = a.api_key or os.environ.get("PROMPTSIM_API_KEY")
    redact = None
    if a.redact:
        redact = {"key": a.redact_key or os.environ.get("PROMPTSIM_REDACT_KEY", ""), "min_accounts": a.min_accounts}
        _redactor(a, Store(a.store).require())  # a bad key fails here, before the server starts
    serve(a.store, host=a.host, port=a.port, api_key=key, workers=a.workers, quiet=a.quiet, read_only=a.read_only,
          redact=redact)  # fmt: skip
    return 0


def cmd_label(a: argparse.Namespace) -> int:
    from engine.app import casework

    target = "account" if a.account else "campaign"
    try:
        rec = casework.label(Store(a.store), target, a.target_id, a.verdict, kind=a.kind or "", note=a.note or "",
                             by=a.by or os.environ.get("USER", ""))  # fmt: skip
    except casework.CaseError as e:
        raise SystemExit(f"promptsim label: {e}") from None
    print(f"labelled {target} {a.target_id} {rec['verdict']}{' (' + rec['kind'] + ')' if rec['kind'] else ''} "
          f"by {rec['by']} at {rec['at']} (label {rec['id']}); the next night acts on it")  # fmt: skip
    return 0


def cmd_labels(a: argparse.Namespace) -> int:
    from engine.app import casework

    store = Store(a.store)
    if a.what == "stats":
        rows = casework.stats(store)
        if a.json:
            print(json.dumps(rows, indent=1))
            return 0
        print(
            f"{'night':<11} {'campaigns':>9} {'confirmed':>9} {'benign':>6} {'review':>6} {'unreviewed':>10} precision"
        )
        for r in rows:
            prec = "-" if r["precision"] is None else f"{r['precision']:.2f}"
            print(f"{r['night']:<11} {r['campaigns']:>9} {r['confirmed']:>9} {r['benign']:>6} {r['needs_review']:>6} "
                  f"{r['unreviewed']:>10} {prec}")  # fmt: skip
        return 0
    rows = casework.labels(store, a.campaign)
    if a.json:
        print(json.dumps(rows, indent=1, ensure_ascii=False))
        return 0
    for r in rows:
        kind = f" ({r['kind']})" if r.get("kind") else ""
        print(
            f"{r['at']}  {r['target']:<8} {r['target_id']:<16} {r['verdict']}{kind}  by {r['by']}: {r.get('note', '')}"
        )
    if not rows:
        print("no labels")
    return 0


def cmd_allow(a: argparse.Namespace) -> int:
    from engine.app import casework

    store = Store(a.store)
    try:
        if a.action == "add":
            if not a.rule or not a.value:
                raise casework.CaseError("allow add needs --rule org|template|system-prompt and --value")
            r = casework.allow(store, a.rule, a.value, expires=a.expires or "", note=a.note or "",
                               by=a.by or os.environ.get("USER", ""))  # fmt: skip
            print(f"allowlist rule {r['id']}: {r['rule']} {r['value']!r} until {r['expires'] or 'removed'}")
        elif a.action == "remove":
            if not a.rule_id:
                raise casework.CaseError("allow remove needs the rule id")
            casework.unallow(store, a.rule_id, by=a.by or os.environ.get("USER", ""))
            print(f"allowlist rule {a.rule_id} removed")
        else:
            for r in casework.rules(store):
                print(f"{r['id']}  {r['rule']:<13} {r['value'][:60]!r:<62} until {r['expires'] or '-':<10} "
                      f"by {r['by']}: {r.get('note', '')}")  # fmt: skip
    except casework.CaseError as e:
        raise SystemExit(f"promptsim allow: {e}") from None
    return 0


def cmd_audit(a: argparse.Namespace) -> int:
    from engine.app import casework

    rows = casework.audit(Store(a.store))
    if a.json:
        print(json.dumps(rows, indent=1, ensure_ascii=False))
        return 0
    for r in rows:
        print(f"{r['at']}  {r['by']}: {r['action']} {r['target']}  before {json.dumps(r['before'], ensure_ascii=False)}"
              f"  after {json.dumps(r['after'], ensure_ascii=False)}")  # fmt: skip
    return 0


def cmd_indicators(a: argparse.Namespace) -> int:
    from engine.app import indicators

    key = a.key or os.environ.get("PROMPTSIM_INDICATOR_KEY", "")
    try:
        if a.action == "export":
            if not a.ids:
                raise ValueError("export: give the campaign ids (C...)")
            bundle = indicators.export_bundle(Store(a.store), a.ids, key=key, tlp=a.tlp)
            Path(a.out).write_text(bundle.serialize(pretty=True), encoding="utf-8")
            print(f"wrote {a.out}: {len(bundle.objects)} STIX objects for {len(a.ids)} campaign(s), TLP {a.tlp}")
            return 0
        if len(a.ids) != 1:
            raise ValueError("match: give one bundle file")
        bundle = json.loads(Path(a.ids[0]).read_text(encoding="utf-8"))
        rows = indicators.match_bundle(Store(a.store), bundle, key=key)
    except (ValueError, OSError) as e:
        raise SystemExit(f"promptsim indicators {a.action}: {e}") from None
    if a.json:
        print(json.dumps(rows, indent=1, default=str))
        return 0
    for r in rows:
        what = (
            f"campaign {r['campaign_id']} ({r['accounts']} accounts)"
            if "campaign_id" in r
            else f"account {r['account_id']}"
        )
        print(f"{r['similarity']:.2f}  {r['bundle_campaign']} ~ {what}: {'; '.join(r['matched'])}")
    if not rows:
        print("no campaign or account of this store matches the bundle")
    return 0


def cmd_report(a: argparse.Namespace) -> int:
    from engine.app.report import html_report

    snap = Store(a.store).require()
    print(html_report(snap, a.out, _redactor(a, snap)))
    return 0


def cmd_runs(a: argparse.Namespace) -> int:
    rows = Tables(Store(a.store).require()).runs().to_pylist()
    if a.json:
        print(json.dumps(rows, indent=1, default=str))
        return 0
    for r in rows:
        rep = json.loads(r["report"])
        print(
            f"{r['run_id']}  {r['started_at'][:19]}  accepted {rep['accepted']:,}  quarantined {rep['quarantined']:,}  "
            f"window {rep['prompts_in_window']:,}  campaigns {rep['campaigns']}  flagged {rep['flagged_accounts']}  "
            f"embedder {r['embedder']}"
        )
    return 0


def cmd_settings(a: argparse.Namespace) -> int:
    """The detection settings: the store's (what its last run used) where there is one, else the defaults."""
    snap = Store(a.store).current()
    stored = (snap.meta().get("config") or {}).get("detect") if snap is not None else None
    known = DetectSettings.names()
    current = DetectSettings().with_values({k: v for k, v in (stored or {}).items() if k in known})  # removed: dropped
    if a.json:
        print(json.dumps(current.to_dict(), indent=1))
        return 0
    for name, default, why in DetectSettings.describe():
        value = getattr(current, name)
        mark = "" if value == default else f"  (default {default})"
        print(f"{name} = {value}{mark}\n    {why}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="promptsim", description="Find distillation / extraction campaigns in LLM prompt logs."
    )
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser(
        "run",
        help="ingest a night's log, update the store, score campaigns",
        description="Ingest prompt logs (JSONL, JSONL.gz, CSV, Parquet), then normalise, MinHash, embed, "
        "index, cluster and score them, and commit a new snapshot of the store atomically.",
    )
    r.add_argument(
        "--input",
        "-i",
        nargs="+",
        required=True,
        help="prompt log file(s), directories of them (Hive partitions dt=.../ kept as columns) or the same on object "
        "storage (s3://, gs://): prompt_id, account_id, timestamp, text, or chat requests (see --format)",
    )
    r.add_argument("--accounts", help="account table: account_id, created_at, org_id, payment_fp, country, tier")
    r.add_argument(
        "--format",
        dest="input_format",
        choices=list(envelopes.ENVELOPES),
        help="how the JSON lines are shaped: flat fields, OpenAI Chat Completions requests (top level or under "
        "'body': gateway logs, Batch API input), Anthropic Messages requests (top level or under 'request' or "
        "'params'), OpenTelemetry OTLP JSON spans (GenAI conventions), or a gateway's export (LiteLLM logging "
        "payloads and SpendLogs rows, Langfuse observations, Helicone requests); default: each file's first records "
        "decide",
    )
    r.add_argument(
        "--map",
        dest="field_map",
        action="append",
        default=[],
        metavar="FIELD=PATH",
        help="take a field from a JSON path into each record, e.g. account_id=metadata.tenant or "
        "text=payload.messages[0].content (repeatable; over what the format finds)",
    )
    r.add_argument(
        "--fill",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="a value for a field the records lack, e.g. account_id=org-7 timestamp=2026-11-21 for a batch file "
        "(repeatable)",
    )
    r.add_argument(
        "--asn-db",
        metavar="PATH",
        help="MaxMind-format ASN database (GeoLite2-ASN .mmdb) mapping each record's client 'ip' to its AS number; "
        "without it an address's /24 (IPv6: /48) stands in for its network. Give it every night: a window mixing "
        "the two counts networks on two scales",
    )
    r.add_argument(
        "--embedder",
        help="static (fast model2vec distilled from MiniLM, default), minilm, or a local model path "
        "(default: what the store's last run used)",
    )
    r.add_argument("--models-dir", help="where the static model is built and kept (default: ./models)")
    r.add_argument(
        "--window-days", type=float, help="days of traffic clustered and scored together (default 7, or the store's)"
    )
    r.add_argument("--settings", help="JSON file of detection settings to override (see `promptsim settings`)")
    r.add_argument("--set", action="append", metavar="NAME=VALUE", help="override one detection setting (repeatable)")
    r.add_argument(
        "--executor",
        choices=["local", "ray"],
        default="local",
        help="where the per-prompt work (normalise, MinHash, embed) runs: this process (default) or Ray "
        '(needs pip install "promptsim[ray]"); results are the same either way',
    )
    r.add_argument(
        "--ray-address",
        metavar="ADDR",
        help="with --executor ray: 'auto' or HOST:PORT of a running Ray cluster (default: start a local one)",
    )
    r.add_argument(
        "--workers", type=int, help="parallel workers (Ray tasks and embedding actors; default: the cluster's CPUs)"
    )
    r.add_argument(
        "--knn-shard-rows",
        type=int,
        metavar="N",
        help="search the kNN graph over index shards of N vectors each, merged by similarity "
        "(default 2,000,000; a window that fits one shard is searched in its own index)",
    )
    r.add_argument("--quiet", "-q", action="store_true", help="no progress output")
    _store_arg(r)
    r.set_defaults(func=cmd_run)

    s = sub.add_parser(
        "similar",
        help="near-duplicates and semantic neighbours of a prompt",
        description="Near-duplicates (MinHash, estimated Jaccard) and semantic neighbours (FAISS cosine) "
        "of a stored prompt, or of free text with --text.",
    )
    s.add_argument("prompt_id", nargs="?")
    s.add_argument("--text", help="query with free text instead of a prompt id")
    s.add_argument("-k", type=int, default=10, help="neighbours of each kind (default 10)")
    s.add_argument("--json", action="store_true")
    _store_arg(s)
    s.set_defaults(func=cmd_similar)

    c = sub.add_parser("clusters", help="the largest clusters (or --topics) with top terms and templates")
    c.add_argument("--limit", type=int, default=20)
    c.add_argument("--topics", action="store_true", help="the largest topics (groups of clusters) instead")
    c.add_argument("--json", action="store_true")
    _store_arg(c)
    c.set_defaults(func=cmd_clusters)

    cs = sub.add_parser("campaigns", help="ranked suspected campaigns with their reasons")
    cs.add_argument("--all", action="store_true", help="include templated cohorts scored low, with why")
    cs.add_argument("--limit", type=int, default=50)
    cs.add_argument("--json", action="store_true")
    _store_arg(cs)
    cs.set_defaults(func=cmd_campaigns)

    one = sub.add_parser("campaign", help="one campaign: evidence, templates, areas, samples, members")
    one.add_argument("campaign_id")
    one.add_argument("--json", action="store_true")
    _store_arg(one)
    one.set_defaults(func=cmd_campaign)

    ac = sub.add_parser("account", help="one account's verdict and signals")
    ac.add_argument("account_id")
    ac.add_argument("--json", action="store_true")
    _store_arg(ac)
    ac.set_defaults(func=cmd_account)

    e = sub.add_parser(
        "export",
        help="write topics, clusters, memberships, campaigns, accounts.csv, campaigns.json, report.md, report.html",
    )
    e.add_argument("--out", required=True, help="output directory")
    e.add_argument(
        "--format",
        choices=["csv", "parquet", "json", "html"],
        default="csv",
        help="format of the tables (html: only the one-file report.html, with its plots)",
    )
    _redact_args(e)
    _store_arg(e)
    e.set_defaults(func=cmd_export)

    d = sub.add_parser(
        "diff",
        help="what changed since the previous run: new, grown, quiet campaigns",
        description="Campaign events since a run (default: the run before the latest): new campaigns, "
        "grown ones, new accounts in known campaigns, campaigns gone quiet, merges, splits.",
    )
    d.add_argument("--since", help="a run id (see `promptsim runs`)")
    d.add_argument("--json", action="store_true")
    _store_arg(d)
    d.set_defaults(func=cmd_diff)

    pr = sub.add_parser(
        "prune",
        help="remove prompts before a date (campaign history is kept)",
        description="Remove stored prompts older than --before (whole nightly partitions are dropped, the one "
        "straddling the date is rewritten), with their texts, vectors and index entries, and re-derive clusters "
        "and campaigns; campaign history is kept.",
    )
    pr.add_argument("--before", required=True, help="YYYY-MM-DD (UTC)")
    pr.add_argument("--quiet", "-q", action="store_true")
    _store_arg(pr)
    pr.set_defaults(func=cmd_prune)

    st = sub.add_parser("settings", help="every detection setting: its value, and why")
    st.add_argument("--json", action="store_true")
    _store_arg(st)
    st.set_defaults(func=cmd_settings)

    sv = sub.add_parser(
        "serve",
        help="the web UI and read-only HTTP API over the store (docs at /docs)",
        description="Serve the store's current snapshot over HTTP: the web UI at / and a JSON API "
        "(/campaigns, /accounts, /prompts/{id}/similar, ...; OpenAPI docs at /docs). Follows new snapshots "
        "as nightly runs commit, without a restart.",
    )
    sv.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback only)")
    sv.add_argument("--port", type=int, default=8000)
    sv.add_argument(
        "--api-key", help="require this key in the X-API-Key header (default: $PROMPTSIM_API_KEY, else none)"
    )
    sv.add_argument(
        "--workers", type=int, default=1, help="server processes, each with the snapshot in memory (default 1)"
    )
    sv.add_argument("--quiet", "-q", action="store_true", help="no access log")
    sv.add_argument("--read-only", action="store_true", help="refuse every write (labels), whatever the key")
    _redact_args(sv)
    _store_arg(sv)
    sv.set_defaults(func=cmd_serve)

    lb = sub.add_parser(
        "label",
        help="label a campaign (or --account) confirmed, benign or needs-review; later nights act on it",
        description="Record an analyst's label in the store's labels journal (safe while a run writes). A campaign "
        "labelled benign is not flagged again while it stays as labelled; a confirmed one is watched: accounts "
        "matching its templates, cards or orgs are flagged the night they appear.",
    )
    lb.add_argument("target_id", help="campaign id (C...), or an account id with --account")
    lb.add_argument("--as", dest="verdict", required=True, choices=["confirmed", "benign", "needs-review"])
    lb.add_argument(
        "--kind", help="benign only: known-customer, eval-or-research, course-or-team, product-traffic, other"
    )
    lb.add_argument("--note", default="", help="free text (kept as written, shown escaped)")
    lb.add_argument("--by", help="the analyst's name (default $USER)")
    lb.add_argument("--account", action="store_true", help="TARGET_ID is an account")
    _store_arg(lb)
    lb.set_defaults(func=cmd_label)

    ls = sub.add_parser("labels", help="analysts' labels; `labels stats`: per night, confirmed / benign / unreviewed")
    ls.add_argument("what", nargs="?", choices=["list", "stats"], default="list")
    ls.add_argument("--campaign", help="only this campaign's labels")
    ls.add_argument("--json", action="store_true")
    _store_arg(ls)
    ls.set_defaults(func=cmd_labels)

    al = sub.add_parser("allow", help="allowlist rules: an org, a template or a system prompt, until a date")
    al.add_argument("action", nargs="?", choices=["list", "add", "remove"], default="list")
    al.add_argument("rule_id", nargs="?", help="remove: the rule's id (from `allow list`)")
    al.add_argument("--rule", choices=["org", "template", "system-prompt"])
    al.add_argument("--value", help="the org id, template skeleton or system prompt text it matches")
    al.add_argument("--expires", help="last day it applies, YYYY-MM-DD (default: until removed)")
    al.add_argument("--note", default="")
    al.add_argument("--by", help="the analyst's name (default $USER)")
    _store_arg(al)
    al.set_defaults(func=cmd_allow)

    ind = sub.add_parser(
        "indicators",
        help="campaign indicators as a STIX 2.1 bundle without raw text or ids (export), or matched here (match)",
        description="export C... --out bundle.json: template skeleton MinHash signatures, HMAC-keyed cards and orgs, "
        "ASNs, client, timing and area fingerprints, counts and dates, with a TLP marking. match bundle.json: this "
        "store's campaigns and accounts that match it. The HMAC key (--key or $PROMPTSIM_INDICATOR_KEY) is the one "
        "the exporting team chose and shared.",
    )
    ind.add_argument("action", choices=["export", "match"])
    ind.add_argument("ids", nargs="*", help="export: campaign ids; match: the bundle file")
    ind.add_argument("--out", default="bundle.json")
    ind.add_argument("--key", help="HMAC key for cards and orgs (default $PROMPTSIM_INDICATOR_KEY)")
    ind.add_argument("--tlp", choices=["white", "green", "amber", "red"], default="amber")
    ind.add_argument("--json", action="store_true")
    _store_arg(ind)
    ind.set_defaults(func=cmd_indicators)

    au = sub.add_parser("audit", help="every analyst action: who, when, what, before and after")
    au.add_argument("--json", action="store_true")
    _store_arg(au)
    au.set_defaults(func=cmd_audit)

    rp = sub.add_parser("report", help="write one self-contained report.html (campaign pages with plots)")
    rp.add_argument("--out", default="report.html", help="file to write (default report.html)")
    _redact_args(rp)
    _store_arg(rp)
    rp.set_defaults(func=cmd_report)

    rs = sub.add_parser("runs", help="the runs that built this store")
    rs.add_argument("--json", action="store_true")
    _store_arg(rs)
    rs.set_defaults(func=cmd_runs)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (InputError, StoreError, NonFiniteError) as e:
        print(f"promptsim: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("promptsim: interrupted; the store is unchanged", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())

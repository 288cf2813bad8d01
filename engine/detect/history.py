"""Campaigns tracked from night to night: stable identity, per-night history, and what changed.

Campaigns run for weeks and move when noticed, so a nightly cohort must be recognised as the operation already
seen yesterday rather than reported as something new. Each night's flagged cohorts are matched to the campaigns
the store already knows by what one operator cannot easily change all at once:

* the accounts (overlap coefficient: share of the smaller side found in the other),
* the wrapper templates it uses, and
* the payment fingerprints behind its accounts.

A cohort takes the id of the known campaign it matches best. One cohort matching several known campaigns merges
them (the oldest id survives and the merge is recorded); several cohorts matching one campaign split it (the
closest keeps the id, the others get new ids recorded as split from it). Known campaigns with no match tonight
stay in the history; those with no traffic on the latest night are marked ``quiet``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Set
from dataclasses import dataclass, field
from datetime import datetime, timezone

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from engine.detect.settings import DEFAULTS, DetectSettings
from engine.ingest.records import epoch_seconds
from engine.store.tables import CAMPAIGN_EVENTS as EVENTS_SCHEMA
from engine.store.tables import CAMPAIGN_HISTORY as HISTORY_SCHEMA
from engine.store.tables import CAMPAIGN_NIGHTS as NIGHTS_SCHEMA


@dataclass
class Tracking:
    """The updated history tables, tonight's cohort id -> stable campaign id, and cohorts kept flagged."""

    history: pa.Table
    nights: pa.Table
    events: pa.Table
    stable_id: dict[str, str]
    continued: set[str] = field(default_factory=set)


def keep_history(
    tracking: Tracking, history: pa.Table | None, nights: pa.Table | None, events: pa.Table | None
) -> Tracking:
    """``tracking``'s ids with the given (previous) history tables, for runs that must not add history (prune)."""
    return Tracking(
        history=history if history is not None else HISTORY_SCHEMA.empty_table(),
        nights=nights if nights is not None else NIGHTS_SCHEMA.empty_table(),
        events=events if events is not None else EVENTS_SCHEMA.empty_table(),
        stable_id=tracking.stable_id,
        continued=tracking.continued,
    )


def _match(cohort: dict, known: dict, payment_of: dict[str, str], common: Set[str] = frozenset()) -> float:
    """How surely tonight's cohort is a known campaign: shared accounts, wrapper templates or payment cards.
    ``common`` templates (``common_templates``) are a format many cohorts share, not one operation's trace."""
    m = set(cohort["member_ids"])
    p = {payment_of.get(a, "") for a in m} - {""}
    return max(
        _overlap(m, set(known["member_ids"])),
        0.8 * _overlap(set(cohort["templates"]) - common, set(known["templates"]) - common),
        0.8 * _overlap(p, set(known["payment_fps"])),
    )


def common_templates(cohorts: list[dict], most: int) -> set[str]:
    """Templates among the top templates of more than ``most`` of tonight's cohorts: a question format (a
    multiple-choice skeleton, "question: <SLOT>") that every cohort asking one benchmark's questions shows. An
    operator's wrapper is in its own operation's cohorts only, so a shared common format says nothing about whether
    two cohorts are one campaign (``DetectSettings.match_common_cohorts`` says what was measured)."""
    counts: dict[str, int] = {}
    for c in cohorts:
        for t in set(c["templates"] or []):
            counts[t] = counts.get(t, 0) + 1
    return {t for t, n in counts.items() if n > most}


def _overlap(a: set, b: set) -> float:
    return len(a & b) / min(len(a), len(b)) if a and b else 0.0


def _new_id(night: str, members: list[str]) -> str:
    """A new campaign's id: a function of the data alone (the night's newest timestamp and the campaign's first
    member), never of the run, so the same log gives the same ids on every machine and on a re-run; two campaigns
    of one night never share a member, and a campaign born on another night gets another id."""
    h = hashlib.blake2b(f"{night}|{min(members)}".encode(), digest_size=4).hexdigest()
    return f"C{h}"


def track(
    prev_history: pa.Table | None,
    prev_nights: pa.Table | None,
    prev_events: pa.Table | None,
    cohorts: pa.Table,
    window: pa.Table,
    payment_of: dict[str, str],
    run_id: str,
    s: DetectSettings = DEFAULTS,
    labelled: Collection[str] = (),
) -> Tracking:
    """Match tonight's flagged cohorts to known campaigns and roll the per-night history forward.

    Status (new, growing, steady, fading, quiet) is judged on the latest *full* night of the window: a newest
    night that holds only a spill-over of a few hundred prompts (less than partial_night_share of a typical night)
    would otherwise make every campaign look quiet. Activity on such a partial night still counts as activity.
    """
    known = prev_history.to_pylist() if prev_history is not None else []
    tonight = cohorts.to_pylist()
    common = common_templates(tonight, s.match_common_cohorts)
    night = str(pc.max(window["timestamp"]).as_py()) if window.num_rows else ""
    live = [k for k in known if k["status"] != "merged"]
    events: list[dict] = []
    # tonight's flagged cohorts, plus weaker ones that continue a known campaign (hysteresis, see continue_score)
    flagged, continued = [], set()
    for c in tonight:
        if c["flagged"]:
            flagged.append(c)
        elif (
            c["score"] >= s.continue_score
            and c["member_ids"]  # a cohort none of whose members is typical of it continues nothing
            and live
            and max(_match(c, k, payment_of, common) for k in live) >= s.match_min
        ):
            flagged.append(dict(c, flagged=True))
            continued.add(c["campaign_id"])

    # -- match ------------------------------------------------------------------------------------------------
    scores = np.zeros((len(flagged), len(known)))
    for i, c in enumerate(flagged):
        for j, k in enumerate(known):
            scores[i, j] = _match(c, k, payment_of, common) if k["status"] != "merged" else 0.0
    owner: dict[int, int] = {}  # known campaign -> the cohort that keeps its id
    for j in range(len(known)):
        col = scores[:, j]
        if len(col) and col.max() >= s.match_min:
            owner[j] = int(col.argmax())
    stable: dict[str, str] = {}
    by_id = {k["campaign_id"]: k for k in known}
    for i, c in enumerate(flagged):
        mine = [j for j, who in owner.items() if who == i]
        if mine:
            mine.sort(key=lambda j: known[j]["first_seen"])
            keep = known[mine[0]]["campaign_id"]
            for j in mine[1:]:
                gone = known[j]["campaign_id"]
                by_id[gone]["status"] = "merged"
                events.append(_event(run_id, keep, "merged", f"{gone} merged into {keep}"))
        else:
            keep = _new_id(night, c["member_ids"])
            near = [j for j in range(len(known)) if scores[i, j] >= s.match_min]
            if near:
                parent = known[max(near, key=lambda j: scores[i, j])]["campaign_id"]
                events.append(_event(run_id, keep, "split", f"split from {parent}"))
            else:
                events.append(_event(run_id, keep, "new", f"{c['accounts']} accounts, score {c['score']:.2f}"))
        stable[c["campaign_id"]] = keep

    # -- per-night activity of every campaign seen tonight -------------------------------------------------------
    ts = epoch_seconds(window["timestamp"])
    day = (ts // 86400).astype(np.int64)
    judge_day, partial = judged_night(day, s.partial_night_share)
    last_night = _night(judge_day)
    accts = np.array(window["account_id"].to_pylist(), dtype=object)
    window_nights = {_night(d) for d in np.unique(day)}

    old_nights = prev_nights.to_pylist() if prev_nights is not None else []
    night_rows = [r for r in old_nights if r["night"] not in window_nights or r["campaign_id"] not in stable.values()]
    rows_by_cid: dict[str, list[dict]] = {}
    for r in night_rows:
        rows_by_cid.setdefault(r["campaign_id"], []).append(r)

    updated: dict[str, dict] = dict(by_id)
    for c in flagged:
        cid = stable[c["campaign_id"]]
        members = set(c["member_ids"])
        mask = np.fromiter((a in members for a in accts), dtype=bool, count=len(accts))
        prev = by_id.get(cid)
        seen_before = set(prev["member_ids"]) if prev else set()
        ever = seen_before | members
        if prev and members - seen_before:
            joined = sorted(members - seen_before)
            events.append(
                _event(
                    run_id,
                    cid,
                    "new_accounts",
                    f"{len(joined)} new accounts: {', '.join(joined[:10])}" + (" ..." if len(joined) > 10 else ""),
                )
            )
        first_night_of: dict[str, str] = {}
        per_night: list[dict] = []
        active_prev: set[str] = set()
        for d in np.unique(day[mask]):
            sel = mask & (day == d)
            act = set(accts[sel])
            for a in act:
                first_night_of.setdefault(a, _night(d))
            per_night.append(
                {
                    "campaign_id": cid,
                    "night": _night(d),
                    "accounts": len(act),
                    "prompts": int(sel.sum()),
                    "joined": sum(1 for a in act if first_night_of[a] == _night(d)),
                    "left": len(active_prev - act),
                }
            )
            active_prev = act
        rows = [r for r in rows_by_cid.get(cid, []) if r["night"] not in {p["night"] for p in per_night}] + per_night
        rows.sort(key=lambda r: r["night"])
        rows_by_cid[cid] = rows
        status = _status(rows, last_night, partial, new=prev is None)
        if prev is not None and prev.get("status") == "quiet" and status != "quiet":
            events.append(_event(run_id, cid, "resumed", f"active again on {last_night}"))
        if prev is not None and status == "growing":
            events.append(_event(run_id, cid, "grown", f"{prev['accounts']} -> {c['accounts']} accounts"))
        if status == "quiet" and (prev is None or prev.get("status") != "quiet"):
            events.append(_event(run_id, cid, "quiet", f"no traffic on {last_night}"))
        updated[cid] = {
            "campaign_id": cid,
            "status": status,
            "first_seen_run": prev["first_seen_run"] if prev else run_id,
            "last_seen_run": run_id,
            "first_seen": min(prev["first_seen"], c["first_seen"]) if prev else c["first_seen"],
            "last_seen": max(prev["last_seen"], c["last_seen"]) if prev else c["last_seen"],
            "accounts": c["accounts"],
            "accounts_ever": len(ever),
            "prompts": c["prompts"],
            "score": c["score"],
            "templates": sorted(set(c["templates"]) | (set(prev["templates"]) if prev else set()))[:20],
            "payment_fps": sorted({payment_of.get(a, "") for a in ever} - {""}),
            "member_ids": sorted(ever),
        }
    # known campaigns not seen tonight: quiet once they have no traffic on the latest night
    for cid, k in by_id.items():
        if k["last_seen_run"] == run_id or k["status"] in ("merged", "quiet"):
            continue
        if cid not in stable.values():
            updated[cid] = dict(k, status="quiet")
            events.append(_event(run_id, cid, "quiet", f"not seen in run {run_id} (latest night {last_night})"))

    # a campaign an analyst labelled keeps its id on a night the engine does not flag it, so it stays listed with
    # its label (``engine.detect.casework``); only the id: its history moves on flagged nights alone
    named = dict(stable)
    owned, wanted = set(stable.values()), set(labelled)
    unnamed = [c for c in tonight if c["campaign_id"] not in stable] if wanted else []
    for k in [k for k in known if k["campaign_id"] in wanted and k["campaign_id"] not in owned]:
        best = max(unnamed, key=lambda c: _match(c, k, payment_of, common), default=None)
        if best is not None and _match(best, k, payment_of, common) >= s.match_min and best["campaign_id"] not in named:
            named[best["campaign_id"]] = k["campaign_id"]
    all_nights = [r for rows in rows_by_cid.values() for r in rows]
    old_events = prev_events.to_pylist() if prev_events is not None else []
    return Tracking(
        history=pa.Table.from_pylist(list(updated.values()), schema=HISTORY_SCHEMA),
        nights=pa.Table.from_pylist(all_nights, schema=NIGHTS_SCHEMA),
        events=pa.Table.from_pylist(old_events + events, schema=EVENTS_SCHEMA),
        stable_id=named,
        continued=continued,
    )


def _night(day: int) -> str:
    return datetime.fromtimestamp(int(day) * 86400, timezone.utc).strftime("%Y-%m-%d")


def judged_night(day: np.ndarray, partial_share: float) -> tuple[int, set[str]]:
    """The night status is judged on (the latest full one, as a day number) and the partial nights after it.

    A night is partial when it holds fewer than ``partial_share`` times the median prompts of the window's other
    nights; only the newest nights can be partial (a quiet night in the middle of the window is information).
    """
    if not len(day):
        return 0, set()
    days, counts = np.unique(day, return_counts=True)
    j = len(days) - 1
    if len(days) > 1:
        typical = float(np.median(counts[:-1]))
        while j > 0 and counts[j] < partial_share * typical:
            j -= 1
    return int(days[j]), {_night(d) for d in days[j + 1 :]}


def _status(rows: list[dict], last_night: str, partial: set[str] = frozenset(), *, new: bool) -> str:
    """new / growing / steady / fading / quiet, from the campaign's per-night activity on the judged night
    (``last_night``); traffic on the partial nights after it keeps a campaign from being quiet."""
    by_night = {r["night"]: r for r in rows}
    if last_night not in by_night:
        if not partial & set(by_night):
            return "quiet"
        return "new" if new else "steady"
    if new:
        return "new"
    nights = sorted(by_night)
    i = nights.index(last_night)
    if i == 0:
        return "steady"
    now, before = by_night[last_night]["accounts"], by_night[nights[i - 1]]["accounts"]
    if now > 1.1 * before:
        return "growing"
    if now < 0.7 * before:
        return "fading"
    return "steady"


def _event(run_id: str, cid: str, event: str, detail: str) -> dict:
    return {"run_id": run_id, "campaign_id": cid, "event": event, "detail": detail}


def diff_events(events: pa.Table, runs: list[str], since_run: str | None = None) -> list[dict]:
    """Events recorded by the runs after ``since_run`` (default: the run before the latest, i.e. tonight's)."""
    if not runs:
        return []
    if since_run is None:
        since_run = runs[-2] if len(runs) > 1 else None
    after = set(runs[runs.index(since_run) + 1 :]) if since_run in runs else set(runs)
    return [r for r in events.to_pylist() if r["run_id"] in after]

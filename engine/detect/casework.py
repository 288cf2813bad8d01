"""What analysts told promptsim, applied to a night's verdicts: labels on campaigns and accounts, allowlist rules.

The engine's own verdicts are computed first and recorded as they are (the campaign history matches on them, so a
campaign keeps its id whatever an analyst said); casework then changes what is *flagged* and says why:

* a campaign labelled **benign** stays listed (it keeps its id on nights the engine does not flag it) but is not
  flagged while it stays what was labelled. It is flagged again, for review, whatever the night's score, once it
  changes materially against the label's baseline -- the members, areas,
  cards, orgs and prompts it had when it was labelled: accounts beyond the labelled set by ``label_growth_share``,
  a capability area it did not ask before, a card or org it did not use (for a campaign concentrated on a few:
  ``label_concentrated``), or ``label_volume_factor`` times the prompts a day -- with the reason ("labelled benign on DATE by NAME; since then +120 accounts, new area: tool use");
* a campaign **confirmed** as extraction is flagged whatever its score, and becomes a **watch**: accounts of later
  nights that carry its templates (at least half of their prompts), use its cards or orgs, were linked into its
  cohort, or whose profile fits the profiles its labelled accounts show tonight (``watch_profile_odds``) are flagged
  in it the night they appear, with the reason "matches confirmed campaign C...", however few or quiet they are;
* a campaign that split off a labelled one (no label of its own, at least ``label_split_share`` of its members in the
  label's baseline) carries that label and says so ("split from C..."): a campaign's id follows one part when it
  splits, and the label must follow every part;
* ``needs-review`` changes nothing but is listed;
* an account labelled benign is not flagged; one labelled confirmed is flagged, in its campaign if it has one;
* allowlist rules (an org, a template, a system prompt) unflag the accounts they cover until they expire.

The latest record for a target wins (a label can be changed later); rules are removed by an ``unallow`` record.
Records come from ``engine.store.journal`` as they stood when the run started.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from engine.detect.profiles import Profiles, membership_odds
from engine.detect.settings import DetectSettings
from engine.detect.signals import Context

VERDICTS = ("confirmed", "benign", "needs-review")
BENIGN_KINDS = ("known-customer", "eval-or-research", "course-or-team", "product-traffic", "other")
RULES = ("org", "template", "system-prompt")


@dataclass
class Casework:
    """The labels and rules in force, from journal records (latest record per target wins)."""

    campaign: dict[str, dict] = field(default_factory=dict)
    account: dict[str, dict] = field(default_factory=dict)
    rules: dict[str, dict] = field(default_factory=dict)
    seen: int = 0  # journal records read

    @classmethod
    def from_records(cls, records: list[dict]) -> Casework:
        out = cls(seen=len(records))
        for r in records:
            if r.get("type") == "label" and r.get("verdict") in VERDICTS:
                (out.campaign if r.get("target") == "campaign" else out.account)[str(r.get("target_id"))] = r
            elif r.get("type") == "allow" and r.get("rule") in RULES:
                out.rules[str(r["id"])] = r
            elif r.get("type") == "unallow":
                out.rules.pop(str(r.get("rule_id")), None)
        return out

    def active_rules(self, night: str) -> list[dict]:
        """Rules not expired on ``night`` (YYYY-MM-DD; a rule expires at the end of its day)."""
        return [r for r in self.rules.values() if not r.get("expires") or str(r["expires"]) >= night[:10]]


def baseline(campaign: dict, accounts: pa.Table) -> dict:
    """What a campaign was when it was labelled: the reference its later changes are measured against."""
    members = list(campaign.get("member_ids") or [])
    acc = accounts.filter(pa.compute.is_in(accounts["account_id"], pa.array(members, pa.string())))
    areas = json.loads(campaign.get("areas") or "{}")
    return {
        "accounts": members,
        "areas": sorted(areas),
        "cards": sorted({c for c in acc["payment_fp"].to_pylist() if c}),
        "orgs": sorted({o for o in acc["org_id"].to_pylist() if o}),
        "prompts": int(campaign.get("prompts") or 0),
        "per_day": _per_day(campaign),
        "templates": list(campaign.get("templates") or [])[:3],
    }


def changes(row: dict, base: dict, accounts: pa.Table, s: DetectSettings) -> list[str]:
    """How a benign-labelled campaign differs materially from its label's baseline (empty: it is as labelled)."""
    out = []
    members = set(row["member_ids"] or [])
    before = set(base.get("accounts") or [])
    new = members - before
    if before and len(new) >= s.label_growth_share * len(before):
        out.append(f"+{len(new)} accounts")
    areas = json.loads(row["areas"] or "{}")
    total = max(sum(areas.values()), 1)
    for a in sorted(set(areas) - set(base.get("areas") or [])):
        if areas[a] >= s.area_min_share * total:
            out.append(f"new area: {a.replace('_', ' ')}")
    acc = accounts.filter(pa.compute.is_in(accounts["account_id"], pa.array(sorted(members), pa.string())))
    # a new card or org is a change of who it is only for a campaign that was concentrated on a few (a team on its
    # card, a customer's org); one spread over an org or card per account brings new ones with any new account,
    # and that growth is counted above
    n_base = max(len(before), 1)
    for name, col in (("card", "payment_fp"), ("org", "org_id")):
        had = set(base.get(f"{name}s") or [])
        new_ones = {v for v in acc[col].to_pylist() if v} - had
        if new_ones and len(had) <= s.label_concentrated * n_base:
            out.append(f"{len(new_ones)} new {name}(s)")
    # volume as prompts a day over the campaign's span in the window: the window itself grows night by night
    if base.get("per_day") and _per_day(row) >= s.label_volume_factor * base["per_day"]:
        out.append(f"prompts a day x{_per_day(row) / base['per_day']:.1f}")
    return out


def _per_day(campaign: dict) -> float:
    first, last = campaign.get("first_seen"), campaign.get("last_seen")
    days = (last - first).total_seconds() / 86400 if first is not None and last is not None else 0.0
    return float(campaign.get("prompts") or 0) / max(days, 1.0)


def _said(label: dict) -> str:
    kind = f" ({label['kind']})" if label.get("kind") else ""
    return f"labelled {label['verdict']}{kind} on {str(label.get('at', ''))[:10]} by {label.get('by') or 'unknown'}"


def _split_from(row: dict, case: Casework, labelled: dict[str, set[str]], s: DetectSettings) -> dict | None:
    """The campaign label ``row`` inherits when it has none of its own and split off a labelled campaign (at least
    ``label_split_share`` of its members in that label's baseline; the largest share wins); None otherwise. The label
    returned names its parent (``split_from``). ``labelled``: each labelled campaign's baseline accounts (not
    needs-review), built once per night."""
    members = set(row["member_ids"] or [])
    if not members or row["campaign_id"] in case.campaign:
        return None
    best, share = None, s.label_split_share
    for cid, had_ids in labelled.items():
        lab = case.campaign[cid]
        had = len(members & had_ids)
        if had / len(members) >= share:
            best, share = (cid, lab), had / len(members)
    return None if best is None else {**best[1], "split_from": best[0]}


def apply(accounts: pa.Table, campaigns: pa.Table, case: Casework, ctx: Context | None, night: str,
          s: DetectSettings, prof: Profiles | None = None) -> tuple[pa.Table, pa.Table]:  # fmt: skip
    """The night's account and campaign tables with the labels and rules in force applied (see module doc).
    ``prof``: tonight's account profiles (``engine.detect.profiles``), for the watch's profile match."""
    if not (case.campaign or case.account or case.rules):
        return accounts, campaigns
    camps = campaigns.to_pylist()
    ids = np.array(accounts["account_id"].to_pylist(), dtype=object)
    flagged = np.array(accounts["flagged"].to_pylist(), dtype=bool)
    camp_of = np.array(accounts["campaign_id"].to_pylist(), dtype=object)
    reasons = [json.loads(r or "[]") for r in accounts["reasons"].to_pylist()]
    where = {a: i for i, a in enumerate(ids)}

    def say(i: int, text: str) -> None:
        if text not in reasons[i]:
            reasons[i] = [text, *reasons[i]]

    labelled = {cid: set((lab.get("baseline") or {}).get("accounts") or [])
                for cid, lab in case.campaign.items() if lab["verdict"] != "needs-review"}  # fmt: skip
    for row in camps:
        label = case.campaign.get(row["campaign_id"]) or _split_from(row, case, labelled, s)
        if label is None or label["verdict"] == "needs-review":
            continue
        said = _said(label) if "split_from" not in label else f"split from {label['split_from']}, {_said(label)}"
        members = [where[a] for a in row["member_ids"] or [] if a in where]
        if label["verdict"] == "benign":
            moved = changes(row, label.get("baseline") or {}, accounts, s)
            if moved:  # no longer what was labelled: flagged for review again, whatever tonight's score
                why = f"{said}; since then {', '.join(moved)}"
                row["flagged"] = True
                row["reasons"] = json.dumps([why, *json.loads(row["reasons"])])
                for i in members:
                    if not flagged[i] or camp_of[i] == row["campaign_id"]:
                        flagged[i], camp_of[i] = True, row["campaign_id"]
                    say(i, why)
                continue
            why = f"{said}: not flagged while it stays as labelled"
            row["mitigations"] = json.dumps([why, *json.loads(row["mitigations"])])
            if row["flagged"]:
                row["flagged"] = False
                for i in members:
                    if camp_of[i] == row["campaign_id"]:
                        flagged[i], camp_of[i] = False, ""
                        say(i, why)
        else:  # confirmed: flagged whatever its score, and watched
            why = said
            row["flagged"] = True
            row["reasons"] = json.dumps([f"confirmed: {why}", *json.loads(row["reasons"])])
            for i in members:
                flagged[i], camp_of[i] = True, row["campaign_id"]
                say(i, f"confirmed campaign {row['campaign_id']}: {why}")
    _watch(case, accounts, ctx, prof, ids, flagged, camp_of, say, s)
    for aid, label in case.account.items():
        i = where.get(aid)
        if i is None or label["verdict"] == "needs-review":
            continue
        if label["verdict"] == "benign":
            flagged[i], camp_of[i] = False, ""
        else:
            flagged[i] = True
        say(i, f"account {_said(label)}")
    for rule in case.active_rules(night):
        hit = _rule_hits(rule, accounts, ctx, ids)
        for i in np.flatnonzero(hit & flagged):
            flagged[i], camp_of[i] = False, ""
            say(i, f"allowlisted {rule['rule']} {rule['value']!r} until {rule.get('expires') or 'removed'} "
                   f"({rule.get('by') or 'unknown'}: {rule.get('note') or ''})")  # fmt: skip
    out = accounts.set_column(accounts.schema.get_field_index("flagged"), "flagged", pa.array(flagged))
    out = out.set_column(
        out.schema.get_field_index("campaign_id"), "campaign_id", pa.array(camp_of.tolist(), pa.string())
    )
    out = out.set_column(out.schema.get_field_index("reasons"), "reasons",
                         pa.array([json.dumps(r) for r in reasons], pa.string()))  # fmt: skip
    return out, pa.Table.from_pylist(camps, schema=campaigns.schema)


def _watch(case: Casework, accounts: pa.Table, ctx: Context | None, prof: Profiles | None, ids: np.ndarray,
           flagged: np.ndarray, camp_of: np.ndarray, say, s: DetectSettings) -> None:  # noqa: ANN001  # fmt: skip
    """Flag tonight's accounts that match a confirmed campaign's fingerprint: its templates (in at least
    ``watch_template_share`` of their prompts), its cards or its orgs, its cohort, or its profile."""
    confirmed = {cid: lab for cid, lab in case.campaign.items() if lab["verdict"] == "confirmed"}
    if not confirmed:
        return
    shares = _template_shares(
        ctx, ids, {t for lab in confirmed.values() for t in lab.get("baseline", {}).get("templates", [])}
    )
    cards = np.array([c or "" for c in accounts["payment_fp"].to_pylist()], dtype=object)
    orgs = np.array([o or "" for o in accounts["org_id"].to_pylist()], dtype=object)
    for cid, lab in confirmed.items():
        base = lab.get("baseline") or {}
        hit = np.zeros(len(ids), dtype=bool)
        why = np.full(len(ids), "", dtype=object)
        for t in base.get("templates", []):
            m = shares.get(t, np.zeros(len(ids))) >= s.watch_template_share
            why[m & ~hit] = "its template"
            hit |= m
        for name, col, values in (("card", cards, base.get("cards")), ("org", orgs, base.get("orgs"))):
            m = np.isin(col, list(values or [])) & (col != "")
            why[m & ~hit] = f"its {name}"
            hit |= m
        joined = camp_of == cid  # linked into the campaign's own cohort tonight by the engine (wrappers, profile)
        why[joined & ~hit] = "joined its cohort"
        hit |= joined
        odds = _profile_odds(prof, ctx, ids, base.get("accounts") or [], s)
        if odds is not None:
            m = (odds >= math.log(s.watch_profile_odds)) & ~hit
            why[m] = [f"its profile, odds {math.exp(min(o, 30.0)):,.0f}:1" for o in odds[m]]
            hit |= m
        # the campaign's accounts as labelled are its members; anyone else who matches is new to it: flagged in it
        # (unless already flagged in another campaign) and told why, however few or quiet
        known = np.isin(ids, list(base.get("accounts") or []))
        for i in np.flatnonzero(hit & ~known):
            if not flagged[i]:
                flagged[i], camp_of[i] = True, cid
            say(i, f"matches confirmed campaign {cid} ({why[i]}; {_said(lab)})")


def _profile_odds(prof: Profiles | None, ctx: Context | None, ids: np.ndarray, labelled: list[str],
                  s: DetectSettings) -> np.ndarray | None:  # fmt: skip
    """Per account (``ids`` order): log odds that its profile is one of a confirmed campaign's rather than one of the
    log's (``engine.detect.profiles.membership_odds``), the fingerprint taken from tonight's profiles of the accounts
    the campaign had when it was confirmed -- what that operation looks like in tonight's log, whatever its
    accounts send tonight. -inf where it cannot be said (an account too quiet to profile, or one of the labelled
    ones); None when fewer than ``profile_min_cluster`` of the labelled accounts are profiled tonight. The prior is
    the labelled accounts' share of the log, not estimated upward: a watch flags on one night's evidence, so it
    asks for odds that hold without assuming the campaign grew."""
    if prof is None or ctx is None or not len(prof.accounts) or not labelled:
        return None
    rows = prof.rows_of(np.arange(len(ctx.account_names)))  # profile row of each account code
    mine = np.isin(np.asarray(ctx.account_names, dtype=object), list(labelled))
    members = rows[mine & (rows >= 0)]
    if len(members) < s.profile_min_cluster:
        return None
    cand = np.setdiff1d(rows[rows >= 0], members)
    out_by_row = np.full(len(prof.accounts), -np.inf)
    if len(cand):
        out_by_row[cand] = membership_odds(prof, members, cand)
    code = _codes_of(ctx, ids)
    at = np.where(code >= 0, rows[np.maximum(code, 0)], -1)
    return np.where(at >= 0, out_by_row[np.maximum(at, 0)], -np.inf)


def _codes_of(ctx: Context, ids: np.ndarray) -> np.ndarray:
    """The window's account code of each account in ``ids`` (-1 for one without window prompts)."""
    pos = {a: i for i, a in enumerate(ctx.account_names)}
    return np.array([pos.get(a, -1) for a in ids], dtype=np.int64)


def _account_shares(ctx: Context, ids: np.ndarray, per_prompt: np.ndarray) -> np.ndarray:
    """Each account's share (accounts in ``ids`` order; 0 for one without window prompts) of its window prompts
    where ``per_prompt`` (a bool per window prompt) holds."""
    n_acc = len(ctx.account_names)
    n = np.bincount(ctx.account_codes, minlength=n_acc)
    share = np.bincount(ctx.account_codes[per_prompt], minlength=n_acc) / np.maximum(n, 1)
    back = _codes_of(ctx, ids)
    return np.where(back >= 0, share[np.maximum(back, 0)], 0.0)


def _template_shares(ctx: Context | None, ids: np.ndarray, templates: set[str]) -> dict[str, np.ndarray]:
    """Per watched template: each account's share of prompts carrying it (accounts in ``ids`` order)."""
    if ctx is None or not templates:
        return {}
    tmpl = np.asarray(ctx.template, dtype=object)[ctx.text_row]
    return {t: _account_shares(ctx, ids, tmpl == t) for t in templates}


def _rule_hits(rule: dict, accounts: pa.Table, ctx: Context | None, ids: np.ndarray) -> np.ndarray:
    """Accounts an allowlist rule covers: an org id; a template skeleton (most of their prompts); a system prompt
    (a text most of their prompts start with, as normalised)."""
    value = str(rule.get("value") or "")
    if rule["rule"] == "org":
        return np.array([o == value for o in accounts["org_id"].to_pylist()], dtype=bool)
    if ctx is None or not value:
        return np.zeros(len(ids), dtype=bool)
    if rule["rule"] == "template":
        return _template_shares(ctx, ids, {value})[value] >= 0.5
    norm = value.strip().lower()
    starts = np.array([t.startswith(norm) for t in ctx.norm], dtype=bool)[ctx.text_row]
    return _account_shares(ctx, ids, starts) >= 0.5

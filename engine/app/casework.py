"""Analyst actions on a store, shared by the CLI and the API: label a campaign or an account, allowlist rules, list
labels, the audit log and what analysts said of each night's flagged campaigns.

Every action is checked first (a known target, a known verdict and kind, an analyst name), then appended to the
labels journal and to the audit log (who, when, what, before and after) -- ``engine.store.journal``: safe while a
nightly run writes, and durable once the call returns. What a label does to later nights is
``engine.detect.casework``.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

from engine.detect.casework import BENIGN_KINDS, RULES, VERDICTS, Casework, baseline
from engine.store import Store, StoreError
from engine.store.journal import audit_journal, labels_journal
from engine.store.tables import Tables

#: longest note kept (a note is free text from an analyst, shown escaped wherever it appears)
MAX_NOTE = 2000


class CaseError(ValueError):
    """A label or rule that cannot be recorded; the message says which field and why."""


class UnknownTarget(StoreError):
    """The campaign or account to label is not in the store's current night."""


def _who(by: str) -> str:
    by = (by or "").strip()
    if not by or len(by) > 200:
        raise CaseError("by: give the analyst's name (1-200 characters)")
    return by


def label(store: Store, target: str, target_id: str, verdict: str, *, kind: str = "", note: str = "",
          by: str) -> dict:  # fmt: skip
    """Record an analyst's label on a campaign or an account of the store's current night."""
    if target not in ("campaign", "account"):
        raise CaseError(f"target: 'campaign' or 'account', not {target!r}")
    if verdict not in VERDICTS:
        raise CaseError(f"verdict: one of {', '.join(VERDICTS)}, not {verdict!r}")
    if verdict == "benign" and kind not in BENIGN_KINDS:
        raise CaseError(f"kind: a benign label needs one of {', '.join(BENIGN_KINDS)}")
    if verdict != "benign" and kind:
        raise CaseError("kind: only a benign label has a kind")
    if len(note) > MAX_NOTE:
        raise CaseError(f"note: at most {MAX_NOTE} characters")
    by = _who(by)
    tables = Tables(store.require())
    rec: dict = {"type": "label", "target": target, "target_id": target_id, "verdict": verdict, "kind": kind,
                 "note": note, "by": by}  # fmt: skip
    if target == "campaign":
        row = tables.campaign(target_id)
        if row is None:
            raise UnknownTarget(f"no campaign {target_id!r} in this store (see `promptsim campaigns --all`)")
        rec["baseline"] = baseline(row, tables.accounts())
    elif tables.account(target_id) is None:
        raise UnknownTarget(f"no account {target_id!r} in this store")
    before = Casework.from_records(labels_journal(store.root).read())
    prior = (before.campaign if target == "campaign" else before.account).get(target_id)
    out = labels_journal(store.root).append(rec)
    _audit(store, by, f"label {target}", target_id, _brief(prior), _brief(out))
    return out


def allow(store: Store, rule: str, value: str, *, expires: str = "", note: str = "", by: str) -> dict:
    """Record an allowlist rule (an org, a template skeleton, a system prompt) until ``expires`` (YYYY-MM-DD)."""
    if rule not in RULES:
        raise CaseError(f"rule: one of {', '.join(RULES)}, not {rule!r}")
    if not value.strip():
        raise CaseError("value: what the rule matches (an org id, a template, a system prompt)")
    if expires:
        try:
            date.fromisoformat(expires)
        except ValueError:
            raise CaseError(f"expires: a date YYYY-MM-DD, not {expires!r}") from None
    by = _who(by)
    out = labels_journal(store.root).append({"type": "allow", "rule": rule, "value": value, "expires": expires,
                                             "note": note[:MAX_NOTE], "by": by})  # fmt: skip
    _audit(store, by, "allow", out["id"], None, _brief(out))
    return out


def unallow(store: Store, rule_id: str, *, by: str) -> dict:
    """Remove an allowlist rule."""
    by = _who(by)
    rules = Casework.from_records(labels_journal(store.root).read()).rules
    if rule_id not in rules:
        raise CaseError(f"rule_id: no allowlist rule {rule_id!r} (see `promptsim allow list`)")
    out = labels_journal(store.root).append({"type": "unallow", "rule_id": rule_id, "by": by})
    _audit(store, by, "unallow", rule_id, _brief(rules[rule_id]), None)
    return out


def labels(store: Store, campaign: str | None = None) -> list[dict]:
    """Every label record, oldest first (all of them: a label changed later is history, not deleted)."""
    recs = [r for r in labels_journal(store.root).read() if r.get("type") == "label"]
    return [r for r in recs if campaign is None or (r["target"] == "campaign" and r["target_id"] == campaign)]


def rules(store: Store) -> list[dict]:
    """The allowlist rules in force (not removed; expired ones included, marked by their date)."""
    return list(Casework.from_records(labels_journal(store.root).read()).rules.values())


def audit(store: Store) -> list[dict]:
    return audit_journal(store.root).read()


def stats(store: Store) -> list[dict]:
    """Per night: the campaigns active and tracked that night, and how many of them analysts have confirmed,
    called benign or left unreviewed (by their latest label): the precision the team actually sees."""
    snap = store.current()
    if snap is None:
        return []
    case = Casework.from_records(labels_journal(store.root).read())
    per: dict[str, Counter] = {}
    for n in Tables(snap).nights().to_pylist():
        lab = case.campaign.get(n["campaign_id"])
        said = lab["verdict"] if lab else "unreviewed"
        per.setdefault(n["night"], Counter())[said] += 1
    out = []
    for night in sorted(per):
        c = per[night]
        judged = c["confirmed"] + c["benign"]
        out.append({"night": night, "campaigns": sum(c.values()), "confirmed": c["confirmed"], "benign": c["benign"],
                    "needs_review": c["needs-review"], "unreviewed": c["unreviewed"],
                    "precision": round(c["confirmed"] / judged, 3) if judged else None})  # fmt: skip
    return out


def _brief(rec: dict | None) -> dict | None:
    """A record as the audit log keeps it (the baseline is bulky and derivable: left out)."""
    return None if rec is None else {k: v for k, v in rec.items() if k != "baseline"}


def _audit(store: Store, by: str, action: str, target: str, before: dict | None, after: dict | None) -> None:
    audit_journal(store.root).append({"by": by, "action": action, "target": target, "before": before, "after": after})

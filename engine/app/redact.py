"""Privacy mode (``--redact`` on ``export``, ``report`` and ``serve``): what leaves the store holds no raw prompt
text and no raw id, and no cluster or campaign of fewer than ``min_accounts`` accounts.

* **text**: every field that carries prompt text (a prompt's text, normalised text and masked skeleton, a
  campaign's samples, a cluster's representatives and top terms, snippets) is replaced by ``REDACTED``; template
  skeletons stay, with ``<SLOT>`` where a prompt's own words were (they are the wrapper text shared across
  accounts, the thing an analyst needs to recognise an operation);
* **ids**: every string equal to an account, prompt, org or card id of the store is replaced by a keyed hash
  (``h`` + HMAC-SHA256 under the redaction key, 12 hex digits), wherever it appears -- a field, a list of members,
  a reason; campaign and cluster ids are the engine's own and stay;
* **small groups**: a campaign or cluster row with fewer than ``min_accounts`` accounts is left out of every list,
  and asking for one by id is "not found".

The same hash is given to the same id under the same key, so redacted exports of two nights can be joined, and a
served page links to ``/ui/accounts/<hash>``, which the redacted server maps back.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import pyarrow as pa

from engine.app.views import NotFound, State
from engine.store.tables import Tables

REDACTED = "[redacted]"
#: fields whose strings are prompt text, wherever they appear
TEXT_FIELDS = frozenset({
    "text", "norm_text", "skeleton", "samples", "representatives", "top_terms", "terms", "snippet", "payload",
    "query", "label", "system_head", "meta",
})  # fmt: skip


class Redactor:
    """Keyed hashes for a store's ids, and the scrubbing of tables and view dicts (see module doc)."""

    def __init__(self, tables: Tables, key: str, min_accounts: int = 1) -> None:
        if len(key) < 8:
            raise ValueError("redaction key: at least 8 characters ($PROMPTSIM_REDACT_KEY or --redact-key)")
        self.key, self.min_accounts = key.encode(), max(int(min_accounts), 1)
        acc = tables.accounts().select(["account_id", "org_id", "payment_fp"]).to_pydict()
        raw = {v for col in acc.values() for v in col if v}
        raw |= {v for v in tables.snap.query("SELECT prompt_id FROM prompts")["prompt_id"].to_pylist() if v}
        self.hashed = {v: self.hash(v) for v in raw}
        self.back = {h: v for v, h in self.hashed.items()}

    def hash(self, value: str) -> str:
        return "h" + hmac.new(self.key, value.encode(), hashlib.sha256).hexdigest()[:12]

    def small(self, row: dict) -> bool:
        """A campaign or cluster row of fewer than min_accounts accounts."""
        n = row.get("accounts")
        return ("campaign_id" in row or "cluster_id" in row) and isinstance(n, int) and n < self.min_accounts

    def scrub(self, obj: Any, field: str = "") -> Any:
        """``obj`` with text fields redacted, ids hashed and small groups dropped from lists."""
        if isinstance(obj, dict):
            if "slot" in obj:  # a part of a template skeleton: wrapper text or the slot marker
                return {k: self.scrub(v) if k != "text" else v for k, v in obj.items()}
            return {k: self.scrub(v, k) for k, v in obj.items()}
        if isinstance(obj, list | tuple):
            return [self.scrub(v, field) for v in obj if not (isinstance(v, dict) and self.small(v))]
        if isinstance(obj, str):
            if field in TEXT_FIELDS:
                return REDACTED
            return self.hashed.get(obj, obj)
        return obj

    def unhash(self, value: str) -> str:
        return self.back.get(value, value)

    def table(self, tbl: pa.Table) -> pa.Table:
        """A table with the same columns, scrubbed row by row (small groups dropped)."""
        rows = [self.scrub(r) for r in tbl.to_pylist() if not self.small(r)]
        return pa.Table.from_pylist(rows, schema=tbl.schema) if rows else tbl.slice(0, 0)


class RedactedState:
    """A :class:`State` whose every answer is scrubbed and whose id arguments may be the hashes it hands out."""

    def __init__(self, state: State, redactor: Redactor) -> None:
        self._state, self._r = state, redactor

    @property
    def redactor(self) -> Redactor:
        return self._r

    @property
    def name(self) -> str:
        return self._state.name

    def __getattr__(self, attr: str) -> Any:
        fn = getattr(self._state, attr)
        if not callable(fn):
            return fn

        def call(*args: Any, **kw: Any) -> Any:
            args = tuple(self._r.unhash(a) if isinstance(a, str) else a for a in args)
            out = fn(*args, **kw)
            if isinstance(out, dict) and self._r.small(out):
                raise NotFound("not shown in privacy mode: fewer accounts than --min-accounts")
            return self._r.scrub(out)

        return call

"""What the web UI, the HTTP API and the HTML report show: one function per page, returning plain JSON-ready dicts.

The API returns these dicts as they are, the UI and the report render them with the templates in
``engine/app/templates``: one place decides what a campaign page contains, so the three never disagree. Reading
goes through :class:`engine.store.tables.Tables` (SQL lives there) and :class:`engine.app.query.Searcher` (the
in-memory window: prompt ids, accounts, times, vectors, signatures); nothing here writes.

Unknown ids raise :class:`NotFound` (the API answers 404 with its message); nothing here trusts prompt text: it
is returned as data and escaped by whoever renders it.
"""

from __future__ import annotations

import json
import re
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pyarrow as pa

from engine.app import plots, sessions
from engine.app.query import Searcher, iso
from engine.detect.history import diff_events
from engine.store import Snapshot
from engine.store.tables import Tables

#: how many member accounts a campaign page lists (the rest are a page of ``/accounts?campaign_id=``)
MEMBERS_SHOWN = 200
#: prompts shown on an account page, newest first
ACCOUNT_PROMPTS_SHOWN = 30
#: an account's newest requests looked at for its sessions
SESSION_ROWS = 500
#: members of a campaign whose newest session its page shows
SESSION_ACCOUNTS = 3
#: campaign and account pages kept per snapshot (a few hundred KB each at most)
PAGE_CACHE = 512
#: slots of a template skeleton (engine.text.normalize masks): highlighted in the UI
SLOT = re.compile(r"<(SLOT|NUM|CODE|STR|TEXT|URL|EMAIL)>")


class NotFound(LookupError):
    """An id that is not in the current snapshot; the message names it."""


def _page(t: pa.Table, limit: int, offset: int) -> dict:
    """One page of a table's rows, with the total: what the list endpoints answer."""
    return {
        "total": t.num_rows,
        "limit": limit,
        "offset": offset,
        "items": [_plain(c) for c in t.slice(offset, limit).to_pylist()],
    }


def _plain(row: dict) -> dict:
    """A table row with timestamps as ISO strings and bytes as hex: safe for ``json.dumps`` as it is."""
    out = {}
    for k, v in row.items():
        if isinstance(v, datetime):
            v = iso(v)
        elif isinstance(v, bytes):
            v = v.hex()
        elif isinstance(v, float) and not np.isfinite(v):
            v = None
        out[k] = v
    return out


def template_parts(template: str) -> list[dict]:
    """A template skeleton cut into literal text and slots, so a renderer can highlight what varies."""
    parts, pos = [], 0
    for m in SLOT.finditer(template):
        if m.start() > pos:
            parts.append({"text": template[pos : m.start()], "slot": False})
        parts.append({"text": m.group(0), "slot": True})
        pos = m.end()
    if pos < len(template):
        parts.append({"text": template[pos:], "slot": False})
    return parts


@dataclass
class State:
    """One committed snapshot, opened for reading: its tables, its searcher and what pages derive from them."""

    snapshot: Snapshot
    tables: Tables
    searcher: Searcher
    _map: dict | None = field(default=None, repr=False)
    _pages: OrderedDict = field(default_factory=OrderedDict, repr=False)
    _meta: dict | None = field(default=None, repr=False)
    _chat: bool | None = field(default=None, repr=False)

    def _cached(self, key: tuple, build: Callable[[], dict]) -> dict:
        """A page built once per snapshot (a snapshot never changes), the most recent ``PAGE_CACHE`` kept: a
        campaign page is a dozen queries, and an analyst team opens the same campaigns all morning."""
        page = self._pages.get(key)
        if page is None:
            page = build()
            self._pages[key] = page
            while len(self._pages) > PAGE_CACHE:
                self._pages.popitem(last=False)
        return page

    @classmethod
    def open(cls, snapshot: Snapshot, *, serving: bool = True) -> State:
        """``serving``: a server answering many queries preloads the searcher's arrays and snippets
        (``Searcher(preload=True)``); a one-shot reader such as the report does not need to."""
        return cls(snapshot, Tables(snapshot), Searcher(snapshot, preload=serving))

    @property
    def name(self) -> str:
        return self.snapshot.name

    @property
    def chat(self) -> bool:
        """Whether this snapshot holds chat requests (asked once): a flat log has no sessions to look for."""
        if self._chat is None:
            self._chat = self.tables.has_chat_requests()
        return self._chat

    def sessions_of_account(self, account_id: str, limit: int = sessions.MAX_SESSIONS) -> list[dict]:
        """An account's newest conversations and agent sessions (``engine.app.sessions.sessions_in``), from its
        last ``SESSION_ROWS`` requests of the window."""
        if not self.chat:
            return []
        rows = self.searcher.rows_of_account(account_id)
        if not len(rows):
            return []
        times = self.searcher.times[rows[-SESSION_ROWS:]]
        start, end = (datetime.fromtimestamp(int(x), tz=timezone.utc) for x in (times.min(), times.max()))
        return sessions.sessions_in(
            self.tables.account_prompts_between(account_id, start, end, limit=SESSION_ROWS), limit
        )

    # -- campaigns -------------------------------------------------------------------------------------------
    def _status(self) -> dict[str, str]:
        hist = self.tables.history()
        return dict(zip(hist["campaign_id"].to_pylist(), hist["status"].to_pylist(), strict=True))

    def campaigns(
        self,
        *,
        flagged: bool | None = None,
        status: str | None = None,
        min_score: float = 0.0,
        limit: int = 50,
        offset: int = 0,
    ) -> dict:
        """Scored cohorts ranked by score, with status and reasons; filters and a page of them."""
        everything = self._cached(("campaigns",), self._summaries)["items"]
        rows = [
            c
            for c in everything
            if (flagged is None or c["flagged"] == flagged)
            and (status is None or c["status"] == status)
            and c["score"] >= min_score
        ]
        return {"total": len(rows), "limit": limit, "offset": offset, "items": rows[offset : offset + limit]}

    def _summaries(self) -> dict:
        """Every scored cohort's summary, ranked, with its tracked status (read once per snapshot)."""
        status_of = self._status()
        items = [
            self._summary(r, status_of.get(r["campaign_id"], "untracked")) for r in self.tables.campaigns().to_pylist()
        ]
        return {"items": items}

    @staticmethod
    def _summary(r: dict, status: str) -> dict:
        evidence = json.loads(r["evidence"] or "{}")
        return {
            "campaign_id": r["campaign_id"],
            "score": r["score"],
            "flagged": r["flagged"],
            "status": status,
            "accounts": r["accounts"],
            "prompts": r["prompts"],
            "first_seen": iso(r["first_seen"]),
            "last_seen": iso(r["last_seen"]),
            "carried": evidence.get("carried", {}),
            "reasons": json.loads(r["reasons"] or "[]"),
            "mitigations": json.loads(r["mitigations"] or "[]"),
        }

    def campaign(self, campaign_id: str) -> dict:
        """A campaign page: evidence, timeline, areas, templates with slots, clusters, samples, history, members."""
        return self._cached(("campaign", str(campaign_id)), lambda: self._campaign(str(campaign_id)))

    def _campaign(self, campaign_id: str) -> dict:
        r = self.tables.campaign(campaign_id)
        if r is None:
            raise NotFound(f"no campaign {campaign_id!r} in snapshot {self.name}")
        hist = self.tables.history(campaign_id).to_pylist()
        out = self._summary(r, hist[0]["status"] if hist else "untracked")
        members = list(r["member_ids"] or [])
        times = self.searcher.times_of(members)
        total, page = self.tables.accounts_page(campaign_id=campaign_id, limit=MEMBERS_SHOWN)
        found = {c["cluster_id"]: c for c in self.tables.clusters_by_id(list(r["clusters"] or []))}
        clusters = [
            {"cluster_id": cid, "prompts": found[cid]["prompts"], "top_terms": found[cid]["top_terms"]}
            for cid in r["clusters"] or []
            if cid in found
        ]
        out |= {
            "evidence": json.loads(r["evidence"] or "{}"),
            "areas": json.loads(r["areas"] or "{}"),
            "templates": [{"template": t, "parts": template_parts(t)} for t in r["templates"] or []],
            "clusters": clusters,
            "samples": list(r["samples"] or []),
            "history": {
                **(
                    {k: _plain(hist[0])[k] for k in ("first_seen_run", "last_seen_run", "accounts_ever")}
                    if hist
                    else {}
                ),
                "nights": [_plain(n) for n in self.tables.nights(campaign_id).to_pylist()],
                "events": self.tables.events(campaign_id).to_pylist(),
            },
            "member_ids": members,
            "members": {"total": total, "shown": [_account_brief(a) for a in page.to_pylist()]},
            "timeline": _timeline(times),
        }
        # the tool-schema sets its accounts send, and a few of its strongest members' newest sessions as turns
        out["tool_sets"] = out["evidence"].get("tool_sets", [])
        out["sessions"] = [
            {"account_id": m["account_id"], **found[0]}
            for m in out["members"]["shown"][:SESSION_ACCOUNTS]
            if (found := self.sessions_of_account(m["account_id"], 1))
        ]
        return out

    # -- accounts --------------------------------------------------------------------------------------------
    def accounts(
        self, *, flagged: bool | None = None, campaign_id: str | None = None, limit: int = 50, offset: int = 0
    ) -> dict:
        total, page = self.tables.accounts_page(flagged=flagged, campaign_id=campaign_id, limit=limit, offset=offset)
        return {
            "total": total,
            "limit": limit,
            "offset": offset,
            "items": [_account_brief(a) for a in page.to_pylist()],
        }

    def account(self, account_id: str) -> dict:
        """An account page: verdict, the signals and reasons behind it, its recent prompts and its timeline."""
        return self._cached(("account", str(account_id)), lambda: self._account(str(account_id)))

    def _account(self, account_id: str) -> dict:
        r = self.tables.account(account_id)
        rows = self.searcher.rows_of_account(account_id)
        if r is None and not len(rows):
            raise NotFound(f"no account {account_id!r} in snapshot {self.name}")
        out = _plain(r) if r is not None else {"account_id": account_id, "flagged": False}
        out["reasons"] = json.loads(out.get("reasons") or "[]")
        out["recent_prompts"] = self.searcher.rows_as_results(rows[::-1][:ACCOUNT_PROMPTS_SHOWN])
        out["window_prompts"] = int(len(rows))
        out["timeline"] = _timeline(self.searcher.times[rows])
        out["sessions"] = self.sessions_of_account(account_id)
        return out

    # -- prompts ---------------------------------------------------------------------------------------------
    def prompt(self, prompt_id: str) -> dict:
        """A stored prompt: its text and request fields, its text's cluster, template and near-duplicate group."""
        r = self.tables.prompt(prompt_id)
        if r is None:
            raise NotFound(f"no prompt {prompt_id!r} in snapshot {self.name}")
        out = _plain(r)
        out.pop("text_key", None)
        row = self.searcher.prompt_row(prompt_id)
        out["in_window"] = row is not None
        if row is not None:
            tr = int(self.searcher.text_of_prompt[row])
            t = self.tables.text_rows([tr]).to_pylist()[0]
            tpl = self.tables.template(t["template_id"]) if t["template_id"] else None
            out |= {
                "cluster_id": t["cluster_id"],
                # how surely it belongs there: the share of its neighbours inside its cluster times how deep it lies
                # in HDBSCAN's dense cores; at most 0.5 outside the cluster's core (engine.vectors.cluster.CORE_STRENGTH)
                "cluster_strength": round(float(t["cluster_prob"]), 3) if t.get("cluster_prob") is not None else None,
                "dup_group": t["dup_group"],
                "same_text_prompts": self.searcher.rows_as_results([row])[0]["same_text_prompts"],
                "template": {"template": tpl["template"], "parts": template_parts(tpl["template"])} if tpl else None,
            }
        acc = self.tables.account(r["account_id"])
        out["account"] = _account_brief(acc) if acc else None
        # a chat request's parts, and the conversation or agent session it is one step of (engine.app.sessions)
        out["request"] = sessions.chat_of(r.get("meta"))
        out["session"] = []
        if out["request"] is not None and isinstance(r.get("timestamp"), datetime):
            t = r["timestamp"]
            around = self.tables.account_prompts_between(
                r["account_id"], t - sessions.SESSION_SPAN, t + sessions.SESSION_SPAN
            )
            out["session"] = sessions.session_of(around, r["prompt_id"])
        return out

    def similar(self, prompt_id: str, k: int) -> dict:
        """Neighbours of a stored prompt (a repeated request is answered by the server's per-snapshot answer
        cache, engine.app.api.AnswerCache, before it gets here)."""
        if self.searcher.prompt_row(prompt_id) is None and self.tables.prompt(prompt_id) is None:
            raise NotFound(f"no prompt {prompt_id!r} in snapshot {self.name}")
        return self.searcher.similar(prompt_id, k).to_dict()

    def similar_text(self, text: str, k: int) -> dict:
        return self.searcher.similar_text(text, k).to_dict()

    # -- clusters --------------------------------------------------------------------------------------------
    def clusters(self, *, limit: int = 50, offset: int = 0) -> dict:
        return _page(self.tables.clusters(), limit, offset)

    def cluster(self, cluster_id: int) -> dict:
        """A cluster: size, terms, representatives, dominant template, sample prompt ids, campaigns it feeds."""
        c = self.tables.cluster(cluster_id)
        if c is None:
            raise NotFound(f"no cluster {cluster_id} in snapshot {self.name}")
        out = _plain(c)
        tpl = c["dominant_template"] or ""
        out["dominant_template_parts"] = template_parts(tpl)
        s = self.searcher
        texts = np.flatnonzero(s.cluster == cluster_id)[:20]
        out["sample_prompts"] = s.rows_as_results(s.text_start[texts])
        out["campaigns"] = self._campaigns_fed_by({cluster_id})
        return out

    def _campaigns_fed_by(self, cluster_ids: set[int]) -> list[str]:
        """The flagged campaigns whose top clusters include any of ``cluster_ids``."""
        return [
            r["campaign_id"]
            for r in self.tables.campaigns(flagged_only=True).to_pylist()
            if cluster_ids & set(r["clusters"] or [])
        ]

    def topics(self, *, limit: int = 50, offset: int = 0) -> dict:
        """Topics (groups of clusters), largest first: the top level of the tree topic -> clusters -> prompts."""
        return _page(self.tables.topics(), limit, offset)

    def topic(self, topic_id: int) -> dict:
        """A topic: its summary and its clusters' rows (largest first), and the flagged campaigns it feeds."""
        t = self.tables.topic(topic_id)
        if t is None:
            raise NotFound(f"no topic {topic_id} in snapshot {self.name}")
        out = _plain(t)
        out["dominant_template_parts"] = template_parts(t["dominant_template"] or "")
        ids = [int(c) for c in t["clusters"] or []]
        rows = {c["cluster_id"]: c for c in self.tables.clusters_by_id(ids)}
        out["cluster_rows"] = [_plain(rows[c]) for c in ids if c in rows]
        out["campaigns"] = self._campaigns_fed_by(set(ids))
        return out

    def cluster_map(self) -> dict:
        """Cluster centroids projected to 2-D, sized by prompts, coloured by the flagged campaign they feed, with
        each cluster's topic.

        Centroids are the mean stored vector of each cluster's distinct texts (one sparse product over the window),
        projected by PCA (``plots.project_2d``); computed once per snapshot.
        """
        if self._map is None:
            s = self.searcher
            lab = np.asarray(s.cluster)
            keep = lab >= 0
            ids, inv = np.unique(lab[keep], return_inverse=True)
            vec = np.asarray(s.vectors, dtype=np.float32)[keep] if keep.any() else np.zeros((0, 1), np.float32)
            cent = np.zeros((len(ids), vec.shape[1]), np.float32)
            np.add.at(cent, inv, vec)
            cent /= np.maximum(np.linalg.norm(cent, axis=1, keepdims=True), 1e-9)
            xy = plots.project_2d(cent)
            prompts = np.diff(s.text_start)[keep]
            size = np.bincount(inv, weights=prompts, minlength=len(ids)) if len(ids) else np.zeros(0)
            cl = self.tables.clusters()
            topic = dict(zip(cl["cluster_id"].to_pylist(), cl["topic_id"].to_pylist(), strict=True))
            camp: dict[int, str] = {}
            for r in self.tables.campaigns(flagged_only=True).to_pylist():
                for cid in r["clusters"] or []:
                    camp.setdefault(int(cid), r["campaign_id"])
            self._map = {
                "clusters": [
                    {
                        "cluster_id": int(c),
                        "topic_id": topic.get(int(c)),
                        "x": round(float(x), 4),
                        "y": round(float(y), 4),
                        "prompts": int(n),
                        "campaign_id": camp.get(int(c)),
                    }
                    for c, (x, y), n in zip(ids, xy, size, strict=True)
                ]
            }
        return self._map

    # -- runs ------------------------------------------------------------------------------------------------
    def runs(self) -> dict:
        items = []
        for r in self.tables.runs().to_pylist():
            r = _plain(r)
            r["inputs"] = json.loads(r["inputs"] or "[]")
            r["report"] = json.loads(r["report"] or "{}")
            items.append(r)
        return {"snapshot": self.name, "items": items}

    def diff(self, since: str | None = None) -> dict:
        runs = self.tables.run_ids()
        if since is not None and since not in runs:
            raise NotFound(f"no run {since!r} in this store's lineage (see /runs)")
        return {
            "since": since or (runs[-2] if len(runs) > 1 else None),
            "latest": runs[-1] if runs else None,
            "events": diff_events(self.tables.events(), runs, since),
        }

    def health(self) -> dict:
        if self._meta is None:
            self._meta = self.snapshot.meta()
        meta = self._meta
        return {
            "snapshot": self.name,
            "prompts": meta.get("prompts"),
            "texts": meta.get("texts"),
            "embedder": meta.get("embedder"),
            # the store's name only: its absolute path tells a client about the server's file system
            "store": Path(self.snapshot.path).parent.parent.name,
        }


BRIEF = ("account_id", "score", "flagged", "campaign_id", "cohort_id", "member_strength", "prompts", "per_day")


def _account_brief(a: dict) -> dict:
    return _plain({k: a.get(k) for k in BRIEF})


def _timeline(times: np.ndarray, bin_seconds: int = 3600) -> dict:
    """Prompts per hour (binned by ``plots.timeline_counts``, which the plot draws as they are) and per UTC day,
    over the given epoch seconds."""
    times = np.asarray(times, dtype=np.int64)
    if not len(times):
        return {"bin_seconds": bin_seconds, "start": None, "counts": [], "days": {}}
    t0, step, counts = plots.timeline_counts(times, bin_seconds)
    day0 = int(times.min()) // 86400
    per_day = np.bincount(times // 86400 - day0)
    days = {
        datetime.fromtimestamp((day0 + i) * 86400, timezone.utc).strftime("%Y-%m-%d"): int(n)
        for i, n in enumerate(per_day)
        if n
    }
    return {
        "bin_seconds": step,
        "start": iso(datetime.fromtimestamp(t0, timezone.utc)),
        "counts": counts.tolist(),
        "days": days,
    }

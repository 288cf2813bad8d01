"""A chat request's parts and the conversation or agent session it belongs to, for the prompt page and its API.

Ingest keeps one text per request, what the request added (``engine.ingest.envelopes``), and the rest of the chat
body in the record's ``meta["chat"]``: the system prompt's hash and head, how many earlier turns it resent, the tool
names, one hash of the tool-schema set and the earlier tool calls. A 20-step agent session is 20 stored prompts, so
an analyst reading one of them needs the other 19 beside it: this module puts them back together.

A session is one account's requests that share a system prompt and a tool set, each resending more earlier turns
than the one before, with no gap longer than ``SESSION_GAP``: a request that resends fewer turns (or none) starts a
new conversation, as a long pause does. Nothing here is evidence; detection never reads it.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from engine.app.query import iso

#: a pause longer than this ends a session (an agent's steps are seconds to minutes apart, a chat's follow-ups minutes)
SESSION_GAP = timedelta(minutes=30)
#: requests of one account looked at on either side of the one shown
SESSION_SPAN = timedelta(hours=6)
#: steps listed at most (the ones nearest the request shown)
MAX_STEPS = 60
#: sessions listed on an account or campaign page, the newest
MAX_SESSIONS = 8


def chat_of(meta: Any) -> dict | None:
    """The chat parts ingest kept for a request (``meta["chat"]``), or None for a flat prompt or unreadable meta."""
    if isinstance(meta, str):
        try:
            meta = json.loads(meta)
        except ValueError:
            return None
    chat = meta.get("chat") if isinstance(meta, dict) else None
    return chat if isinstance(chat, dict) else None


def _key(chat: dict | None) -> tuple:
    chat = chat or {}
    return chat.get("system_hash"), chat.get("tools_hash")


def _turns(chat: dict | None) -> int:
    return int((chat or {}).get("earlier_turns") or 0)


def _follows(rows: list[dict], chats: list[dict | None], a: int, b: int) -> bool:
    """Whether request ``b`` continues ``a``'s session (same key assumed): it resends more earlier turns, within
    ``SESSION_GAP``. The one chaining rule both the prompt page and the account page use."""
    gap: timedelta = rows[b]["timestamp"] - rows[a]["timestamp"]
    return gap <= SESSION_GAP and _turns(chats[b]) > _turns(chats[a])


def _step(rows: list[dict], chats: list[dict | None], i: int, number: int) -> dict:
    """One listed step of a session: the request's id, time, kind (user turn or tool result) and text."""
    return {
        "step": number,
        "prompt_id": rows[i]["prompt_id"],
        "timestamp": iso(rows[i]["timestamp"]),
        "kind": (chats[i] or {}).get("kind") or "user",
        "earlier_turns": _turns(chats[i]),
        "text": rows[i]["text"] or "",
    }


def session_of(rows: list[dict], prompt_id: str) -> list[dict]:
    """The steps of the session holding ``prompt_id``, oldest first, from one account's requests around it (dicts
    with ``prompt_id``, ``timestamp`` (datetime), ``text`` and ``meta``). Empty when the request is alone: a single
    request with no earlier turns is no conversation."""
    rows = sorted(rows, key=lambda r: (r["timestamp"], r["prompt_id"]))
    at = next((i for i, r in enumerate(rows) if r["prompt_id"] == prompt_id), None)
    if at is None:
        return []
    chats = [chat_of(r.get("meta")) for r in rows]
    key = _key(chats[at])
    same = [i for i in range(len(rows)) if _key(chats[i]) == key]
    pos = same.index(at)
    first = pos
    while first > 0 and _follows(rows, chats, same[first - 1], same[first]):
        first -= 1
    last = pos
    while last + 1 < len(same) and _follows(rows, chats, same[last], same[last + 1]):
        last += 1
    if first == last and _turns(chats[at]) == 0:
        return []
    lo = max(first, pos - MAX_STEPS // 2)
    hi = min(last, lo + MAX_STEPS - 1)
    return [_step(rows, chats, same[j], j - first + 1) | {"this": same[j] == at} for j in range(lo, hi + 1)]


def sessions_in(rows: list[dict], limit: int = MAX_SESSIONS) -> list[dict]:
    """The conversations and agent sessions among one account's requests (dicts as ``session_of`` takes), newest
    first, at most ``limit``: each one's kind, time span, system prompt head, tools and steps (id, time, kind, text).
    A request alone, resending no earlier turn, is no session and is left out."""
    rows = sorted(rows, key=lambda r: (r["timestamp"], r["prompt_id"]))
    chats = [chat_of(r.get("meta")) for r in rows]
    open_by_key: dict[tuple, list[int]] = {}  # the session each (system prompt, tools) is in, as steps so far
    done: list[list[int]] = []
    for i, chat in enumerate(chats):
        if chat is None:
            continue
        key = _key(chat)
        cur = open_by_key.get(key)
        if cur is not None:
            if _follows(rows, chats, cur[-1], i):
                cur.append(i)
                continue
            done.append(cur)
        open_by_key[key] = [i]
    done.extend(open_by_key.values())
    kept = [s for s in done if len(s) > 1 or _turns(chats[s[0]]) > 0]
    kept.sort(key=lambda s: (rows[s[-1]]["timestamp"], rows[s[-1]]["prompt_id"]), reverse=True)
    out = []
    for steps in kept[:limit]:
        head = chats[steps[0]] or {}
        out.append(
            {
                "kind": "agent session" if head.get("tools") else "conversation",
                "start": iso(rows[steps[0]]["timestamp"]),
                "end": iso(rows[steps[-1]]["timestamp"]),
                "system_head": head.get("system_head"),
                "tools": list(head.get("tools") or []),
                "steps": [_step(rows, chats, i, n + 1) for n, i in enumerate(steps[:MAX_STEPS])],
                "more_steps": max(0, len(steps) - MAX_STEPS),
            }
        )
    return out

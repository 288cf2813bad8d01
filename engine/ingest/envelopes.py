"""Stage 1: request envelopes -> flat prompt records.

A provider's log is rarely the flat ``prompt_id, account_id, timestamp, text`` table: it is chat requests as the
front end or a gateway wrote them. An *envelope* says where a record keeps its id, account, time, model and client,
and where its chat body is; the chat body itself (OpenAI Chat Completions ``messages``/``tools``, Anthropic Messages
``system``/content blocks/``tools``) is read by one parser, since the two differ in shape, not in meaning:

* ``flat``: the four fields at the top level (the format promptsim always read);
* ``openai``: a Chat Completions body (``messages``, ``tools``, ``tool_calls``) at the top level or under ``body``,
  ``request`` or ``params`` (a gateway's record, the Batch API's input lines: ``custom_id``, ``body``);
* ``anthropic``: a Messages body (``system``, ``messages`` of content blocks, ``tool_use``/``tool_result``,
  ``tools``), in the same places (Message Batches requests: ``custom_id``, ``params``);
* ``otel``: OpenTelemetry OTLP JSON export lines (``resourceSpans``), each GenAI span a prompt, written by any of
  the GenAI conventions' versions (``gen_ai.input.messages`` parts with ``gen_ai.system_instructions`` and
  ``gen_ai.tool.definitions``; one event per message; indexed ``gen_ai.prompt.N`` attributes). The account is
  ``enduser.id`` or ``user.id`` unless ``--map`` says where (``span.attributes["app.account"]``).

What a request says *now* becomes its ``text``: the system prompt joined to the newest user turn by a blank line
(what a log without roles holds), or, when the newest message is a tool result (an agent's next step), that result
after the tool's name. An agent session of 20 steps is then 20 texts of what each step added, not 20 copies of a
growing history. The rest of the request is kept in the record's ``meta`` under ``chat``: the system prompt, how many
earlier turns and a digest of them, the tool names and one hash of the canonical tool-schema set, the tool calls.

``--map FIELD=PATH`` (``field_map``) takes any flat field from a JSON path into the record (``a.b[0].c``,
``a["dotted.key"]``), before the envelope's own choice, so a team maps its own log without code; ``--fill
FIELD=VALUE`` gives a field the records lack. A record the envelope cannot read (no messages, no
user or tool turn, an id where none can be found) is quarantined with the field and the reason.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

#: flat fields a record must end up with, and those it may
REQUIRED = ("prompt_id", "account_id", "timestamp", "text")
OPTIONAL = ("model", "ip_asn", "ip", "user_agent")
FIELDS = REQUIRED + OPTIONAL

#: characters of the system prompt kept in a request's meta (its hash names it whole)
SYSTEM_HEAD = 160
#: tool calls of the earlier turns kept in meta, the newest
MAX_CALLS = 32

_MISSING = object()
_STEP = re.compile(r"([^.\[\]\"]+)|\[(\d+)\]|\[\"([^\"]+)\"\]")


class EnvelopeError(ValueError):
    """A record this envelope cannot read: ``field`` and ``reason`` go to the quarantine."""

    def __init__(self, field: str, reason: str, detail: str | None = None) -> None:
        super().__init__(detail or reason)
        self.field, self.reason, self.detail = field, reason, detail


def parse_path(path: str) -> tuple[str | int, ...]:
    """``'a.b[0].c'`` -> ``("a", "b", 0, "c")``; a key holding dots is written ``["enduser.id"]``."""
    steps: list[str | int] = []
    pos = 0
    for m in _STEP.finditer(path):
        gap = path[pos : m.start()]
        if gap != ("." if steps and m.group(1) is not None else ""):
            break
        if m.group(2) is not None:
            steps.append(int(m.group(2)))
        else:
            steps.append(m.group(1) if m.group(1) is not None else m.group(3))
        pos = m.end()
    if not path or pos != len(path):
        raise ValueError(
            f"not a JSON path: {path!r} (keys joined by '.', list items as [N], [\"a.b\"] for a dotted key)"
        )
    return tuple(steps)


def at(obj: Any, steps: tuple[str | int, ...]) -> Any:
    """The value at ``steps`` in ``obj``, or ``_MISSING``."""
    for s in steps:
        if isinstance(s, int):
            if not isinstance(obj, list) or s >= len(obj):
                return _MISSING
            obj = obj[s]
        else:
            if not isinstance(obj, dict) or s not in obj:
                return _MISSING
            obj = obj[s]
    return obj


def _first(obj: dict, *paths: tuple[str | int, ...]) -> Any:
    for p in paths:
        v = at(obj, p)
        if v is not _MISSING and v is not None and v != "":
            return v
    return None


def _digest(value: Any) -> str:
    """A short stable hash of a JSON value (keys sorted): equal tool sets and histories hash alike."""
    blob = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.blake2b(blob.encode(), digest_size=8).hexdigest()


# -- the chat body, in either shape ------------------------------------------------------------------------------
@dataclass
class Turn:
    role: str  # user | assistant | tool
    text: str  # the text blocks of the turn, joined
    calls: list[str]  # tool names an assistant turn calls
    tool: str | None = None  # the tool whose result a tool turn carries


_TEXT_BLOCKS = ("text", "input_text", "output_text", None)


def _block_text(content: Any) -> str:
    """Text of a message content: a string, or text blocks/parts (``text``, ``input_text``); other blocks (images,
    files, tool blocks) carry no text here."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        out = []
        for b in content:
            if isinstance(b, str):
                out.append(b)
            elif isinstance(b, dict) and b.get("type") in _TEXT_BLOCKS and isinstance(b.get("text"), str):
                out.append(b["text"])
        return "\n".join(t for t in out if t)
    return ""


def chat_turns(body: dict) -> tuple[str, list[Turn], list[dict]]:
    """System prompt, turns and tool definitions of a chat body, OpenAI or Anthropic shaped."""
    system_parts = [_block_text(body.get("system"))] if body.get("system") is not None else []
    turns: list[Turn] = []
    messages = body.get("messages")
    if not isinstance(messages, list):
        raise EnvelopeError("messages", "no_messages", "the request has no list of messages")
    call_names: dict[str, str] = {}
    for m in messages:
        if not isinstance(m, dict):
            continue
        role, content = m.get("role"), m.get("content")
        if role in ("system", "developer"):
            system_parts.append(_block_text(content))
            continue
        if role == "tool":  # OpenAI: a tool result of its own
            tid = m.get("tool_call_id")
            turns.append(Turn("tool", _block_text(content), [], call_names.get(tid) or m.get("name")))
            continue
        calls = []
        for c in m.get("tool_calls") or []:  # OpenAI assistant tool calls
            fn = c.get("function") if isinstance(c, dict) else None
            if isinstance(fn, dict) and fn.get("name"):
                calls.append(str(fn["name"]))
                call_names[str(c.get("id"))] = str(fn["name"])
        results: list[Turn] = []
        if isinstance(content, list):  # Anthropic blocks: tool_use in assistant turns, tool_result in user turns
            for b in content:
                if not isinstance(b, dict):
                    continue
                if b.get("type") == "tool_use" and b.get("name"):
                    calls.append(str(b["name"]))
                    call_names[str(b.get("id"))] = str(b["name"])
                elif b.get("type") == "tool_result":
                    name = call_names.get(str(b.get("tool_use_id")))
                    results.append(Turn("tool", _block_text(b.get("content")), [], name))
        text = _block_text(content)
        if text or calls or not results:
            turns.append(Turn("assistant" if role == "assistant" else "user", text, calls))
        turns.extend(results)
    tools = body.get("tools") if isinstance(body.get("tools"), list) else []
    return "\n\n".join(p for p in system_parts if p), turns, tools


def _tool(t: Any) -> tuple[str, str, Any]:
    """A tool definition as (name, description, parameter schema), whichever shape declared it: OpenAI's
    ``{"type": "function", "function": {name, description, parameters}}`` or Anthropic's ``{name, description,
    input_schema}``; a built-in tool without a schema is its type."""
    if not isinstance(t, dict):
        return ("", "", None)
    fn = t.get("function") if isinstance(t.get("function"), dict) else t
    schema = fn.get("parameters", fn.get("input_schema"))
    return (str(fn.get("name") or t.get("type") or ""), str(fn.get("description") or ""), schema)


def chat_text(body: dict) -> tuple[str, dict]:
    """The request's new text (module doc) and what else it holds (``meta["chat"]``)."""
    system, turns, tools = chat_turns(body)
    last = next((i for i in range(len(turns) - 1, -1, -1) if turns[i].role in ("user", "tool") and turns[i].text), -1)
    if last < 0:
        raise EnvelopeError("messages", "no_user_turn", "no user message or tool result with text")
    t = turns[last]
    if t.role == "tool":
        text, kind = f"[tool {t.tool or 'result'}] {t.text}", "tool_result"
    else:
        text, kind = (system + "\n\n" + t.text if system else t.text), "user"
    earlier = turns[:last]
    defs = sorted((_tool(x) for x in tools), key=lambda d: (d[0], d[1], json.dumps(d[2], sort_keys=True, default=str)))
    chat = {
        "kind": kind,
        # the system prompt is in the text of a user turn; here its hash and head, not a copy per request
        "system_hash": _digest(system) if system else None,
        "system_head": system[:SYSTEM_HEAD] if system else None,
        "earlier_turns": len(earlier),
        "history": _digest([[x.role, x.text, x.calls] for x in earlier]) if earlier else None,
        "tools": [d[0] for d in defs if d[0]],
        # one hash of the canonical tool set: the same tools hash alike in either provider's shape
        "tools_hash": _digest([list(d) for d in defs]) if defs else None,
        "tool_calls": [c for x in earlier for c in x.calls][-MAX_CALLS:],
    }
    return text, chat


# -- envelopes ----------------------------------------------------------------------------------------------------
def _p(*keys: str | int) -> tuple[str | int, ...]:
    return keys


#: top-level fields an envelope reads into the flat ones (the rest are kept in meta)
_CONSUMED = frozenset(
    ("prompt_id", "request_id", "id", "custom_id", "account_id", "user_id", "user", "timestamp", "created",
     "created_at", "received_at", "request_time", "startTime", "model", "ip_asn", "asn", "ip", "client_ip",
     "user_agent", "messages", "system", "tools")
)  # fmt: skip
_IDS = (_p("prompt_id"), _p("request_id"), _p("id"), _p("custom_id"))
_TIMES = (_p("timestamp"), _p("created"), _p("created_at"), _p("received_at"), _p("request_time"), _p("startTime"))


def _common(obj: dict, body: dict) -> dict[str, Any]:
    """Id, account, time, model and client of a gateway record around a chat body (any of the usual names)."""
    meta = body.get("metadata") if isinstance(body.get("metadata"), dict) else {}
    return {
        "prompt_id": _first(obj, *_IDS),
        "account_id": _first(obj, _p("account_id"), _p("user_id"), _p("user"))
        or _first(body, _p("user"))
        or _first(meta, _p("user_id"))
        or _first(obj, _p("api_key_id"), _p("organization"), _p("org_id")),
        "timestamp": _first(obj, *_TIMES),
        "model": _first(body, _p("model")) or _first(obj, _p("model")),
        "ip_asn": _first(obj, _p("ip_asn"), _p("asn"), _p("client", "asn"), _p("client", "ip_asn")),
        "ip": _first(obj, _p("ip"), _p("client_ip"), _p("client", "ip")),
        "user_agent": _first(obj, _p("user_agent"), _p("client", "user_agent"), _p("headers", "user-agent")),
    }


def _body(obj: dict, keys: tuple[str, ...]) -> dict | None:
    if isinstance(obj.get("messages"), list):
        return obj
    for k in keys:
        b = obj.get(k)
        if isinstance(b, dict) and isinstance(b.get("messages"), list):
            return b
    return None


def _flatten_chat(keys: tuple[str, ...]) -> Callable[[dict], list[tuple[dict | EnvelopeError, dict]]]:
    def flatten(obj: dict) -> list[tuple[dict | EnvelopeError, dict]]:
        body = _body(obj, keys)
        if body is None:
            raise EnvelopeError("messages", "no_messages", "the record holds no chat request")
        text, chat = chat_text(body)
        flat = _common(obj, body)
        flat["text"] = text
        flat["chat"] = chat
        # the record's other plain fields (an API key id, the endpoint) travel in meta, as a flat row's do
        for k, v in obj.items():
            if k not in flat and k not in keys and k not in _CONSUMED and not isinstance(v, dict | list):
                flat[k] = v
        return [(flat, obj)]

    return flatten


# -- OpenTelemetry GenAI spans ------------------------------------------------------------------------------------
def _otel_value(v: Any) -> Any:
    """An OTLP JSON AnyValue as a plain value."""
    if not isinstance(v, dict):
        return v
    for key in ("stringValue", "boolValue", "doubleValue"):
        if key in v:
            return v[key]
    if "intValue" in v:
        try:
            return int(v["intValue"])
        except (TypeError, ValueError):
            return v["intValue"]
    if "arrayValue" in v:
        return [_otel_value(x) for x in (v["arrayValue"] or {}).get("values") or []]
    if "kvlistValue" in v:
        return _otel_attrs((v["kvlistValue"] or {}).get("values"))
    return None


def _otel_attrs(items: Any) -> dict[str, Any]:
    if isinstance(items, dict):  # some exporters write attributes as a plain object
        return items
    out = {}
    for kv in items or []:
        if isinstance(kv, dict) and "key" in kv:
            out[str(kv["key"])] = _otel_value(kv.get("value"))
    return out


def _json_value(v: Any) -> Any:
    """An attribute holding JSON (GenAI conventions put messages and tool definitions in string attributes)."""
    if isinstance(v, str):
        try:
            return json.loads(v)
        except ValueError:
            return v
    return v


def _parts_message(m: dict) -> list[dict]:
    """A GenAI-convention message (role, parts: text / tool_call / tool_call_response) as chat messages."""
    role, parts = m.get("role"), m.get("parts")
    if not isinstance(parts, list):
        return [{"role": role, "content": m.get("content")}]
    text = "\n".join(str(p.get("content")) for p in parts if isinstance(p, dict) and p.get("type") == "text")
    calls = [
        {"id": str(p.get("id")), "function": {"name": p.get("name")}}
        for p in parts
        if isinstance(p, dict) and p.get("type") == "tool_call"
    ]
    out: list[dict] = []
    if text or calls or role != "tool":
        out.append({"role": role, "content": text, **({"tool_calls": calls} if calls else {})})
    for p in parts:
        if isinstance(p, dict) and p.get("type") == "tool_call_response":
            r = p.get("response")
            out.append(
                {
                    "role": "tool",
                    "tool_call_id": str(p.get("id")),
                    "content": r if isinstance(r, str) else json.dumps(r),
                }
            )
    return out


def _span_chat(attrs: dict, events: list) -> dict | None:
    """The chat body a GenAI span records, from whichever convention wrote it: ``gen_ai.input.messages`` (and
    ``gen_ai.system_instructions``, ``gen_ai.tool.definitions``), one event per message (``gen_ai.user.message``
    ...), or indexed ``gen_ai.prompt.N.role`` / ``.content`` attributes; None when the span records no prompt."""
    messages: list[dict] = []
    found = _json_value(attrs.get("gen_ai.input.messages"))
    if isinstance(found, list):
        for m in found:
            if isinstance(m, dict):
                messages.extend(_parts_message(m))
    if not messages:
        for e in events or []:
            name = str(e.get("name") or "") if isinstance(e, dict) else ""
            if name.startswith("gen_ai.") and name.endswith(".message"):
                ea = _otel_attrs(e.get("attributes"))
                role = ea.get("role") or name[len("gen_ai.") : -len(".message")]
                content = _json_value(ea.get("content", e.get("body")))
                if isinstance(content, dict):
                    content = content.get("content")
                messages.append({"role": role, "content": content if isinstance(content, str | list) else ""})
    if not messages:
        i = 0
        while f"gen_ai.prompt.{i}.content" in attrs or f"gen_ai.prompt.{i}.role" in attrs:
            messages.append({"role": attrs.get(f"gen_ai.prompt.{i}.role", "user"),
                             "content": attrs.get(f"gen_ai.prompt.{i}.content") or ""})  # fmt: skip
            i += 1
    if not messages:
        return None
    body: dict[str, Any] = {"messages": messages, "model": attrs.get("gen_ai.request.model")}
    system = _json_value(attrs.get("gen_ai.system_instructions"))
    if isinstance(system, list):
        body["system"] = "\n".join(str(p.get("content")) for p in system if isinstance(p, dict) and p.get("content"))
    elif isinstance(system, str) and system:
        body["system"] = system
    tools = _json_value(attrs.get("gen_ai.tool.definitions"))
    if isinstance(tools, list):
        body["tools"] = tools
    return body


def _flatten_otel(obj: dict) -> list[tuple[dict | EnvelopeError, dict]]:
    """Every GenAI span of an OTLP JSON export line as a prompt. What ``--map`` addresses for a span is
    ``{"span": the span with its attributes as an object, "resource": the resource's attributes}``; spans that
    record no prompt (HTTP, database, a model's output only) are not prompts and are passed over."""
    out = []
    for rs in obj.get("resourceSpans") or []:
        resource = _otel_attrs(((rs or {}).get("resource") or {}).get("attributes"))
        for ss in (rs or {}).get("scopeSpans") or []:
            for span in (ss or {}).get("spans") or []:
                if not isinstance(span, dict):
                    continue
                attrs = _otel_attrs(span.get("attributes"))
                body = _span_chat(attrs, span.get("events") or [])
                if body is None:
                    continue
                try:
                    text, chat = chat_text(body)
                except EnvelopeError as exc:  # this span, not the export line's others
                    out.append((exc, {}))
                    continue
                start = span.get("startTimeUnixNano")
                try:
                    ts: Any = int(start) // 1_000_000_000
                except (TypeError, ValueError):
                    ts = None
                flat = {
                    "prompt_id": span.get("spanId"),
                    "account_id": attrs.get("enduser.id") or attrs.get("user.id") or resource.get("enduser.id"),
                    "timestamp": ts,
                    "text": text,
                    "model": body.get("model"),
                    "user_agent": attrs.get("user_agent.original"),
                    "chat": chat,
                    "trace_id": span.get("traceId"),
                    "service": resource.get("service.name"),
                }
                out.append((flat, {"span": {**span, "attributes": attrs}, "resource": resource}))
    return out


def _is_otel(obj: dict) -> bool:
    return isinstance(obj.get("resourceSpans"), list)


def _is_anthropic(body: dict) -> bool:
    if "system" in body or "max_tokens" in body and "anthropic_version" in body:
        return True
    for m in body.get("messages") or []:
        c = m.get("content") if isinstance(m, dict) else None
        if isinstance(c, list) and any(isinstance(b, dict) and b.get("type") in ("tool_use", "tool_result") for b in c):
            return True
    return any(isinstance(t, dict) and "input_schema" in t for t in body.get("tools") or [])


@dataclass(frozen=True)
class Envelope:
    name: str
    #: does a record look like this envelope (used to detect the format from a file's first records)
    detect: Callable[[dict], bool]
    #: the record's prompts as (flat dict of ``FIELDS`` and ``chat``, what ``--map`` paths address); None: the
    #: record is one flat prompt already
    flatten: Callable[[dict], list[tuple[dict | EnvelopeError, dict]]] | None


#: where a record may keep its chat body: gateway records and OpenAI's Batch API use ``body``; Anthropic's Message
#: Batches ``params``; a gateway may say ``request``. Both envelopes look in all (the body parser reads either
#: shape), so a file that mixes them is read whole; they differ in what they detect
_BODY_KEYS = ("body", "request", "params")

ENVELOPES: dict[str, Envelope] = {
    "flat": Envelope("flat", lambda o: all(k in o for k in REQUIRED), None),
    "openai": Envelope(
        "openai",
        lambda o: (b := _body(o, _BODY_KEYS)) is not None and not _is_anthropic(b),
        _flatten_chat(_BODY_KEYS),
    ),
    "anthropic": Envelope(
        "anthropic",
        lambda o: (b := _body(o, _BODY_KEYS)) is not None and _is_anthropic(b),
        _flatten_chat(_BODY_KEYS),
    ),
    "otel": Envelope("otel", _is_otel, _flatten_otel),
}


def detect(obj: dict) -> Envelope | None:
    """The envelope a record looks like (flat first), or None."""
    for env in ENVELOPES.values():
        if env.detect(obj):
            return env
    return None


def parse_map(items: list[str] | None) -> dict[str, tuple[str | int, ...]]:
    """``["account_id=metadata.tenant", ...]`` -> {flat field: path}; unknown fields and bad paths are errors."""
    out: dict[str, tuple[str | int, ...]] = {}
    for item in items or []:
        field, sep, path = item.partition("=")
        field = field.strip()
        if not sep or field not in FIELDS:
            raise ValueError(f"--map {item!r}: expected FIELD=PATH with FIELD one of {', '.join(FIELDS)}")
        out[field] = parse_path(path.strip())
    return out


def parse_fill(items: Sequence[str] | None) -> dict[str, str]:
    """``["account_id=org-7", ...]`` -> {flat field: value}."""
    out: dict[str, str] = {}
    for item in items or []:
        field, sep, value = item.partition("=")
        field = field.strip()
        if not sep or field not in FIELDS or field in ("prompt_id", "text"):
            raise ValueError(
                f"--fill {item!r}: expected FIELD=VALUE with FIELD one of account_id, timestamp, " + ", ".join(OPTIONAL)
            )
        out[field] = value
    return out


@dataclass(frozen=True)
class Reading:
    """How a night's files are read: a forced envelope (None: each file's first records decide), fields taken
    from JSON paths (``--map``), and values for fields the records lack (``--fill``: a batch file's account and
    day live on the batch, not in its lines)."""

    envelope: str | None = None
    field_map: tuple[tuple[str, tuple[str | int, ...]], ...] = ()
    fill: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(
        cls, envelope: str | None = None, field_map: Sequence[str] = (), fill: Sequence[str] = ()
    ) -> Reading:  # fmt: skip
        """From the command line's strings; ValueError names the bad one."""
        if envelope is not None and envelope not in ENVELOPES:
            raise ValueError(f"unknown --format {envelope!r}; known: {', '.join(ENVELOPES)}")
        return cls(envelope, tuple(parse_map(list(field_map)).items()), tuple(parse_fill(list(fill)).items()))

    @property
    def plain(self) -> bool:
        return self.envelope in (None, "flat") and not self.field_map and not self.fill


class Reader:
    """Turns each parsed JSON record into the flat record the prompt batcher checks, for one file.

    The envelope is forced or taken from the first record that any envelope (or, with the map and the fills
    covering every required field, the map alone) can read; every later record is read the same way."""

    def __init__(self, reading: Reading | None = None) -> None:
        reading = reading or Reading()
        self.forced = ENVELOPES[reading.envelope] if reading.envelope else None
        self.envelope: Envelope | None = self.forced
        self.field_map = dict(reading.field_map)
        self.fills = dict(reading.fill)
        self.mapped_only = all(f in self.field_map or f in self.fills for f in REQUIRED)

    @property
    def plain(self) -> bool:
        """Records pass through untouched (flat, nothing mapped or filled)."""
        return self.envelope is not None and self.envelope.flatten is None and not self.field_map and not self.fills

    def looks_valid(self, obj: dict) -> bool:
        if self.envelope is not None:
            return self.envelope.detect(obj) or self.mapped_only or self._filled(obj)
        env = detect(obj)
        if env is None and self._filled(obj):
            env = ENVELOPES["flat"]
        if env is None and self.mapped_only:
            env = ENVELOPES["flat"]
        if env is not None:
            self.envelope = env
        return env is not None

    def _filled(self, obj: dict) -> bool:
        """A flat record but for the fields ``--fill`` gives (or the map takes)."""
        return bool(self.fills) and all(k in obj or k in self.fills or k in self.field_map for k in REQUIRED)

    def records(self, obj: dict) -> list[dict | EnvelopeError]:
        """The flat records of ``obj`` (one, or one per GenAI span of an OTLP line), each in place of an
        EnvelopeError where this envelope cannot read it; raises EnvelopeError when the record as a whole is
        unreadable."""
        env = self.envelope or ENVELOPES["flat"]
        pairs = [(obj, obj)] if env.flatten is None else env.flatten(obj)
        out: list[dict | EnvelopeError] = []
        for flat, view in pairs:
            if isinstance(flat, EnvelopeError):
                out.append(flat)
                continue
            try:
                out.append(self._complete(env, flat, view))
            except EnvelopeError as exc:
                if len(pairs) == 1:
                    raise
                out.append(exc)
        return out

    def _complete(self, env: Envelope, flat: dict, view: dict) -> dict:
        if self.fills:
            flat = dict(flat)
            for field, value in self.fills.items():
                if flat.get(field) is None:
                    flat[field] = value
        if self.field_map:
            flat = dict(flat)
            for field, path in self.field_map.items():
                v = at(view, path)
                if v is _MISSING:  # the map is tried first; what the envelope found stands in
                    if field in REQUIRED and flat.get(field) is None:
                        raise EnvelopeError(field, f"missing_{field}", f"nothing at --map {field}={_show(path)}")
                    continue
                flat[field] = v
        if env.flatten is not None:
            for field in ("prompt_id", "account_id", "timestamp"):
                if flat.get(field) is None:
                    raise EnvelopeError(field, f"missing_{field}", f"no {field} found in the {env.name} record")
        return flat


def _show(path: tuple[str | int, ...]) -> str:
    return "".join(
        f"[{s}]" if isinstance(s, int) else f'["{s}"]' if "." in s else ("." if i else "") + s
        for i, s in enumerate(path)
    )

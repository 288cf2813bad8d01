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
  ``enduser.id`` or ``user.id`` unless ``--map`` says where (``span.attributes["app.account"]``); the client is
  ``client.address`` when it is an address (the conventions allow a host name, which names no network).

Three gateways export records of their own around the provider's request; each is detected from its fields and read
into the same flat record, the request itself by the same chat parser:

* ``litellm``: LiteLLM proxy logs, the ``StandardLoggingPayload`` its callbacks and bucket loggers write (``id``,
  ``call_type``, ``startTime`` in epoch seconds, ``messages`` with ``model_parameters``, ``metadata.user_api_key_*``,
  ``end_user``, ``requester_ip_address``) and ``LiteLLM_SpendLogs`` rows (``request_id``, ISO ``startTime``,
  ``user``, ``end_user``, ``messages`` or the stored request in ``proxy_server_request``). The account is the key's
  user, else the end user; calls without a prompt (embeddings, images, audio, files) are passed over;
* ``langfuse``: Langfuse observation exports (public API, UI export, blob storage; camelCase or snake_case), each
  GENERATION a prompt (``id``, ``traceId``, ``startTime``, ``model``/``providedModelName``, ``input`` as messages,
  ``{messages}`` or text, the trace's ``userId`` on the observation or under ``trace``), or a trace with its
  ``observations``; other observation types (spans, events, tools) are passed over;
* ``helicone``: Helicone request exports (``request_id``, ``request_created_at``, ``request_body`` holding the
  provider's body, ``request_user_id``, ``request_model``, ``request_path``, ``request_properties``); custom events
  and endpoints without a prompt (embeddings, images, audio) are passed over.

A record passed over is not a prompt (as an HTTP span is not); a record that should hold one and does not (a
generation without a user turn, a request without an account) is quarantined like any other.

What a request says *now* becomes its ``text``: the system prompt joined to the newest user turn by a blank line
(what a log without roles holds), or, when the newest message is a tool result (an agent's next step), that result
after the tool's name. An agent session of 20 steps is then 20 texts of what each step added, not 20 copies of a
growing history. The rest of the request is kept in the record's ``meta`` under ``chat``: the system prompt, how many
earlier turns and a digest of them, the tool names and one hash of the canonical tool-schema set, the tool calls, and
``turn_at``, where the newest turn starts in the text: template mining and MinHash read the whole text (the system
prompt is a wrapper like any other), while the embed step embeds the turn alone, so an agent's 20 tasks under one
long system prompt cost 20 vectors of what was asked, not 20 of the system prompt with a task appended.

``--map FIELD=PATH`` (``field_map``) takes any flat field from a JSON path into the record (``a.b[0].c``,
``a["dotted.key"]``), before the envelope's own choice, so a team maps its own log without code; ``--fill
FIELD=VALUE`` gives a field the records lack. A record the envelope cannot read (no messages, no
user or tool turn, an id where none can be found) is quarantined with the field and the reason.
"""

from __future__ import annotations

import hashlib
import ipaddress
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
#: how the text of an agent's next step (its newest tool result) begins: ``[tool NAME] RESULT``
TOOL_RESULT_PREFIX = "[tool "

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
        text, kind = f"{TOOL_RESULT_PREFIX}{t.tool or 'result'}] {t.text}", "tool_result"
    else:
        text, kind = (system + "\n\n" + t.text if system else t.text), "user"
    earlier = turns[:last]
    defs = sorted((_tool(x) for x in tools), key=lambda d: (d[0], d[1], json.dumps(d[2], sort_keys=True, default=str)))
    chat = {
        "kind": kind,
        # the system prompt is in the text of a user turn; here its hash and head, not a copy per request
        "system_hash": _digest(system) if system else None,
        "system_head": system[:SYSTEM_HEAD] if system else None,
        # where the newest turn starts in the text (after the system prompt and a blank line): what is embedded
        "turn_at": len(system) + 2 if kind == "user" and system else 0,
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
            r = p.get("response", p.get("result"))  # "result" in instrumentations written to an earlier draft
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
    found = _maybe_json(attrs.get("gen_ai.input.messages"))
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
                content = _maybe_json(ea.get("content", e.get("body")))
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
    system = _maybe_json(attrs.get("gen_ai.system_instructions"))
    if isinstance(system, list):
        body["system"] = "\n".join(str(p.get("content")) for p in system if isinstance(p, dict) and p.get("content"))
    elif isinstance(system, str) and system:
        body["system"] = system
    tools = _maybe_json(attrs.get("gen_ai.tool.definitions"))
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
                    "ip": _ip_literal(attrs.get("client.address")),
                    "user_agent": attrs.get("user_agent.original"),
                    "chat": chat,
                    "trace_id": span.get("traceId"),
                    "service": resource.get("service.name"),
                }
                out.append((flat, {"span": {**span, "attributes": attrs}, "resource": resource}))
    return out


def _is_otel(obj: dict) -> bool:
    return isinstance(obj.get("resourceSpans"), list)


# -- gateway exports: LiteLLM, Langfuse, Helicone ------------------------------------------------------------------
def _ip_literal(value: Any) -> str | None:
    """An address literal, or None: OTel's ``client.address`` may be a host name, which names no network (and would
    quarantine the span as a bad ip)."""
    if not isinstance(value, str):
        return None
    try:
        ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    return value.strip()


def _client_ip(value: Any) -> Any:
    """The client of a logged address: an X-Forwarded-For value (LiteLLM logs the header as it came) lists the client
    first and the proxies after it; an empty value is none. Anything else is left for the reader to judge."""
    if isinstance(value, str):
        return value.split(",", 1)[0].strip() or None
    return value


def _maybe_json(value: Any) -> Any:
    """A value some exports keep as a JSON string (Langfuse's ``input``, LiteLLM's SpendLogs columns, a Helicone
    body in CSV, the GenAI conventions' message and tool attributes): parsed when it is a JSON object, array or
    string, else as it is, so that plain text stays text (a prompt "42" is not the number 42)."""
    if isinstance(value, str) and value.lstrip()[:1] in ("[", "{", '"'):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _chat_messages(items: Any) -> list[dict] | None:
    """Chat messages from what exports record besides Chat Completions and Messages turns: a plain string (one user
    turn: a completion prompt, a Responses ``input``), GenAI-convention ``parts`` messages (read as the OTel reader
    reads them), and Responses API items (``function_call`` -> a tool call, ``function_call_output`` -> a tool
    result). Other messages pass through to the one chat parser; None when ``items`` is neither text nor a list."""
    if isinstance(items, str):
        return [{"role": "user", "content": items}]
    if not isinstance(items, list):
        return None
    out: list[dict] = []
    for m in items:
        if not isinstance(m, dict):
            continue
        kind = m.get("type")
        if kind == "function_call":
            call = {"id": str(m.get("call_id")), "function": {"name": m.get("name")}}
            out.append({"role": "assistant", "content": None, "tool_calls": [call]})
        elif kind == "function_call_output":
            result = m.get("output")
            content = result if isinstance(result, str | list) else json.dumps(result)
            out.append({"role": "tool", "tool_call_id": str(m.get("call_id")), "content": content})
        elif isinstance(m.get("parts"), list):
            out.extend(_parts_message(m))
        else:
            out.append(m)
    return out


def _request_chat(value: Any) -> dict | None:
    """The chat body for ``chat_text`` of a request as a gateway stored it: a Chat Completions or Messages body
    (``messages``, with ``system``/``tools``), a Responses API body (``input``, ``instructions``), a legacy
    completion (``prompt``), a bare list of messages (``[[...]]`` too, as Langfuse's own reader accepts) or a bare
    text; None when it holds no prompt at all."""
    value = _maybe_json(value)
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], list):
        value = value[0]
    if isinstance(value, str | list):
        messages = _chat_messages(value)
        return {"messages": messages} if value else None
    if not isinstance(value, dict):
        return None
    found = next((_maybe_json(value[k]) for k in ("messages", "input", "prompt") if value.get(k) is not None), None)
    messages = _chat_messages(found)
    if not messages:
        return None
    body: dict[str, Any] = {"messages": messages}
    system = value.get("system", value.get("instructions"))
    if system is not None:
        body["system"] = system
    if isinstance(value.get("tools"), list):
        body["tools"] = value["tools"]
    if value.get("model"):
        body["model"] = value["model"]
    return body


def _read_chat(body: dict, field: str) -> tuple[str, dict]:
    """``chat_text``, its complaint named after the export's own field (a generation's ``input``, a request row's
    ``request_body``), which is where an analyst looks."""
    try:
        return chat_text(body)
    except EnvelopeError as exc:
        raise EnvelopeError(field, exc.reason, exc.detail) from None


def _extras(**fields: Any) -> dict[str, Any]:
    """The fields an export keeps beside the prompt (its trace, team, endpoint), for the prompt's ``meta``; absent
    and empty ones are left out rather than stored as nulls."""
    return {k: v for k, v in fields.items() if v is not None and v != "" and v != {}}


def _obj(value: Any) -> dict:
    value = _maybe_json(value)
    return value if isinstance(value, dict) else {}


#: LiteLLM call types that carry a prompt (``CallTypes`` in litellm/types/utils.py): chat and text completions,
#: Anthropic's messages route, the Responses API, Google's generateContent
_LITELLM_PROMPT_CALLS = frozenset(
    ("completion", "acompletion", "text_completion", "atext_completion", "anthropic_messages", "responses",
     "aresponses", "generate_content", "agenerate_content", "generate_content_stream", "agenerate_content_stream")
)  # fmt: skip


def _is_litellm(obj: dict) -> bool:
    """A LiteLLM StandardLoggingPayload (its callbacks, the S3/GCS loggers) or a SpendLogs row: both name the call type
    and keep LiteLLM's camelCase ``startTime``."""
    return "call_type" in obj and "startTime" in obj


def _flatten_litellm(obj: dict) -> list[tuple[dict | EnvelopeError, dict]]:
    """One LiteLLM record as a prompt. The request is ``messages`` (the logging payload; SpendLogs of versions that
    stored it there), whose system prompt and tools the payload may keep in ``model_parameters``, else the request
    body in SpendLogs' ``proxy_server_request`` (stored with ``store_prompts_in_spend_logs``). Calls that send no
    prompt (embeddings, images, audio, moderation, files, batches) are passed over, unless they carry chat messages.
    The account is the key's user (``metadata.user_api_key_user_id``, SpendLogs ``user``), else the end user the
    request named (``end_user``); a deployment whose keys have no users maps one (``--map account_id=team_id``)."""
    meta = _obj(obj.get("metadata"))
    params = _obj(obj.get("model_parameters"))
    messages = _maybe_json(obj.get("messages"))
    request: Any = None
    if isinstance(messages, dict) and messages:  # a whole request body where the messages should be
        request = messages
    elif isinstance(messages, list | str) and messages:
        request = {"messages": messages, **{k: params[k] for k in ("system", "instructions", "tools") if k in params}}
    if request is None:
        stored = _obj(obj.get("proxy_server_request"))
        request = stored.get("body") if isinstance(stored.get("body"), dict) else stored or None
    body = _request_chat(request)
    call = str(obj.get("call_type") or "")
    if call and call not in _LITELLM_PROMPT_CALLS and not _carries_chat(request):
        return []
    if body is None:
        raise EnvelopeError(
            "messages", "no_messages",
            "the LiteLLM record holds no request (SpendLogs keep prompts only with store_prompts_in_spend_logs)",
        )  # fmt: skip
    text, chat = chat_text(body)
    flat = {
        "prompt_id": _first(obj, _p("id"), _p("request_id")),
        "account_id": _first(meta, _p("user_api_key_user_id"))
        or _first(obj, _p("user"), _p("end_user"))
        or _first(meta, _p("user_api_key_end_user_id")),
        "timestamp": obj.get("startTime"),
        "text": text,
        "model": _first(obj, _p("model")) or body.get("model"),
        "ip": _client_ip(_first(obj, _p("requester_ip_address")) or _first(meta, _p("requester_ip_address"))),
        "user_agent": _first(obj, _p("user_agent")) or _first(meta, _p("user_agent")),
        "chat": chat,
    }
    flat.update(
        _extras(
            call_type=call,
            model_group=obj.get("model_group"),
            end_user=_first(obj, _p("end_user")) or _first(meta, _p("user_api_key_end_user_id")),
            team_id=_first(obj, _p("team_id")) or _first(meta, _p("user_api_key_team_id")),
            organization_id=_first(obj, _p("organization_id")) or _first(meta, _p("user_api_key_org_id")),
            api_key=_first(obj, _p("api_key")) or _first(meta, _p("user_api_key_hash")),
            session_id=_first(obj, _p("session_id"), _p("trace_id")),
        )
    )
    return [(flat, obj)]


def _carries_chat(request: Any) -> bool:
    """Whether a request holds chat turns (a list of messages with roles), as an embedding's input text does not."""
    messages = _maybe_json(request.get("messages")) if isinstance(request, dict) else None
    return isinstance(messages, list) and any(isinstance(m, dict) and m.get("role") for m in messages)


def _is_langfuse(obj: dict) -> bool:
    """A Langfuse observation (public API, UI or blob-storage export, camelCase or snake_case), or a trace with its
    observations (the trace export)."""
    if isinstance(obj.get("observations"), list):
        return isinstance(obj.get("trace"), dict) or "traceId" in obj or "userId" in obj or "sessionId" in obj
    return (
        isinstance(obj.get("type"), str)
        and ("traceId" in obj or "trace_id" in obj)
        and ("startTime" in obj or "start_time" in obj)
    )


def _flatten_langfuse(obj: dict) -> list[tuple[dict | EnvelopeError, dict]]:
    """Each GENERATION observation of a Langfuse export line as a prompt; the other observation types (SPAN, EVENT,
    AGENT, TOOL, RETRIEVER, EMBEDDING, ...) are steps around a model call, not prompts, and are passed over, as the
    OTel reader passes over spans that record no prompt. A line is one observation, with its trace's fields flattened
    onto it or under ``trace``, or a trace with its ``observations``; what ``--map`` addresses is the observation
    with its trace under ``trace``. An observation without a type is read as a generation, so that none is lost."""
    if isinstance(obj.get("observations"), list):
        trace = (
            obj["trace"]
            if isinstance(obj.get("trace"), dict)
            else {k: v for k, v in obj.items() if k != "observations"}
        )
        items = [(o, {**o, "trace": trace}) for o in obj["observations"] if isinstance(o, dict)]
    else:
        trace = obj["trace"] if isinstance(obj.get("trace"), dict) else {}
        items = [(obj, obj)]
    out: list[tuple[dict | EnvelopeError, dict]] = []
    for o, view in items:
        kind = o.get("type")
        if kind is not None and str(kind).upper() != "GENERATION":
            continue
        try:
            out.append((_langfuse_generation(o, trace), view))
        except EnvelopeError as exc:  # this generation, not the trace's others
            out.append((exc, {}))
    return out


def _langfuse_generation(o: dict, trace: dict) -> dict:
    """A generation's prompt: its ``input`` (a messages array, an object with ``messages``, or text; often a JSON
    string in exports), with the tools from the input or from Langfuse's extracted ``toolDefinitions`` (name ->
    JSON of description and parameters). The account is the trace's ``userId``."""
    body = _request_chat(o.get("input"))
    if body is None:
        raise EnvelopeError("input", "no_messages", "the generation's input holds no chat messages or text")
    if "tools" not in body:
        defs = _obj(o.get("toolDefinitions", o.get("tool_definitions")))
        if defs:
            body["tools"] = [{"name": name, **_obj(spec)} for name, spec in defs.items()]
    text, chat = _read_chat(body, "input")
    flat = {
        "prompt_id": o.get("id"),
        "account_id": _first(o, _p("userId"), _p("user_id")) or _first(trace, _p("userId"), _p("user_id")),
        "timestamp": _first(o, _p("startTime"), _p("start_time")),
        "text": text,
        "model": _first(o, _p("model"), _p("providedModelName"), _p("provided_model_name")) or body.get("model"),
        "chat": chat,
    }
    flat.update(
        _extras(
            trace_id=_first(o, _p("traceId"), _p("trace_id")) or trace.get("id"),
            session_id=_first(o, _p("sessionId"), _p("session_id")) or _first(trace, _p("sessionId"), _p("session_id")),
            name=o.get("name"),
            environment=o.get("environment"),
            prompt_name=_first(o, _p("promptName"), _p("prompt_name")),
        )
    )
    return flat


#: Helicone request paths that send no prompt (and its custom events: ``_type`` tool, vector_db, data)
_HELICONE_NOT_PROMPTS = ("/embeddings", "/images/", "/audio/", "/moderations")
_HELICONE_EVENTS = ("tool", "vector_db", "data")


def _is_helicone(obj: dict) -> bool:
    """A Helicone request row (``@helicone/export``, the request query API): ``request_id`` and
    ``request_created_at`` beside the provider's body."""
    return "request_id" in obj and "request_created_at" in obj


def _flatten_helicone(obj: dict) -> list[tuple[dict | EnvelopeError, dict]]:
    """One Helicone request as a prompt: ``request_body`` is the provider's own body (OpenAI, Anthropic, Responses),
    read by the one chat parser. Custom events logged beside requests (tool, vector_db, data) and endpoints that
    take no prompt (embeddings, images, audio, moderations) are passed over. The account is the user the app named
    (``Helicone-User-Id``: ``request_user_id``), else the body's own ``user`` or ``metadata.user_id``."""
    request = _maybe_json(obj.get("request_body"))
    path = str(obj.get("request_path") or "")
    if isinstance(request, dict) and request.get("_type") in _HELICONE_EVENTS:
        return []
    if any(p in path for p in _HELICONE_NOT_PROMPTS):
        return []
    body = _request_chat(request)
    if body is None:
        raise EnvelopeError(
            "request_body", "no_messages", "the Helicone record holds no chat request (export with --include-body)"
        )
    text, chat = _read_chat(body, "request_body")
    request = request if isinstance(request, dict) else {}
    flat = {
        "prompt_id": obj.get("request_id"),
        "account_id": _first(obj, _p("request_user_id"), _p("user_id"))
        or _first(request, _p("user"), _p("metadata", "user_id")),
        "timestamp": obj.get("request_created_at"),
        "text": text,
        "model": _first(obj, _p("request_model"), _p("model"), _p("model_override")) or body.get("model"),
        "chat": chat,
    }
    flat.update(
        _extras(
            request_path=path,
            provider=obj.get("provider"),
            country_code=obj.get("country_code"),
            properties=_obj(obj.get("request_properties")) or _obj(obj.get("properties")),
        )
    )
    return [(flat, obj)]


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
    #: what a record needs for this envelope to read it when ``--format`` names it (None: what ``detect`` looks
    #: for). Looser than detection, which must tell the formats apart: a gateway export with some of its columns
    #: left out is still read, its records quarantined for what they lack
    accepts: Callable[[dict], bool] | None = None


#: where a record may keep its chat body: gateway records and OpenAI's Batch API use ``body``; Anthropic's Message
#: Batches ``params``; a gateway may say ``request``. Both envelopes look in all (the body parser reads either
#: shape), so a file that mixes them is read whole; they differ in what they detect
_BODY_KEYS = ("body", "request", "params")

#: in the order detection tries them: the gateways' exports before the chat bodies, since a LiteLLM payload also
#: holds a top-level ``messages`` list
ENVELOPES: dict[str, Envelope] = {
    "flat": Envelope("flat", lambda o: all(k in o for k in REQUIRED), None),
    "litellm": Envelope(
        "litellm",
        _is_litellm,
        _flatten_litellm,
        lambda o: ("id" in o or "request_id" in o) and ("messages" in o or "proxy_server_request" in o),
    ),
    "langfuse": Envelope(
        "langfuse",
        _is_langfuse,
        _flatten_langfuse,
        lambda o: isinstance(o.get("observations"), list) or ("id" in o and ("input" in o or "type" in o)),
    ),
    "helicone": Envelope(
        "helicone",
        _is_helicone,
        _flatten_helicone,
        lambda o: "request_id" in o and ("request_body" in o or "request_path" in o),
    ),
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
            env = self.envelope
            looks = env.accepts if self.forced is not None and env.accepts is not None else env.detect
            return looks(obj) or self.mapped_only or self._filled(obj)
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
        """The flat records of ``obj`` (one; none for a record that is no prompt; one per GenAI span of an OTLP
        line or per generation of a Langfuse trace), each in place of an EnvelopeError where this envelope cannot
        read it; raises EnvelopeError when the record as a whole is unreadable."""
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

"""Chat requests as logs come: OpenAI and Anthropic bodies, gateway records, batch files, --map and --fill.

Records follow the shapes of the providers' API references (Chat Completions with tools and tool calls, the Batch
API's ``custom_id``/``body`` lines, Messages with a system field and tool_use/tool_result blocks, Message Batches'
``custom_id``/``params``) and of the gateways' own types (LiteLLM's StandardLoggingPayload and LiteLLM_SpendLogs,
Langfuse's observation export fields, Helicone's HeliconeRequest rows); the values are this test's own. The
benchmark generator's ``--format openai`` and ``--format anthropic`` logs are read against its flat log of the same
requests.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest

from engine.ingest import InputError, Quarantine, read_prompts
from engine.ingest.envelopes import EnvelopeError, Reader, Reading, chat_text, detect, parse_path

SHARED = Path(__file__).resolve().parents[2] / "shared" / "bench"

OPENAI_AGENT = {
    "request_id": "req_01",
    "created": 1763805600,
    "account_id": "acct_7",
    "api_key_id": "key_a",
    "client": {"asn": "AS64500", "user_agent": "my-agent/2.1"},
    "body": {
        "model": "gpt-x",
        "messages": [
            {"role": "developer", "content": "You are a careful coding agent."},
            {"role": "user", "content": [{"type": "text", "text": "Fix the failing test in utils."}]},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": "call_1", "type": "function", "function": {"name": "read_file", "arguments": '{"p":"u.py"}'}}
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": "def add(a, b): return a - b"},
        ],
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": "read_file",
                    "description": "Read a file.",
                    "parameters": {"type": "object", "properties": {"p": {"type": "string"}}},
                },
            }
        ],
    },
}

ANTHROPIC_AGENT = {
    "id": "msg_req_01",
    "received_at": "2026-11-22T10:00:00.250+00:00",
    "account_id": "acct_7",
    "request": {
        "model": "claude-x",
        "max_tokens": 1024,
        "system": [{"type": "text", "text": "You are a careful coding agent."}],
        "messages": [
            {"role": "user", "content": "Fix the failing test in utils."},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "tu_1", "name": "read_file", "input": {"p": "u.py"}}]},
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": "tu_1", "content": [{"type": "text", "text": "def add(a, b): return a - b"}]}
                ],
            },
        ],
        "tools": [
            {
                "name": "read_file",
                "description": "Read a file.",
                "input_schema": {"type": "object", "properties": {"p": {"type": "string"}}},
            }
        ],
    },
}  # fmt: skip


def _read(tmp_path: Path, records: list, reading: Reading | None = None, name: str = "log.jsonl") -> tuple:
    path = tmp_path / name
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return _read_file(path, reading)


def _read_file(path: Path, reading: Reading | None = None) -> tuple:
    qpath = path.with_suffix(".quarantine")
    q = Quarantine(qpath)
    tables = list(read_prompts(path, quarantine=q, reading=reading))
    q.close()
    rows = pa.concat_tables(tables).to_pylist() if tables else []
    bad = [json.loads(x) for x in qpath.read_text().splitlines()] if q.count else []
    return rows, bad


def test_an_agent_step_is_its_newest_tool_result_and_keeps_its_parts_in_meta(tmp_path: Path) -> None:
    rows, bad = _read(tmp_path, [OPENAI_AGENT])
    assert not bad and len(rows) == 1
    r = rows[0]
    assert (r["prompt_id"], r["account_id"], r["model"], r["ip_asn"], r["user_agent"]) == (
        "req_01", "acct_7", "gpt-x", "AS64500", "my-agent/2.1"
    )  # fmt: skip
    assert r["timestamp"].isoformat() == "2025-11-22T10:00:00+00:00"
    assert r["text"] == "[tool read_file] def add(a, b): return a - b"  # what this step added, not the history
    meta = json.loads(r["meta"])
    chat = meta["chat"]
    assert chat["kind"] == "tool_result" and chat["earlier_turns"] == 2 and chat["tools"] == ["read_file"]
    assert chat["tool_calls"] == ["read_file"] and chat["system_head"] == "You are a careful coding agent."
    assert chat["turn_at"] == 0  # the text holds no system prompt: all of it is embedded
    assert meta["api_key_id"] == "key_a"  # the record's other plain fields travel in meta


def test_the_same_request_in_either_providers_shape_reads_alike(tmp_path: Path) -> None:
    (o,), _ = _read(tmp_path, [OPENAI_AGENT])
    (a,), _ = _read(tmp_path, [ANTHROPIC_AGENT], name="a.jsonl")
    co, ca = json.loads(o["meta"])["chat"], json.loads(a["meta"])["chat"]
    assert o["text"] == a["text"]
    for key in ("kind", "system_hash", "earlier_turns", "history", "tools", "tools_hash", "tool_calls"):
        assert co[key] == ca[key], key  # one canonical tool set, one history digest, whichever shape
    assert a["timestamp"].isoformat() == "2026-11-22T10:00:00+00:00"


def test_a_first_request_is_the_system_prompt_and_the_user_turn() -> None:
    text, chat = chat_text({"system": "Be brief.", "messages": [{"role": "user", "content": "What is 2+2?"}]})
    assert text == "Be brief.\n\nWhat is 2+2?" and chat["kind"] == "user" and chat["earlier_turns"] == 0
    assert text[chat["turn_at"] :] == "What is 2+2?"  # where the turn starts: what the embed step embeds
    # a follow-up: the newest user turn; earlier turns are counted and digested, not repeated
    text, chat = chat_text(
        {
            "messages": [
                {"role": "user", "content": "Hi"},
                {"role": "assistant", "content": "Hello!"},
                {"role": "user", "content": "Translate 'cat' to French."},
            ]
        }
    )
    assert text == "Translate 'cat' to French." and chat["earlier_turns"] == 2 and chat["history"]
    with pytest.raises(EnvelopeError) as e:
        chat_text({"messages": [{"role": "assistant", "content": "prefill only"}]})
    assert e.value.reason == "no_user_turn"


def test_batch_files_read_with_the_account_and_day_filled_in(tmp_path: Path) -> None:
    """Batch API input lines hold a custom_id and a body: account and time live on the batch, given by --fill."""
    lines = [
        {"custom_id": "r-1", "method": "POST", "url": "/v1/chat/completions",
         "body": {"model": "gpt-x", "messages": [{"role": "user", "content": "Summarise: the cat sat."}]}},
        {"custom_id": "r-2", "params": {"model": "claude-x", "max_tokens": 100, "system": "Terse.",
                                        "messages": [{"role": "user", "content": "Name three primes."}]}},
    ]  # fmt: skip
    reading = Reading.parse(None, (), ("account_id=org-batch", "timestamp=2026-11-21T00:00:00Z"))
    rows, bad = _read(tmp_path, lines, reading)
    assert not bad
    assert [(r["prompt_id"], r["account_id"], r["text"]) for r in rows] == [
        ("r-1", "org-batch", "Summarise: the cat sat."),
        ("r-2", "org-batch", "Terse.\n\nName three primes."),
    ]
    # without the fill, each line says what it lacks
    rows, bad = _read(tmp_path, lines, Reading.parse("openai"), name="b.jsonl")
    assert not rows and {(b["field"], b["reason"]) for b in bad} >= {("account_id", "missing_account_id")}


def test_map_takes_fields_from_json_paths_and_names_what_is_missing(tmp_path: Path) -> None:
    lines = [
        {"evt": {"id": "e1", "ts": "2026-11-21T08:00:00Z", "tenant": {"id": "t9"}}, "payload": {"prompt": ["Hi there"]}},
        {"evt": {"id": "e2", "ts": "2026-11-21T08:01:00Z"}, "payload": {"prompt": ["No tenant here"]}},
    ]  # fmt: skip
    reading = Reading.parse(
        None, ("prompt_id=evt.id", "timestamp=evt.ts", "account_id=evt.tenant.id", "text=payload.prompt[0]"), ()
    )
    rows, bad = _read(tmp_path, lines, reading)
    assert [(r["prompt_id"], r["account_id"], r["text"]) for r in rows] == [("e1", "t9", "Hi there")]
    assert [(b["line"], b["field"], b["reason"]) for b in bad] == [(2, "account_id", "missing_account_id")]
    assert parse_path("a.b[2].c") == ("a", "b", 2, "c")
    for wrong in ("", "a..b", "a[x]"):
        with pytest.raises(ValueError, match="not a JSON path"):
            parse_path(wrong)
    with pytest.raises(ValueError, match="FIELD=PATH"):
        Reading.parse(None, ("colour=a.b",), ())
    with pytest.raises(ValueError, match="unknown --format"):
        Reading.parse("splunk")


def test_a_record_the_envelope_cannot_read_is_quarantined_not_dropped(tmp_path: Path) -> None:
    lines = [OPENAI_AGENT, {**OPENAI_AGENT, "request_id": "req_02", "body": {"model": "m", "messages": "oops"}},
             {**OPENAI_AGENT, "request_id": "req_03", "body": {"model": "m", "messages": [{"role": "assistant", "content": "x"}]}}]  # fmt: skip
    rows, bad = _read(tmp_path, lines)
    assert [r["prompt_id"] for r in rows] == ["req_01"]
    assert [(b["line"], b["field"], b["reason"]) for b in bad] == [
        (2, "messages", "no_messages"),
        (3, "messages", "no_user_turn"),
    ]


def test_formats_are_read_from_json_lines_only(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text("prompt_id,account_id,timestamp,text\np1,a1,2026-11-21T00:00:00Z,hello\n")
    with pytest.raises(InputError, match="JSON lines only"):
        list(read_prompts(path, quarantine=Quarantine(tmp_path / "q.jsonl"), reading=Reading.parse("openai")))
    # flat JSON lines still pass through untouched
    assert Reader(Reading()).looks_valid({"prompt_id": 1, "account_id": 2, "timestamp": 3, "text": "t"})


@pytest.mark.skipif(not (SHARED / "make_logs.py").exists(), reason="needs ../shared/bench")
def test_the_generators_chat_formats_read_as_its_flat_log(tmp_path: Path) -> None:
    """public4 at a small scale written three ways: every request reads with the same id, account, time, text,
    model and client from its OpenAI and its Anthropic serialisation as from the flat one."""
    logs = {}
    for fmt in ("flat", "openai", "anthropic"):
        out = tmp_path / fmt
        subprocess.run(
            [sys.executable, str(SHARED / "make_logs.py"), str(SHARED / "public4.json"), str(out), "--scale", "0.01",
             "--format", fmt],
            check=True, capture_output=True,
        )  # fmt: skip
        rows, bad = _read_file(out / "prompts.jsonl")
        assert not bad
        logs[fmt] = {r["prompt_id"]: r for r in rows}
    keys = ("account_id", "timestamp", "text", "model", "ip_asn", "user_agent")
    flat = logs["flat"]
    assert len(flat) > 1000
    for fmt in ("openai", "anthropic"):
        assert logs[fmt].keys() == flat.keys()
        assert all(tuple(r[k] for k in keys) == tuple(flat[p][k] for k in keys) for p, r in logs[fmt].items()), fmt
    kinds = {json.loads(r["meta"])["chat"]["kind"] for r in logs["openai"].values() if r["meta"]}
    assert kinds == {"user", "tool_result"}  # agent sessions are in the config


def test_the_run_command_reads_chat_requests_and_rejects_a_bad_map_in_one_line(tmp_path: Path, capsys) -> None:
    from engine.app.cli import main

    lines = [
        {**OPENAI_AGENT, "request_id": f"req_{i}", "account_id": f"acct_{i % 7}", "created": 1763805600 + 60 * i,
         "body": {"model": "gpt-x", "messages": [{"role": "system", "content": "Answer briefly."},
                                                 {"role": "user", "content": f"What is {i} squared?"}]}}
        for i in range(40)
    ]  # fmt: skip
    log = tmp_path / "chat.jsonl"
    log.write_text("".join(json.dumps(r) + "\n" for r in lines))
    store = str(tmp_path / "store")
    with pytest.raises(SystemExit, match="--map 'colour=a': expected FIELD=PATH"):
        main(["run", "--input", str(log), "--store", store, "--quiet", "--map", "colour=a"])
    assert main(["run", "--input", str(log), "--store", store, "--quiet", "--format", "openai"]) == 0
    assert "accepted 40 prompts, quarantined 0" in capsys.readouterr().out


def _flat(i: int, day: str) -> dict:
    return {"prompt_id": f"p{day}-{i}", "account_id": f"a{i % 3}", "timestamp": f"{day}T0{i % 9}:00:00Z",
            "text": f"question {i} of {day}"}  # fmt: skip


def _ingest(inputs: list[str], tmp_path: Path) -> tuple:
    from engine.pipeline.previous import Previous
    from engine.pipeline.steps import ingest

    qpath = tmp_path / "quarantine.jsonl"
    ing = ingest(inputs, None, Previous(), qpath)
    bad = [json.loads(x) for x in qpath.read_text().splitlines()] if qpath.exists() else []
    return ing, bad


def test_a_hive_partitioned_directory_is_read_whole_with_its_partition_columns(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    root = tmp_path / "logs"
    (root / "dt=2026-11-21" / "region=eu").mkdir(parents=True)
    (root / "dt=2026-11-22").mkdir()
    (root / "dt=2026-11-21" / "region=eu" / "part-0.jsonl").write_text(
        "".join(json.dumps(_flat(i, "2026-11-21")) + "\n" for i in range(5))
    )
    pq.write_table(
        pa.Table.from_pylist([_flat(i, "2026-11-22") for i in range(4)]), root / "dt=2026-11-22" / "p.parquet"
    )
    (root / "dt=2026-11-22" / "_SUCCESS").write_text("")
    (root / "dt=2026-11-22" / "notes.txt").write_text("not a log")
    ing, bad = _ingest([str(root)], tmp_path)
    assert not bad
    rows = ing.new.to_pylist()
    assert len(rows) == 9
    parts = {r["prompt_id"]: json.loads(r["meta"])["partition"] for r in rows}
    assert parts["p2026-11-21-0"] == {"dt": "2026-11-21", "region": "eu"} and parts["p2026-11-22-3"] == {
        "dt": "2026-11-22"
    }
    # one day's folder named directly keeps its dt, as the root above it gives it; so does one file named directly
    ing, _ = _ingest([str(root / "dt=2026-11-21")], tmp_path)
    assert {json.dumps(json.loads(m)["partition"]) for m in ing.new["meta"].to_pylist()} == {
        json.dumps({"dt": "2026-11-21", "region": "eu"})
    }
    ing, _ = _ingest([str(root / "dt=2026-11-22" / "p.parquet")], tmp_path)
    assert {json.loads(m)["partition"]["dt"] for m in ing.new["meta"].to_pylist()} == {"2026-11-22"}
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match="no log files"):
        _ingest([str(empty)], tmp_path)


def test_objects_on_storage_are_read_through_pyarrow_filesystems_and_named_by_uri(tmp_path: Path) -> None:
    """A URI goes through pyarrow's filesystem layer (the one s3:// and gs:// use), here with file://: listed,
    copied locally while read, and every message names the URI, not the copy."""
    bucket = tmp_path / "bucket" / "prompts" / "dt=2026-11-21"
    bucket.mkdir(parents=True)
    lines = [json.dumps(_flat(i, "2026-11-21")) for i in range(3)] + ['{"prompt_id": "broken"']
    (bucket / "part-0.jsonl").write_text("\n".join(lines) + "\n")
    uri = f"file://{tmp_path / 'bucket' / 'prompts'}"
    ing, bad = _ingest([uri], tmp_path)
    assert ing.new.num_rows == 3
    assert json.loads(ing.new.to_pylist()[0]["meta"])["partition"] == {"dt": "2026-11-21"}
    assert [b["file"] for b in bad] == [f"{uri}/dt=2026-11-21/part-0.jsonl"] and bad[0]["line"] == 4
    assert set(ing.new["source_file"].to_pylist()) == {f"{uri}/dt=2026-11-21/part-0.jsonl"}
    with pytest.raises(InputError, match="no such object"):
        _ingest([uri + "/nothing-here"], tmp_path)


def _kv(key: str, value: object) -> dict:
    kind = {str: "stringValue", int: "intValue", bool: "boolValue", float: "doubleValue"}[type(value)]
    return {"key": key, "value": {kind: str(value) if kind == "intValue" else value}}


def test_opentelemetry_genai_spans_each_become_a_prompt(tmp_path: Path) -> None:
    """OTLP JSON export lines (resourceSpans -> scopeSpans -> spans), GenAI semantic conventions: messages as
    parts in gen_ai.input.messages, system instructions and tool definitions as JSON attributes; an older
    instrumentation's one event per message. Spans that record no prompt are passed over; a span the log cannot
    place (no account) is quarantined on its own."""
    messages = [
        {"role": "user", "parts": [{"type": "text", "content": "Weather in Paris?"}]},
        {"role": "assistant", "parts": [{"type": "tool_call", "id": "c1", "name": "get_weather", "arguments": {"city": "Paris"}}]},
        {"role": "tool", "parts": [{"type": "tool_call_response", "id": "c1", "response": {"temp_c": 11}}]},
    ]  # fmt: skip
    chat_span = {
        "traceId": "t1", "spanId": "s1", "name": "chat gpt-x", "startTimeUnixNano": "1763805600000000000",
        "attributes": [
            _kv("gen_ai.operation.name", "chat"), _kv("gen_ai.request.model", "gpt-x"), _kv("enduser.id", "acct_1"),
            _kv("gen_ai.input.messages", json.dumps(messages)),
            _kv("gen_ai.system_instructions", json.dumps([{"type": "text", "content": "You are a weather bot."}])),
            _kv("gen_ai.tool.definitions", json.dumps([{"type": "function", "name": "get_weather", "parameters": {}}])),
        ],
    }  # fmt: skip
    http_span = {"traceId": "t1", "spanId": "s2", "name": "GET /", "attributes": [_kv("http.request.method", "GET")]}
    first_user = {
        "traceId": "t2", "spanId": "s3", "startTimeUnixNano": "1763805660000000000",
        "attributes": [_kv("gen_ai.request.model", "gpt-x"), _kv("app.account", "acct_2")],
        "events": [
            {"name": "gen_ai.system.message", "attributes": [_kv("content", "Be terse.")]},
            {"name": "gen_ai.user.message", "attributes": [_kv("content", "Name a prime.")]},
        ],
    }  # fmt: skip
    orphan = {
        "traceId": "t3", "spanId": "s4", "startTimeUnixNano": "1763805720000000000",
        "attributes": [_kv("gen_ai.input.messages", json.dumps([{"role": "user", "parts": [{"type": "text", "content": "Hi"}]}]))],
    }  # fmt: skip

    def export(*spans: dict) -> dict:
        return {"resourceSpans": [{"resource": {"attributes": [_kv("service.name", "weather-app")]},
                                   "scopeSpans": [{"scope": {"name": "genai"}, "spans": list(spans)}]}]}  # fmt: skip

    lines = [export(chat_span, http_span), export(first_user, orphan)]
    reading = Reading.parse(None, ('account_id=span.attributes["app.account"]',), ())
    rows, bad = _read(tmp_path, lines, reading)
    got = {r["prompt_id"]: r for r in rows}
    assert set(got) == {"s1", "s3"}  # the HTTP span is no prompt; the orphan has no account
    assert got["s1"]["text"] == "[tool get_weather] " + json.dumps({"temp_c": 11})
    assert got["s1"]["account_id"] == "acct_1" and got["s1"]["model"] == "gpt-x"
    assert got["s1"]["timestamp"].isoformat() == "2025-11-22T10:00:00+00:00"
    chat = json.loads(got["s1"]["meta"])["chat"]
    assert chat["tools"] == ["get_weather"] and chat["tool_calls"] == ["get_weather"] and chat["earlier_turns"] == 2
    assert got["s3"]["text"] == "Be terse.\n\nName a prime." and got["s3"]["account_id"] == "acct_2"
    assert [(b["line"], b["field"], b["reason"]) for b in bad] == [(2, "account_id", "missing_account_id")]


def test_an_otel_message_that_reads_as_a_json_number_stays_text(tmp_path: Path) -> None:
    """An event's content is JSON only when it is an object, array or string: a user who sends "42" sent text (it
    was parsed as the number 42 and the message came out empty)."""
    span = {
        "traceId": "t9", "spanId": "s9", "startTimeUnixNano": "1763805600000000000",
        "attributes": [_kv("gen_ai.request.model", "gpt-x"), _kv("enduser.id", "acct_9")],
        "events": [{"name": "gen_ai.user.message", "attributes": [_kv("content", "42")]}],
    }  # fmt: skip
    line = {"resourceSpans": [{"scopeSpans": [{"spans": [span]}]}]}
    rows, bad = _read(tmp_path, [line])
    assert not bad and [r["text"] for r in rows] == ["42"]


def test_two_tools_of_one_name_and_description_still_hash_as_a_set() -> None:
    """Tool definitions are sorted by name, description and the schema's JSON: two of one name and description (a
    client that declares a tool twice) compared their schema objects and raised TypeError."""
    tool = {"name": "run", "description": "Run a command.", "input_schema": {"type": "object"}}
    twice = [tool, {**tool, "input_schema": {"type": "object", "properties": {"cmd": {"type": "string"}}}}]
    _, a = chat_text({"messages": [{"role": "user", "content": "go"}], "tools": twice})
    _, b = chat_text({"messages": [{"role": "user", "content": "go"}], "tools": twice[::-1]})
    assert a["tools"] == ["run", "run"] and a["tools_hash"] == b["tools_hash"]


def test_opentelemetry_client_address_is_the_client_when_it_is_an_address(tmp_path: Path) -> None:
    """``client.address`` becomes the record's ip (and so its network); a host name, which the conventions allow,
    names no network and leaves the span as it is rather than quarantining it as a bad ip."""
    messages = json.dumps([{"role": "user", "parts": [{"type": "text", "content": "Hi"}]}])
    spans = [
        {"traceId": "t1", "spanId": f"s{i}", "startTimeUnixNano": "1763805600000000000",
         "attributes": [_kv("gen_ai.input.messages", messages), _kv("enduser.id", "acct_1"),
                        _kv("client.address", addr)]}
        for i, addr in enumerate(["203.0.113.9", "gateway.internal"])
    ]  # fmt: skip
    line = {"resourceSpans": [{"resource": {}, "scopeSpans": [{"spans": spans}]}]}
    rows, bad = _read(tmp_path, [line])
    assert not bad
    assert {r["prompt_id"]: r["ip_asn"] for r in rows} == {"s0": "net:203.0.113.0/24", "s1": None}


# -- gateway exports ----------------------------------------------------------------------------------------------
#: LiteLLM's StandardLoggingPayload (litellm/types/utils.py) for an agent step, as its callbacks and S3 logger write it
LITELLM_PAYLOAD = {
    "id": "chatcmpl-a1", "trace_id": "tr-1", "call_type": "acompletion", "status": "success",
    "startTime": 1763805600.25, "endTime": 1763805601.5, "model": "gpt-x", "model_group": "gpt-x-public",
    "custom_llm_provider": "openai", "response_cost": 0.0012, "prompt_tokens": 42, "completion_tokens": 7,
    "metadata": {"user_api_key_hash": "88dc0a", "user_api_key_user_id": "u-17", "user_api_key_team_id": "team-a",
                 "user_api_key_org_id": None, "user_api_key_end_user_id": None, "requester_ip_address": "203.0.113.7"},
    "end_user": "", "requester_ip_address": "203.0.113.7, 10.0.0.2", "user_agent": "my-agent/2.1",
    "messages": [
        {"role": "system", "content": "You are a careful coding agent."},
        {"role": "user", "content": "Fix the failing test in utils."},
        {"role": "assistant", "content": None,
         "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "read_file", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": "def add(a, b): return a - b"},
    ],
    "model_parameters": {"temperature": 0.2, "tools": OPENAI_AGENT["body"]["tools"]},
    "response": {"choices": [{"message": {"role": "assistant", "content": "Found it."}}]},
}  # fmt: skip

#: a LiteLLM_SpendLogs row (schema.prisma) exported from the database: JSON columns as strings, the request stored in
#: proxy_server_request (store_prompts_in_spend_logs), an Anthropic body sent to /v1/messages
LITELLM_SPENDLOG = {
    "request_id": "req-b2", "call_type": "anthropic_messages", "api_key": "c0ffee", "spend": 0.004,
    "startTime": "2026-11-22T10:00:00.250Z", "endTime": "2026-11-22T10:00:02Z", "model": "claude-x",
    "model_group": "claude-x", "user": "", "end_user": "cust-9", "team_id": "team-b", "session_id": "s-1",
    "requester_ip_address": "198.51.100.4", "messages": "{}", "response": "{}",
    "metadata": json.dumps({"user_api_key": "c0ffee", "user_api_key_user_id": None, "status": "success"}),
    "proxy_server_request": json.dumps({"model": "claude-x", "max_tokens": 100, "system": "Terse.",
                                        "messages": [{"role": "user", "content": "Name three primes."}]}),
}  # fmt: skip


def test_litellm_logging_payloads_and_spend_logs_read_as_prompts(tmp_path: Path) -> None:
    """Both LiteLLM shapes are detected and read: the key's user is the account (else the end user the request
    named), X-Forwarded-For's first address the client, the system prompt and tools from the logged parameters;
    calls without a prompt (an embedding) are passed over; a chat record without a user turn, one without an
    account and a spend row whose prompt was not stored are quarantined with their field."""
    embedding = {**LITELLM_PAYLOAD, "id": "emb-1", "call_type": "aembedding", "messages": "text to embed"}
    no_turn = {**LITELLM_PAYLOAD, "id": "chatcmpl-c3", "messages": [{"role": "assistant", "content": "prefill"}]}
    no_account = {**LITELLM_PAYLOAD, "id": "chatcmpl-d4", "metadata": {"user_api_key_hash": "88dc0a"}}
    not_stored = {**LITELLM_SPENDLOG, "request_id": "req-e5", "proxy_server_request": "{}"}
    lines = [LITELLM_PAYLOAD, LITELLM_SPENDLOG, embedding, no_turn, no_account, not_stored]
    rows, bad = _read(tmp_path, lines)
    got = {r["prompt_id"]: r for r in rows}
    assert set(got) == {"chatcmpl-a1", "req-b2"}  # the embedding is no prompt: neither read nor quarantined
    a, b = got["chatcmpl-a1"], got["req-b2"]
    assert (a["account_id"], a["model"], a["ip_asn"], a["user_agent"]) == (
        "u-17", "gpt-x", "net:203.0.113.0/24", "my-agent/2.1"
    )  # fmt: skip
    assert a["timestamp"].isoformat() == "2025-11-22T10:00:00+00:00"
    assert a["text"] == "[tool read_file] def add(a, b): return a - b"
    meta = json.loads(a["meta"])
    assert meta["chat"]["tools"] == ["read_file"] and meta["chat"]["earlier_turns"] == 2
    assert (meta["call_type"], meta["team_id"], meta["api_key"], meta["model_group"]) == (
        "acompletion", "team-a", "88dc0a", "gpt-x-public"
    )  # fmt: skip
    # the same agent step through the OpenAI envelope reads to the same chat
    (o,), _ = _read(tmp_path, [OPENAI_AGENT], name="o.jsonl")
    assert json.loads(o["meta"])["chat"] == meta["chat"]
    assert (b["account_id"], b["text"], b["ip_asn"]) == (
        "cust-9",
        "Terse.\n\nName three primes.",
        "net:198.51.100.0/24",
    )
    assert b["timestamp"].isoformat() == "2026-11-22T10:00:00+00:00"
    assert json.loads(b["meta"])["end_user"] == "cust-9"
    assert [(b["line"], b["field"], b["reason"]) for b in bad] == [
        (4, "messages", "no_user_turn"),
        (5, "account_id", "missing_account_id"),
        (6, "messages", "no_messages"),
    ]


def test_litellm_is_detected_from_its_fields_and_forced_by_format(tmp_path: Path) -> None:
    """A logging payload also looks like an OpenAI body (top-level messages): detection takes the gateway first. A
    spend row exported without its call_type is not recognised, and reads once ``--format litellm`` says so."""
    assert detect(LITELLM_PAYLOAD).name == "litellm" and detect(LITELLM_SPENDLOG).name == "litellm"
    bare = {k: v for k, v in LITELLM_SPENDLOG.items() if k != "call_type"}
    assert detect(bare) is None
    rows, bad = _read(tmp_path, [bare], Reading.parse("litellm"))
    assert not bad and [(r["prompt_id"], r["account_id"]) for r in rows] == [("req-b2", "cust-9")]
    # a key without a user: the map names the account
    rows, bad = _read(tmp_path, [{**LITELLM_PAYLOAD, "metadata": {"user_api_key_hash": "88dc0a"}}],
                      Reading.parse(None, ("account_id=metadata.user_api_key_hash",)), name="k.jsonl")  # fmt: skip
    assert not bad and rows[0]["account_id"] == "88dc0a"


#: Langfuse observations (fern commons.yml Observation; the blob export's snake_case columns in
#: packages/shared/src/domain/observation-field-groups.ts); inputs as Langfuse's chat view reads them
LANGFUSE_TRACE = {
    "trace": {"id": "t-1", "userId": "lf-user-3", "sessionId": "sess-1", "timestamp": "2026-11-22T10:00:00.000Z"},
    "observations": [
        {"id": "obs-span", "traceId": "t-1", "type": "SPAN", "name": "agent", "startTime": "2026-11-22T10:00:00.000Z",
         "input": {"question": "Weather in Paris?"}},
        {"id": "obs-gen-1", "traceId": "t-1", "type": "GENERATION", "name": "chat",
         "startTime": "2026-11-22T10:00:01.000Z", "model": "gpt-x", "environment": "production",
         "input": json.dumps([
             {"role": "system", "content": "You are a weather bot."},
             {"role": "user", "content": "Weather in Paris?"},
             {"role": "assistant", "content": "",
              "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}]},
             {"role": "tool", "tool_call_id": "c1", "content": "11 C, cloudy"},
         ]),
         "toolDefinitions": {
             "get_weather": json.dumps({"description": "Weather now.", "parameters": {"type": "object"}})
         },
         "metadata": {"tenant": "acme"}},
        {"id": "obs-event", "traceId": "t-1", "type": "EVENT", "name": "cache-miss",
         "startTime": "2026-11-22T10:00:01.500Z"},
        {"id": "obs-gen-2", "traceId": "t-1", "type": "GENERATION", "startTime": "2026-11-22T10:00:02.000Z",
         "model": "gpt-x", "input": [{"role": "assistant", "content": "Only an assistant prefill."}]},
    ],
}  # fmt: skip


def test_langfuse_generations_are_prompts_and_other_observations_are_passed_over(tmp_path: Path) -> None:
    """A trace export line (trace + observations) gives one prompt per generation with the trace's user; spans and
    events are passed over; a blob-storage row (snake_case, input a JSON string of {messages, tools}) and an API row
    with its trace nested read alike; a generation without a user turn, or whose trace has no user, is quarantined,
    never dropped."""
    blob_row = {
        "id": "obs-gen-3", "trace_id": "t-2", "type": "GENERATION", "start_time": "2026-11-22 10:05:00.250",
        "user_id": "lf-user-4", "session_id": "sess-2", "provided_model_name": "claude-x",
        "input": json.dumps({"messages": [{"role": "user", "content": "Name three primes."}],
                             "tools": [{"name": "calc", "description": "Add.", "input_schema": {"type": "object"}}]}),
        "metadata": {}, "prompt_name": "primes-v2",
    }  # fmt: skip
    parts = [{"type": "text", "content": "Translate 'cat' to French."}]  # GenAI-convention parts, as OTel writes them
    nested = {"id": "obs-gen-4", "traceId": "t-3", "type": "GENERATION", "startTime": "2026-11-22T10:06:00Z",
              "providedModelName": "gpt-x", "trace": {"id": "t-3", "userId": "lf-user-5"},
              "input": [{"role": "user", "parts": parts}]}  # fmt: skip
    orphan = {**nested, "id": "obs-gen-5", "trace": {"id": "t-4"}}
    span_only = {"id": "obs-span-2", "traceId": "t-5", "type": "SPAN", "startTime": "2026-11-22T10:07:00Z"}
    rows, bad = _read(tmp_path, [LANGFUSE_TRACE, blob_row, nested, orphan, span_only])
    got = {r["prompt_id"]: r for r in rows}
    assert set(got) == {"obs-gen-1", "obs-gen-3", "obs-gen-4"}
    g1 = got["obs-gen-1"]
    assert (g1["account_id"], g1["model"], g1["text"]) == ("lf-user-3", "gpt-x", "[tool get_weather] 11 C, cloudy")
    assert g1["timestamp"].isoformat() == "2026-11-22T10:00:01+00:00"
    meta = json.loads(g1["meta"])
    assert meta["chat"]["tools"] == ["get_weather"] and meta["chat"]["system_head"] == "You are a weather bot."
    assert (meta["trace_id"], meta["session_id"], meta["environment"]) == ("t-1", "sess-1", "production")
    g3 = got["obs-gen-3"]
    assert (g3["account_id"], g3["model"], g3["text"]) == ("lf-user-4", "claude-x", "Name three primes.")
    assert g3["timestamp"].isoformat() == "2026-11-22T10:05:00+00:00"
    assert json.loads(g3["meta"])["chat"]["tools"] == ["calc"] and json.loads(g3["meta"])["prompt_name"] == "primes-v2"
    assert (got["obs-gen-4"]["account_id"], got["obs-gen-4"]["text"]) == ("lf-user-5", "Translate 'cat' to French.")
    assert [(b["line"], b["field"], b["reason"]) for b in bad] == [
        (1, "input", "no_user_turn"),
        (4, "account_id", "missing_account_id"),
    ]


def test_langfuse_is_detected_forced_and_mapped(tmp_path: Path) -> None:
    """Detection knows an observation by its type, trace id and start time; an export that left out the trace id
    reads once ``--format langfuse`` says so; ``--map`` addresses the observation with its trace under ``trace``."""
    assert detect(LANGFUSE_TRACE).name == "langfuse" and detect(LANGFUSE_TRACE["observations"][0]).name == "langfuse"
    bare = {"id": "obs-9", "type": "GENERATION", "startTime": "2026-11-22T10:00:00Z", "userId": "u-9",
            "input": "Summarise: the cat sat."}  # fmt: skip
    assert detect(bare) is None
    rows, bad = _read(tmp_path, [bare], Reading.parse("langfuse"))
    assert not bad and [(r["prompt_id"], r["account_id"], r["text"]) for r in rows] == [
        ("obs-9", "u-9", "Summarise: the cat sat.")
    ]
    rows, _ = _read(tmp_path, [LANGFUSE_TRACE], Reading.parse(None, ("account_id=metadata.tenant",)), name="m.jsonl")
    assert [(r["prompt_id"], r["account_id"]) for r in rows] == [("obs-gen-1", "acme")]
    rows, _ = _read(tmp_path, [LANGFUSE_TRACE], Reading.parse(None, ("account_id=trace.sessionId",)), name="t.jsonl")
    assert [(r["prompt_id"], r["account_id"]) for r in rows] == [("obs-gen-1", "sess-1")]


#: Helicone request rows (HeliconeRequest in packages/llm-mapper/types.ts), as @helicone/export --include-body
#: writes them: the provider's own body under request_body
HELICONE_OPENAI = {
    "request_id": "9b2c-01", "request_created_at": "2026-11-22T10:00:00.000Z", "request_path": "/v1/chat/completions",
    "request_user_id": "hc-user-1", "request_model": "gpt-x", "model": "gpt-x", "provider": "OPENAI",
    "request_properties": {"Helicone-Session-Id": "sess-7", "app": "tutor"}, "country_code": "DE",
    "response_status": 200, "response_body": {"choices": [{"message": {"role": "assistant", "content": "4"}}]},
    "request_body": {"model": "gpt-x", "messages": [{"role": "system", "content": "Answer briefly."},
                                                    {"role": "user", "content": "What is 2+2?"}]},
}  # fmt: skip
HELICONE_ANTHROPIC = {
    "request_id": "9b2c-02", "request_created_at": "2026-11-22 10:01:00.000", "request_path": "/v1/messages",
    "request_user_id": None, "request_model": "claude-x", "provider": "ANTHROPIC", "country_code": "US",
    "request_body": {"model": "claude-x", "max_tokens": 100, "system": [{"type": "text", "text": "Terse."}],
                     "metadata": {"user_id": "hc-user-2"},
                     "messages": [{"role": "user", "content": [{"type": "text", "text": "Name three primes."}]}]},
}  # fmt: skip


def test_helicone_request_rows_read_as_prompts(tmp_path: Path) -> None:
    """OpenAI, Anthropic and Responses bodies under request_body read by the one chat parser; the account is the
    Helicone user id, else the body's own user; embeddings and custom events are passed over; a row exported
    without its body, and one with no user anywhere, are quarantined with their field."""
    turn = {"role": "user", "content": [{"type": "input_text", "text": "What is 2+2?"}]}
    responses = {**HELICONE_OPENAI, "request_id": "9b2c-03", "request_path": "/v1/responses",
                 "request_body": {"model": "gpt-x", "instructions": "Answer briefly.", "input": [turn]}}  # fmt: skip
    embedding = {**HELICONE_OPENAI, "request_id": "9b2c-04", "request_path": "/v1/embeddings",
                 "request_body": {"model": "text-embedding-3-small", "input": "a text"}}  # fmt: skip
    tool_event = {**HELICONE_OPENAI, "request_id": "9b2c-05", "request_path": "/custom/v1/log",
                  "request_body": {"_type": "tool", "toolName": "search", "input": {"q": "x"}}}  # fmt: skip
    no_body = {k: v for k, v in HELICONE_OPENAI.items() if k != "request_body"} | {"request_id": "9b2c-06"}
    no_user = {**HELICONE_OPENAI, "request_id": "9b2c-07", "request_user_id": None}
    rows, bad = _read(
        tmp_path, [HELICONE_OPENAI, HELICONE_ANTHROPIC, responses, embedding, tool_event, no_body, no_user]
    )
    got = {r["prompt_id"]: r for r in rows}
    assert set(got) == {"9b2c-01", "9b2c-02", "9b2c-03"}
    h1, h2 = got["9b2c-01"], got["9b2c-02"]
    assert (h1["account_id"], h1["model"], h1["text"]) == ("hc-user-1", "gpt-x", "Answer briefly.\n\nWhat is 2+2?")
    assert h1["timestamp"].isoformat() == "2026-11-22T10:00:00+00:00" and h1["ip_asn"] is None  # Helicone keeps no IP
    meta = json.loads(h1["meta"])
    assert (meta["country_code"], meta["properties"]["app"], meta["request_path"]) == (
        "DE",
        "tutor",
        "/v1/chat/completions",
    )
    assert (h2["account_id"], h2["text"]) == ("hc-user-2", "Terse.\n\nName three primes.")
    assert h2["timestamp"].isoformat() == "2026-11-22T10:01:00+00:00"
    assert got["9b2c-03"]["text"] == h1["text"]  # the Responses body says the same thing
    assert [(b["line"], b["field"], b["reason"]) for b in bad] == [
        (6, "request_body", "no_messages"),
        (7, "account_id", "missing_account_id"),
    ]


def test_helicone_is_detected_and_forced_by_format(tmp_path: Path) -> None:
    """An export that left out ``request_created_at`` is not recognised; forced, it is read, and each row is
    quarantined for the time it lacks rather than the file refused as no log."""
    bare = {k: v for k, v in HELICONE_OPENAI.items() if k != "request_created_at"}
    assert detect(bare) is None
    with pytest.raises(InputError, match="not a prompt log"):
        _read(tmp_path, [bare])
    rows, bad = _read(tmp_path, [bare], Reading.parse("helicone"), name="b.jsonl")
    assert not rows and [(b["line"], b["field"], b["reason"]) for b in bad] == [(1, "timestamp", "missing_timestamp")]
    rows, bad = _read(
        tmp_path, [bare], Reading.parse("helicone", (), ("timestamp=2026-11-22T00:00:00Z",)), name="f.jsonl"
    )
    assert not bad and [(r["prompt_id"], r["account_id"]) for r in rows] == [("9b2c-01", "hc-user-1")]


def test_each_export_is_detected_as_itself() -> None:
    """The gateways' records are told apart from each other and from the chat bodies they carry."""
    records = (LITELLM_PAYLOAD, LANGFUSE_TRACE, HELICONE_OPENAI, OPENAI_AGENT, ANTHROPIC_AGENT)
    assert [detect(r).name for r in records] == ["litellm", "langfuse", "helicone", "openai", "anthropic"]


def test_agent_steps_in_responses_items_and_parts_read_as_tool_results() -> None:
    """Agent frameworks traced into Langfuse record their steps as Responses API items (function_call,
    function_call_output) or as GenAI parts whose tool result an earlier draft of the conventions called
    ``result``: either way the step's text is the newest tool result after the tool's name."""
    items = [
        {"role": "user", "content": "Weather in Tokyo?"},
        {"type": "function_call", "call_id": "c1", "name": "get_weather", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "c1", "output": "Sunny."},
    ]
    parts = [
        {"role": "user", "parts": [{"type": "text", "content": "Weather in Tokyo?"}]},
        {"role": "assistant", "parts": [{"type": "tool_call", "id": "c1", "name": "get_weather", "arguments": {}}]},
        {
            "role": "user",
            "parts": [{"type": "tool_call_response", "id": "c1", "name": "get_weather", "result": "Sunny."}],
        },
    ]
    reader = Reader(Reading.parse("langfuse"))
    for inp in (items, parts):
        obs = {"id": "g", "type": "GENERATION", "startTime": "2026-11-22T10:00:00Z", "userId": "u", "input": inp}
        (flat,) = reader.records(obs)
        assert flat["text"] == "[tool get_weather] Sunny." and flat["chat"]["tool_calls"] == ["get_weather"]

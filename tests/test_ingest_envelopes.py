"""Chat requests as logs come: OpenAI and Anthropic bodies, gateway records, batch files, --map and --fill.

Records follow the shapes of the providers' API references (Chat Completions with tools and tool calls, the Batch
API's ``custom_id``/``body`` lines, Messages with a system field and tool_use/tool_result blocks, Message Batches'
``custom_id``/``params``); the values are this test's own. The benchmark generator's ``--format openai`` and
``--format anthropic`` logs are read against its flat log of the same requests.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pytest

from engine.ingest import InputError, Quarantine, read_prompts
from engine.ingest.envelopes import EnvelopeError, Reader, Reading, chat_text, parse_path

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
        Reading.parse("langfuse")


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


def test_two_tools_of_one_name_and_description_still_hash_as_a_set() -> None:
    """Tool definitions are sorted by name, description and the schema's JSON: two of one name and description (a
    client that declares a tool twice) compared their schema objects and raised TypeError."""
    tool = {"name": "run", "description": "Run a command.", "input_schema": {"type": "object"}}
    twice = [tool, {**tool, "input_schema": {"type": "object", "properties": {"cmd": {"type": "string"}}}}]
    _, a = chat_text({"messages": [{"role": "user", "content": "go"}], "tools": twice})
    _, b = chat_text({"messages": [{"role": "user", "content": "go"}], "tools": twice[::-1]})
    assert a["tools"] == ["run", "run"] and a["tools_hash"] == b["tools_hash"]

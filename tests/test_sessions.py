"""Conversations and agent sessions put back together for the prompt page (``engine.app.sessions``): unit tests of
the grouping, then one small chat log run end to end and read through the view, the page and privacy mode."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

from engine.app import sessions, web
from engine.app.redact import REDACTED, RedactedState, Redactor
from engine.app.views import State
from engine.store import Store

T0 = datetime(2026, 11, 21, 9, 0, tzinfo=timezone.utc)


def _row(pid: str, minutes: float, turns: int, *, system: str | None = "s1", tools: str | None = "t1") -> dict:
    chat = {"kind": "tool_result" if turns else "user", "earlier_turns": turns, "system_hash": system,
            "tools_hash": tools}  # fmt: skip
    return {"prompt_id": pid, "timestamp": T0 + timedelta(minutes=minutes), "text": f"text of {pid}",
            "meta": json.dumps({"chat": chat})}  # fmt: skip


def test_a_session_is_the_steps_that_resend_more_turns_without_a_long_pause() -> None:
    rows = [
        _row("a1", 0, 0), _row("a2", 1, 2), _row("x", 1.5, 0, tools="other"), _row("a3", 3, 4),
        _row("b1", 5, 0), _row("b2", 6, 2),  # a new task: it resends nothing of the one before
        _row("c1", 200, 4),  # the same tools hours later: a pause ends a session
    ]  # fmt: skip
    steps = sessions.session_of(list(reversed(rows)), "a2")
    assert [s["prompt_id"] for s in steps] == ["a1", "a2", "a3"]
    assert [s["step"] for s in steps] == [1, 2, 3] and [s["this"] for s in steps] == [False, True, False]
    assert steps[0]["timestamp"] == "2026-11-21T09:00:00Z" and steps[1]["kind"] == "tool_result"
    assert [s["prompt_id"] for s in sessions.session_of(rows, "b1")] == ["b1", "b2"]
    assert [s["prompt_id"] for s in sessions.session_of(rows, "c1")] == ["c1"]  # resent turns: still shown
    assert sessions.session_of(rows, "x") == []  # one request, nothing before it: no conversation
    assert sessions.session_of(rows, "nope") == []


def test_an_accounts_requests_fall_into_sessions_newest_first() -> None:
    rows = [
        _row("a1", 0, 0), _row("a2", 1, 2), _row("x", 1.5, 0, tools="other"), _row("a3", 3, 4),
        _row("b1", 5, 0), _row("b2", 6, 2), _row("c1", 200, 4),
        {"prompt_id": "flat", "timestamp": T0, "text": "a flat prompt", "meta": None},
    ]  # fmt: skip
    found = sessions.sessions_in(list(reversed(rows)))
    assert [[s["prompt_id"] for s in se["steps"]] for se in found] == [["c1"], ["b1", "b2"], ["a1", "a2", "a3"]]
    assert found[1]["start"] == "2026-11-21T09:05:00Z" and found[1]["end"] == "2026-11-21T09:06:00Z"
    assert [s["step"] for s in found[2]["steps"]] == [1, 2, 3] and found[2]["more_steps"] == 0
    assert [se["steps"][0]["prompt_id"] for se in sessions.sessions_in(rows, limit=2)] == ["c1", "b1"]
    assert sessions.sessions_in([rows[2], rows[-1]]) == []  # lone requests are no session


def test_a_long_session_lists_the_steps_nearest_the_one_shown_with_their_numbers() -> None:
    rows = [_row(f"s{i}", i * 0.5, 2 * i) for i in range(150)]
    steps = sessions.session_of(rows, "s100")
    assert len(steps) == sessions.MAX_STEPS
    assert steps[0]["step"] == 100 - sessions.MAX_STEPS // 2 + 1 and steps[0]["prompt_id"] == "s70"
    assert next(s for s in steps if s["this"])["step"] == 101


def test_chat_parts_are_read_from_meta_and_a_flat_prompt_has_none() -> None:
    assert sessions.chat_of('{"chat": {"kind": "user"}}') == {"kind": "user"}
    assert sessions.chat_of({"chat": {"kind": "user"}}) == {"kind": "user"}
    assert sessions.chat_of('{"api_key_id": "k"}') is None
    assert sessions.chat_of("not json") is None and sessions.chat_of(None) is None


HOSTILE_SYSTEM = "<script>alert('system')</script> You are the build agent."


TOPICS = ["How do I bake sourdough bread at home", "What is the capital of Mongolia", "Suggest a name for my cat",
          "How long should I boil an egg", "Explain how tides work", "Write a haiku about autumn rain"]  # fmt: skip


def _agent_log(path: Path) -> None:
    """Six accounts, each two agent sessions of four steps (system prompt, tools, tool calls and results), and
    twelve ordinary users asking three plain questions each."""
    tools = [{"type": "function", "function": {"name": n, "description": f"{n} a file",
                                               "parameters": {"type": "object", "properties": {"path": {"type": "string"}}}}}
             for n in ("read_file", "run_tests")]  # fmt: skip
    lines, t = [], 1763715600
    for a in range(6):
        for task in range(2):
            msgs: list[dict] = [{"role": "system", "content": HOSTILE_SYSTEM},
                                {"role": "user", "content": f"Fix failing test number {a * 10 + task} in module m{a}."}]  # fmt: skip
            for step in range(4):
                t += 40
                lines.append({"request_id": f"r{a}-{task}-{step}", "created": t, "account_id": f"acct_{a}",
                              "body": {"model": "m-1", "messages": list(msgs), "tools": tools}})  # fmt: skip
                call = f"call_{a}_{task}_{step}"
                name = ("read_file", "run_tests")[step % 2]
                msgs += [{"role": "assistant", "content": None, "tool_calls": [
                             {"id": call, "type": "function", "function": {"name": name, "arguments": '{"path": "m.py"}'}}]},
                         {"role": "tool", "tool_call_id": call, "content": f"output {a}-{task}-{step}: 3 passed, 1 failed"}]  # fmt: skip
            t += 3600  # the next task an hour later
    for a in range(12):  # ordinary users beside them: plain questions, no system prompt, no tools
        for q in range(3):
            t += 500
            lines.append({"request_id": f"u{a}-{q}", "created": t, "account_id": f"user_{a}", "body": {
                "model": "m-1", "messages": [{"role": "user", "content": f"{TOPICS[(a + q) % len(TOPICS)]} {a} {q}?"}]}})  # fmt: skip
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))


def test_a_chat_log_shows_each_request_as_a_step_of_its_session(tmp_path: Path) -> None:
    from engine.app.cli import main

    log, store = tmp_path / "agents.jsonl", tmp_path / "store"
    _agent_log(log)
    assert main(["run", "--input", str(log), "--store", str(store), "--quiet"]) == 0
    state = State.open(Store(store).require())
    p = state.prompt("r3-1-2")
    assert p["request"]["kind"] == "tool_result" and p["request"]["earlier_turns"] == 4
    assert p["request"]["tools"] == ["read_file", "run_tests"] and p["request"]["system_head"] == HOSTILE_SYSTEM
    assert [s["prompt_id"] for s in p["session"]] == [f"r3-1-{i}" for i in range(4)]
    assert p["session"][2]["this"] and p["session"][0]["text"].startswith(HOSTILE_SYSTEM)
    assert state.prompt("r3-0-0")["session"][0]["prompt_id"] == "r3-0-0"  # the first step opens its session

    page = web.prompt_page(state, "r3-1-2")
    assert "Agent session" in page and "read_file, run_tests" in page and "r3-1-3" in page
    assert "<script>alert" not in page and "&lt;script&gt;alert" in page

    hidden = RedactedState(state, Redactor(state.tables, "redaction-key-1")).prompt("r3-1-2")
    assert hidden["request"]["system_head"] == REDACTED and hidden["meta"] == REDACTED
    assert all(s["text"] == REDACTED and s["prompt_id"].startswith("h") for s in hidden["session"])

    # the account page lists its sessions as turns, newest first
    acc = state.account("acct_3")
    assert [[s["prompt_id"] for s in se["steps"]] for se in acc["sessions"]] == [
        [f"r3-1-{i}" for i in range(4)],
        [f"r3-0-{i}" for i in range(4)],
    ]
    assert acc["sessions"][0]["kind"] == "agent session" and acc["sessions"][0]["tools"] == ["read_file", "run_tests"]
    page = web.account_page(state, "acct_3")
    assert "Sessions" in page and "r3-0-3" in page and "<script>alert" not in page
    hidden_acc = RedactedState(state, Redactor(state.tables, "redaction-key-1")).account(acc["account_id"])
    assert all(s["text"] == REDACTED for se in hidden_acc["sessions"] for s in se["steps"])

    # the six accounts share one tool-schema set: their cohort's page names it, with their sessions
    cohort = acc["cohort_id"]
    assert cohort, "one system prompt and one tool set link the six accounts"
    c = state.campaign(cohort)
    assert c["tool_sets"] == [
        {
            "tools_hash": p["request"]["tools_hash"],
            "tools": ["read_file", "run_tests"],
            "accounts": 6,
            "log_accounts": 6,
        }
    ]
    assert len(c["sessions"]) == 3 and all(len(se["steps"]) == 4 for se in c["sessions"])
    page = web.campaign_page(state, cohort)
    assert "Tool-schema sets" in page and "read_file, run_tests" in page and "<script>alert" not in page


def test_a_flat_log_has_no_sessions_to_look_for(tmp_path: Path) -> None:
    from engine.app.cli import main

    log, store = tmp_path / "flat.jsonl", tmp_path / "store"
    log.write_text("".join(json.dumps({"prompt_id": f"p{i}", "account_id": f"a{i % 3}", "timestamp": 1763715600 + i,
                                       "text": f"question number {i}"}) + "\n" for i in range(30)))  # fmt: skip
    assert main(["run", "--input", str(log), "--store", str(store), "--quiet"]) == 0
    state = State.open(Store(store).require())
    assert not state.chat and state.account("a1")["sessions"] == []

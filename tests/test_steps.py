"""The nightly steps run alone: each is a plain function of the results before it, with no store behind it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.detect.settings import DetectSettings
from engine.executor import InjectedFailure, LocalExecutor
from engine.pipeline import steps
from engine.pipeline.config import RunConfig
from engine.pipeline.previous import Previous
from tests.conftest import read_jsonl


@pytest.fixture(scope="module")
def ran(demo_log: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Every step once, in order, on the demo log, with no previous night and no store (a temp cache dir only)."""
    work = tmp_path_factory.mktemp("steps")
    prev = Previous()
    out: dict = {"prev": prev}
    out["ing"] = steps.ingest([demo_log["prompts"]], demo_log["accounts"], prev, work / "quarantine.jsonl")
    out["texts"] = steps.normalize_texts(out["ing"], prev, window_days=7.0)
    out["tmpl"] = steps.templates(out["texts"])
    out["sig"] = steps.minhash(out["texts"], out["tmpl"], prev)
    out["emb"] = steps.embed(out["texts"], out["tmpl"], "static", None, work, show_progress=False)
    out["idx"] = steps.index(out["texts"], out["emb"], prev)
    out["cl"] = steps.cluster_texts(out["texts"], out["tmpl"], out["emb"], out["idx"], knn=16, min_size=10)
    cfg = RunConfig(inputs=[demo_log["prompts"]], detect=DetectSettings())
    out["det"] = steps.detect_campaigns(
        out["texts"], out["tmpl"], out["sig"], out["emb"], out["cl"], prev, cfg, "r-test"
    )
    return out


def test_each_step_hands_the_next_what_it_needs(ran: dict) -> None:
    ing, texts, tmpl, sig, emb, idx, cl = (ran[k] for k in ("ing", "texts", "tmpl", "sig", "emb", "idx", "cl"))
    assert ing.accepted > 1000 and ing.quarantined == 0 and ing.new is None  # consumed by normalize
    n_texts = len(texts.keys)
    assert texts.window.num_rows == ing.accepted and texts.text_row.max() == n_texts - 1
    assert len(texts.norm) == len(texts.skeleton) == n_texts
    assert len(tmpl.account_codes) == texts.window.num_rows and len(tmpl.templated) > 0
    assert sig.signatures.shape == (n_texts, 128) and len(sig.dup_group) == len(sig.payload_group) == n_texts
    assert emb.vectors.shape[0] == n_texts and np.allclose(np.linalg.norm(emb.vectors, axis=1), 1, atol=1e-3)
    assert idx.grown_by is None and idx.index.size == n_texts  # no previous night: built anew
    assert len(cl.result.labels) == n_texts and cl.table.num_rows == cl.result.n_clusters > 0


def test_detect_step_flags_the_planted_campaigns_without_a_store(ran: dict) -> None:
    det = ran["det"]
    assert det.campaigns == 2  # the demo plants two campaigns
    flagged = det.verdicts.accounts.filter(det.verdicts.accounts["flagged"])
    assert flagged.num_rows == det.flagged_accounts > 0
    # tracked from an empty history: every flagged campaign is new tonight
    assert {e["event"] for e in det.tracking.events.to_pylist()} == {"new"}


def test_the_executor_times_each_step_and_fails_where_told() -> None:
    ex = LocalExecutor(quiet=True, fail_after="second")
    assert ex.step("first", lambda x: x + 1, 1) == 2
    with pytest.raises(InjectedFailure):
        ex.step("second", lambda: None)
    assert set(ex.timings) == {"first", "second"} and all(v >= 0 for v in ex.peak_rss_mb.values())


def test_masks_in_worker_processes_are_the_ones_computed_here(monkeypatch) -> None:
    """On a large table a local executor masks the texts in one worker process per core
    (``engine.executor.PROCESS_MIN_ROWS``, lowered here), in smaller slices than asked: the same skeletons, in order,
    as one batch in this process."""
    import pyarrow as pa

    import engine.executor as executor
    from engine.text.normalize import MaskBatches

    rng = np.random.default_rng(3)
    words = ["explain", "the", "tax", "form", "step by step", "def f(x):", "return 2 ** 10", "bonjour", "le chat",
             "https://example.com/a?b=1", "mail me at a@b.co", "推理过程", "42", "3.14", "```py\nprint(1)\n```"]  # fmt: skip
    texts = [" ".join(rng.choice(words, size=int(rng.integers(1, 30)))) for _ in range(3000)]
    table = pa.table({"norm": pa.array(texts)})
    ex = LocalExecutor(quiet=True, workers=2)
    here = ex.map_batches_actor(MaskBatches, table, batch_size=4096)
    monkeypatch.setattr(executor, "PROCESS_MIN_ROWS", 1000)
    assert ex._processes(MaskBatches, table.num_rows, None) == 2
    assert ex.map_batches_actor(MaskBatches, table, batch_size=4096).equals(here) and here.num_rows == 3000
    assert "<URL>" in " ".join(here["skeleton"].to_pylist())


def _request(rid: str, account: str, t: int, user: str, system: str | None = None) -> dict:
    messages = ([{"role": "system", "content": system}] if system else []) + [{"role": "user", "content": user}]
    return {"request_id": rid, "created": t, "account_id": account, "body": {"model": "m", "messages": messages}}


def test_a_chat_turn_is_embedded_alone_and_once(tmp_path: Path) -> None:
    """A request under a system prompt is embedded as its newest turn: the same question under a long system
    prompt and with none is one vector, embedded once, and it is the question's own vector."""
    import json

    from engine.embed import get_embedder

    tutor = "You are TutorBot, a patient tutor for secondary school pupils. Never give the answer away at once. " * 3
    agent = "You are a coding agent for a large company; follow the style guide and run the tests before you stop."
    question = "How do the tides work, and why are there two a day?"
    log = tmp_path / "requests.jsonl"
    rows = [
        _request("r1", "a1", 1795100000, question, tutor),
        _request("r2", "a2", 1795100100, question),
        _request("r3", "a1", 1795100200, "Explain photosynthesis to a ten year old.", tutor),
        _request("r4", "a3", 1795100300, "Rename the helper in utils.py and update its callers.", agent),
    ]
    log.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    prev = Previous()
    ing = steps.ingest([log], None, prev, tmp_path / "quarantine.jsonl")
    texts = steps.normalize_texts(ing, prev, window_days=7.0)
    assert len(texts.keys) == 4 and len(texts.turn_rows) == 3  # three texts hold a system prompt
    tmpl = steps.templates(texts)
    assert not len(tmpl.templated)  # nothing here is shared by enough accounts to be a wrapper
    emb = steps.embed(texts, tmpl, "static", None, tmp_path, show_progress=False)
    assert emb.new == 3  # the three turns; the system prompts are not embedded
    row = {pid: int(texts.text_row[i]) for i, pid in enumerate(texts.window["prompt_id"].to_pylist())}
    v = emb.vectors
    assert np.array_equal(v[row["r1"]], v[row["r2"]]) and emb.keys[row["r1"]] == texts.keys[row["r2"]]
    own = get_embedder("static", None).encode([question, rows[3]["body"]["messages"][1]["content"]])
    assert float(v[row["r1"]] @ own[0]) > 0.999 and float(v[row["r4"]] @ own[1]) > 0.999


def test_a_system_prompt_mined_as_a_wrapper_costs_no_second_vector(tmp_path: Path) -> None:
    """Many accounts under one system prompt: it is mined as their wrapper, and each payload (the turn, its line
    breaks joined) is served by the turn's own vector rather than embedded again."""
    import json

    system = "You are DevHelper. Read the repository before you change it, and explain each change in one line."
    tasks = [
        "Add a retry to the HTTP client.\nIt should back off exponentially.",
        "Write unit tests for the date parser.\nCover leap years.",
        "Fix the off-by-one error in the pagination helper.",
        "Port the build script from make to nox.\nKeep the same targets.",
        "Document the public functions of the config module.",
        "Replace the deprecated logging calls.\nUse the module logger.",
    ]
    log = tmp_path / "requests.jsonl"
    rows = [_request(f"r{i}", f"a{i}", 1795100000 + 60 * i, t, system) for i, t in enumerate(tasks)]
    log.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    prev = Previous()
    texts = steps.normalize_texts(steps.ingest([log], None, prev, tmp_path / "q.jsonl"), prev, window_days=7.0)
    tmpl = steps.templates(texts)
    assert len(tmpl.templated) == len(tasks)  # the system prompt is their shared wrapper
    emb = steps.embed(texts, tmpl, "static", None, tmp_path, show_progress=False)
    assert emb.new == len(tasks) and not len(emb.payload_vectors.rows)
    assert np.array_equal(emb.payload_vectors.full(), emb.vectors)


def test_a_turn_with_a_wrapper_of_its_own_is_embedded_once_as_its_question(tmp_path: Path) -> None:
    """An agent harness that puts "Task:" and a closing line in every turn, under its system prompt: the turn is
    embedded without them, and that one vector is the payload's too (no second vector per task)."""
    import json

    system = "You are DevHelper. Read the repository before you change it, and explain each change in one line."
    tasks = [
        "Add a retry to the HTTP client.",
        "Write unit tests for the date parser.",
        "Fix the off-by-one error in the pagination helper.",
        "Port the build script from make to nox.",
        "Document the public functions of the config module.",
        "Replace the deprecated logging calls.",
    ]
    wrap = "Task: {}\nReply with a patch only."
    log = tmp_path / "requests.jsonl"
    rows = [_request(f"r{i}", f"a{i % 3}", 1795100000 + 60 * i, wrap.format(t), system) for i, t in enumerate(tasks)]
    log.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    prev = Previous()
    texts = steps.normalize_texts(steps.ingest([log], None, prev, tmp_path / "q.jsonl"), prev, window_days=7.0)
    tmpl = steps.templates(texts)
    assert len(tmpl.templated) == len(tasks)
    inputs, _ = texts.embed_inputs(tmpl.result.segments)
    assert sorted(i.lower() for i in inputs) == sorted(t.lower() for t in tasks)  # "task:" and the closing line gone
    emb = steps.embed(texts, tmpl, "static", None, tmp_path, show_progress=False)
    assert emb.new == len(tasks) and not len(emb.payload_vectors.rows)


def test_requests_under_one_very_long_system_prompt_stay_apart(tmp_path: Path) -> None:
    import json

    system = "You are an agent. Obey every rule of the workspace handbook before acting. " * 400  # ~30k characters
    turns = ["Fix the flaky login test.", "Write the release notes for 2.1."]
    log = tmp_path / "requests.jsonl"
    log.write_text(
        "".join(json.dumps(_request(f"r{i}", f"a{i}", 1795100000 + i, t, system)) + "\n" for i, t in enumerate(turns)),
        encoding="utf-8",
    )
    prev = Previous()
    texts = steps.normalize_texts(steps.ingest([log], None, prev, tmp_path / "q.jsonl"), prev, window_days=7.0)
    assert len(texts.keys) == 2 and sorted(texts.turn_norm) == sorted(turns)
    emb = steps.embed(texts, steps.templates(texts), "static", None, tmp_path, show_progress=False)
    assert float(emb.vectors[0] @ emb.vectors[1]) < 0.9


def test_earlier_activity_is_what_the_store_holds_from_before_the_window() -> None:
    import pyarrow as pa

    from engine.ingest.records import TIMESTAMP_TYPE

    day = 86_400
    rows = [("a", 1 * day), ("c", 3 * day), ("a", 5 * day), ("a", 50 * day), ("d", 51 * day)]
    prompts = pa.table(
        {
            "account_id": [r[0] for r in rows],
            "timestamp": pa.array([r[1] for r in rows], pa.int64()).cast(TIMESTAMP_TYPE),
        }
    )
    window = prompts.slice(3)  # the last two: accounts a and d
    got = steps._earlier_activity(prompts, window, ["a", "d"])
    assert got["history_start"] == 1 * day
    assert got["earlier"][0] == 5 * day and np.isnan(got["earlier"][1])
    assert steps._earlier_activity(window, window, ["a", "d"]) == {}  # a first night: nothing before the window


def test_a_night_over_a_stored_history_tells_detection_when_each_account_was_last_seen(
    demo_log: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The demo's flat rows, with a few of its accounts' requests also sent 40 days earlier: the night's window is
    its last week, and detection is told each account's latest request before it (the sleepers statistic)."""
    import json
    from datetime import datetime, timedelta

    from engine.pipeline import run

    rows = read_jsonl(demo_log["prompts"])
    early = sorted({r["account_id"] for r in rows})[:5]

    def shifted(r: dict) -> dict:
        t = datetime.fromisoformat(r["timestamp"].replace("Z", "+00:00")) - timedelta(days=40)
        return dict(r, prompt_id="old-" + r["prompt_id"], timestamp=t.isoformat())

    old = [shifted(r) for r in rows if r["account_id"] in early]
    log = tmp_path / "prompts.jsonl"
    log.write_text("".join(json.dumps(r) + "\n" for r in old + rows), encoding="utf-8")
    seen: dict = {}
    inner = steps.detect

    def keep(ctx, s, **kw):  # noqa: ANN001, ANN202
        seen["ctx"] = ctx
        return inner(ctx, s, **kw)

    monkeypatch.setattr(steps, "detect", keep)
    run(RunConfig(inputs=[log], accounts=demo_log["accounts"], store=tmp_path / "store", quiet=True))
    ctx = seen["ctx"]
    names = list(ctx.account_names)
    assert ctx.earlier is not None and len(ctx.earlier) == len(names)
    last_old = {a: max(r["timestamp"] for r in old if r["account_id"] == a) for a in early}
    for a in early:
        assert ctx.earlier[names.index(a)] == datetime.fromisoformat(last_old[a]).timestamp()
    assert np.isnan(np.delete(ctx.earlier, [names.index(a) for a in early])).all()
    assert ctx.history_start == datetime.fromisoformat(min(r["timestamp"] for r in old)).timestamp()

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

"""kill -9: real ``promptsim run`` processes SIGKILLed at random points leave the store as it was, unlocked, and a
rerun gives the uninterrupted verdicts. A short run of ``scripts/bench_crash.py`` (which holds the logic and runs
24 trials): 2 trials on a fresh store, 2 on a store holding a previous night, one of them aimed at the commit
(each trial is four CLI processes of ~3 s of imports each: 4 trials keep the test near a minute and a half)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import ROOT


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_crash", ROOT / "scripts" / "bench_crash.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses resolve their annotations through sys.modules
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return _bench()


@pytest.mark.slow
def test_kill9_leaves_state_lock_and_verdicts_intact(bench: ModuleType, tmp_path: Path) -> None:
    lines: list[str] = []
    fx = bench.prepare(tmp_path, scale=0.3, say=lines.append)
    results = bench.run_suite(fx, trials=4, seed=0, say=lines.append)
    report = "\n".join([*lines, bench.summary(results, 0, 0.0)])
    assert len(results) == 4 and {t.case for t in results} == {"fresh", "previous"}, report
    assert any(t.mode == "aimed:commit" for t in results), report  # seed 0 aims one kill inside the commit
    # every kill landed while the run was running, in the stage it was meant for: a trial whose run had already
    # finished (or committed) would test nothing
    stages = {s for s, _ in fx.cases["fresh"].stages}
    for t in results:
        assert t.killed, f"the kill came after the run ended: {t.line()}\n{report}"
        assert t.stage in stages or t.stage.startswith("startup"), f"killed outside the run's stages: {t.line()}"
        if t.target is not None:
            assert t.stage in (t.target, f"startup/{t.target}"), (
                f"aimed at {t.target}, landed in {t.stage}: {t.line()}\n{report}"
            )
    assert all(t.ok for t in results), report


def test_stage_at_kill_reads_the_markers(bench: ModuleType) -> None:
    stages = ["ingest", "normalize", "commit"]
    assert bench.stage_at_kill(stages, [], []) == "startup/ingest"
    assert bench.stage_at_kill(stages, [("ingest", 1.0)], ["[ingest] 0.1s, peak RSS 1 MB"]) == "normalize"
    assert bench.stage_at_kill(stages, [("ingest", 1.0), ("normalize", 1.1)], []) == "commit"
    assert bench.stage_at_kill(stages, [("commit", 2.0)], ["run r1: accepted 3 prompts"]) == "after-commit"
    assert bench.MARKER.match("[embed] 1.3s, peak RSS 324 MB").group(1) == "embed"
    assert not bench.MARKER.match("  [embed] is not a marker")


def test_verdicts_compare_grouping_not_campaign_ids(bench: ModuleType) -> None:
    header = '"account_id","score","campaign_id","flagged"\n'
    a = bench.verdicts({"accounts.csv": (header + '"x",0.9,"C1",true\n"y",0.9,"C1",true\n"z",0.1,"",false\n').encode()})
    b = bench.verdicts({"accounts.csv": (header + '"z",0.1,"",false\n"x",0.9,"C9",true\n"y",0.9,"C9",true\n').encode()})
    c = bench.verdicts({"accounts.csv": (header + '"x",0.9,"C1",true\n"y",0.9,"C2",true\n"z",0.1,"",false\n').encode()})
    assert not a.differences(b)
    assert any("grouping" in d for d in c.differences(a))

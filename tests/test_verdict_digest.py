"""The verdict digest (scripts/verdict_digest.py): the exact verdicts of scripts/configs/digest.json, pinned.

A change that moves any verdict of this log (an engine change, an upgraded library, a rebuilt model) fails here
until ``python scripts/verdict_digest.py --update`` records the new verdicts in the same commit, whose message says
why they moved. The pinned environment (constraints.txt) and the static model's digest make the verdicts the same
on every machine of this kind, so this test is what notices when they are not.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT


def _script():
    spec = importlib.util.spec_from_file_location("verdict_digest", ROOT / "scripts" / "verdict_digest.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def test_verdict_lines_say_grouping_not_ids() -> None:
    vd = _script()
    a = [{"account_id": "x", "flagged": True, "campaign_id": "C1", "score": 0.91234},
         {"account_id": "y", "flagged": True, "campaign_id": "C1", "score": 0.9},
         {"account_id": "z", "flagged": False, "campaign_id": "", "score": 0.1}]  # fmt: skip
    b = [dict(r, campaign_id="C9" if r["campaign_id"] else "") for r in a]
    c = [dict(a[0]), dict(a[1], campaign_id="C2"), dict(a[2])]
    assert vd.digest_of(a)["digest"] == vd.digest_of(b)["digest"]  # campaign ids renamed: same grouping
    assert vd.digest_of(a)["digest"] != vd.digest_of(c)["digest"]  # one account moved to another campaign
    assert vd.digest_of(a)["digest"] != vd.digest_of([dict(a[0], score=0.9124), a[1], a[2]])["digest"]
    assert vd.verdict_lines(a)[0] == "x,1,x,0.9123"


def test_a_failure_says_whether_the_engine_or_the_log_moved(tmp_path: Path) -> None:
    """The digest log comes from ../shared, which can change under the project: a failure says which one moved."""
    vd = _script()
    for name, text in (("prompts.jsonl", '{"prompt_id": "p1"}\n'), ("accounts.jsonl", '{"account_id": "a"}\n')):
        (tmp_path / name).write_text(text)
    log = vd.log_fingerprint(tmp_path)
    assert len(log) == 64
    (tmp_path / "accounts.jsonl").write_text('{"account_id": "b"}\n')
    assert vd.log_fingerprint(tmp_path) != log
    want = {"digest": "d1", "log": log, "flagged": 2}
    engine = {"digest": "d2", "log": log, "flagged": 1}
    msg = vd.explain(vd.differences(engine, want), engine, want)
    assert msg.startswith("the verdicts of scripts/configs/digest.json moved on the same log")
    assert "flagged: expected 2, got 1" in msg
    shared = {"digest": "d2", "log": "other", "flagged": 1}
    msg = vd.explain(vd.differences(shared, want), shared, want)
    assert msg.startswith("the digest log regenerates differently") and "log: expected" in msg


@pytest.mark.slow
def test_verdicts_of_the_digest_log_are_the_pinned_ones(shared_dir: Path, tmp_path: Path) -> None:
    vd = _script()
    want = json.loads(vd.EXPECTED.read_text())
    got = vd.measure(tmp_path)
    diffs = vd.differences(got, want)
    assert not diffs, vd.explain(diffs, got, want)

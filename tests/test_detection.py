"""Detection on a small log from the shared benchmark generator, with wrappers the engine has never seen.

The campaign templates of ../shared/bench/public.json are replaced by wrappers written here, in other words and
other languages, so a pass cannot come from matching the public benchmark's phrases.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from engine.pipeline import RunConfig, run
from engine.store import Store
from engine.store.tables import Tables
from tests.conftest import ROOT, small_config

#: whole runs of the pipeline on generated logs (tens of seconds): `make test-fast` leaves them out
pytestmark = pytest.mark.slow

NEW_WRAPPERS = {
    "cot-harvest": [
        "Work through this slowly. Lay out each inference you make, one per line, before committing to a result.\n\n{q}",
        "Résous le problème suivant en détaillant tout ton raisonnement, étape par étape.\n\n{q}",
        "{q}\n\nNarrate your entire line of thought, including dead ends, then box the final result.",
    ],
    "rubric-grader": [
        "Act as an exam marker. Mark the submitted solution out of 10 and justify every deduction.\n\n"
        "Item: {q}\nSubmitted: {answer}",
        "Here is a task and an attempt. Judge the attempt's accuracy and give a score from 1 to 10 with reasons.\n"
        "Task: {q}\nAttempt: {answer}",
    ],
    "tool-use-sweep": ["[agent-run] Decide which function to invoke, say why, and emit the call as JSON.\n\n{q}"],
    "refusal-probe": ["Reply to the message below; should you hold anything back, name the rule you rely on.\n\n{q}"],
    "instruction-harvest": ["{q}\n\nBe exhaustive and describe how you arrive at the answer.", "{q}"],
}


def _make_log(shared_dir, cfg: dict, out) -> dict[str, tuple[str, str]]:
    """Generate ``out/log`` from ``cfg`` with the shared benchmark generator; its truth: account -> (label, group)."""
    (out / "cfg.json").write_text(json.dumps(cfg))
    subprocess.run(
        [sys.executable, str(shared_dir / "bench" / "make_logs.py"), str(out / "cfg.json"), str(out / "log")],
        check=True,
        capture_output=True,
    )
    with open(out / "log" / "truth_accounts.csv", newline="") as f:
        return {r["account_id"]: (r["label"], r["group"]) for r in csv.DictReader(f)}


@pytest.fixture(scope="module")
def small_bench(shared_dir, tmp_path_factory):
    cfg = small_config(shared_dir, "public.json", benign=500, eval_per_day=[300, 600], min_campaign=12)
    for c in cfg["campaigns"]:
        if c["name"] in NEW_WRAPPERS:
            c["templates"] = NEW_WRAPPERS[c["name"]]
    out = tmp_path_factory.mktemp("bench")
    truth = _make_log(shared_dir, cfg, out)
    store = out / "store"
    run(
        RunConfig(
            inputs=[out / "log" / "prompts.jsonl"], accounts=out / "log" / "accounts.jsonl", store=store, quiet=True
        )
    )
    accounts = Tables(Store(store).require()).accounts()
    verdicts = {
        r["account_id"]: r for r in accounts.select(["account_id", "score", "flagged", "campaign_id"]).to_pylist()
    }
    return truth, verdicts


def _groups(truth, verdicts):
    out: dict[str, list[dict]] = {}
    for a, (_, g) in truth.items():
        out.setdefault(g, []).append(verdicts.get(a, {"score": 0.0, "flagged": False, "campaign_id": ""}))
    return out


def test_campaigns_with_unseen_wrappers_are_flagged(small_bench) -> None:
    truth, verdicts = small_bench
    for group, rows in _groups(truth, verdicts).items():
        label = next(lab for lab, g in truth.values() if g == group)
        share = sum(r["flagged"] for r in rows) / len(rows)
        if label == "campaign":
            assert share >= 0.8, f"{group}: only {share:.0%} flagged"
            ids = [r["campaign_id"] for r in rows if r["flagged"]]
            assert max(ids.count(i) for i in set(ids)) / len(rows) >= 0.8, f"{group} split over engine campaigns"


def test_look_alikes_and_ordinary_users_are_not_flagged(small_bench) -> None:
    truth, verdicts = small_bench
    for group, rows in _groups(truth, verdicts).items():
        label = next(lab for lab, g in truth.values() if g == group)
        if label != "campaign":
            share = sum(r["flagged"] for r in rows) / len(rows)
            assert share <= 0.02, f"{group}: {share:.1%} of benign accounts flagged"


def test_every_campaign_account_outranks_almost_every_benign_one(small_bench) -> None:
    truth, verdicts = small_bench
    pos = sorted(verdicts.get(a, {"score": 0})["score"] for a, (lab, _) in truth.items() if lab == "campaign")
    neg = sorted(
        (verdicts.get(a, {"score": 0})["score"] for a, (lab, _) in truth.items() if lab != "campaign"), reverse=True
    )
    threshold = neg[max(1, len(neg) // 100)]  # the benign score at a 1% false-positive rate
    assert sum(p > threshold for p in pos) / len(pos) >= 0.9


# -- v2: sign-up waves and an aged campaign without shared wrappers (public2 shape, wrappers reworded) -------------

AGED_BANKS = [
    ["", "Item: ", "Prompt: ", "Solve: "],
    ["{q}"],
    ["", "\n\nBe careful.", "\n\nOne line is enough.", " Check your work."],
]


@pytest.fixture(scope="module")
def wave_bench(shared_dir, tmp_path_factory):
    """public2.json scaled down: sign-up waves (a launch day, a team's seats on one card, a course with a shared
    problem set) beside the campaigns, and an aged campaign with one bank-built wrapper per account and its
    question set split between accounts. Run with and without the account table."""
    cfg = small_config(shared_dir, "public2.json", benign=500, eval_per_day=[300, 600], min_campaign=12)
    for c in cfg["campaigns"]:
        if c["name"] in NEW_WRAPPERS:
            c["templates"] = NEW_WRAPPERS[c["name"]]
        if c["name"] == "aged-sweep":
            c["accounts"], c["banks"] = 30, AGED_BANKS
    out = tmp_path_factory.mktemp("wave")
    truth = _make_log(shared_dir, cfg, out)
    results = {}
    for name, accounts in (("with", out / "log" / "accounts.jsonl"), ("without", None)):
        store = out / f"store-{name}"
        run(RunConfig(inputs=[out / "log" / "prompts.jsonl"], accounts=accounts, store=store, quiet=True))
        tables = Tables(Store(store).require())
        cols = ["account_id", "score", "flagged", "campaign_id"]
        results[name] = ({r["account_id"]: r for r in tables.accounts().select(cols).to_pylist()}, tables)
    return truth, results


def test_sign_up_waves_are_not_campaigns(wave_bench) -> None:
    truth, results = wave_bench
    for name, (verdicts, _) in results.items():
        for group in ("launch-day", "team-rollout", "bootcamp"):
            rows = _groups(truth, verdicts)[group]
            assert sum(r["flagged"] for r in rows) / len(rows) <= 0.02, f"{group} flagged ({name} account table)"


def test_an_aged_campaign_without_shared_wrappers_is_found_whole(wave_bench) -> None:
    truth, results = wave_bench
    for name, (verdicts, _) in results.items():
        rows = _groups(truth, verdicts)["aged-sweep"]
        ids = [r["campaign_id"] for r in rows if r["flagged"]]
        assert len(ids) / len(rows) >= 0.8, f"aged-sweep: {len(ids)}/{len(rows)} flagged ({name} account table)"
        assert max(ids.count(i) for i in set(ids)) / len(rows) >= 0.7, f"aged-sweep split ({name} account table)"


def test_every_flagged_campaign_says_which_families_carried_it(wave_bench) -> None:
    _, results = wave_bench
    camps = results["with"][1].campaigns(flagged_only=True).to_pylist()
    assert camps
    for c in camps:
        reasons = json.loads(c["reasons"])
        assert any(r.startswith("carried by ") for r in reasons), reasons
        carried = json.loads(c["evidence"])["carried"]
        assert set(carried) == {"content", "behaviour", "provenance"}
        assert sum(v > 0.1 for v in carried.values()) >= 2  # no family decides alone


def test_the_detection_bench_draws_another_seed_and_refuses_an_unknown_setting(
    shared_dir: Path, tmp_path: Path
) -> None:
    """``bench_detection.py --seed N`` draws the config again with N (its corpora still found from the copy), and a
    mistyped ``--set`` stops it before any log is made."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_detection", ROOT / "scripts" / "bench_detection.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    config = shared_dir / "bench" / "public4.json"
    copy = bench.with_seed(config, 42, tmp_path)
    cfg, original = json.loads(copy.read_text()), json.loads(config.read_text())
    assert cfg["seed"] == 42 and {k: v for k, v in cfg.items() if k not in ("seed", "corpora")} == {
        k: v for k, v in original.items() if k not in ("seed", "corpora")
    }
    assert all(Path(c).is_absolute() and Path(c).exists() for c in cfg["corpora"])
    with pytest.raises(ValueError, match="unknown detection setting"):
        bench.bench(config, tmp_path / "work", "static", 1.0, True, False, settings=["null_refit=1"])
    assert not (tmp_path / "work").exists()

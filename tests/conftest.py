"""Shared fixtures: a small generated log (the project's own demo generator) and paths to ../shared."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not (SHARED / "bench" / "make_logs.py").exists():
        pytest.skip("../shared (benchmark generator and corpora) is not beside this checkout")
    return SHARED


@pytest.fixture(scope="session")
def demo_log(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A small demo log (about 2,000 prompts) made by scripts/make_demo_log.py."""
    out = tmp_path_factory.mktemp("demo")
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make_demo_log.py"), "--out", str(out), "--scale", "0.3"],
        check=True,
        capture_output=True,
    )
    return {"prompts": out / "demo-prompts.jsonl", "accounts": out / "demo-accounts.jsonl"}


def read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def small_config(shared: Path, name: str, *, benign: int, eval_per_day: list[int], min_campaign: int) -> dict:
    """A ../shared/bench config scaled down for tests: fewer ordinary users, a quarter of each look-alike group,
    a fifth of each campaign (at least ``min_campaign`` accounts), and a lighter eval harness."""
    cfg = json.loads((shared / "bench" / name).read_text())
    cfg["corpora"] = [str(shared / "corpora")]
    cfg["benign"]["accounts"] = benign
    for hn in cfg["hard_negatives"]:
        if hn["kind"] == "eval-harness":
            hn["per_day"] = eval_per_day
        else:
            hn["accounts"] = max(2, hn["accounts"] // 4)
    for c in cfg["campaigns"]:
        c["accounts"] = max(min_campaign, c["accounts"] // 5)
    return cfg

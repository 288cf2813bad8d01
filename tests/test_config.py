"""Run configuration: stored with each snapshot and reused by later runs, ``prune`` above all."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.app.cli import main
from engine.detect.settings import DetectSettings
from engine.pipeline.config import RunConfig
from engine.store import Store


def test_from_stored_fills_what_was_not_given_and_overrides_settings() -> None:
    stored = RunConfig(inputs=[], window_days=3.0, embedder="minilm", detect=DetectSettings(flag_score=0.7)).persisted()
    cfg = RunConfig.from_stored(stored, inputs=["x"], window_days=None, detect_overrides={"link_cosine": "0.5"})
    assert cfg.window_days == 3.0 and cfg.embedder == "minilm"  # from the store
    assert cfg.detect.flag_score == 0.7 and cfg.detect.link_cosine == 0.5  # stored, then overridden
    given = RunConfig.from_stored(stored, inputs=["x"], window_days=9.0)
    assert given.window_days == 9.0  # a flag given wins over the store
    fresh = RunConfig.from_stored(None, inputs=["x"])
    assert fresh.window_days == 7.0 and fresh.detect == DetectSettings()
    # a setting the store knows but this engine no longer has is dropped, not an error
    assert RunConfig.from_stored({"detect": {"retired_setting": 1}}, inputs=[]).detect == DetectSettings()


def test_settings_reject_unknown_names_and_bad_values() -> None:
    with pytest.raises(ValueError, match="unknown detection setting"):
        DetectSettings().with_values({"flag_scor": 0.5})
    for bad in ("flag_score=high", "flag_score=nan", "flag_score=-1", "min_cohort=3.7", "burst_scales="):
        with pytest.raises(ValueError, match="is not a"):
            DetectSettings().with_assignments([bad])
    with pytest.raises(ValueError, match="is not a"):
        DetectSettings().with_values({"flag_score": True})  # a bool is not a threshold
    s = DetectSettings().with_assignments(["burst_scales=2,5", "min_cohort=4"])
    assert s.burst_scales == (2.0, 5.0) and s.min_cohort == 4 and isinstance(s.min_cohort, int)
    assert DetectSettings.from_dict(s.to_dict()) == s
    assert all(why for _, _, why in DetectSettings.describe())  # every threshold says why it has its value


def test_prune_reuses_the_window_and_settings_of_the_store(demo_log: dict[str, Path], tmp_path: Path) -> None:
    store = tmp_path / "store"
    args = ["run", "--input", str(demo_log["prompts"]), "--accounts", str(demo_log["accounts"]), "--store", str(store)]
    assert main([*args, "--window-days", "5", "--set", "flag_score=0.55", "--quiet"]) == 0
    assert main(["prune", "--before", "2026-11-21", "--store", str(store), "--quiet"]) == 0
    config = Store(store).require().meta()["config"]
    assert config["window_days"] == 5.0 and config["detect"]["flag_score"] == 0.55

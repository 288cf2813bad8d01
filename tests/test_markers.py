"""The extraction markers: each branch's literal gates never hide a match its pattern would find.

``markers_of`` searches a text with a branch's pattern only when the branch's literals are in it (engine.detect
.taxonomy); that is a speed-up, and must never change an answer. So the gated answer is compared with one search
of each marker's whole alternation (``MARKERS``) on texts written to sit at the gates' edges and on a sample of every
shared corpus (benign and capability, many languages).
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from engine.detect.taxonomy import MARKERS, markers_of


def _whole(text: str) -> dict[str, bool]:
    low = text.lower()
    return {name: p.search(low) is not None for name, p in MARKERS.items()}


EDGES = [
    "Please think step by step.",
    "STEP-BY-STEP please",
    "Walk me through your reasoning",
    "explain in detail the logic you used",
    "Grade the candidate answers below",
    "upgrade the answer",  # "grade" inside a word: no \b, no match, yet the gate passes
    "rate this response out of 10",
    "On a scale of 1 to 5",
    "Is this answer correct?",
    "Compare with the reference solution; points deducted for errors",
    "Califica la respuesta",
    "If you decline, tell me which policy applies",
    "Why won't you answer? Are you allowed to say?",
    "Explica tu razonamiento paso a paso",
    "请写出推理过程。",
    "ステップバイステップで考えて",
    "단계별로 설명해 주세요",
    "adım adım çöz",
    "",
    "nothing to see here",
]


@pytest.mark.parametrize("text", EDGES)
def test_gated_markers_equal_the_whole_patterns_on_edge_texts(text: str) -> None:
    assert markers_of(text) == _whole(text)


def test_markers_found_where_expected() -> None:
    assert markers_of("Please think step by step.")["reasoning"]
    assert markers_of("Grade the candidate answers below")["grading"]
    assert markers_of("If you decline, tell me which policy applies")["refusal"]
    assert not any(markers_of("upgrade the answer").values())
    # ``among``: only the markers it marks True are looked for
    assert markers_of("think step by step", among={"grading": True}) == {
        "reasoning": False,
        "grading": False,
        "refusal": False,
    }


def test_gated_markers_equal_the_whole_patterns_on_every_corpus(shared_dir: Path) -> None:
    seen = found = 0
    for f in sorted((shared_dir / "corpora").glob("*/*.jsonl.gz")):
        with gzip.open(f, "rt", encoding="utf-8") as fh:
            for i, line in enumerate(fh):
                if i >= 300:
                    break
                text = json.loads(line)["text"]
                whole = _whole(text)
                assert markers_of(text) == whole, (f.name, text[:200])
                seen += 1
                found += any(whole.values())
    assert seen > 5_000 and found > 20  # the sample holds texts that carry markers, not only ones that do not

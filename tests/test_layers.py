"""The pipeline's layers import downward only: ingest, text, embed, vectors, detect and store never import the
pipeline or the app shells, and the executor contract imports no stage (every stage calls it). The store is the
one shared exception to the stage order: it depends only on ingest's record schemas, and detect builds its tables
in the store's schemas (``engine.store.tables``), so the store must never import a stage above ingest."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ENGINE = Path(__file__).resolve().parents[1] / "engine"
STAGES = ("ingest", "text", "embed", "vectors", "detect", "store")
#: package -> engine packages it must never import (at module level or inside a function)
FORBIDDEN = {
    "batches": ("executor", *STAGES, "pipeline", "app"),
    "executor": (*STAGES, "pipeline", "app"),
    "ingest": ("text", "embed", "vectors", "detect", "store", "pipeline", "app"),
    "text": ("embed", "vectors", "detect", "store", "pipeline", "app"),
    "embed": ("vectors", "detect", "store", "pipeline", "app"),
    "vectors": ("detect", "store", "pipeline", "app"),
    "detect": ("pipeline", "app"),
    "store": ("text", "embed", "vectors", "detect", "pipeline", "app"),
    "pipeline": ("app",),
}


def _imports(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return out


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_layer_never_imports_upward(package: str) -> None:
    files = (
        [ENGINE / f"{package}.py"] if (ENGINE / f"{package}.py").exists() else sorted((ENGINE / package).rglob("*.py"))
    )
    assert files
    bad = [
        f"{f.relative_to(ENGINE.parent)} imports {m}"
        for f in files
        for m in sorted(_imports(f))
        if any(m == f"engine.{up}" or m.startswith(f"engine.{up}.") for up in FORBIDDEN[package])
    ]
    assert not bad, bad

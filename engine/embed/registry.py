"""Embedder from a CLI-style spec ("minilm", "static" or a local model directory)."""

from __future__ import annotations

from pathlib import Path

from engine.embed.base import (
    DEFAULT_MODELS_DIR,
    STATIC_PCA_DIMS,
    Embedder,
)
from engine.embed.minilm import MiniLMEmbedder
from engine.embed.static import StaticEmbedder, _is_model2vec_dir


def get_embedder(spec: str, models_dir: Path | None = None, *, device: str | None = None) -> Embedder:
    """Embedder from a CLI-style spec: ``"minilm"``, ``"static"``, or a local model directory.

    A directory is a model2vec model if its ``config.json`` says ``model_type: model2vec``, and a
    sentence-transformers model if it has ``modules.json`` or ``config_sentence_transformers.json``.
    ``models_dir`` is where ``"static"`` is built/found (default: the repo's ``models/``).
    """
    if spec == "minilm":
        return MiniLMEmbedder(device=device)
    if spec == "static":
        return StaticEmbedder((models_dir or DEFAULT_MODELS_DIR) / f"static-minilm-{STATIC_PCA_DIMS}")
    path = Path(spec).expanduser()
    if path.is_dir():
        if _is_model2vec_dir(path):
            return StaticEmbedder(path, build=False)
        if (path / "modules.json").is_file() or (path / "config_sentence_transformers.json").is_file():
            return MiniLMEmbedder(path, device=device)
        raise ValueError(f"{path} is neither a model2vec nor a sentence-transformers model directory")
    raise ValueError(f"unknown embedder {spec!r}: use 'minilm', 'static' or a local model directory")

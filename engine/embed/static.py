"""A model2vec static model distilled from the packaged MiniLM: ~200x its speed on CPU."""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from engine.embed.base import (
    DEFAULT_MODELS_DIR,
    STATIC_PCA_DIMS,
    _dir_fingerprint,
    _l2_normalize,
    _quiet_transformers,
    _read_json,
    _slug,
    minilm_path,
)

logger = logging.getLogger(__name__)


def _is_model2vec_dir(path: Path) -> bool:
    cfg = _read_json(path / "config.json")
    return isinstance(cfg, dict) and cfg.get("model_type") == "model2vec"


def _is_complete_model2vec_dir(path: Path) -> bool:
    return _is_model2vec_dir(path) and (path / "model.safetensors").is_file() and (path / "tokenizer.json").is_file()


class StaticEmbedder:
    """A model2vec static model: token vectors averaged, no attention; ~200x MiniLM's speed on CPU.

    By default it is distilled from the packaged MiniLM (``pca_dims=256``) on first use and saved to
    ``models/static-minilm-256/``; later runs load it (well under a second). The build writes into a temporary
    sibling directory and renames it into place, so a killed build leaves no half model and two concurrent builds
    both end with one complete directory. Give ``model_dir`` of an existing model2vec directory with
    ``build=False`` to use another static model.
    """

    def __init__(
        self,
        model_dir: str | Path | None = None,
        *,
        source: str | Path | None = None,
        pca_dims: int = STATIC_PCA_DIMS,
        build: bool = True,
        name: str | None = None,
        batch_size: int = 1024,
    ) -> None:
        self.pca_dims = pca_dims
        self.model_dir = Path(model_dir) if model_dir is not None else DEFAULT_MODELS_DIR / f"static-minilm-{pca_dims}"
        self.source = Path(source) if source is not None else None
        self.build = build
        self.batch_size = batch_size
        self._model: Any = None
        self.built = False  # True when this instance distilled the model (rather than loading it)
        if not build:
            if not _is_complete_model2vec_dir(self.model_dir):
                raise FileNotFoundError(f"not a model2vec model directory: {self.model_dir}")
            cfg = _read_json(self.model_dir / "config.json")
            assert isinstance(cfg, dict)
            self.dim = int(cfg.get("hidden_dim") or cfg.get("apply_pca") or 0) or self.model.dim
            default = f"m2v-{_slug(self.model_dir.name)}-{self.dim}-{_dir_fingerprint(self.model_dir)}"
        else:
            self.dim = pca_dims
            src = "minilm" if self.source is None else f"{_slug(self.source.name)}-{_dir_fingerprint(self.source)}"
            default = f"static-{src}-{pca_dims}"
        self.name = name or default

    @property
    def model(self) -> Any:
        """The loaded ``model2vec.StaticModel``; distilled and saved first if the directory is missing."""
        if self._model is None:
            from model2vec import StaticModel

            if not _is_complete_model2vec_dir(self.model_dir):
                if not self.build:
                    raise FileNotFoundError(f"not a model2vec model directory: {self.model_dir}")
                self._build()
            self._model = StaticModel.from_pretrained(self.model_dir, normalize=True, force_download=False)
        return self._model

    def _build(self) -> None:
        from model2vec.distill import distill

        source = self.source or minilm_path()
        logger.info("building static model %s from %s (pca_dims=%d, ~20s, once)", self.model_dir, source, self.pca_dims)
        self.model_dir.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.model_dir.parent / f".{self.model_dir.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        try:
            tmp.mkdir()  # not mkdtemp: its 0700 would outlive the rename and lock other users out of models/
            with _quiet_transformers():
                static = distill(model_name=str(source), pca_dims=self.pca_dims)
            static.save_pretrained(tmp)
            mode = (tmp / "config.json").stat().st_mode & 0o777  # what the umask gives; safetensors writes 0600
            for f in tmp.iterdir():
                os.chmod(f, mode)
            try:
                os.rename(tmp, self.model_dir)  # atomic on one filesystem; fails if another build won the race
            except OSError:
                if not _is_complete_model2vec_dir(self.model_dir):
                    raise
                logger.info("static model %s was built concurrently; using that one", self.model_dir)
            else:
                self.built = True
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def encode(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        """float32 ``(n, dim)`` unit vectors (zero rows for texts with no known token)."""
        if len(texts) == 0:
            return np.empty((0, self.dim), dtype=np.float32)
        model = self.model
        # model2vec spreads batches over threads above a threshold, and on the way sets TOKENIZERS_PARALLELISM=false
        # for the whole process, which would silently serialise every Rust tokenizer after it (the GPU fast path's
        # included): restore the variable.
        saved = os.environ.get("TOKENIZERS_PARALLELISM")
        try:
            vecs = model.encode(
                list(texts),
                show_progress_bar=show_progress,
                batch_size=self.batch_size,
                use_multiprocessing=True,
                multiprocessing_threshold=2 * self.batch_size,
            )
        finally:
            if saved is None:
                os.environ.pop("TOKENIZERS_PARALLELISM", None)
            else:
                os.environ["TOKENIZERS_PARALLELISM"] = saved
        return _l2_normalize(vecs)

    def __repr__(self) -> str:
        return f"StaticEmbedder(name={self.name!r}, dir={str(self.model_dir)!r})"

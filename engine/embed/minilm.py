"""all-MiniLM-L6-v2 through sentence-transformers, and the fast pre-tokenised fp16 path it takes on a GPU."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from tqdm.auto import tqdm

from engine.embed.base import (
    MAX_SEQ_LENGTH,
    MINILM_NAME,
    _dir_fingerprint,
    _l2_normalize,
    _quiet_transformers,
    _read_json,
    _resolve_device,
    _slug,
    minilm_path,
    tokenizer_threads,
)

if TYPE_CHECKING:  # pragma: no cover
    import torch
    from tokenizers import Tokenizer

logger = logging.getLogger(__name__)

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

    with tokenizer_threads():
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

#!/usr/bin/env python
"""GPU figures at 1M: MiniLM embedding through the engine's own fp16 path, and the exact kNN graph.

Run on a machine with a CUDA GPU (the project's CI has none; ``scripts/SCALING.md`` carries the figures):

    python scripts/bench_gpu.py --model MODEL_DIR --texts TEXTS.jsonl.gz --n 1000000 --out gpu.json

* embedding: ``MiniLMEmbedder(device="cuda")`` (``engine.embed.encode_transformer``: fast tokenizer on all cores,
  length-sorted, token-sized batches, fp16, SDPA attention) over ``--n`` texts, timed end to end and with the
  tokenising apart; agreement with ``SentenceTransformer.encode`` in fp32 on ``--check`` texts (cosine per text);
* exact kNN graph: every vector's ``--k`` nearest by inner product over all ``--n``, as fp16 matrix products in
  query blocks with a top-k on the GPU (what FAISS's GPU flat index does), timed; neighbour recall against an
  fp32 exact search for ``--check`` queries.

``TEXTS`` holds distinct prompt texts (``{"text": ...}`` a line); when it has fewer than ``--n``, copies are made
distinct with a short suffix, so no text is embedded twice and lengths keep the log's distribution.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def load_texts(path: Path, n: int) -> list[str]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        base = [json.loads(line)["text"] for line in f if line.strip()]
    out = list(base[:n])
    copy = 1
    while len(out) < n:
        out.extend(f"{t} ({copy})" for t in base[: n - len(out)])
        copy += 1
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", type=Path, required=True, help="a local sentence-transformers directory (MiniLM)")
    p.add_argument("--texts", type=Path, required=True)
    p.add_argument("--n", type=int, default=1_000_000)
    p.add_argument("--k", type=int, default=16)
    p.add_argument("--check", type=int, default=2000)
    p.add_argument("--block", type=int, default=16384, help="queries per matrix product of the kNN graph")
    p.add_argument("--out", type=Path)
    p.add_argument("--device", default="cuda", help="cuda (the point of it); cpu only to try the script on a few texts")
    a = p.parse_args(argv)

    import numpy as np
    import torch

    from engine.embed import MiniLMEmbedder

    dev = a.device
    assert dev == "cpu" or torch.cuda.is_available(), "needs a CUDA GPU"
    gpu = torch.cuda.get_device_name(0) if dev.startswith("cuda") else "cpu"
    sync = torch.cuda.synchronize if dev.startswith("cuda") else (lambda: None)
    texts = load_texts(a.texts, a.n)
    res: dict = {"gpu": gpu, "texts": len(texts), "torch": torch.__version__}
    print(f"{gpu}: {len(texts):,} texts", flush=True)

    emb = MiniLMEmbedder(a.model, device=dev, fast=True, name="minilm-bench")
    emb.encode(texts[:2048])  # load, warm up kernels
    sync()
    t0 = time.perf_counter()
    enc = emb._tokenizer.encode_batch(texts)  # noqa: SLF001 - the tokenising alone, as the fast path does it
    res["tokenise_s"] = round(time.perf_counter() - t0, 2)
    res["tokens_mean"] = round(float(np.mean([len(e.ids) for e in enc])), 1)
    del enc
    sync()
    t0 = time.perf_counter()
    vec = emb.encode(texts)
    sync()
    res["embed_s"] = round(time.perf_counter() - t0, 2)
    res["embed_texts_per_s"] = round(len(texts) / res["embed_s"])
    print(f"embed: {res['embed_s']} s, {res['embed_texts_per_s']:,} texts/s (tokenising alone {res['tokenise_s']} s)",
          flush=True)  # fmt: skip

    # where the time goes: the batches prepared alone (tokenise, sort, pad, pin), then the forwards alone over them
    from engine.embed.minilm import _prepare_batches

    sync()
    t0 = time.perf_counter()
    prepared = [
        b
        for s in range(0, len(texts), 8192)
        for b in _prepare_batches(emb._tokenizer, texts[s : s + 8192], s, 65536, 2048, dev.startswith("cuda"))  # noqa: SLF001
    ]
    res["prepare_s"] = round(time.perf_counter() - t0, 2)
    model = emb.auto_model
    sync()
    t0 = time.perf_counter()
    with torch.inference_mode():
        for _, input_ids, attention in prepared:
            ii, am = input_ids.to(dev, non_blocking=True), attention.to(dev, non_blocking=True)
            hidden = model(input_ids=ii, attention_mask=am).last_hidden_state
            m = am.unsqueeze(-1).to(torch.float32)
            (hidden.float() * m).sum(dim=1) / m.sum(dim=1).clamp(min=1e-9)
    sync()
    res["forward_s"] = round(time.perf_counter() - t0, 2)
    res["forward_texts_per_s"] = round(len(texts) / res["forward_s"])
    del prepared
    print(f"prepare alone {res['prepare_s']} s; forwards alone {res['forward_s']} s = {res['forward_texts_per_s']:,}/s",
          flush=True)  # fmt: skip

    from sentence_transformers import SentenceTransformer

    ref = SentenceTransformer(str(a.model), device=dev, local_files_only=True)
    ref = ref.float()  # the reference in fp32, whatever dtype the weights were saved in
    ref.max_seq_length = emb.max_seq_length
    want = ref.encode(texts[: a.check], batch_size=256, normalize_embeddings=True, convert_to_numpy=True)
    cos = np.sum(want * vec[: a.check], axis=1)
    res["agreement_min_cos"] = round(float(cos.min()), 5)
    res["agreement_mean_cos"] = round(float(cos.mean()), 6)
    print(f"agreement with SentenceTransformer fp32: min cos {cos.min():.5f}", flush=True)
    del ref

    x = torch.from_numpy(np.ascontiguousarray(vec, dtype=np.float32)).to(dev)
    xh = x.half() if dev.startswith("cuda") else x
    n, k = len(x), a.k + 1
    sync()
    t0 = time.perf_counter()
    ids = torch.empty((n, k), dtype=torch.int64, device=dev)
    sims = torch.empty((n, k), dtype=xh.dtype, device=dev)
    for s in range(0, n, a.block):
        block = xh[s : s + a.block] @ xh.T
        top = torch.topk(block, k, dim=1)
        sims[s : s + a.block], ids[s : s + a.block] = top.values, top.indices
    sync()
    res["knn_s"] = round(time.perf_counter() - t0, 2)
    q = torch.arange(0, n, max(1, n // a.check), device=dev)[: a.check]
    exact = torch.topk(x[q] @ x.T, k, dim=1).indices
    got = ids[q]
    hit = (got[:, :, None] == exact[:, None, :]).any(dim=2).float().mean().item()
    res["knn_recall_vs_fp32"] = round(hit, 4)
    print(f"exact kNN graph, k={a.k}, fp16: {res['knn_s']} s; recall vs fp32 {hit:.4f}", flush=True)
    res["peak_gpu_gb"] = round(torch.cuda.max_memory_allocated() / 2**30, 2) if dev.startswith("cuda") else 0.0
    if a.out:
        a.out.write_text(json.dumps(res, indent=1))
    print(json.dumps(res), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

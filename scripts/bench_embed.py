#!/usr/bin/env python
"""Embedding throughput and agreement on real benchmark prompts.

Measures, on the same N distinct normalised prompts:
  * MiniLM through our path (``engine.embed.encode_transformer``: pre-tokenised, length-sorted, token-sized
    batches; fp16 on CUDA) against plain ``SentenceTransformer.encode`` on the same model, asserting cosine >= 0.999
    per text, and texts/s of each;
  * the static (model2vec) model's texts/s (built into --models-dir on first use; build time reported);
  * how well the static model stands in for MiniLM: mean recall@k of each prompt's k nearest neighbours among
    --knn-n prompts (static vs MiniLM), and how many of MiniLM's k neighbours are in the static top-5k (what a
    static-then-MiniLM rerank would keep).

    python scripts/bench_embed.py                                   # CPU, 2,000 prompts, both models
    python scripts/bench_embed.py --device cuda --limit 100000      # GPU machine
    (prompts: python /work/shared/bench/make_logs.py /work/shared/bench/public.json /tmp/bench)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from engine.embed import (  # noqa: E402
    DEFAULT_MODELS_DIR,
    MiniLMEmbedder,
    StaticEmbedder,
    encode_transformer,
    fast_tokenizer,
)
from engine.text.normalize import normalize  # noqa: E402


def load_prompts(path: Path, limit: int, seed: int) -> list[str]:
    """``limit`` distinct normalised prompt texts, sampled uniformly (the file is grouped by account)."""
    seen: dict[str, None] = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            try:
                text = json.loads(line).get("text")
            except ValueError:
                continue
            if isinstance(text, str) and (t := normalize(text)):
                seen[t] = None
    texts = list(seen)
    random.Random(seed).shuffle(texts)
    return texts[:limit]


def timed(fn, n: int) -> tuple[np.ndarray, float]:
    t0 = time.perf_counter()
    out = fn()
    return out, n / (time.perf_counter() - t0)


def knn(v: np.ndarray, k: int) -> np.ndarray:
    sims = v @ v.T
    np.fill_diagonal(sims, -np.inf)
    return np.argpartition(-sims, k, axis=1)[:, :k]


def recall(truth: np.ndarray, cand: np.ndarray) -> float:
    return float(np.mean([len(set(t) & set(c)) / len(t) for t, c in zip(truth, cand, strict=True)]))


def device_name(device: str) -> str:
    import torch

    if device.startswith("cuda"):
        return f"{torch.cuda.get_device_name(torch.device(device))} (torch {torch.__version__})"
    return f"CPU {platform.processor() or platform.machine()}, {os.cpu_count()} cores, {torch.get_num_threads()} torch threads"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--input", type=Path, default=Path("/tmp/bench/prompts.jsonl"))
    ap.add_argument("--limit", type=int, default=2000, help="distinct prompts for the MiniLM timings")
    ap.add_argument("--static-limit", type=int, default=20000, help="distinct prompts for the static timing")
    ap.add_argument("--embedder", choices=["minilm", "static", "both"], default="both")
    ap.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N")
    ap.add_argument("--models-dir", type=Path, default=DEFAULT_MODELS_DIR)
    ap.add_argument(
        "--st-batch-size", type=int, default=None, help="SentenceTransformer.encode batch (32 CPU, 256 GPU)"
    )
    ap.add_argument("--max-tokens", type=int, default=None, help="our path's padded tokens per batch")
    ap.add_argument("--fp32", action="store_true", help="keep fp32 on CUDA (default there: fp16 for both paths)")
    ap.add_argument("--slices", type=int, default=4, help="interleaved timing slices (ours/encode alternating)")
    ap.add_argument("--knn-n", type=int, default=2000)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--close", type=float, default=0.8, help="MiniLM cosine above which a neighbour counts as close")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, default=None, help="also write the results here")
    args = ap.parse_args()

    import torch

    device = ("cuda" if torch.cuda.is_available() else "cpu") if args.device == "auto" else args.device
    n_texts = max(args.limit, args.static_limit if args.embedder != "minilm" else 0)
    texts_all = load_prompts(args.input, n_texts, args.seed)
    texts = texts_all[: args.limit]
    res: dict[str, object] = {"device": device_name(device), "input": str(args.input)}
    print(f"device: {res['device']}")
    print(f"prompts: {len(texts_all)} distinct from {args.input}")

    mini = None
    if args.embedder in ("minilm", "both"):
        mini = MiniLMEmbedder(device=device, fp16=None if not args.fp32 else False, max_tokens=args.max_tokens)
        t0 = time.perf_counter()
        st = mini.model
        print(f"minilm: loaded in {time.perf_counter() - t0:.1f}s, dtype {next(st.parameters()).dtype}")
        tok = fast_tokenizer(st.tokenizer, mini.max_seq_length)
        lens = np.array([len(e.ids) for e in tok.encode_batch(texts)])
        print(
            f"minilm: {len(texts)} prompts, tokens mean {lens.mean():.0f}, p95 {np.percentile(lens, 95):.0f}, "
            f"{(lens >= mini.max_seq_length).mean():.1%} truncated at {mini.max_seq_length}"
        )
        st_bs = args.st_batch_size or (256 if device.startswith("cuda") else 32)
        warm = texts[:64]
        encode_transformer(mini.auto_model, tok, warm, device=device)
        st.encode(warm, batch_size=st_bs)
        # Interleaved slices, alternating which path goes first: on a shared machine, load drifts over minutes and
        # would otherwise favour whichever path ran in the quieter moment.
        ours, ref = np.empty((len(texts), mini.dim), np.float32), np.empty((len(texts), mini.dim), np.float32)
        t_ours = t_st = 0.0
        bounds = np.linspace(0, len(texts), args.slices + 1).astype(int)
        for i, (a, b) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
            for which in ("ours", "st") if i % 2 == 0 else ("st", "ours"):
                t0 = time.perf_counter()
                if which == "ours":
                    ours[a:b] = encode_transformer(
                        mini.auto_model, tok, texts[a:b], device=device, max_tokens=args.max_tokens
                    )
                    t_ours += time.perf_counter() - t0
                else:
                    ref[a:b] = st.encode(texts[a:b], batch_size=st_bs, convert_to_numpy=True, normalize_embeddings=True)
                    t_st += time.perf_counter() - t0
        ours_tps, st_tps = len(texts) / t_ours, len(texts) / t_st
        c = (ours * ref).sum(1) / (np.linalg.norm(ours, axis=1) * np.linalg.norm(ref, axis=1))
        print(f"minilm ours (encode_transformer): {ours_tps:,.0f} texts/s")
        print(f"minilm SentenceTransformer.encode (batch {st_bs}): {st_tps:,.0f} texts/s  -> {ours_tps / st_tps:.2f}x")
        print(f"minilm ours vs encode: cosine min {c.min():.6f}, mean {c.mean():.6f}")
        res.update(minilm_ours_tps=ours_tps, minilm_st_tps=st_tps, st_batch_size=st_bs, cos_min=float(c.min()))
        res.update(tokens_mean=float(lens.mean()), n_minilm=len(texts))
        assert c.min() >= 0.999, f"our path disagrees with SentenceTransformer.encode: min cosine {c.min():.6f}"

    if args.embedder in ("static", "both"):
        stat = StaticEmbedder(args.models_dir / "static-minilm-256")
        t0 = time.perf_counter()
        stat.model  # noqa: B018
        what = "built" if stat.built else "loaded"
        print(f"static: {what} {stat.model_dir} in {time.perf_counter() - t0:.1f}s")
        stat.encode(texts_all[:256])
        svec, s_tps = timed(lambda: stat.encode(texts_all), len(texts_all))
        print(f"static ({stat.name}): {s_tps:,.0f} texts/s on {len(texts_all)} prompts")
        res.update(static_tps=s_tps, n_static=len(texts_all), static_built=stat.built)

        if mini is not None:
            n, k = min(args.knn_n, len(texts)), args.k
            mv = ours[:n]
            sv = svec[:n]
            truth, cand = knn(mv, k), knn(sv, k)
            r = recall(truth, cand)
            r5 = recall(truth, knn(sv, 5 * k))
            # The pairs that matter most here: MiniLM neighbours that are close (shared template, paraphrase).
            close = [(i, j) for i in range(n) for j in truth[i] if mv[i] @ mv[j] >= args.close]
            r_close = float(np.mean([j in set(cand[i]) for i, j in close])) if close else float("nan")
            print(
                f"static vs minilm: of {len(close)} minilm top-{k} pairs with cosine >= {args.close}, "
                f"{r_close:.3f} are in the static top-{k}"
            )
            res.update(close_pairs=len(close), recall_close=r_close)
            iu = np.triu_indices(n, 1)
            corr = float(np.corrcoef((mv @ mv.T)[iu], (sv @ sv.T)[iu])[0, 1])
            print(
                f"static vs minilm on {n} prompts: recall@{k} {r:.3f} (chance {k / (n - 1):.3f}); "
                f"minilm top-{k} within static top-{5 * k}: {r5:.3f}; pairwise-cosine Pearson r {corr:.3f}"
            )
            res.update(recall_at_k=r, recall_in_5k=r5, pairwise_r=corr, knn_n=n, k=k)

    if args.json:
        args.json.write_text(json.dumps(res, indent=2))
    print(json.dumps(res))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""What a log of agent sessions costs the embed step: vectors computed against the distinct new texts it holds.

    python scripts/bench_agent_embed.py [CONFIG.json] [--work DIR] [--seed N] [--benign N] [--embedder static]

From CONFIG (default ../shared/bench/public4.json) it keeps the groups that run agent sessions (hard negatives of
kind ``agent-product``, campaigns with an ``agent`` option) and ``--benign`` ordinary users, writes the log as
OpenAI chat requests (``make_logs.py --format openai``), runs one night into a fresh store, and prints:

* requests, and the distinct new texts in them: per request what it adds (its newest user turn without the
  system prompt, or its newest tool result), normalised, counted once;
* the night's distinct texts and the vectors it computed (texts, and the payloads of templated texts that need
  one of their own), each over the distinct new texts.

An agent session resends its whole history with every step; ingest keeps only what the step adds, and the embed
step embeds a chat turn without its system prompt, so the texts' vectors are one per new text. What is left above
that is the payload views of questions inside a wrapper (the capability taxonomy reads a question without it),
which a flat log of the same requests computes as well.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT.parent / "shared" / "bench"
sys.path.insert(0, str(ROOT))


def agent_config(config: Path, seed: int, benign: int) -> dict:
    """CONFIG's agent-session groups and ``benign`` ordinary users, corpora paths made absolute."""
    c = json.loads(config.read_text(encoding="utf-8"))
    c["seed"] = seed
    c["benign"]["accounts"] = benign
    c["hard_negatives"] = [h for h in c.get("hard_negatives", []) if h.get("kind") == "agent-product"]
    c["campaigns"] = [x for x in c.get("campaigns", []) if x.get("agent")]
    c["corpora"] = [str((config.parent / p).resolve()) for p in c.get("corpora", [])]
    if not c["hard_negatives"] and not c["campaigns"]:
        raise SystemExit(f"{config} has no agent-session group")
    return c


def distinct_new_texts(requests: Path) -> tuple[int, int]:
    """(requests, distinct normalised new texts): what each request adds, read as ingest reads it."""
    from engine.ingest.envelopes import Reader
    from engine.text.normalize import normalize, text_hash

    reader, seen, n = Reader(), set(), 0
    with open(requests, encoding="utf-8") as f:
        for line in f:
            obj = json.loads(line)
            if not reader.looks_valid(obj):
                raise SystemExit(f"{requests}: a record no envelope reads")
            for rec in reader.records(obj):
                if not isinstance(rec, dict):
                    raise SystemExit(f"{requests}: {rec}")
                n += 1
                at = int((rec.get("chat") or {}).get("turn_at") or 0)
                seen.add(text_hash(normalize(rec["text"][at:])))
    return n, len(seen)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("config", nargs="?", type=Path, default=BENCH / "public4.json")
    p.add_argument("--work", type=Path, default=Path("/tmp/promptsim-agent-embed"))
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--benign", type=int, default=200)
    p.add_argument("--embedder", default="static")
    a = p.parse_args()
    from engine.pipeline import RunConfig, run

    if a.work.exists():
        shutil.rmtree(a.work)
    a.work.mkdir(parents=True)
    cfg = a.work / "agent.json"
    cfg.write_text(json.dumps(agent_config(a.config.resolve(), a.seed, a.benign), indent=1), encoding="utf-8")
    log = a.work / "log"
    cmd = [sys.executable, str(BENCH / "make_logs.py"), str(cfg), str(log), "--format", "openai"]
    subprocess.run(cmd, check=True, capture_output=True)
    requests, new = distinct_new_texts(log / "prompts.jsonl")
    report = run(
        RunConfig(
            inputs=[log / "prompts.jsonl"],
            accounts=log / "accounts.jsonl",
            store=a.work / "store",
            embedder=a.embedder,
            quiet=True,
        )
    )
    vectors = report.new_embeddings  # a fresh store: every vector of the night was computed tonight
    print(f"{requests:,} requests, {new:,} distinct new texts")
    print(f"{report.texts:,} distinct texts ({report.texts / new:.2f}x), {vectors:,} embedded ({vectors / new:.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Rebuild the content model's weights (engine/detect/data/probe_model.npz) from ../shared/corpora.

    python scripts/train_content_model.py [--per-source N] [--out PATH]

Labels: every prompt of capability/<source>.jsonl.gz is a probe (1), every prompt of benign/<source>.jsonl.gz an
ordinary request (0). Each source gives at most ``--per-source`` prompts (seeded sample) and is weighted so every
source carries the same total weight within its side and both sides weigh the same: clinc150's 23k short requests
or mmlu's 14k questions would otherwise decide what "ordinary" and "probe" mean. Deterministic: the same corpora and
seed give the same weights.
Two models are written: n-gram only, and a joint one on [n-grams, static embedding vector] that
``ProbeModel.probe_probability(texts, vectors)`` uses when given the payloads' static vectors. How well it does on sources it never saw: ``scripts/bench_content_model.py``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CORPORA = ROOT.parent / "shared" / "corpora"
sys.path.insert(0, str(ROOT))

from engine.detect.content_model import DEFAULT_PATH, ProbeModel, feature_matrix  # noqa: E402
from engine.embed import get_embedder  # noqa: E402
from engine.text.normalize import normalize  # noqa: E402

#: sources whose licence does not allow training weights that ship (../shared/corpora/README.md: non-commercial,
#: C-UDA, no licence stated). They are loaded so that the benchmark can hold them out and measure on them, never
#: trained on.
NOT_FOR_TRAINING = frozenset({"code-alpaca", "quora", "msmarco", "cosqa", "qbqtc"})
SEED = 0
#: L2 strength of the logistic regression. Chosen on held-out-source accuracy (bench_content_model.py), the only
#: measure: stronger regularisation keeps the model from memorising source-specific formatting.
ALPHA = 1e-5
EPOCHS = 15
#: Embedder of the joint model's vectors: the static model the pipeline already runs on every payload. Rebuilding it
#: from the same MiniLM gives bit-identical vectors (checked by building it twice into fresh directories).
EMBEDDER = "static"


def load_corpora(
    per_source: int, seed: int = SEED, corpora: Path = CORPORA
) -> tuple[list[str], np.ndarray, list[str], np.ndarray]:
    """(normalised texts, label per text, source names, source index per text); at most ``per_source`` a source."""
    rng = np.random.default_rng(seed)
    texts: list[str] = []
    labels: list[int] = []
    names: list[str] = []
    owner: list[int] = []
    for side, label in (("capability", 1), ("benign", 0)):
        for path in sorted((corpora / side).glob("*.jsonl.gz")):
            with gzip.open(path, "rt", encoding="utf-8") as f:
                rows = [json.loads(line)["text"] for line in f]
            pick = np.sort(rng.permutation(len(rows))[:per_source])
            names.append(path.name.removesuffix(".jsonl.gz"))
            texts += [normalize(rows[i]) for i in pick]
            labels += [label] * len(pick)
            owner += [len(names) - 1] * len(pick)
    return texts, np.asarray(labels, dtype=np.int64), names, np.asarray(owner, dtype=np.int64)


def trainable(names: list[str], owner: np.ndarray) -> np.ndarray:
    """Per row: whether its source may train shipped weights (not in NOT_FOR_TRAINING)."""
    ok = np.array([n not in NOT_FOR_TRAINING for n in names], dtype=bool)
    return ok[owner]


def balanced_weights(labels: np.ndarray, owner: np.ndarray) -> np.ndarray:
    """Sample weights: every source the same total within its side, both sides the same total, mean 1."""
    w = np.zeros(len(labels), dtype=np.float64)
    for side in (0, 1):
        on_side = labels == side
        sources = np.unique(owner[on_side])
        for s in sources:
            m = owner == s
            w[m] = 1.0 / (len(sources) * m.sum())
    return w * (len(w) / w.sum())


def fit(texts: list[str] | None, labels: np.ndarray, owner: np.ndarray, seed: int = SEED, features=None) -> ProbeModel:
    """Logistic regression (SGD, log loss, seeded) on hashed n-grams with balanced source weights.

    ``features``: the rows' ``feature_matrix`` when already built (the benchmark builds it once for all folds)."""
    from sklearn.linear_model import SGDClassifier

    x = feature_matrix(texts) if features is None else features
    clf = SGDClassifier(loss="log_loss", alpha=ALPHA, max_iter=EPOCHS, tol=None, random_state=seed)
    clf.fit(x, labels, sample_weight=balanced_weights(labels, owner))
    return ProbeModel(coef=clf.coef_[0].astype(np.float32), intercept=float(clf.intercept_[0]))


def fit_joint(
    model: ProbeModel, labels: np.ndarray, owner: np.ndarray, vectors: np.ndarray, embedder: str, features, seed=SEED
) -> ProbeModel:
    """Add the joint model: the same logistic regression on [hashed n-grams, embedding vector] (one model, no
    stacking; stacking a head on the n-gram score measured no better). Returns ``model`` with the joint part set."""
    import scipy.sparse as sp
    from sklearn.linear_model import SGDClassifier

    z = sp.hstack([features, sp.csr_matrix(np.asarray(vectors, dtype=np.float64))], format="csr")
    clf = SGDClassifier(loss="log_loss", alpha=ALPHA, max_iter=EPOCHS, tol=None, random_state=seed)
    clf.fit(z, labels, sample_weight=balanced_weights(labels, owner))
    n = features.shape[1]
    model.joint_coef = clf.coef_[0][:n].astype(np.float32)
    model.joint_emb = clf.coef_[0][n:].astype(np.float32)
    model.joint_intercept = float(clf.intercept_[0])
    model.embedder = embedder
    return model


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--per-source", type=int, default=3000)
    p.add_argument("--out", type=Path, default=DEFAULT_PATH)
    a = p.parse_args()
    if not CORPORA.exists():
        print(f"train_content_model: {CORPORA} not found", file=sys.stderr)
        return 2
    texts, labels, names, owner = load_corpora(a.per_source)
    keep = trainable(names, owner)
    texts = [t for t, k in zip(texts, keep, strict=True) if k]
    labels, owner = labels[keep], owner[keep]
    names = [n for n in names if n not in NOT_FOR_TRAINING]
    x = feature_matrix(texts)
    model = fit(None, labels, owner, features=x)
    emb = get_embedder(EMBEDDER)
    model = fit_joint(model, labels, owner, emb.encode(texts), emb.name, x)
    model.save(a.out)
    nonzero = int(np.count_nonzero(model.coef.astype(np.float16)))
    print(
        f"wrote {a.out} ({a.out.stat().st_size / 1024:.0f} KiB): {len(names)} sources, {int(labels.sum())} probes / "
        f"{int((labels == 0).sum())} ordinary prompts (not trained on, by licence: {', '.join(sorted(NOT_FOR_TRAINING))}), {nonzero} of {model.coef.size} weights non-zero, "
        f"intercept {model.intercept:+.3f}; joint model on {model.embedder} vectors"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

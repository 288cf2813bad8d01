"""Content model: how likely a payload is a capability probe (a benchmark-style question) rather than an ordinary request.

Why it exists: the exemplar classifier in ``engine.detect.taxonomy`` labels payloads by nearest hand-written
exemplars and tells probes from ordinary requests at about 67% accuracy. This model is a logistic regression over
hashed character n-grams, trained on the corpora's capability/benign split (``scripts/train_content_model.py``) and
measured with whole corpus sources held out (``scripts/bench_content_model.py``), so its figures say how it does on
kinds of prompts it never saw.

Two models share the weights file: the n-gram model alone, and a *joint* one, the same logistic regression over the
n-grams plus the payload's static embedding vector (``engine.embed.get_embedder("static")``, which the pipeline
already computes per payload, so it costs nothing extra; rebuilding that static model gives bit-identical vectors).
``probe_probability(texts, vectors, embedder)`` uses the joint model when given vectors from the named embedder and
falls back to the n-gram model otherwise.

Measured with whole sources held out (``OMP_NUM_THREADS=1 python scripts/bench_content_model.py``, 2026-12-02, on
the pinned static model: leave-one-source-out over the 50 corpus sources (32 capability, 18 benign, the benign ones
now including coding and homework help), 1000 prompts a source at most, fixed threshold 0.5, nothing tuned on the
held-out source; the 5 sources whose licence forbids training shipped weights (code-alpaca, quora, msmarco, cosqa,
qbqtc) are never trained on and are scored by the full model; balanced = mean of the capability-source mean and the
benign-source mean):

* **per prompt: NOT 0.9.** Joint 0.713 balanced (capability 0.730, benign 0.696; pooled 0.747), n-gram alone 0.694
  (0.706 / 0.682; pooled 0.733), the exemplar classifier 0.576. Per source from 0.03 (mbpp: "write a function"
  tasks read like ordinary coding requests), 0.17 (ifeval), 0.36 (copa), 0.38 (harmbench, mgsm) to 1.00 (siqa,
  svamp, commonsense-qa); weak benign sources are oasst1-multilingual 0.33, nq-open 0.49, vicuna 0.51, quora 0.52,
  self-instruct 0.57, prompts-chat 0.59 (evaluation-style and short factual questions themselves).
* **per bag of prompts of one source** (detection scores accounts and cohorts): a bag classified by its mean
  probability, 500 seeded bags a source. Joint: bag of 10 0.793 balanced, bag of 25 0.812 (capability 0.770, benign
  0.854; 35 of 50 sources >= 0.9) -- **also below 0.9 balanced.** Bags do not rescue sources whose mean probability
  is on the wrong side: mbpp, ifeval, oasst1-multilingual ~0, copa, harmbench, mgsm, openbook-qa, advbench,
  truthfulqa, nq-open, quora and mt-bench 0.04-0.59 at 25.

That is why detection never reads the probability as a verdict: ``engine.detect.evidence`` compares a cohort's mean
with what random sets of the log's own accounts show (``engine.detect.null``), so a log whose ordinary users ask
homework questions raises the bar for every cohort, and only a cohort unlike the log's bulk counts.

Tried and not kept (same leave-one-source-out measure, 2026-11-29): structure features (shares and counts of
digits, question marks, code symbols, arithmetic, line breaks, upper case, CJK; length and length buckets; ends
with "?"), conversational cue counts ("I/my", "please", "can you", answer-option patterns), hashed word 1-2-grams,
averaged SGD, stronger and weaker L2, a dense logistic regression on structure + embedding, and averages of these
models: all landed within 0.72-0.75 per prompt balanced and 0.82-0.88 bag of 25, i.e. inside the spread that the
SGD seed and epoch count alone cause (0.69-0.73 for the same n-gram model), and the structure + averaged-SGD model
measured lower than this one (joint 0.727 per prompt, 0.829 bag of 25). What limits the model is the label, not
the features: several benign sources are evaluation questions by origin (vicuna, self-instruct, arena-hard), and
safety benchmarks (advbench, harmbench) are ordinary-sounding requests by design.

How it is meant to be used: as a per-payload *content signal*. Score each distinct payload once
(``ProbeModel.load().probe_probability(payloads, payload_vectors, embedder.name)``) and aggregate per account or
cohort (mean probability, share above 0.5, spread over capability areas). A single probability is weak evidence: a
real user may ask a benchmark-like question, and a harmful request from a safety benchmark reads like an ordinary one. Only a cohort's
sustained, broad probing is a campaign; a bag of 25 prompts of one kind is right for 35 of the 50 held-out sources
(above). ``engine.detect.signals`` reads it per payload (``probe``).

Features, and why these:

* Character n-grams of orders 1-5 over the lower-cased first ``MAX_CHARS`` characters, each text padded with a
  space, hashed (FNV-1a style, 64-bit, then mixed) into ``2**BITS`` buckets. No vocabulary, so neither the weights
  file nor the code holds any corpus text; any script or language works the same way; the hash is plain uint64
  arithmetic, identical on every platform and numpy version.
* Value of a bucket = its count / sqrt(number of n-grams in the text): close to an L2 normalisation when most
  n-grams are distinct, and it makes the logit a sum of per-n-gram weights, so scoring needs no sparse matrix
  (``np.bincount`` over bucket weights, vectorised, tens of thousands of texts a second on two cores).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

#: log2 of the number of hash buckets: 2**18 float16 weights is 512 KiB before compression. More buckets gained
#: nothing measurable on held-out sources (collisions are not what limits this model).
BITS = 18
#: Character n-gram orders. 1-2 catch script and punctuation (answer options, digits, code symbols), 3-5 catch
#: word pieces and short phrases in any language.
ORDERS = (1, 2, 3, 4, 5)
#: Characters of a payload the model reads. A probe shows what it is in its opening (the question, the task);
#: reading more costs time on long documents without changing the verdict.
MAX_CHARS = 1000
#: Texts hashed at once: bounds memory (about 100 bytes per character per batch).
BATCH = 4096

DEFAULT_PATH = Path(__file__).with_name("data") / "probe_model.npz"

_PRIME = np.uint64(0x100000001B3)
_OFFSET = np.uint64(0xCBF29CE484222325)
_ORDER_SALT = 0x9E3779B97F4A7C15  # distinct, well-mixed start per n-gram order


def hashed_ngrams(
    texts: Sequence[str], bits: int = BITS, orders: Sequence[int] = ORDERS, max_chars: int = MAX_CHARS
) -> tuple[np.ndarray, np.ndarray]:
    """(text index, bucket) of every character n-gram of ``texts``, in one vectorised pass.

    Texts are joined with NUL separators into one code-point array; an n-gram that would span a separator is
    dropped. NUL inside a text is removed first so it cannot split that text.
    """
    padded = [" " + t[:max_chars].replace("\x00", "").lower() + " " for t in texts]
    codes = np.frombuffer(("\x00".join(padded) + "\x00").encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    n_pos = len(codes)
    span = np.fromiter((len(t) + 1 for t in padded), dtype=np.int64, count=len(padded))  # text + its separator
    doc = np.repeat(np.arange(len(padded)), span)  # text index of each position
    room = np.repeat(np.cumsum(span) - 1, span) - np.arange(n_pos)  # characters from here to the separator
    shift = np.uint64(64 - bits)
    docs, buckets = [], []
    h = np.full(n_pos, _OFFSET, dtype=np.uint64)
    for n in range(1, max(orders) + 1):
        m = n_pos - n + 1
        h = (h[:m] ^ codes[n - 1 :]) * _PRIME  # FNV-1a over code points: h_n from h_(n-1), one multiply
        if n not in orders:
            continue
        keep = room[:m] >= n
        g = h[keep] ^ np.uint64((n * _ORDER_SALT) & 0xFFFFFFFFFFFFFFFF)
        g ^= g >> np.uint64(29)
        g *= _PRIME
        buckets.append((g >> shift).astype(np.int64))
        docs.append(doc[:m][keep])
    return np.concatenate(docs), np.concatenate(buckets)


def feature_matrix(texts: Sequence[str], bits: int = BITS) -> sp.csr_matrix:
    """Sparse features for training: bucket counts / sqrt(n-grams in the text). Same values ``ProbeModel`` scores."""
    parts = []
    for start in range(0, len(texts), BATCH):
        chunk = texts[start : start + BATCH]
        doc, bucket = hashed_ngrams(chunk, bits)
        n = np.bincount(doc, minlength=len(chunk)).astype(np.float64)
        x = sp.csr_matrix((1.0 / np.sqrt(np.maximum(n[doc], 1.0)), (doc, bucket)), shape=(len(chunk), 2**bits))
        x.sum_duplicates()
        parts.append(x)
    if not parts:
        return sp.csr_matrix((0, 2**bits))
    return sp.vstack(parts, format="csr")


@dataclass
class ProbeModel:
    """Linear model over hashed character n-grams; ``coef`` has one weight per bucket.

    Optionally a second, *joint* linear model over the same n-gram features plus the payload's embedding vector from
    the embedder named ``embedder`` (``joint_coef`` per bucket, ``joint_emb`` per embedding dimension). It is used
    only when ``probe_probability`` gets vectors from that embedder; otherwise the n-gram model alone answers.
    """

    coef: np.ndarray
    intercept: float
    bits: int = BITS
    joint_coef: np.ndarray | None = None
    joint_emb: np.ndarray | None = None
    joint_intercept: float = 0.0
    embedder: str | None = None

    @classmethod
    def load(cls, path: Path | str | None = None) -> ProbeModel:
        """The shipped model (``engine/detect/data/probe_model.npz``) or one written by ``save``."""
        with np.load(Path(path) if path else DEFAULT_PATH) as z:
            bits = int(z["bits"])
            if tuple(int(o) for o in z["orders"]) != tuple(ORDERS) or int(z["max_chars"]) != MAX_CHARS:
                raise ValueError("probe model was trained with other features; retrain with train_content_model.py")
            coef = z["coef"].astype(np.float32)
            if coef.shape != (2**bits,):
                raise ValueError(f"probe model has {coef.shape} weights, expected {2**bits}")
            m = cls(coef=coef, intercept=float(z["intercept"]), bits=bits)
            if "joint_coef" in z:
                m.joint_coef = z["joint_coef"].astype(np.float32)
                m.joint_emb = z["joint_emb"].astype(np.float32)
                m.joint_intercept = float(z["joint_intercept"])
                m.embedder = str(z["embedder"])
            return m

    def save(self, path: Path | str) -> None:
        """Weights as float16 (the rounding moves a probability by < 1e-3) plus the feature settings they need."""
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        extra = {}
        if self.joint_coef is not None and self.joint_emb is not None:
            extra = dict(
                joint_coef=self.joint_coef.astype(np.float16),
                joint_emb=self.joint_emb.astype(np.float32),
                joint_intercept=np.float64(self.joint_intercept),
                embedder=np.str_(self.embedder or ""),
            )
        np.savez_compressed(
            path,
            coef=self.coef.astype(np.float16),
            intercept=np.float64(self.intercept),
            bits=np.int64(self.bits),
            orders=np.asarray(ORDERS, dtype=np.int64),
            max_chars=np.int64(MAX_CHARS),
            **extra,
        )

    def uses_vectors(self, vectors: np.ndarray | None, embedder: str | None = None) -> bool:
        """Whether ``vectors`` feed the joint model: it exists, the width matches and (if given) the embedder name."""
        if vectors is None or self.joint_coef is None or self.joint_emb is None:
            return False
        if embedder is not None and embedder != self.embedder:
            return False
        return np.ndim(vectors) == 2 and np.shape(vectors)[1] == len(self.joint_emb)

    def _ngram_logit(self, texts: Sequence[str], coef: np.ndarray) -> np.ndarray:
        out = np.empty(len(texts), dtype=np.float64)
        coef = coef.astype(np.float64, copy=False)
        for start in range(0, len(texts), BATCH):
            chunk = texts[start : start + BATCH]
            doc, bucket = hashed_ngrams(chunk, self.bits)
            total = np.bincount(doc, weights=coef[bucket], minlength=len(chunk))
            n = np.bincount(doc, minlength=len(chunk))
            out[start : start + len(chunk)] = total / np.sqrt(np.maximum(n, 1))
        return out

    def decision(
        self, texts: Sequence[str], vectors: np.ndarray | None = None, embedder: str | None = None
    ) -> np.ndarray:
        """Logit per text (> 0: probe more likely than not). See ``probe_probability`` for ``vectors``."""
        if not self.uses_vectors(vectors, embedder):
            return self._ngram_logit(texts, self.coef) + self.intercept
        v = np.asarray(vectors, dtype=np.float64)
        if len(v) != len(texts):
            raise ValueError(f"{len(texts)} texts but {len(v)} vectors")
        assert self.joint_coef is not None and self.joint_emb is not None
        return self._ngram_logit(texts, self.joint_coef) + v @ self.joint_emb.astype(np.float64) + self.joint_intercept

    def probe_probability(
        self, texts: Sequence[str], vectors: np.ndarray | None = None, embedder: str | None = None
    ) -> np.ndarray:
        """Probability (0..1, float64) that each text is a capability probe rather than an ordinary request.

        ``vectors``: the payloads' embeddings, aligned with ``texts``, as the pipeline already has them. They are
        used (joint n-gram + embedding model) only when the weights file has a joint model, the vectors come from
        the embedder it names (``self.embedder``, checked when ``embedder`` — the vectors' ``Embedder.name`` — is
        given) and their width matches. Vectors from another embedder, or none, fall back to the n-gram model alone
        (held-out figures for both in ``scripts/bench_content_model.py``)."""
        return 1.0 / (1.0 + np.exp(-self.decision(texts, vectors, embedder)))

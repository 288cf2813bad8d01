"""Stage 2: text normalisation and slot masking.

Every later stage (hashing, embedding, template mining) reads the output of this module, never raw text, so two
prompts that differ only in Unicode form, invisible characters or white space are one text to the engine.

* ``normalize(text)``: NFKC, control characters dropped, white space folded. Bounded to ``MAX_CHARS`` so a 10 MB
  prompt is stored whole but costs the hashing and embedding stages no more than an ordinary one.
* ``mask(text)``: the per-prompt *skeleton*: variable slots (code blocks, URLs, e-mails, quoted strings, numbers,
  long embedded passages) replaced by placeholders, so prompts that share a wrapper share a skeleton.
* ``text_hash(text)``: a 16-byte content key of the normalised text; the embedding cache and the duplicate
  collapse are keyed on it, so no text is embedded twice.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable

import numpy as np
import pyarrow as pa

#: Characters of a prompt that the hashing and embedding stages look at. MiniLM reads 256 word pieces (about
#: 1,000 characters of English); MinHash gains nothing from more than a few thousand.
MAX_CHARS = 4000

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028\u2029\u2060\ufeff]")
_SPACES = re.compile(r"[ \t\xa0]+")
_BLANK_LINES = re.compile(r"\n\s*\n+")

PLACEHOLDERS = ("<CODE>", "<URL>", "<EMAIL>", "<STR>", "<NUM>", "<TEXT>")
_CODE_FENCE = re.compile(r"```.*?(?:```|$)", re.S)
_URL = re.compile(r"\b(?:https?://|www\.)\S+", re.I)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.-]+\b")
_QUOTED = re.compile(r"\"[^\"\n]{1,300}\"|“[^”\n]{1,300}”|«[^»\n]{1,300}»|'[^'\n]{3,300}'(?!\w)|`[^`\n]{1,200}`")
_NUMBER = re.compile(r"(?<![\w<])[-+]?\$?\d[\d,]*(?:\.\d+)?%?(?![\w>])|(?<![\w<])\d+(?:st|nd|rd|th)\b")
_INDENTED_CODE = re.compile(r"(?m)(?:^(?: {4}|\t).*\n?){2,}")
_REPEATS = re.compile(r"(<(?:CODE|URL|EMAIL|STR|NUM|TEXT)>)(?:[\s,;:]*\1)+")
# Cheap tests that a pattern cannot match, so ``mask`` skips it (each is a necessary condition of a match): most
# prompts hold no code fence, indentation, URL, e-mail or digit, and a failed regex scan costs as much as a match.
_WWW = re.compile(r"www\.", re.I)
_DIGIT = re.compile(r"\d")
_LOWER_PLACEHOLDERS = tuple((ph.lower(), ph) for ph in PLACEHOLDERS)
#: A line longer than this many words is treated as an embedded passage (a document, a question, an essay)
#: rather than part of a wrapper: wrappers are instructions, rarely a paragraph of forty words on one line.
LONG_LINE_WORDS = 40


def normalize(text: str, max_chars: int = MAX_CHARS) -> str:
    """Canonical form of a prompt for hashing and embedding: NFKC, no control characters, folded white space."""
    if len(text) > max_chars:
        text = text[:max_chars]
    text = unicodedata.normalize("NFKC", text)
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    if "  " in text or "\t" in text or "\xa0" in text:  # else every run is one plain space already (3/4 of the cost)
        text = _SPACES.sub(" ", text)
    text = _BLANK_LINES.sub("\n\n", text)
    return "\n".join(line.strip() for line in text.split("\n")).strip()


def normalize_request(text: str, turn_at: int = 0, max_chars: int = MAX_CHARS) -> str:
    """``normalize``, but a chat request whose text runs past ``max_chars`` keeps its newest turn.

    A chat request's text is its system prompt, a blank line, then the newest turn from ``turn_at`` on (ingest's
    ``turn_at``). An agent framework's system prompt alone may run to tens of thousands of characters: cut at
    ``max_chars`` as one string, every request under it would be the same text, the turn cut away. Each part is
    bounded on its own instead; a text within the bound, and any text without a turn offset, is ``normalize``'s."""
    if turn_at <= 0 or len(text) <= max_chars:
        return normalize(text, max_chars)
    head, turn = normalize(text[: max(turn_at - 2, 0)], max_chars), normalize(text[turn_at:], max_chars)
    return f"{head}\n\n{turn}" if head and turn else head or turn


def mask(text: str) -> str:
    """Per-prompt skeleton of already-normalised text: slots masked, case folded.

    The masks are ordered from the largest slot to the smallest so that a number inside a code block or URL is
    swallowed by the larger slot, and consecutive placeholders of one kind collapse into one ("1, 2 and 3" and
    "7" both become ``<NUM>``-like runs) so the skeleton does not depend on how many values a slot held.

    Each pattern is guarded by a test that it cannot match (no backtick fence, no indentation, no ``://``/``www.``,
    no ``@``, no digit, no line long enough for ``LONG_LINE_WORDS`` words, no ``<``): the output is what the
    unguarded sequence gives, at about half the cost, which matters because the template stage masks every distinct
    segment of the log.
    """
    s = _CODE_FENCE.sub("<CODE>", text) if "```" in text else text
    if "    " in s or "\t" in s:
        s = _INDENTED_CODE.sub("<CODE>\n", s)
    if "://" in s or _WWW.search(s):
        s = _URL.sub("<URL>", s)
    if "@" in s:
        s = _EMAIL.sub("<EMAIL>", s)
    s = _QUOTED.sub("<STR>", s)
    if _DIGIT.search(s):
        s = _NUMBER.sub("<NUM>", s)
    long_line = 2 * LONG_LINE_WORDS  # more than N words need at least 2N + 1 characters
    if len(s) > long_line:
        s = "\n".join(
            "<TEXT>" if len(line) > long_line and len(line.split()) > LONG_LINE_WORDS else line
            for line in s.split("\n")
        )
    s = s.lower()
    if "<" not in s:
        return s
    for low, ph in _LOWER_PLACEHOLDERS:
        if low in s:
            s = s.replace(low, ph)
    return _REPEATS.sub(r"\1", s)


class MaskBatches:
    """``mask`` over batches of normalised texts (column ``norm``) to their skeletons (``skeleton``): an executor's
    per-batch work. Pure Python per row, each skeleton from its own text, so a local executor runs it in worker
    processes on a large table (``processes``): at 1M prompts, 504k texts took 13 s on one core."""

    processes = True

    def __call__(self, batch: pa.Table) -> pa.Table:
        return pa.table({"skeleton": pa.array([mask(t) for t in batch["norm"].to_pylist()], pa.string())})


def text_hash(text: str) -> bytes:
    """16-byte content key of a normalised text (blake2b): the embedding cache and duplicate collapse use it."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


def hash64(keys: Iterable[str | bytes]) -> np.ndarray:
    """Stable signed 64-bit ids of strings (first 8 bytes of blake2b), as an int64 array.

    Used wherever a string key must become a numpy/DuckDB-friendly integer (skeleton ids, template ids) that is the
    same across runs and machines, unlike Python's salted ``hash``.
    """
    vals = [
        int.from_bytes(
            hashlib.blake2b(k if isinstance(k, bytes) else k.encode("utf-8", "surrogatepass"), digest_size=8).digest(),
            "little",
            signed=True,
        )
        for k in keys
    ]
    return np.array(vals, dtype=np.int64)

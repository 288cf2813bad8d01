"""Analyst queries over a committed snapshot: similar prompts by id or by free text.

A ``Searcher`` loads the id maps and the FAISS index once (a long-lived process keeps one), after which one query
is a dictionary lookup, one HNSW search and a few hundred signature comparisons: well under 5 ms at 100k texts.

Two kinds of neighbour are returned, because analysts ask two different questions:

* **near-duplicates** (MinHash): the same text, or the same text with a few words changed: "who else sent this?"
  Candidates are the prompt's LSH near-duplicate group plus its semantic neighbours, ranked by estimated Jaccard.
* **semantic neighbours** (FAISS cosine): prompts that ask the same thing in other words.

A stored prompt outside the analysis window (older than the window, or pruned from it) has no vector, signature
or text row, but its text is stored: it is answered from that text exactly as free text is, and the result says
so (``query["in_window"]`` is false and ``query["note"]`` explains), because "not found" for a prompt the analyst
can see in the store would be wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: workers starting together may each build the table
    fcntl = None  # type: ignore[assignment]

from engine.ingest.records import epoch_seconds
from engine.store import Snapshot, StoreError
from engine.store.tables import Tables
from engine.text.minhash import MinHasher, jaccard
from engine.text.normalize import normalize
from engine.vectors.index import VectorIndex

MIN_JACCARD = 0.3
#: the ANN neighbours a similar-by-id query reads: its semantic top k + 1 and the near-duplicate candidates (top 50)
ANN_WIDTH = 50
#: queries per FAISS call when a server builds its neighbour table (``Searcher.prepare_table``)
TABLE_BATCH = 16_384
OUTSIDE_WINDOW_NOTE = "outside the analysis window: answered from its text (no cluster, vector or signature stored)"


@dataclass
class Neighbour:
    prompt_id: str
    account_id: str
    timestamp: str
    cluster_id: int
    score: float
    same_text_prompts: int
    snippet: str


@dataclass
class SimilarResult:
    query: dict
    near_duplicates: list[Neighbour]
    semantic: list[Neighbour]

    def to_dict(self) -> dict:
        # vars() copies a flat dataclass in a fraction of asdict's time (asdict deep-copies every field): this is
        # the server's hottest path
        return {
            "query": self.query,
            "near_duplicates": [dict(vars(n)) for n in self.near_duplicates],
            "semantic": [dict(vars(n)) for n in self.semantic],
        }


class Searcher:
    """In-memory maps over one snapshot (prompt id -> text row -> prompts) plus its index and signatures."""

    def __init__(self, snapshot: Snapshot, *, preload: bool = False) -> None:
        """``preload`` reads vectors and signatures into memory (a server, answering many queries) instead of
        memory-mapping them (a one-shot query, which touches a few rows): fancy-indexing a memory map costs more
        than the search itself."""
        self.snapshot = snapshot
        self.tables = Tables(snapshot)
        w = self.tables.window()
        self.prompt_ids: list[str] = w["prompt_id"].to_pylist()
        self.accounts: list[str] = w["account_id"].to_pylist()
        self.times = epoch_seconds(w["timestamp"])
        # one contiguous array: ``take`` on a many-chunked column would first combine it, copying every text of the
        # window on each request (measured at 1M prompts: 290 ms a similar-by-id and +4 GB resident)
        self.texts = w["text"].cast(pa.large_string()).combine_chunks()
        rows = w["text_row"].to_numpy()
        self.row_of = {pid: i for i, pid in enumerate(self.prompt_ids)}
        n_texts = int(rows.max()) + 1 if len(rows) else 0
        self.text_start = np.searchsorted(rows, np.arange(n_texts + 1))
        self.text_of_prompt = rows
        self.cluster, self.dup_group = self.tables.text_labels()
        order = np.argsort(self.dup_group, kind="stable")
        self.group_order, self.group_sorted = order, self.dup_group[order]
        self.vectors = snapshot.array("vectors")
        self.sigs = snapshot.array("signatures")
        self._snippets: list[str] | None = None
        self._table: tuple[np.ndarray, np.ndarray] | None = None  # every text's ANN top ANN_WIDTH: (ids, sims)
        if preload:
            self.vectors, self.sigs = np.array(self.vectors), np.array(self.sigs)
        self.index = VectorIndex.open(snapshot.path, self.vectors)
        if preload:
            # each result row's snippet made once (a few seconds at 1M prompts, ~250 MB) rather than per answer
            heads = pc.utf8_slice_codeunits(self.texts, 0, 200).to_pylist()
            self._snippets = [" ".join(t.split()) for t in heads]
        self.meta = snapshot.meta()
        self._embedder = None
        self._row_of_key: dict[bytes, int] | None = None
        self._window_accounts = w["account_id"]
        self._by_account: tuple[dict[str, int], np.ndarray, np.ndarray] | None = None

    # -- public ----------------------------------------------------------------------------------------------
    def similar(self, prompt_id: str, k: int = 10) -> SimilarResult:
        """Neighbours of a stored prompt: from its stored vector and signature when it is in the analysis window,
        otherwise from its stored text (see the module docstring); a prompt in no table raises ``StoreError``."""
        i = self.row_of.get(str(prompt_id))
        if i is None:
            return self._similar_outside_window(str(prompt_id), k)
        tr = int(self.text_of_prompt[i])
        if self._table is not None and k + 1 <= self._table[0].shape[1]:
            ids, sims = self._table[0][tr].astype(np.int64), self._table[1][tr]  # the search, done ahead
        else:
            sims, ids = self._search(np.asarray(self.vectors[tr], np.float32), k)
        near = self._near_rows(self.sigs[tr], ids, k, exclude=i, self_text=tr)
        sem = self._semantic_rows(sims, ids, k, exclude_text=tr)
        (query,), near_n, sem_n = self._results([i], [1.0], *near, *sem)
        return SimilarResult({**vars(query), "in_window": True}, near_n, sem_n)

    def prepare_table(self, directory: Path, *, threads: int = 1) -> None:
        """Read, or build and write, every window text's ANN top ``ANN_WIDTH``: then a similar-by-id answer for
        ``k`` < ``ANN_WIDTH`` reads its text's row instead of searching the index.

        The search was half of an answer's time: at 1.12M prompts 245 against 480 µs in-process, and with 8
        clients on 2 cores p50 2.4 against 3.7 ms. The rows are the search a query makes (the same stored
        vectors on the same index; HNSW's answer for a query does not depend on its batch), so the answers are
        byte for byte the same. A flat index (below ``FLAT_MAX`` texts) is left to search: it is cheap there, and
        a batch of queries goes through BLAS, which sums in another order.

        Built once per snapshot (~70 core-seconds at 504k texts) and kept in ``directory`` (written under a
        temporary name and renamed) for later starts. Workers starting together take turns on a lock file: one
        builds, the others wait and memory-map what it wrote. A directory that cannot be written (a read-only
        store) gets no lock and no file: the table is built and served from memory."""
        import faiss

        n = self.index.size
        if n == 0 or not isinstance(self.index.index, faiss.IndexHNSW):
            return
        width = min(ANN_WIDTH, n)
        try:
            directory.mkdir(parents=True, exist_ok=True)
            lock = open(directory / ".lock", "a+")  # noqa: SIM115 - held across the build below
        except OSError:
            self._table = self._build_table(width, threads)
            return
        with lock:
            if fcntl is not None:
                fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
            self._table = self._read_table(directory, (n, width))
            if self._table is None:
                self._table = self._build_table(width, threads)
                self._write_table(directory, *self._table)

    @staticmethod
    def _read_table(directory: Path, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray] | None:
        try:
            ids = np.load(directory / "ids.npy", mmap_mode="r")
            sims = np.load(directory / "sims.npy", mmap_mode="r")
        except (OSError, ValueError):  # not built yet, or torn: build it again
            return None
        return (ids, sims) if ids.shape == sims.shape == shape else None

    def _build_table(self, width: int, threads: int) -> tuple[np.ndarray, np.ndarray]:
        import faiss

        n = self.index.size
        before = faiss.omp_get_max_threads()
        faiss.omp_set_num_threads(threads)  # this thread's OpenMP setting: restored below
        try:
            ids = np.empty((n, width), np.int32)
            sims = np.empty((n, width), np.float32)
            for lo in range(0, n, TABLE_BATCH):
                q = np.asarray(self.vectors[lo : lo + TABLE_BATCH], np.float32)
                d, i = self.index.search(q, width)
                ids[lo : lo + len(q)], sims[lo : lo + len(q)] = i, d
        finally:
            faiss.omp_set_num_threads(before)
        return ids, sims

    @staticmethod
    def _write_table(directory: Path, ids: np.ndarray, sims: np.ndarray) -> None:
        from engine.embed.cache import atomic_save

        try:
            atomic_save(directory / "ids.npy", ids)
            atomic_save(directory / "sims.npy", sims)
        except OSError:  # a full disk: the table serves from memory alone
            pass

    def similar_text(self, text: str, k: int = 10) -> SimilarResult:
        """Neighbours of free text: normalised, MinHashed and embedded with the embedder that built the store."""
        near, sem = self._from_text(text, k, exclude_text=-1)
        return SimilarResult({"text": text[:300]}, near, sem)

    def rows_of_account(self, account_id: str) -> np.ndarray:
        """Window prompt rows of one account, oldest first (empty for an account with none in the window)."""
        code_of, order, bounds = self._account_index()
        c = code_of.get(str(account_id))
        if c is None:
            return np.zeros(0, dtype=np.int64)
        rows = order[bounds[c] : bounds[c + 1]]
        return rows[np.argsort(self.times[rows], kind="stable")]

    def times_of(self, account_ids: list[str]) -> np.ndarray:
        """Epoch seconds of every window prompt the given accounts sent (a campaign's timeline)."""
        code_of, order, bounds = self._account_index()
        codes = [code_of[a] for a in account_ids if a in code_of]
        if not codes:
            return np.zeros(0, dtype=np.int64)
        return self.times[np.concatenate([order[bounds[c] : bounds[c + 1]] for c in codes])]

    def prompt_row(self, prompt_id: str) -> int | None:
        """The window row of a prompt id, or None when it is not in the analysis window."""
        return self.row_of.get(str(prompt_id))

    def rows_as_results(self, prompt_rows: list[int] | np.ndarray) -> list[dict]:
        """Window prompts as the search results show them (ids, time, cluster, snippet): account and cluster
        pages list prompts this way."""
        rows = [int(r) for r in prompt_rows]
        return [dict(vars(n)) for n in self._neighbours(rows, [1.0] * len(rows))]

    # -- internals -------------------------------------------------------------------------------------------
    def _account_index(self) -> tuple[dict[str, int], np.ndarray, np.ndarray]:
        """Account -> window rows, built on first use (a one-shot ``promptsim similar`` never needs it): the
        accounts dictionary-encoded once in Arrow, rows ordered by account code with the bounds of each."""
        if self._by_account is None:
            enc = self._window_accounts.combine_chunks().dictionary_encode()
            names = enc.dictionary.to_pylist()
            codes = enc.indices.to_numpy(zero_copy_only=False).astype(np.int64)
            order = np.argsort(codes, kind="stable")
            bounds = np.searchsorted(codes[order], np.arange(len(names) + 1))
            self._by_account = ({n: i for i, n in enumerate(names)}, order, bounds)
        return self._by_account

    def _similar_outside_window(self, prompt_id: str, k: int) -> SimilarResult:
        row = self.tables.prompt(prompt_id)
        if row is None:
            raise StoreError(f"prompt {prompt_id!r} is not in the store (no stored prompt has that id)")
        text = row["text"] or ""
        # the same text may still be in the window under other prompts: those are near-duplicates (Jaccard 1.0),
        # not semantic neighbours, exactly as for an in-window query
        same_text = self._text_row_of_key().get(row.get("text_key"), -1)
        near, sem = self._from_text(text, k, exclude_text=same_text)
        query = {
            "prompt_id": row["prompt_id"],
            "account_id": row["account_id"],
            "timestamp": iso(row["timestamp"]),
            "cluster_id": None,
            "score": 1.0,
            # window prompts with this text (the prompt itself, outside the window, is not one of them)
            "same_text_prompts": int(self.text_start[same_text + 1] - self.text_start[same_text])
            if same_text >= 0
            else 0,
            "snippet": " ".join(text[:200].split()),
            "in_window": False,
            "note": OUTSIDE_WINDOW_NOTE,
        }
        return SimilarResult(query, near, sem)

    def _from_text(self, text: str, k: int, *, exclude_text: int) -> tuple[list[Neighbour], list[Neighbour]]:
        """Near-duplicates and semantic neighbours of a text that has no stored vector or signature."""
        norm = normalize(text)
        sims, ids = self._search(self._embed(norm), k)
        sig = MinHasher().signatures([norm])[0]
        near = self._near_rows(sig, ids, k, exclude=-1, self_text=-1)
        sem = self._semantic_rows(sims, ids, k, exclude_text=exclude_text)
        near_n, sem_n = self._results(*near, *sem)
        return near_n, sem_n

    def _embed(self, norm: str) -> np.ndarray:
        """``norm``'s vector from the embedder (and models directory) the store's vectors were made with: any
        other embedder's vectors would not be comparable with the index."""
        if self._embedder is None:
            from engine.embed import get_embedder

            config = self.meta.get("config") or {}
            spec = config.get("embedder") or self.meta.get("embedder_spec") or "static"
            models_dir = config.get("models_dir")
            self._embedder = get_embedder(spec, Path(models_dir) if models_dir else None)
        return np.asarray(self._embedder.encode([norm])[0], dtype=np.float32)

    def _text_row_of_key(self) -> dict[bytes, int]:
        """Content key -> text row of the window's texts, read on first use (only out-of-window queries need it)."""
        if self._row_of_key is None:
            keys, _ = self.tables.text_index()
            self._row_of_key = {key: r for r, key in enumerate(keys)}
        return self._row_of_key

    def _results(self, *groups: list) -> tuple[list[Neighbour], ...]:
        """Several (rows, scores) groups as results, built in one batch (one Arrow take, one time conversion)."""
        rows = [r for g in groups[0::2] for r in g]
        scores = [x for g in groups[1::2] for x in g]
        built = self._neighbours(rows, scores)
        out, at = [], 0
        for g in groups[0::2]:
            out.append(built[at : at + len(g)])
            at += len(g)
        return tuple(out)

    def _neighbours(self, prompt_rows: list[int], scores: list[float]) -> list[Neighbour]:
        """Window prompts as results, built together: one Arrow take for the texts and one vectorised timestamp
        conversion instead of a lookup and a strftime per neighbour (this is most of a similar-by-id answer)."""
        if not len(prompt_rows):
            return []
        rows = np.asarray(prompt_rows, dtype=np.int64)
        tr = self.text_of_prompt[rows]
        stamps = np.datetime_as_string(self.times[rows].astype("datetime64[s]"), unit="s")
        same = self.text_start[tr + 1] - self.text_start[tr]
        if self._snippets is not None:
            snippets = [self._snippets[r] for r in rows.tolist()]
        else:
            snippets = [" ".join(t[:200].split()) for t in self.texts.take(rows).to_pylist()]
        # plain Python values first: iterating numpy arrays makes a numpy scalar per element, which was a tenth of
        # a similar-by-id answer
        pids, accs = self.prompt_ids, self.accounts
        return [
            Neighbour(pids[r], accs[r], f"{ts}Z", c, round(sc, 4), n, snip)
            for r, ts, c, sc, n, snip in zip(
                rows.tolist(), stamps.tolist(), self.cluster[tr].tolist(), np.asarray(scores, np.float64).tolist(),
                same.tolist(), snippets, strict=True,
            )
        ]  # fmt: skip

    def _search(self, vec: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """One ANN search serves both kinds of neighbour: the semantic top k (+1 for the query's own text) and the
        near-duplicate candidates (top 50)."""
        if self.index.size == 0:
            return np.zeros(0, np.float32), np.zeros(0, np.int64)
        sims, ids = self.index.search(vec[None, :], min(max(50, k + 1), self.index.size))
        return sims[0], ids[0]

    def _near_rows(
        self, sig: np.ndarray, ann: np.ndarray, k: int, *, exclude: int, self_text: int
    ) -> tuple[list[int], list[float]]:
        """Near-duplicates as (prompt rows, Jaccard): candidates (the query text's near-duplicate group, up to 500,
        plus the ANN top 50) ranked by MinHash Jaccard estimate."""
        if self.index.size == 0:
            return [], []
        parts = [ann[:50][ann[:50] >= 0].astype(np.int64)]
        if self_text >= 0:
            g = self.dup_group[self_text]
            lo, hi = np.searchsorted(self.group_sorted, [g, g + 1])
            parts.append(np.asarray(self.group_order[lo:hi][:500], dtype=np.int64))
        cand = np.concatenate(parts)
        cand.sort()
        cand = cand[np.flatnonzero(np.diff(cand, prepend=-1))]  # np.unique's answer, without its overhead
        if not len(cand):
            return [], []
        est = jaccard(self.sigs[cand], sig)
        order = np.argsort(-est, kind="stable")
        order = order[est[order] >= MIN_JACCARD]  # ranked best first, so these are all the candidates kept
        texts = cand[order]
        rows: list[int] = []
        scores: list[float] = []
        for lo, hi, e in zip(self.text_start[texts].tolist(), self.text_start[texts + 1].tolist(),
                             est[order].tolist(), strict=True):  # fmt: skip
            if len(rows) >= k:
                break
            for p in range(lo, hi):
                if p != exclude and len(rows) < k:
                    rows.append(p)
                    scores.append(e)
        return rows, scores

    def _semantic_rows(
        self, sims: np.ndarray, ids: np.ndarray, k: int, *, exclude_text: int
    ) -> tuple[list[int], list[float]]:
        """Semantic neighbours as (prompt rows, cosine): the first prompt of each of the k nearest other texts."""
        keep = (ids[: k + 1] >= 0) & (ids[: k + 1] != exclude_text)
        texts, scores = ids[: k + 1][keep][:k], sims[: k + 1][keep][:k]
        return self.text_start[texts].tolist(), scores.tolist()


def iso(v: object) -> str | None:
    """A timestamp as the JSON, the API and the UI show it (``2026-11-20T13:45:00Z``; a naive one is taken as
    UTC); None stays None and anything else is shown as it is."""
    if v is None:
        return None
    if isinstance(v, datetime):
        if v.tzinfo is None:
            v = v.replace(tzinfo=timezone.utc)
        return v.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(v)

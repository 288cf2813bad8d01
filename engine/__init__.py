"""promptsim: find distillation / capability-extraction campaigns in LLM API prompt logs.

The package is laid out as the nightly pipeline runs, one sub-package per phase:

    ingest/    read JSONL / CSV / Parquet (gzipped or not) into Arrow records; quarantine bad rows
    text/      normalise and mask, wrapper templates mined across accounts, MinHash + LSH near-duplicates
    embed/     embedders (MiniLM, static), the content-addressed cache, the embed stage
    vectors/   FAISS index, kNN graph and HDBSCAN (prompts and accounts alike)
    detect/    per-prompt and per-account signals, cohorts, evidence, reasons, settings, history across nights
    store/     immutable snapshots with atomic commit; every table schema and typed reader
    pipeline/  run configuration, the nightly run as a list of steps, executors
    app/       the command line, similar-prompt queries and reports: thin shells over the store
"""

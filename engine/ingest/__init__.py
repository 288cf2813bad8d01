"""Stage 1, ingest: log files (JSONL, CSV, Parquet; gzipped or not) to Arrow records, bad rows to a quarantine."""

from engine.ingest.formats import detect_format
from engine.ingest.readers import IngestStats, read_accounts, read_prompts
from engine.ingest.records import (
    ACCOUNT_SCHEMA,
    PROMPT_SCHEMA,
    InputError,
    Quarantine,
    chat_offsets,
    epoch_seconds,
    parse_timestamp,
)

__all__ = [
    "ACCOUNT_SCHEMA",
    "PROMPT_SCHEMA",
    "IngestStats",
    "InputError",
    "Quarantine",
    "chat_offsets",
    "detect_format",
    "epoch_seconds",
    "parse_timestamp",
    "read_accounts",
    "read_prompts",
]

"""Stage 6, detect: signals per prompt and account, cohorts of accounts, evidence, reasons, history across nights."""

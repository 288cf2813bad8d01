# Set-up and the two everyday jobs. `make demo` and `make test` work on a fresh clone: they create .venv first.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
STORE  ?= promptsim-store

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# torch first, pinned: a bare requirement would pull a multi-GB CUDA build
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)  ## generate the demo log, run the nightly job on it, print the campaigns
	$(PY) scripts/make_demo_log.py --out data
	HF_HUB_OFFLINE=1 $(VENV)/bin/promptsim run --input data/demo-prompts.jsonl --accounts data/demo-accounts.jsonl --store $(STORE)

test: $(STAMP)  ## the whole test suite (unit + end-to-end)
	HF_HUB_OFFLINE=1 $(PY) -m pytest

lint: $(STAMP)
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

bench: $(STAMP)  ## detection benchmark on ../shared/bench/public.json
	$(PY) scripts/bench_detection.py

clean:
	rm -rf $(STORE) data/*.jsonl

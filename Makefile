# Set-up and the two everyday jobs. `make demo` and `make test` work on a fresh clone: they create .venv first.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
STORE  ?= promptsim-store

.PHONY: demo test lint bench clean browser

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
	@echo "web UI and API: $(VENV)/bin/promptsim serve --store $(STORE)   then open http://127.0.0.1:8000/  (API docs /docs)"

test: $(STAMP) browser  ## the whole test suite (unit + end-to-end + headless-browser UI tests)
	HF_HUB_OFFLINE=1 $(PY) -m pytest

# Headless Chromium and its driver for the UI tests, from Debian's packages, where missing. Needs root and apt;
# where it cannot be installed the browser tests are skipped and say why (the rest of the suite runs as before).
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver) >/dev/null \
	      || echo "make browser: apt-get could not install chromium; the browser tests will be skipped"; \
	  else echo "make browser: chromium/chromedriver missing and not installable here (need root + apt-get);" \
	    "the browser tests will be skipped"; fi; }

lint: $(STAMP)
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

bench: $(STAMP)  ## detection benchmark on ../shared/bench/public.json
	$(PY) scripts/bench_detection.py

clean:
	rm -rf $(STORE) data/*.jsonl

# Set-up and the two everyday jobs. `make demo` and `make test` work on a fresh clone: they create .venv first.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
STORE  ?= promptsim-store
# every install is constrained to the pinned set (constraints.txt; `make lock` refreshes it)
PIP    := $(PY) -m pip install -q -c constraints.txt

.PHONY: demo test test-fast lint bench clean browser lock

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) --upgrade pip
	# torch first, pinned: a bare requirement would pull a multi-GB CUDA build
	$(PIP) torch==2.13.0
	$(PIP) -e ".[dev]"
	$(PY) scripts/pin_env.py check
	touch $(STAMP)

demo: $(STAMP)  ## generate the demo log (chat requests), run the nightly job on it, print the campaigns
	$(PY) scripts/make_demo_log.py --out data
	HF_HUB_OFFLINE=1 $(VENV)/bin/promptsim run --input data/demo-requests.jsonl --accounts data/demo-accounts.jsonl --store $(STORE)
	@echo "web UI and API: $(VENV)/bin/promptsim serve --store $(STORE)   then open http://127.0.0.1:8000/  (API docs /docs)"

test: $(STAMP) browser  ## the whole test suite (unit + end-to-end + verdict digest + headless-browser UI tests)
	HF_HUB_OFFLINE=1 $(PY) -m pytest

test-fast: $(STAMP)  ## everyday work: the suite without the tests marked slow (benchmarks, browser, Ray, crash)
	HF_HUB_OFFLINE=1 $(PY) -m pytest -m "not slow"

# Headless Chromium and its driver for the UI tests, from Debian's packages, where missing. Needs root and apt.
# Where it cannot be installed the browser tests are skipped and say why, except under CI (CI=true), where that is
# an error: CI must not go green with the UI untested.
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver) >/dev/null \
	      || { echo "make browser: apt-get could not install chromium"; [ -z "$$CI" ] || exit 1; \
	           echo "the browser tests will be skipped"; }; \
	  else echo "make browser: chromium/chromedriver missing and not installable here (need root + apt-get)"; \
	    [ -z "$$CI" ] || exit 1; echo "the browser tests will be skipped"; fi; }

# Refresh the pins: the newest releases in a fresh virtualenv, frozen into constraints.txt, then the digest of the
# static model they distil (engine/embed/data/). Then `make test`; commit both, with the verdict digest if it moved.
lock:
	rm -rf .lock-venv && python3 -m venv .lock-venv
	.lock-venv/bin/python -m pip install -q --upgrade pip
	.lock-venv/bin/python -m pip install -q torch==2.13.0
	.lock-venv/bin/python -m pip install -q -e ".[dev]"
	.lock-venv/bin/python scripts/pin_env.py freeze > constraints.txt
	HF_HUB_OFFLINE=1 .lock-venv/bin/python scripts/pin_env.py static --write
	rm -rf .lock-venv

lint: $(STAMP)
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

bench: $(STAMP)  ## detection benchmark on ../shared/bench/public.json
	$(PY) scripts/bench_detection.py

clean:
	rm -rf $(STORE) data/*.jsonl

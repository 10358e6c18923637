# One command to run the app, one to run the tests; both set everything up first.
VENV ?= .venv
PY := $(VENV)/bin/python
CHROMIUM := /usr/lib/chromium/chromium

.PHONY: setup run test lint chromium clean

setup: $(VENV)/.installed

# torch is installed on its own first, pinned: the CPU build is served locally, and letting the
# resolver pick torch for sentence-transformers could pull gigabytes of CUDA wheels.
$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "torch==2.13.0"
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

# Debian's chromium for the browser tests (never `playwright install`: the machine is offline).
chromium:
	@if [ ! -x $(CHROMIUM) ]; then \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
		else sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null; fi; \
	fi

run: setup
	$(PY) app.py

test: setup chromium
	$(PY) -m pytest

lint: setup
	$(VENV)/bin/ruff check qa app.py tests benchmarks
	$(VENV)/bin/mypy qa

clean:
	rm -rf $(VENV) index .pytest_cache

# One command to run the app, one to run the tests; both set everything up first.
VENV ?= .venv
PY := $(VENV)/bin/python
CHROMIUM := /usr/lib/chromium/chromium

.PHONY: setup model run test lint chromium clean

setup: $(VENV)/.installed

# The model served: all-MiniLM-L6-v2 fine-tuned on the labelled questions that have been read
# (calibration and holdout) and the corpus's example questions (README, "The adapted model";
# about 15 minutes on 2 cores: rebuilt only when its inputs change). The test split of
# tests/data/questions.jsonl and tests/data/fresh3.jsonl to fresh7.jsonl stay out: they measure it.
# The engine's code is an input: each question is learned as the engine searches it (a
# follow-up with its earlier turns, a question naming no subject read as one about it).
MODEL := models/adapted
TRAIN := tests/data/questions.jsonl tests/data/fresh.jsonl tests/data/fresh2.jsonl
model: $(MODEL)/qa-adapted.json

$(MODEL)/qa-adapted.json: $(VENV)/.installed $(TRAIN) $(wildcard corpus/*.txt corpus/*.md) \
		corpus/.qa-examples.jsonl corpus/.qa-search.json $(wildcard qa/*.py)
	$(VENV)/bin/qa adapt $(addprefix --questions ,$(TRAIN)) --split calibration --split holdout \
		--folds 0 --out $(MODEL)

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

# The app serves the adapted model, with an index of its own (index/ is the bundled model's).
run: setup model
	QA_MODEL=$(MODEL) QA_INDEX=index-adapted $(PY) app.py

test: setup chromium model
	$(PY) -m pytest

lint: setup
	$(VENV)/bin/ruff check qa app.py staff.py tests benchmarks
	$(VENV)/bin/mypy qa

clean:
	rm -rf $(VENV) index index-adapted models .pytest_cache

# One task runner for people and CI. `make demo` and `make test` each do the whole set-up on a fresh
# machine (virtual environment, Python packages) and are safe to run again.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/touthunt demo --config config.yaml

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/python -m ruff check . && $(BIN)/python -m ruff format --check .

bench: $(STAMP)
	$(BIN)/python bench/bench_crawl.py

clean:
	rm -rf $(VENV) var out .pytest_cache

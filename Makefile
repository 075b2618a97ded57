# One task runner for people and CI. `make demo` and `make test` each do the whole set-up on a fresh
# machine (Debian packages, virtual environment, Python packages) and are safe to run again.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# Debian packages: a CJK font and an emoji font, so Chinese text and the symbols scalpers write (➕V) in
# rendered images and screenshots are not empty boxes;
# the libraries OpenCV (used by the OCR) loads; Chromium for rendering and screenshots (Playwright drives
# Debian's browser: its own browser download does not work on a closed network); PostgreSQL, whose throw-away
# clusters the test suite starts on loopback ports to run the database tests a second time; Redis, whose
# servers the suite starts the same way for the shared crawl frontier's tests; gcc, which compiles the
# scorer's C modules when touthunt is installed.
DEBS   := fonts-wqy-microhei fonts-noto-color-emoji libgl1 libglib2.0-0 chromium postgresql redis-server gcc
DEB_STAMP := $(VENV)/.debs

.PHONY: demo test lint bench clean system-deps

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Installs what is missing with apt-get when run as root (CI, a fresh server); otherwise says what to install.
$(DEB_STAMP): Makefile | $(BIN)/python
	@missing=""; for p in $(DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else echo "please install the Debian packages:$$missing (sudo apt-get install$$missing)"; exit 1; fi; \
	fi
	touch $(DEB_STAMP)

system-deps: $(DEB_STAMP)

# setup.py and the C source: `pip install -e .` compiles keywords/_*.c, and must again when they change.
$(STAMP): pyproject.toml setup.py keywords/_automaton.c keywords/_fold.c keywords/_segment.c | $(BIN)/python $(DEB_STAMP)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/touthunt demo --config config.yaml

# Every test on SQLite, then the tests that keep data in a database again on PostgreSQL (tests/conftest.py).
test: $(STAMP)
	$(BIN)/python -m pytest
	TOUTHUNT_TEST_DATABASE=postgresql $(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/python -m ruff check . && $(BIN)/python -m ruff format --check .

bench: $(STAMP)
	$(BIN)/python bench/bench_crawl.py
	$(BIN)/python bench/bench_render.py
	$(BIN)/python bench/bench_workers.py

clean:
	rm -rf $(VENV) var out .pytest_cache build keywords/*.so

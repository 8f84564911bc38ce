# `make test` is the whole gate: it builds .venv when missing, re-installs when pyproject.toml
# changes, lints, runs every test on SQLite, the Django tests again on a throwaway PostgreSQL
# cluster, the browser tests, then every benchmark as a smoke run (figures not asserted). It
# installs from requirements.lock (pinned, hashed). CI runs exactly this (.ci/run, which first
# installs Debian's chromium and postgresql when they are missing).

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test lint pytest pytest-postgres e2e bench bench-quick demo rules-doc install lock clean help

help:
	@echo "make test       the whole gate: lint, tests on SQLite, the web tests again on"
	@echo "                PostgreSQL, the browser tests, then bench-quick (creates $(VENV))"
	@echo "make lint       ruff, mypy and import-linter only"
	@echo "make e2e        the browser tests only (Debian's Chromium, /usr/bin/chromium)"
	@echo "make demo       migrate, load the synthetic demo clinic, serve on http://127.0.0.1:8000"
	@echo "make bench      every benchmark (engines, documents, outbox, check-in load, phone"
	@echo "                journey, staff pages at scale, ...), then a table of every target"
	@echo "                with PASS or MISS"
	@echo "make bench-quick  the same as smoke runs (BENCH_QUICK=1, under a minute each)"
	@echo "make rules-doc  regenerate docs/clinical-rules.md from the protocol"
	@echo "make lock       re-resolve requirements.lock (pinned, hashed) after a pyproject.toml change"
	@echo "make clean      remove $(VENV) and caches"

# Order matters: the cheap checks fail first; the browser tests and the benchmarks' smoke runs
# (which fail only when a benchmark crashes, never on its figures) come last.
test: lint pytest pytest-postgres e2e bench-quick

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

pytest: $(STAMP)
	$(BIN)/pytest -q -m "not e2e" --ignore=tests/e2e

# The Django tests again on a throwaway PostgreSQL cluster (or DATABASE_URL when it is set).
pytest-postgres: $(STAMP)
	$(BIN)/python tests/postgres.py $(BIN)/pytest tests/web -q

e2e: $(STAMP)
	$(BIN)/pytest tests/e2e -q -m e2e

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

bench-quick: $(STAMP)
	BENCH_QUICK=1 $(BIN)/python benchmarks/run_all.py

# From a fresh clone: build the venv, create the database, load the synthetic demo clinic
# (idempotent; `$(BIN)/needlecare demo --reset` rebuilds it), then serve it.
# The worker sends the outbox beside the web server and stops with it (or on Ctrl-C).
demo: $(STAMP)
	$(BIN)/needlecare migrate
	$(BIN)/needlecare demo
	$(BIN)/needlecare worker & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	  $(BIN)/needlecare serve

rules-doc: $(STAMP)
	$(BIN)/needlecare rules-doc > docs/clinical-rules.md

install: $(STAMP)

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { \
	  echo "Needlecare needs Python >= 3.11; try: make PYTHON=python3.11 test" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

# The stamp is newer than pyproject.toml and the lock once the install for their current
# contents succeeded. Every dependency (build tools included) comes from requirements.lock,
# each pinned and checked against its SHA-256; Needlecare itself is installed editable on top,
# without build isolation, so nothing unpinned is fetched.
$(STAMP): pyproject.toml requirements.lock | $(BIN)/python
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

# The lock: pyproject.toml's dependencies with the dev extra, and the build tools
# (requirements-build.in), resolved for Python 3.11 on Linux with their hashes.
UV_VERSION := 0.13.9
lock: | $(BIN)/python
	$(BIN)/python -m pip install --quiet "uv==$(UV_VERSION)"
	$(BIN)/uv pip compile pyproject.toml requirements-build.in --extra dev --generate-hashes \
	  --python-version 3.11 --python-platform x86_64-unknown-linux-gnu --no-emit-package uv \
	  -o requirements.lock

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .import_linter_cache .hypothesis \
	  test-artifacts

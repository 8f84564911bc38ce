# `make test` is the whole gate: it builds .venv when missing, re-installs when pyproject.toml
# changes, lints, then runs the tests. CI runs exactly this (.ci/run).

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test lint pytest bench rules-doc install clean help

help:
	@echo "make test       lint, then run every test (creates $(VENV) if missing)"
	@echo "make lint       ruff, mypy and import-linter only"
	@echo "make bench      clinical engine benchmarks (protocol load, screening, triage)"
	@echo "make rules-doc  regenerate docs/clinical-rules.md from the protocol"
	@echo "make clean      remove $(VENV) and caches"

test: lint pytest

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports

pytest: $(STAMP)
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python benchmarks/clinical_engines.py

rules-doc: $(STAMP)
	$(BIN)/needlecare rules-doc > docs/clinical-rules.md

install: $(STAMP)

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { \
	  echo "Needlecare needs Python >= 3.11; try: make PYTHON=python3.11 test" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

# The stamp is newer than pyproject.toml once the install for its current contents succeeded.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .import_linter_cache .hypothesis

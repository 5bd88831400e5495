# The README's two commands live here. Both work on a machine with only Python 3.11 and pip:
# they create .venv, install what they need into it, then run.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_DIR ?= demo_run

.PHONY: demo test lint typecheck install install-dev clean

$(BIN)/python:
	@test -n "$(PYTHON)" || { echo "need python3.11 on PATH"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## demo: install, generate the demo brand's data into $(DEMO_DIR)/inputs, validate it and run the job
demo: $(VENV)/.installed
	$(BIN)/buyplan demo --dir $(DEMO_DIR)

## test: install with dev tools, then lint, type-check and run the test suite
test: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy planning models flows data_contracts
	$(BIN)/pytest

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache .mypy_cache .ruff_cache

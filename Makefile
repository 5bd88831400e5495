# The README's two commands live here. Both work on a machine with only Python 3.11 and pip:
# they create .venv, install what they need into it, then run.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_DIR ?= demo_run

.PHONY: demo test lint typecheck install install-dev clean flow server worker deploy

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
	$(BIN)/mypy planning models flows data_contracts infra/iam_policy.py
	$(BIN)/pytest

# Prefect keeps its state in the project, with analytics off (see infra/README.md).
PREFECT_ENV := PREFECT_HOME=$(CURDIR)/.prefect PREFECT_SERVER_ANALYTICS_ENABLED=false

## flow: run the weekly Prefect flow once on the demo folders (ephemeral Prefect, no server needed)
flow: $(VENV)/.installed
	$(PREFECT_ENV) $(BIN)/python -m flows run --config configs/demo.yaml --inputs $(DEMO_DIR)/inputs --outputs $(DEMO_DIR)/outputs

## server / worker / deploy: a local Prefect server, a process worker, and the weekly deployment
server: $(VENV)/.installed
	$(PREFECT_ENV) $(BIN)/prefect server start

worker: $(VENV)/.installed
	$(PREFECT_ENV) PREFECT_API_URL=http://127.0.0.1:4200/api $(BIN)/prefect worker start --pool buyplan-process

deploy: $(VENV)/.installed
	$(PREFECT_ENV) PREFECT_API_URL=http://127.0.0.1:4200/api $(BIN)/prefect work-pool create buyplan-process --type process || true
	$(PREFECT_ENV) PREFECT_API_URL=http://127.0.0.1:4200/api $(BIN)/prefect --no-prompt deploy --prefect-file infra/prefect.yaml --all

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache .mypy_cache .ruff_cache

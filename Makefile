# Two commands do everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: demo test lint typecheck unit bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(VENV)/.installed $@

demo: $(VENV)/.installed
	$(BIN)/xunshi demo

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check xunshi tests bench examples
	$(BIN)/ruff format --check xunshi tests bench examples

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy

unit: $(VENV)/.installed-dev
	$(BIN)/pytest -q

test: lint typecheck unit

bench: $(VENV)/.installed-dev
	$(BIN)/python bench/fire.py
	$(BIN)/python bench/web.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache xunshi-demo.db*

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

# Every bench (bench/run_all.py --help), then the README's performance section from
# bench/RESULTS.md. BENCH_ARGS="--only web" or "--quick" (quick figures stay out of the README).
bench: $(VENV)/.installed-dev
	$(BIN)/python bench/run_all.py $(BENCH_ARGS)
	$(BIN)/python bench/readme.py

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache xunshi-demo.db*

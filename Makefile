# Two commands do everything on a machine with Python 3.11+ and make:
#   make run    install, migrate and serve on http://127.0.0.1:8000 (HOST=… PORT=… to change)
#   make test   install with the test extras and run the suite on a real PostgreSQL

PYTHON ?= python3
HOST ?= 127.0.0.1
PORT ?= 8000
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench migrate plugins clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml examples/todo-api-notes/pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]' -e examples/todo-api-notes
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/todo-api serve --host $(HOST) --port $(PORT)

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check app tests examples migrations

migrate: $(STAMP)
	$(BIN)/todo-api migrate

plugins: $(STAMP)
	$(BIN)/todo-api plugins

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

# Two commands do everything on a machine with Python 3.11+ and make:
#   make run    install (what serving needs), migrate and serve on http://127.0.0.1:8000 (HOST=… PORT=… to change)
#   make test   install with the test extras and run the suite on a real PostgreSQL

PYTHON ?= python3
HOST ?= 127.0.0.1
PORT ?= 8000
VENV := .venv
BIN := $(VENV)/bin
# Two install stamps: serving needs only the app; tests, lint and the examples need the rest.
SERVE := $(VENV)/.served
STAMP := $(VENV)/.installed

.PHONY: run test lint bench battery migrate plugins config clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

EXAMPLES := examples/todo-api-notes examples/todo-api-checklists

$(SERVE): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $(SERVE)

$(STAMP): $(SERVE) $(EXAMPLES:%=%/pyproject.toml)
	$(BIN)/python -m pip install --quiet -e '.[dev]' $(EXAMPLES:%=-e %)
	touch $(STAMP)

run: $(SERVE)
	$(BIN)/todo-api serve --host $(HOST) --port $(PORT)

# The example plugin with tests runs them as its author would: pytest on its own folder.
test: $(STAMP)
	$(BIN)/python -m pytest
	$(BIN)/python -m pytest examples/todo-api-checklists

lint: $(STAMP)
	$(BIN)/ruff check app tests examples migrations bench harness battery
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

migrate: $(SERVE)
	$(BIN)/todo-api migrate

plugins: $(SERVE)
	$(BIN)/todo-api plugins

config: $(SERVE)
	$(BIN)/todo-api config

bench: $(STAMP)
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python -m bench

# The PgBouncer and nginx scenarios need Debian's pgbouncer and nginx; CI runs as root and
# installs them here.
battery: $(STAMP)
	@command -v pgbouncer >/dev/null || test -x /usr/sbin/pgbouncer || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer; }
	@command -v nginx >/dev/null || test -x /usr/sbin/nginx || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx; }
	$(BIN)/python -m battery

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

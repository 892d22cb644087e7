# Touchpoint — every target installs what it needs first (idempotent), so a fresh machine needs only
# `make demo` or `make test`. Python deps are pinned in pyproject.toml; the Kafka connector jars are
# extracted from their PyPI wheel and checksummed (touchpoint/infra/jars.py).

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# PyFlink's thread mode needs the venv's bin on PATH (libpython / pemja lookup).
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
PYTEST_ARGS ?=

.PHONY: setup system-packages demo console wheel generated lint format test test-fast bench soak stack-up stack-down stack-status cluster-up cluster-down clean

setup: system-packages $(STAMP) work/jars/.ok work/jars/touchpoint-functions.jar work/reference/plmn.csv \
       work/grafana/dashboard.schema.json

system-packages:
	@need=""; \
	command -v javac >/dev/null || need="$$need openjdk-17-jdk-headless"; \
	[ -x /usr/sbin/clickhouse-server ] || need="$$need clickhouse-server clickhouse-client"; \
	command -v chromium >/dev/null || need="$$need chromium"; \
	command -v npm >/dev/null || need="$$need npm"; \
	if [ -n "$$need" ]; then \
	  echo "installing Debian packages:$$need"; \
	  $(SUDO) apt-get update -q && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q $$need; \
	fi

$(STAMP): pyproject.toml
	[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade "pip==25.3"
	$(PY) -m pip install -q -e ".[dev]"
	touch $(STAMP)

work/jars/.ok: $(STAMP) touchpoint/infra/jars.py touchpoint/infra/wheels.py
	$(PY) -m touchpoint.infra.jars
	touch $@

# Touchpoint's own JVM functions (jvm/src: the ingest parser), compiled with the Debian JDK
# (touchpoint/infra/functions.py; a job rebuilds a jar older than its sources).
work/jars/touchpoint-functions.jar: $(STAMP) touchpoint/infra/functions.py $(shell find jvm/src -name '*.java')
	$(PY) -m touchpoint.infra.functions

# The global PLMN table (MCC+MNC -> country, operator) from a pinned PyPI wheel (touchpoint/infra/plmn.py).
work/reference/plmn.csv: $(STAMP) touchpoint/infra/plmn.py touchpoint/infra/wheels.py
	$(PY) -m touchpoint.infra.plmn
	touch $@

# Grafana's dashboard JSON Schema, built from the npm package @grafana/schema (grafana/schema/build.sh);
# `touchpoint dashboards check` validates the dashboards against it.
work/grafana/dashboard.schema.json: grafana/schema/build.sh grafana/schema/package.json grafana/schema/package-lock.json
	grafana/schema/build.sh $@

demo: setup
	$(VENV)/bin/touchpoint demo

# The marketers' console on console.host:console.port (docs/console.md); add the first admin with
# `.venv/bin/touchpoint console add-user NAME --role admin` (the password on stdin).
console: setup
	$(VENV)/bin/touchpoint console serve

# A release: dist/touchpoint-<version>-py3-none-any.whl, the packages with sql/, schemas/, grafana/, the example
# campaigns and journeys and the JVM sources inside (setup.py); `pip install` it anywhere (deploy/Dockerfile does).
wheel: $(STAMP)
	rm -rf build
	$(PY) -m pip wheel -q --no-deps -w dist .
	rm -rf build

# The files written from the code: the settings reference (docs/settings.md) from the typed settings, the table of
# trigger kinds (docs/triggers.md) and the schemas' kind enums from udfs/kinds/. Tests fail while one is stale.
generated: $(STAMP)
	$(VENV)/bin/touchpoint settings reference > docs/settings.md
	$(PY) -m touchpoint.catalogue

# ruff (settings in pyproject.toml): lint rules and formatting, checked before any test runs.
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

test: setup lint
	$(PY) -m pytest $(PYTEST_ARGS)

test-fast: setup lint
	$(PY) -m pytest -m "not slow" $(PYTEST_ARGS)

bench: setup
	$(VENV)/bin/touchpoint bench

# Not in CI: the whole pipeline streaming for SOAK_MINUTES (default 30), sampled each minute; fails if memory,
# state, checkpoint time or lag keeps growing (touchpoint/harness/soak.py).
SOAK_MINUTES ?= 30
soak: setup
	$(VENV)/bin/touchpoint soak --minutes $(SOAK_MINUTES)

stack-up: setup
	$(VENV)/bin/touchpoint stack up

stack-down:
	@[ -x $(VENV)/bin/touchpoint ] && $(VENV)/bin/touchpoint stack down || true

stack-status: setup
	$(VENV)/bin/touchpoint stack status

cluster-up: setup
	$(VENV)/bin/touchpoint cluster up

cluster-down:
	@[ -x $(VENV)/bin/touchpoint ] && $(VENV)/bin/touchpoint cluster down || true

clean: stack-down cluster-down
	rm -rf work .pytest_cache build dist

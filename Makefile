# Partnership portal. `make run` and `make test` need nothing but Python 3.11+.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
# DATA=public: `make run` loads the curated public record (manage.py load_public_record) instead of the demo data.
DATA ?= demo

.PHONY: help install dev run test lint format stack migrate seed backup restore messages bench bench-dashboard bench-writes bench-export bench-import clean schema validators lint-schema

help:
	@echo "make run    - install, migrate, load demo data if empty, serve on http://127.0.0.1:$(PORT)"
	@echo "make run DATA=public - the same with the curated public record of AI partnerships instead of demo data"
	@echo "make test   - the whole test suite (SQLite and in-process tasks unless DATABASE_URL/REDIS_URL are set)"
	@echo "make lint   - ruff check and format check"
	@echo "make stack  - web + Celery worker + beat against DATABASE_URL and REDIS_URL (honcho, Procfile)"
	@echo "make backup - database, uploaded files and a manifest in backups/portal-<UTC time>.tar (FILE=path to choose)"
	@echo "make restore FILE=backups/portal-....tar - replace the database and files with a backup (YES=1 if it holds data)"
	@echo "make bench  - speed at programme scale against the /healthz floor (needs DATABASE_URL=postgres, REDIS_URL, wrk)"
	@echo "make bench-dashboard - render times of the dashboards at 250 countries and 100,000 engagements (bench/)"
	@echo "make bench-writes - the largest API write bodies and refusals of longer ones, x floor (a scratch DATABASE_URL)"
	@echo "make schema - regenerate the committed OpenAPI document docs/openapi.json from the code (after any API change)"
	@echo "make validators - install the HTML checker and the OpenAPI linter (npm ci); make lint-schema runs the linter"
	@echo "make bench-export - peak memory of the streamed engagements CSV at 1,000 and 100,000 rows (ARGS=\"--sizes ...\")"
	@echo "make bench-import - rows per second and peak memory of an engagements import, 5,000 and 50,000 rows (DATABASE_URL=postgres)"

$(VENV)/bin/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (found %s); set PYTHON=python3.11" % sys.version.split()[0])'
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $@

$(VENV)/.installed-dev: requirements-dev.txt requirements.txt $(VENV)/.installed
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

install: $(VENV)/.installed

dev: $(VENV)/.installed-dev

migrate: install
	$(PY) manage.py migrate --noinput

seed: migrate
ifeq ($(DATA),public)
	$(PY) manage.py load_public_record
else
	$(PY) manage.py seed_demo --if-empty
endif

run: seed
	$(PY) manage.py runserver 127.0.0.1:$(PORT)

test: dev
	$(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/pytest

lint: dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: dev
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

messages: dev
	$(PY) manage.py makemessages -l fr --no-obsolete --ignore=.venv --ignore=tests --ignore=bench
	$(PY) manage.py compilemessages -l fr --ignore=.venv

stack: dev
	@test -n "$$DATABASE_URL" || (echo "make stack needs DATABASE_URL (postgres://...)"; exit 1)
	@test -n "$$REDIS_URL" || (echo "make stack needs REDIS_URL (redis://...)"; exit 1)
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput -v0
	PORT=$(PORT) $(VENV)/bin/honcho start

# A backup: one tar file with the database dump, MEDIA_ROOT and a manifest (docs/operations.md#backups).
backup: install
	$(PY) manage.py backup $(if $(FILE),--output "$(FILE)")

restore: install
	@test -n "$(FILE)" || (echo "make restore needs FILE=backups/portal-....tar (and YES=1 to replace a database that holds data)"; exit 1)
	$(PY) manage.py restore "$(FILE)" $(if $(filter 1 yes,$(YES)),--yes)

bench: dev
	$(PY) bench/run.py $(ARGS)

bench-dashboard: dev
	$(PY) bench/dashboard.py $(ARGS)

bench-writes: dev
	$(PY) bench/write_bodies.py $(ARGS)

bench-export: dev
	$(PY) bench/export_memory.py $(ARGS)

bench-import: dev
	$(PY) bench/import_rate.py $(ARGS)

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache

# The OpenAPI document, generated from the code and committed (docs/api.md): run after any change to the API.
schema: install
	$(PY) manage.py spectacular --validate --fail-on-warn --format openapi-json --file docs/openapi.json

# The validators CI runs (docs/testing.md): the Nu HTML Checker (vnu-jar, on Java) and Redocly CLI, pinned in
# package-lock.json; their install scripts are not run (vnu-jar's would download a Java).
node_modules/.installed: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund
	@touch $@

validators: node_modules/.installed

lint-schema: validators
	REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true node_modules/.bin/redocly lint docs/openapi.json

# Thin targets (STYLE §18). `make run` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MANAGE := $(BIN)/python manage.py

.PHONY: run test lint typecheck bench migrations check-migrations install seed clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade "pip>=25.1"
	$(BIN)/pip install -q --group dev
	touch $(STAMP)

install: $(STAMP)

# Embedded SQLite, demo data, background jobs in-process, http://127.0.0.1:8000
run: export DATABASE_URL = sqlite:///$(CURDIR)/var/leadflow.sqlite3
run: export REDIS_URL =
run: export CELERY_TASK_ALWAYS_EAGER = true
run: $(STAMP)
	mkdir -p var
	$(MANAGE) migrate --noinput -v0
	$(MANAGE) seed_demo --if-empty
	$(MANAGE) runserver 127.0.0.1:8000 --noreload

# With DATABASE_URL / REDIS_URL set the suite runs on PostgreSQL and Redis.
test: $(STAMP)
	$(MANAGE) makemigrations --check --dry-run -v0
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy leadflow accounts leads scoring handoff analytics

bench: $(STAMP)
	$(BIN)/python -m bench $(ARGS)

migrations: $(STAMP)
	$(MANAGE) makemigrations $(ARGS)

clean:
	rm -rf $(VENV) var

# Thin targets (STYLE §18). `make run` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MANAGE := $(BIN)/python manage.py

.PHONY: run test lint typecheck bench migrations check-migrations install seed clean assets \
	messages makemessages browser lock

# Installed from the lock file, every package pinned and checked against its hash.
$(STAMP): pyproject.toml requirements/dev.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade "pip>=25.1"
	$(BIN)/pip install -q --require-hashes -r requirements/dev.lock
	touch $(STAMP)

install: $(STAMP)

# Chart.js from the npm registry, copied into the web app's static files (no CDN).
CHART := web/static/web/vendor/chart.umd.min.js
$(CHART): package.json package-lock.json
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	mkdir -p $(dir $(CHART))
	cp node_modules/chart.js/dist/chart.umd.min.js node_modules/chart.js/dist/chart.umd.min.js.map \
		$(dir $(CHART))

assets: $(CHART)

# The compiled Japanese catalogue (Babel compiles in pure Python; no gettext tools needed).
MO := locale/ja/LC_MESSAGES/django.mo
$(MO): locale/ja/LC_MESSAGES/django.po $(STAMP)
	$(BIN)/pybabel -q compile -d locale -D django

messages: $(MO)

# Re-extract the UI strings into the catalogue (needs GNU gettext); translate, then `make messages`.
makemessages: $(STAMP)
	$(MANAGE) makemessages -l ja --no-obsolete --ignore=.venv --ignore=node_modules \
		--ignore=bench --ignore=tests --ignore=var

# Debian's chromium for the browser tests, where it can be installed (root with apt-get).
browser:
	@test -x /usr/bin/chromium || { command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] && \
		{ apt-get install -y -qq --no-install-recommends chromium fonts-ipafont-gothic >/dev/null 2>&1 || \
		  { apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium fonts-ipafont-gothic >/dev/null; }; } } || \
		echo "chromium is not installed (needs root and apt-get): the browser tests cannot run"

# Embedded SQLite, demo data, background jobs in-process, http://127.0.0.1:8000
run: export DATABASE_URL = sqlite:///$(CURDIR)/var/leadflow.sqlite3
run: export REDIS_URL =
run: export CELERY_TASK_ALWAYS_EAGER = true
run: $(STAMP) $(CHART) $(MO)
	mkdir -p var/static
	$(MANAGE) migrate --noinput -v0
	$(MANAGE) seed_demo --if-empty
	$(MANAGE) run_embedded 127.0.0.1:8000

# The whole suite on PostgreSQL and Redis with a real worker and chromium, 0 skipped: the URLs
# given in DATABASE_URL / REDIS_URL, else a throwaway server of each (scripts/with-services).
# One process per core (at most 4); then, alone, the tests that stop a shared server (`serial`;
# pytest's 5 is "none selected", as with an ARGS that picks none of them).
test: $(STAMP) $(CHART) $(MO) browser
	LEADFLOW_NO_SKIPS=1 scripts/with-services sh -c \
		'$(MANAGE) makemigrations --check --dry-run -v0 \
		&& $(BIN)/pytest -n auto --maxprocesses 4 -m "not serial" $(ARGS) \
		&& { $(BIN)/pytest -m serial $(ARGS); s=$$?; [ $$s -eq 0 ] || [ $$s -eq 5 ]; }'

lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy leadflow accounts leads scoring handoff analytics integrations web

# Debian's wrk drives the intake benchmark; installed where it can be (root with apt-get).
bench: $(STAMP)
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && \
		{ apt-get install -y -qq --no-install-recommends wrk >/dev/null 2>&1 || \
		  { apt-get update -qq && apt-get install -y -qq --no-install-recommends wrk >/dev/null; }; }; }
	$(BIN)/python -m bench $(ARGS)

# Re-resolve the lock files from pyproject.toml's groups (uv, installed on demand), then
# `make test`: tests/leadflow/test_platform.py checks that the locks match the groups.
lock: $(STAMP)
	$(BIN)/pip install -q uv
	for group in dev runtime; do $(BIN)/uv pip compile pyproject.toml --group $$group \
		--generate-hashes --python-version 3.11 --python-platform x86_64-unknown-linux-gnu \
		--no-header -q -o requirements/$$group.lock; done

migrations: $(STAMP)
	$(MANAGE) makemigrations $(ARGS)

clean:
	rm -rf $(VENV) var node_modules $(CHART) $(MO)

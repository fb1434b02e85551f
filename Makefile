# Two commands do all the setup: `make run` (serve) and `make test` (lint + tests).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
HOST   ?= 127.0.0.1

.PHONY: run test lint migrate prod worker postman e2e bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

migrate: $(VENV)/.runtime
	$(BIN)/python migrate.py

# gunicorn, as in production, with the embedded defaults; `python app.py` is the reloading dev server.
run: migrate
	GUNICORN_WORKERS=$${GUNICORN_WORKERS:-2} exec $(BIN)/gunicorn -c gunicorn.conf.py --bind $(HOST):$(PORT) "app:create_app()"

prod: migrate
	APP_ENV=production exec $(BIN)/gunicorn -c gunicorn.conf.py "app:create_app()"

postman: $(VENV)/.runtime
	$(BIN)/python postman/generate.py

# The RQ worker for queued analyses (needs REDIS_URL): same environment and .env as `make run`.
worker: migrate
	$(BIN)/python -m services.runtime.worker

lint: $(VENV)/.dev
	$(BIN)/ruff check .

test: lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# End-to-end tests against real processes (tests/e2e, all marked e2e; `make test` leaves them out): faults
# (private mariadbd/redis-server, gunicorn, tmpfs, schemathesis), nginx, the browser, newman, README as written.
# Without chromium, nginx or node_modules (npm ci) those skip, unless E2E_REQUIRED=1 (.ci/run).
e2e: $(VENV)/.dev
	$(BIN)/python -m pytest -m e2e tests/e2e $(PYTEST_ARGS)

$(VENV)/.bench: requirements-bench.txt $(VENV)/.dev
	$(BIN)/pip install --quiet -r requirements-bench.txt
	touch $@

# The load benchmark drives the servers with wrk (Debian package), installed here when it is missing.
bench: $(VENV)/.bench
	@command -v wrk >/dev/null 2>&1 || { echo "installing wrk for the load benchmark"; apt-get install -y -q wrk; }
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

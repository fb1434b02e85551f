# Two commands do all the setup: `make run` (serve) and `make test` (lint + tests).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
HOST   ?= 127.0.0.1

.PHONY: run test lint migrate prod postman e2e bench clean

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

# Browser, nginx, newman and README tests: they need node_modules (npm ci), chromium and nginx, else they skip.
e2e: $(VENV)/.dev
	$(BIN)/python -m pytest tests/e2e $(PYTEST_ARGS)

lint: $(VENV)/.dev
	$(BIN)/ruff check .

test: lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

$(VENV)/.bench: requirements-bench.txt $(VENV)/.dev
	$(BIN)/pip install --quiet -r requirements-bench.txt
	touch $@

bench: $(VENV)/.bench
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

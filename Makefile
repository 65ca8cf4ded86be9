# Qingfeng: `make run` to try it, `make test` to run the whole suite.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
JOBS ?= 2

.PHONY: run test venv migrate demo lint typecheck check bench clean node

$(STAMP): requirements.txt requirements-dev.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found; set PYTHON=/path/to/python3.11"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

# Qingfeng's faster build of the embedding engine; without a C compiler the bundled one is used.
venv: $(STAMP)
	@$(PY) -m qingfeng.repeats.engine --if-stale --quiet-fail

node:
	@if [ -f package-lock.json ] && command -v npm >/dev/null 2>&1; then \
		[ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund --silent; \
	fi

migrate: venv
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py load_demo

run: demo node
	$(PY) manage.py runserver $(HOST):$(PORT)

test: venv node
	$(PY) -m pytest -n $(JOBS) $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check qingfeng benchmarks
	$(VENV)/bin/ruff format --check qingfeng benchmarks

typecheck: venv
	$(VENV)/bin/mypy qingfeng

check: lint typecheck test

bench: venv
	$(PY) benchmarks/cases_api.py

clean:
	rm -rf $(VENV) db.sqlite3 var node_modules

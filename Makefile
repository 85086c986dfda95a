# Roundtrip: `make run` serves the demo, `make test` runs every test.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PG_URL_FILE := instance/test_postgres_url
# After `make pg-up` once, `make test` includes the PostgreSQL tests automatically.
TEST_POSTGRES_URL ?= $(shell cat $(PG_URL_FILE) 2>/dev/null)
export TEST_POSTGRES_URL

.PHONY: run test test-moved-clock lint install pg-up bench clean i18n translations screenshots prod prod-down

$(STAMP): pyproject.toml build-constraints.txt
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# xstatic-* are sdists whose build needs pkg_resources (setuptools < 81).
	$(BIN)/python -m pip install --quiet --build-constraint build-constraints.txt -e '.[dev,postgres,prod]'
	touch $(STAMP)

install: $(STAMP) translations

# Russian and English: the compiled catalogues (.mo) are built here, never committed.
TRANSLATIONS := app/web/translations
translations: $(STAMP)
	$(BIN)/pybabel compile --statistics -d $(TRANSLATIONS)

# After changing user-visible words: extract them and merge the new ones into each catalogue
# (then translate what is new; tests/web/test_i18n.py fails until every message has Russian).
i18n: $(STAMP)
	$(BIN)/python scripts/extract_messages.py $(TRANSLATIONS)/messages.pot
	$(BIN)/pybabel update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) --no-fuzzy-matching --ignore-obsolete
	$(MAKE) translations

# Russian screenshots of every role's pages into docs/screenshots/ru (the language walk).
screenshots: $(STAMP) translations
	ROUNDTRIP_SCREENSHOTS=docs/screenshots $(BIN)/python -m pytest -q -m browser tests/web/test_language_walk_browser.py -p no:cacheprovider

run: $(STAMP) translations
	$(BIN)/roundtrip db upgrade
	$(BIN)/roundtrip demo --history-weeks 6
	@echo "Roundtrip is starting on http://127.0.0.1:5000 (Ctrl+C stops it)"
	ROUNDTRIP_SCHEDULER=on $(BIN)/roundtrip run --host 127.0.0.1 --port 5000

test: $(STAMP) translations
	$(BIN)/pytest

# The whole suite again with the clock moved (time-machine, for the test process and every
# server it starts): another day than today, in a European zone, a minute before its clocks
# spring forward (28 March 2027, 02:00 CET -> 03:00 CEST), so the run crosses the switch.
# (libfaketime was tried: Python's timed waits hang under it.)
MOVED_CLOCK ?= 2027-03-28T00:59:00+00:00
MOVED_TZ ?= Europe/Berlin
test-moved-clock: $(STAMP) translations
	TZ=$(MOVED_TZ) $(BIN)/pytest -p no:cacheprovider --moved-clock=$(MOVED_CLOCK)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy routing

# About 2.7 hours on 2 cores (the planning benchmark, 12 min, always runs again); resumable (delete bench/results/ to start again).
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet --build-constraint build-constraints.txt -e '.[dev,postgres,bench]'
	$(BIN)/python -m bench.matrix
	$(BIN)/python -m bench.cli_check --time-limit 5
	$(BIN)/python -m bench.vrptw --set solomon --time-limit 5
	$(BIN)/python -m bench.vrptw --set solomon --time-limit 30 --solvers ours,pyvrp,vroom
	$(BIN)/python -m bench.vrptw --set gh1000 --time-limit 60 --solvers ours,pyvrp,vroom
	$(BIN)/python -m bench.richdays --sizes 200,400,800,1000 --live 400,800 --seeds 1,2 --budgets 10,30
	$(MAKE) pg-up
	$(BIN)/python -m bench.ledger
	$(BIN)/python -m bench.planning --budget auto --factor 10
	$(BIN)/python -m bench.report

pg-up:
	scripts/pg-up.sh $(PG_URL_FILE)

# The production stack in the background: PostgreSQL, gunicorn on 127.0.0.1:8000 (3 workers),
# 2 job workers, 1 scheduler under honcho (Procfile); `make prod-down` stops it.
prod: $(STAMP) translations
	scripts/prod.sh up

prod-down:
	scripts/prod.sh down

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

# Every target installs what it needs into .venv first, so a fresh clone needs only Python 3.11+.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# What beneficiaries may read; the console's own forms (programme/assessment.py) are in its catalog.
BOT_SOURCES := bot programme/forms.py programme/consent.py programme/urgent.py programme/cycle.py programme/appointments.py

.PHONY: demo test lint catalogs extract bench clean browser

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

catalogs: $(STAMP)
	$(BIN)/pybabel compile -d bot/locales -D messages
	$(BIN)/pybabel compile -d caseworker_console/locales -D console

demo: catalogs
	$(BIN)/intake demo

# The console's browser tests drive Debian's Chromium (never a downloaded browser); installed when
# this machine can (root with apt), else those tests say they were skipped and why.
browser:
	@test -x /usr/bin/chromium || { command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] && \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium; } \
		|| echo "Debian's chromium is not installed: the browser tests will be skipped"

test: catalogs browser
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Refresh the message templates and merge them into every catalog (then translate what is new).
extract: $(STAMP)
	$(BIN)/pybabel extract --no-location -F bot/babel.cfg -k _:1,1t -k _:1,2 -k __ -k N_ \
		-o bot/locales/messages.pot $(BOT_SOURCES)
	$(BIN)/pybabel update --no-fuzzy-matching --ignore-obsolete -d bot/locales -D messages -i bot/locales/messages.pot
	$(BIN)/pybabel extract --no-location -F caseworker_console/babel.cfg -k _ -k N_ \
		-o caseworker_console/locales/console.pot caseworker_console programme
	$(BIN)/pybabel update --no-fuzzy-matching -d caseworker_console/locales -D console \
		-i caseworker_console/locales/console.pot

# BENCH_ARGS, e.g. BENCH_ARGS="--users 100,1000" for the full P1 run (see README, Benchmarks).
bench: catalogs
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
	find . -name '*.mo' -delete

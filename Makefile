# Every target installs what it needs into .venv first, so a fresh clone needs only Python 3.11+.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
# What beneficiaries may read (the bot's, and what wording/ writes to them for the console and the
# worker); the console's own forms (programme/assessment.py) are in its catalog.
BOT_SOURCES := bot wording programme/forms.py programme/consent.py programme/urgent.py programme/handoff.py programme/appointments.py programme/feedback.py

AXE_DIR := tests/console/axe
AXE     := $(AXE_DIR)/node_modules/axe-core/axe.min.js

.PHONY: demo test lint catalogs extract bench mutate clean browser axe

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

# axe-core for the console's accessibility test, exactly as package-lock.json pins it (npm ci, from
# the npm registry only). Reinstalled only when the lock file changes; without npm (and no way to
# install Debian's), the accessibility test says it was skipped and why.
axe: $(AXE)

$(AXE): $(AXE_DIR)/package.json $(AXE_DIR)/package-lock.json
	@command -v npm >/dev/null || { command -v apt-get >/dev/null && [ "$$(id -u)" = 0 ] && \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends npm; } \
		|| true
	@if command -v npm >/dev/null; then \
		cd $(AXE_DIR) && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error && touch node_modules/axe-core/axe.min.js; \
	else echo "npm is not installed: the accessibility test will be skipped"; fi

# The slice run again on the stock libraries (INTAKE_SPEEDUPS=off, docs/performance.md), on SQLite,
# where most of the patches are: the same behaviour proves they change only speed (about 2 minutes).
STOCK_SLICE := tests/speedups/test_switch.py tests/bot/test_screening.py tests/bot/test_journey.py \
	tests/bot/test_taps.py tests/bot/test_fsm_storage.py tests/outreach/test_sender.py \
	tests/outreach/test_sender_answers.py tests/outreach/test_crash_safety.py tests/storage \
	tests/console/test_console_reads.py

test: catalogs browser axe
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache --no-logo
	$(BIN)/python -m pytest
	INTAKE_SPEEDUPS=off $(BIN)/python -m pytest $(STOCK_SLICE) -k "not postgresql" -p no:cacheprovider

# The layers of docs/architecture.md as import-linter contracts (pyproject.toml), and the catalogs
# through translate-toolkit's checks (tests/test_po_lint.py); `make test` runs both too.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache --no-logo
	$(BIN)/python -m pytest tests/test_po_lint.py -q -p no:cacheprovider

# Refresh the message templates and merge them into every catalog (then translate what is new).
extract: $(STAMP)
	$(BIN)/pybabel extract --no-location -F bot/babel.cfg -k _:1,1t -k _:1,2 -k __ -k N_ -k NP_:1,2 \
		-o bot/locales/messages.pot $(BOT_SOURCES)
	$(BIN)/pybabel update --no-fuzzy-matching --ignore-obsolete -d bot/locales -D messages -i bot/locales/messages.pot
	$(BIN)/pybabel extract --no-location -F caseworker_console/babel.cfg -k _ -k N_ -k NP_:1,2 \
		-o caseworker_console/locales/console.pot caseworker_console programme
	$(BIN)/pybabel update --no-fuzzy-matching --ignore-obsolete -d caseworker_console/locales -D console \
		-i caseworker_console/locales/console.pot

# BENCH_ARGS, e.g. BENCH_ARGS="--users 100,1000" for the full P1 run (see docs/benchmarks.md).
bench: catalogs
	$(BIN)/python -m bench $(BENCH_ARGS)

# A mutation score per module of the code that keeps promises, each against its own fast tests
# (bench/mutate.py; minutes per module, not in CI). MUTATE_ARGS: some of its modules.
mutate: catalogs
	$(BIN)/pip install --quiet -e '.[test,mutate]'
	$(BIN)/python -m bench.mutate $(MUTATE_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache $(AXE_DIR)/node_modules
	find . -name '*.mo' -delete

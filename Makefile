# drafting: two commands. `make run` serves the demo; `make test` runs the whole suite.
VENV   ?= .venv
PYTHON ?= python3
BIN    := $(VENV)/bin
FLASK  := $(BIN)/flask --app wsgi
PORT   ?= 5000
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test test-sqlite test-postgres install install-dev chromium pdf-libs translations catalogues services bench vendor lint clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt | $(BIN)/activate
	$(BIN)/pip install --disable-pip-version-check -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt requirements.txt $(VENV)/.installed
	$(BIN)/pip install --disable-pip-version-check -q -r requirements-dev.txt
	touch $@

# The compiled diff of long texts (docs/architecture.md, "Diffs and merges"): its character
# classes are read from the installed `regex`, so it is rebuilt when the requirements change.
TEXTCORE := drafting/text/_textcore.so
$(TEXTCORE): drafting/text/_textcore.c scripts/build_textcore.py $(VENV)/.installed
	$(BIN)/python scripts/build_textcore.py

install: $(VENV)/.installed $(TEXTCORE)
install-dev: $(VENV)/.installed-dev $(TEXTCORE)

# Debian's Chromium for the browser tests (Playwright drives it; never `playwright install`).
chromium:
	@command -v /usr/bin/chromium >/dev/null 2>&1 || { $(SUDO) apt-get install -y chromium || { $(SUDO) apt-get update && $(SUDO) apt-get install -y chromium; }; }

# What WeasyPrint needs for the PDFs (certificate, print view): Pango, HarfBuzz's subsetter, DejaVu fonts.
pdf-libs:
	@dpkg -s libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core >/dev/null 2>&1 || { $(SUDO) apt-get install -y libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core || { $(SUDO) apt-get update && $(SUDO) apt-get install -y libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core; }; }

# The interface's translations: each catalogue (.po, kept in git) compiled to the .mo the app reads.
PO_FILES := $(wildcard drafting/translations/*/LC_MESSAGES/messages.po)
MO_FILES := $(PO_FILES:.po=.mo)
%.mo: %.po | $(VENV)/.installed
	$(BIN)/pybabel --quiet compile -i $< -o $@
translations: $(MO_FILES)

# Extract the messages again and bring every catalogue up to date (then translate what is new).
catalogues: install
	$(BIN)/pybabel --quiet extract -F babel.cfg -k _l -k N_ -k lazy_gettext -o drafting/translations/messages.pot --no-location --sort-output --omit-header --no-wrap .
	$(BIN)/pybabel --quiet update -i drafting/translations/messages.pot -d drafting/translations --no-fuzzy-matching --ignore-obsolete --no-wrap

# Links in e-mails point where this serves (PORT=N too), unless PUBLIC_URL says otherwise.
run: install pdf-libs translations
	$(FLASK) db upgrade
	$(FLASK) seed-demo
	@echo "Serving http://127.0.0.1:$(PORT)  (Ctrl+C stops)"
	PUBLIC_URL="$${PUBLIC_URL:-http://127.0.0.1:$(PORT)}" $(FLASK) run --host 127.0.0.1 --port $(PORT)

# The whole suite on SQLite and, side by side with it, again (all but the browser tests) on
# PostgreSQL with a Redis message queue, plus the two-process tests. PostgreSQL at 127.0.0.1:5432
# (database test) and Redis at 127.0.0.1:6379 are expected; outside CI an unreachable one skips
# the PostgreSQL pass, with CI=true it fails the run. The passes use separate databases, Redis
# channels and ports; run side by side they take some 16 minutes here against 25-27 one after
# the other (the browser tests wait on Chromium much of the time). The tests that touch no database
# run once, in the PostgreSQL pass (DRAFTING_TEST_SPLIT=1, tests/conftest.py), which is the shorter.
# Each pass's report is printed whole when it ends, with its slowest tests. `make test-sqlite` or
# `make test-postgres` runs one pass alone, the database-free tests included.
test: install-dev chromium pdf-libs translations
	@DRAFTING_TEST_SPLIT=1 $(MAKE) --no-print-directory -j2 --output-sync=target test-sqlite test-postgres

test-sqlite: install-dev chromium pdf-libs translations
	$(BIN)/python -m pytest --durations=15 $(PYTEST_ARGS)

test-postgres: install-dev
	DRAFTING_TEST_BACKEND=postgres $(BIN)/python -m pytest --ignore=tests/browser --durations=15 $(PYTEST_ARGS)

bench: install-dev
	$(BIN)/python -m bench

vendor:
	scripts/vendor.sh

lint: install-dev
	$(BIN)/ruff check drafting tests bench

clean:
	rm -rf $(VENV) .pytest_cache instance/*.db* build $(TEXTCORE)

# Two commands do all set-up on a fresh machine (README.md):
#   make run    install into .venv, compile translations, migrate and run the bot (SQLite default)
#   make test   the same installation, then the default suite on SQLite and on PostgreSQL, then
#               the reliability suite (tests/reliability) on both
#   make reliability   only the reliability suite, on SQLite then PostgreSQL
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install run test reliability translations lint bench-emulator

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "installing into $(VENV) (log: $(VENV)/install.log)"
	@( $(PY) -m pip install --disable-pip-version-check --upgrade pip && \
	   $(PY) -m pip install --disable-pip-version-check -e '.[dev]' ) > $(VENV)/install.log 2>&1 \
	   || (tail -n 30 $(VENV)/install.log; exit 1)
	@touch $(STAMP)

install: $(STAMP)
	@$(PY) tools/translations.py --compile >/dev/null 2>&1 || $(PY) tools/translations.py --compile

run: install
	@$(VENV)/bin/coalition-bot run

test: install
	@$(PY) tools/run_tests.py --all $(ARGS)

reliability: install
	@$(PY) tools/run_tests.py --reliability $(ARGS)

# After changing texts in the code: extract, update both catalogues, fill en, compile.
translations: install
	@$(PY) tools/translations.py

lint: install
	@$(VENV)/bin/ruff check .

bench-emulator: install
	@$(PY) bench/emulator_throughput.py

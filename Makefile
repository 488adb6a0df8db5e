# Two commands do all set-up on a fresh machine (README.md):
#   make run    install the running set into .venv, compile translations, migrate and run the bot
#               (SQLite by default)
#   make test   the same, plus the test set in the same venv, then the default suite on SQLite and
#               on PostgreSQL, then the reliability suite (tests/reliability) on both
#   make reliability   only the reliability suite, on SQLite then PostgreSQL
#   make lock   refresh requirements/*.txt after editing pyproject.toml (tools/lock.py)
# Every install comes from the lock (requirements/run.txt, requirements/test.txt) with pip's
# --require-hashes; a lock older than pyproject.toml stops `make run` and `make test` at once.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install --disable-pip-version-check --require-hashes
RUN_STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test
# Exit status of `coalition-bot` for a setting to fix (EX_CONFIG): it has said why in one line.
EX_CONFIG := 78

.PHONY: install install-test check-lock lock run test reliability translations lint bench-emulator

check-lock:
	@$(PYTHON) tools/lock.py --check

# The running set: the bot's packages, then the project itself (editable, built by the locked
# setuptools without an isolated build, so nothing is fetched that the lock does not pin).
$(RUN_STAMP): requirements/run.txt | check-lock
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@echo "installing the running set into $(VENV) (log: $(VENV)/install.log)"
	@( $(PIP) -r requirements/run.txt && \
	   $(PY) -m pip install --disable-pip-version-check --no-deps --no-build-isolation -e . ) \
	   > $(VENV)/install.log 2>&1 || (tail -n 30 $(VENV)/install.log; exit 1)
	@touch $@

# The test set: the same pins plus the test tools, in the same venv.
$(TEST_STAMP): requirements/test.txt $(RUN_STAMP) | check-lock
	@echo "adding the test set to $(VENV) (log: $(VENV)/install.log)"
	@$(PIP) -r requirements/test.txt >> $(VENV)/install.log 2>&1 \
	   || (tail -n 30 $(VENV)/install.log; exit 1)
	@touch $@

install: check-lock $(RUN_STAMP)
	@$(PY) tools/translations.py --compile >/dev/null 2>&1 || $(PY) tools/translations.py --compile

install-test: install $(TEST_STAMP)

lock:
	@$(PYTHON) tools/lock.py

run: install
	@$(VENV)/bin/coalition-bot run || { rc=$$?; test $$rc -eq $(EX_CONFIG) || exit $$rc; }

test: install-test
	@$(PY) tools/run_tests.py --all $(ARGS)

reliability: install-test
	@$(PY) tools/run_tests.py --reliability $(ARGS)

# After changing texts in the code: extract, update both catalogues, fill en, compile.
translations: install
	@$(PY) tools/translations.py

lint: install-test
	@$(VENV)/bin/ruff check .

bench-emulator: install
	@$(PY) bench/emulator_throughput.py

# The two commands a new user needs (see README):
#   make audit   set up, then run the audit end to end (demo shop unless ARGS name your data)
#   make test    set up, then run the test suite
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
ARGS ?=
# The test files run on this many pytest-xdist workers, a file per worker at a time (module
# fixtures build once); TEST_WORKERS=0 runs them in this process.
TEST_WORKERS ?= 2

.PHONY: audit test setup lock clean mutation

audit: setup
	$(BIN)/signal-audit run $(ARGS)

test: setup $(VENV)/.installed-spark
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile $(ARGS)

setup: $(VENV)/.installed

# Reinstall only when the pins change. setuptools is pinned for the editable build.
$(VENV)/.installed: pyproject.toml requirements.lock
	@command -v $(PYTHON) >/dev/null || { echo "signal-audit needs $(PYTHON) (Python 3.11); set PYTHON=/path/to/python3.11"; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e ".[test]"
	@touch $@

# The tests also build on Spark (tests/python/test_engine_spark.py): the `spark` extra, about
# 0.5 GB from PyPI, which the audit on DuckDB does not need. Java 17 comes from the system
# (.ci/run installs it).
$(VENV)/.installed-spark: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e ".[test,spark]"
	@touch $@

# Refresh requirements.lock from a fresh environment built from pyproject.toml's pins.
lock:
	rm -rf /tmp/signal-audit-lock && $(PYTHON) -m venv /tmp/signal-audit-lock
	/tmp/signal-audit-lock/bin/pip install --quiet -e ".[test,spark]"
	{ echo "# Exact versions of every package, for pip's -c (constraints). Regenerate with: make lock"; \
	  /tmp/signal-audit-lock/bin/pip freeze --exclude-editable; } > requirements.lock

clean:
	rm -rf $(VENV) target logs warehouse

# Plant each bug of tests/mutation/catalogue.yml in turn and run the tests that should catch it
# (about an hour; not part of `make test`). Prints the mutation score and the survivors.
mutation: setup
	$(BIN)/python tests/mutation/run.py $(ARGS)

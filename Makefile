# The two commands of the README, and what they stand on. Everything installs from PyPI and
# Maven Central into ./.venv and ~/.cache/olx-spark; nothing is needed beyond Python 3.11 + Java 17.
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
WAREHOUSE ?= ./warehouse
REPORT ?= ./report

.PHONY: setup demo test test-cluster lint format clean

$(STAMP): pyproject.toml
	@# gpg (GnuPG) decrypts research data packages and tracking logs; Debian's package if missing.
	@command -v gpg >/dev/null || { SUDO=$$(test "$$(id -u)" = 0 || echo sudo); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq gnupg; }
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e ".[dev]"
	$(BIN)/python -m olx_spark.spark.jars
	touch $(STAMP)

setup: $(STAMP)

# The whole system on bundled samples, in one process (olx_spark/demo.py): the sample course
# archives, tracking logs and a GPG-encrypted data package generated for them in a temporary
# folder (a throwaway key), ingest of all three, xapi, transform (dbt), report; then a summary.
demo: setup
	$(BIN)/olx-spark demo --warehouse $(WAREHOUSE) --report $(REPORT)

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Two worker processes (pytest-xdist): the tests are CPU-bound JVM work with pauses (process
# starts, dbt's parsing, waits on subprocesses), which the other worker fills. The tests sharing
# the local reference run (marked xdist_group(REFERENCE_GROUP)) run in one worker.
test: lint
	$(BIN)/python -m pytest -q -p no:cacheprovider --durations=20 -n 2 --dist loadgroup

# Only the Spark standalone cluster tests (master, two one-core workers, spark-submit of the four
# jobs, a Thrift server and dbt's thrift target; tests/cluster, ~10 minutes on 2 cores).
test-cluster: setup
	$(BIN)/python -m pytest -q -p no:cacheprovider --durations=20 tests/cluster

clean:
	rm -rf $(WAREHOUSE) $(REPORT) spark-warehouse metastore_db derby.log .pytest_cache

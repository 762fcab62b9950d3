# Everything runs from .venv, created or refreshed from the requirements files when they change.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
REQUIREMENTS := requirements.txt requirements-dev.txt functions/requirements.txt pyproject.toml
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: test drill postgres synth lint format bench screenshot clean

$(STAMP): $(REQUIREMENTS)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $(STAMP)

test: $(STAMP) postgres
	$(BIN)/python -m pytest $(PYTEST_ARGS)

drill: $(STAMP) postgres
	$(BIN)/python -m local.drill --scenario kubernetes_app --approve auto --out drill-out $(DRILL_ARGS)

# Debian's PostgreSQL server: the database tests and the drill start throwaway servers from its binaries
# (local/postgres.py). Installed only when missing: as root, else through sudo.
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo"; else \
	    echo "PostgreSQL is missing: run 'apt-get install -y --no-install-recommends postgresql' as root" >&2; exit 1; fi; \
	  echo "Installing Debian's postgresql package (the database tests run a real server)"; \
	  $$sudo apt-get update -qq && \
	  $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql; }

# The emulators' profile accepts cdk.json's placeholder cluster; SYNTH_PROFILE=deployment checks a real one.
SYNTH_PROFILE ?= local-emulation
synth: $(STAMP)
	CDK_OUTDIR=cdk.out $(BIN)/python app.py --profile $(SYNTH_PROFILE)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy app.py stacks functions local rollback_cli
	$(BIN)/python -m local.synth --out .build/lint
	$(BIN)/cfn-lint --ignore-checks W3005 -- .build/lint/RollbackPipeline.template.json  # W3005: CDK's DependsOn

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP)
	$(BIN)/python -m local.bench

screenshot: $(STAMP)
	command -v chromium >/dev/null || (apt-get update && apt-get install -y chromium)
	$(BIN)/python -m local.screenshot --out docs/approval-page.png

clean:
	rm -rf cdk.out drill-out .pytest_cache .mypy_cache .ruff_cache

# Two entry points for a fresh machine: `make demo` and `make test`.
# Each creates .venv if missing, installs the package with its dev extras and the pinned
# npm toolchain of hardhat-free-devnet/, then does its job.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DEVNET := hardhat-free-devnet
CHAIN ?= embedded

.PHONY: demo test lint typecheck unit bench install clean

demo: install
	$(PY) -m oracle.cli demo --chain $(CHAIN)

test: install lint typecheck unit

install: $(VENV)/.installed $(DEVNET)/node_modules/.installed

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "zkoracle needs Python >= 3.11")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

$(DEVNET)/node_modules/.installed: $(DEVNET)/package.json $(DEVNET)/package-lock.json
	cd $(DEVNET) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

lint:
	$(VENV)/bin/ruff check circuits oracle tests scripts
	$(VENV)/bin/ruff format --check circuits oracle tests scripts

typecheck:
	$(VENV)/bin/mypy

unit:
	$(VENV)/bin/pytest -n 2 --dist loadgroup -q

bench: install
	$(PY) scripts/bench_prover.py --sizes 10,12,14,16,18 --json bench-prover.json
	$(PY) scripts/bench_models.py --json bench-models.json
	$(PY) scripts/gas_report.py --json gas-report.json
	$(PY) scripts/bench_daemon.py --json bench-daemon.json

clean:
	rm -rf $(VENV) $(DEVNET)/node_modules .mypy_cache .ruff_cache .pytest_cache

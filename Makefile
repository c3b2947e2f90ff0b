# Two entry points for a fresh machine: `make demo` and `make test`.
# Each creates .venv if missing, installs the package with its dev extras (building the
# Rust extension circuits._native with maturin, in release mode; cargo keeps its target
# directory in circuits/native/target, so a rebuild after a change is incremental) and the
# pinned npm toolchain of hardhat-free-devnet/, then does its job. groth16py (GPL-3.0) is
# installed for the tests only, as one more independent verifier.

PYTHON ?= python3
# The Rust extension is built for this machine's CPU: the field multiplication in assembly
# (arkworks' and halo2curves') needs BMI2 and ADX, which a generic x86-64 build cannot
# assume. Set RUSTFLAGS to something else (even empty) for a portable build.
export RUSTFLAGS ?= -C target-cpu=native
VENV := .venv
PY := $(VENV)/bin/python
DEVNET := hardhat-free-devnet
CHAIN ?= embedded

.PHONY: demo test test-full lint typecheck unit test-ray bench install browser clean

demo: install
	$(PY) -m oracle.cli demo --chain $(CHAIN)

test: install browser lint typecheck unit test-ray

install: $(VENV)/.installed $(DEVNET)/node_modules/.installed

NATIVE_SOURCES := circuits/native/Cargo.toml circuits/native/Cargo.lock $(wildcard circuits/native/src/*.rs)

$(VENV)/.installed: pyproject.toml $(NATIVE_SOURCES)
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "zkoracle needs Python >= 3.11")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,ray,groth16py]'
	touch $@

$(DEVNET)/node_modules/.installed: $(DEVNET)/package.json $(DEVNET)/package-lock.json
	cd $(DEVNET) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The browser tests drive Debian's chromium through its chromedriver; as root, install them
# when missing (elsewhere the tests skip and say why).
browser:
	@if command -v chromium >/dev/null && test -x /usr/bin/chromedriver; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq chromium chromium-driver; \
	else echo "chromium/chromium-driver missing and not root: browser tests will be skipped"; fi

lint:
	$(VENV)/bin/ruff check circuits oracle tests scripts
	$(VENV)/bin/ruff format --check circuits oracle tests scripts

typecheck:
	$(VENV)/bin/mypy

unit:
	cargo test --release --quiet --manifest-path circuits/native/Cargo.toml
	$(VENV)/bin/pytest -n 2 --dist loadgroup -q -m "not ray" --durations=15

# A Ray node binds every interface and advertises the machine's first non-loopback address;
# its tests therefore run in a network namespace of their own whose one interface is
# loopback (root: `unshare -n`; elsewhere a user namespace, `unshare -rn`, where allowed).
test-ray: install
	@if unshare -n true 2>/dev/null; then ns="unshare -n"; \
	elif unshare -rn true 2>/dev/null; then ns="unshare -rn"; \
	else echo "test-ray: no network namespace can be made here; Ray tests not run"; exit 0; fi; \
	$$ns sh -c 'ip link set lo up && exec $(VENV)/bin/pytest -q -m ray -p no:cacheprovider'

# Everything `test` runs, plus every gadget proved through snarkjs as well and every ONNX
# conformance case with proofs (about an hour on two cores).
test-full: export ZKORACLE_CHECK_ALL_BACKENDS = 1
test-full: export ZKORACLE_CONFORMANCE = full
test-full: test

bench: install
	$(PY) scripts/bench_prover.py --sizes 12,16,18 --json bench-prover.json
	$(PY) scripts/bench_models.py --json bench-models.json
	$(PY) scripts/gas_report.py --json gas-report.json
	$(PY) scripts/bench_daemon.py --json bench-daemon.json

clean:
	rm -rf $(VENV) $(DEVNET)/node_modules .mypy_cache .ruff_cache .pytest_cache

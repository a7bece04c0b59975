# Two commands for a newcomer: `make run` and `make test` (see README.md).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO := demo-workspace
STAMP := $(VENV)/.installed

.PHONY: run test setup bench clean-demo

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,hq,build]'
	touch $(STAMP)

setup: $(STAMP)

# Sets everything up, creates (or reuses) the demo workspace and opens it in the desktop app.
run: $(STAMP)
	$(BIN)/nap-desktop demo --workspace $(DEMO) --records 5000
	$(BIN)/python -m nap_desktop.app --workspace $(DEMO) --user demo

# Sets everything up and runs the whole test suite.
test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python -m bench

clean-demo:
	rm -rf $(DEMO)

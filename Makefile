# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_DEV := $(VENV)/.installed-dev
# The versions the suite passed with (`make upgrade` refreshes it); pyproject.toml keeps
# the ranges a library user installs from.
CONSTRAINTS := constraints.txt
UPGRADE_VENV := .venv-upgrade
UPGRADE_BIN := $(UPGRADE_VENV)/bin

.PHONY: run test lint typecheck venv install dev bench clean upgrade

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP_RUN): $(BIN)/python pyproject.toml $(CONSTRAINTS)
	$(BIN)/python -m pip install -q -c $(CONSTRAINTS) -e .
	touch $@

$(STAMP_DEV): $(BIN)/python pyproject.toml examples/dawai-echo-provider/pyproject.toml $(CONSTRAINTS)
	$(BIN)/python -m pip install -q -c $(CONSTRAINTS) -e '.[dev]'
	$(BIN)/python -m pip install -q --no-deps -e examples/dawai-echo-provider
	touch $@ $(STAMP_RUN)

venv install: $(STAMP_RUN)
dev: $(STAMP_DEV)

run: $(STAMP_RUN)
	$(BIN)/dawai serve

lint: $(STAMP_DEV)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# mypy cannot follow the editable install's mapping (dawai.core -> core/, ...), so it reads the
# package through links laid out as it installs (build/typecheck/dawai/core -> core/, ...);
# the settings, strict ones for core/ and ports/, are pyproject's [tool.mypy]. Paths in its
# report are shown as the tree's own (core/x.py).
TYPECHECK_TREE := build/typecheck/dawai
typecheck: $(STAMP_DEV)
	@mkdir -p $(TYPECHECK_TREE)
	@for dir in core ports adapters plugins bootstrap; do ln -sfn ../../../$$dir $(TYPECHECK_TREE)/$$dir; done
	@echo "$(BIN)/mypy"
	@out=$$($(BIN)/mypy); rc=$$?; printf '%s\n' "$$out" | sed 's|$(TYPECHECK_TREE)/||'; exit $$rc

test: $(STAMP_DEV)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@$(MAKE) --no-print-directory typecheck
	$(BIN)/python -m pytest

bench: $(STAMP_DEV)
	$(BIN)/python bench/idle_memory.py
	$(BIN)/python bench/music.py
	$(BIN)/python bench/chat_overhead.py

# The newest releases pyproject.toml allows, in a fresh venv beside .venv, put through
# `make test` there (its stamps touched, so nothing is reinstalled with the old pins);
# constraints.txt is rewritten from that venv only when all of it passed.
upgrade:
	rm -rf $(UPGRADE_VENV)
	$(PYTHON) -m venv $(UPGRADE_VENV)
	$(UPGRADE_BIN)/python -m pip install -q --upgrade pip
	$(UPGRADE_BIN)/python -m pip install -q --upgrade -e '.[dev,bench]'
	$(UPGRADE_BIN)/python -m pip install -q --no-deps -e examples/dawai-echo-provider
	touch $(UPGRADE_VENV)/.installed-dev $(UPGRADE_VENV)/.installed-run
	$(MAKE) test VENV=$(UPGRADE_VENV)
	{ echo "# What the suite passed with: written by make upgrade (pip freeze, editable installs left out)."; \
	  echo "# make run, make dev and make test install with -c $(CONSTRAINTS); pyproject.toml keeps the ranges."; \
	  $(UPGRADE_BIN)/python -m pip freeze --exclude-editable; } > $(CONSTRAINTS).new
	mv $(CONSTRAINTS).new $(CONSTRAINTS)
	rm -rf $(UPGRADE_VENV)
	@echo "$(CONSTRAINTS) refreshed; the next make test installs .venv from it."

clean:
	rm -rf $(VENV) $(UPGRADE_VENV) build *.egg-info

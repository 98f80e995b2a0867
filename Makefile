# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-run
STAMP_DEV := $(VENV)/.installed-dev

.PHONY: run test lint typecheck venv install dev bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP_RUN): $(BIN)/python pyproject.toml
	$(BIN)/python -m pip install -q -e .
	touch $@

$(STAMP_DEV): $(BIN)/python pyproject.toml examples/dawai-echo-provider/pyproject.toml
	$(BIN)/python -m pip install -q -e '.[dev]'
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
	$(BIN)/python -m pytest

bench: $(STAMP_DEV)
	$(BIN)/python bench/idle_memory.py
	$(BIN)/python bench/chat_overhead.py

clean:
	rm -rf $(VENV) build *.egg-info

# Two commands on a fresh machine: `make run` and `make test` (README).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run demo test test-fast lint format typecheck bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/kurobara serve

# `make demo PORT=8000 HUB_PORT=8001`: the Kurobara and fake-sites ports (both optional).
demo: $(STAMP)
	$(BIN)/kurobara demo $(if $(PORT),--port $(PORT)) $(if $(HUB_PORT),--hub-port $(HUB_PORT))

# The suite in parallel (pytest-xdist): TEST_WORKERS processes, each with its own PostgreSQL
# database and Redis index (tests/conftest.py); `make test TEST_WORKERS=0` runs it in one process.
TEST_WORKERS ?= 4

# Bytecode is written even where the environment says not to (PYTHONDONTWRITEBYTECODE): every
# worker, fork server and served process would otherwise compile the same sources again, and
# pytest rewrite every test module's assertions again (about 3.5 s of CPU per process).
test: $(STAMP)
	env -u PYTHONDONTWRITEBYTECODE $(BIN)/python -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

format: $(STAMP)
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache

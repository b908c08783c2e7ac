# The two fresh-machine commands (see README):
#   make run   - set up, then validate and health-check the bundled Meltano project
#   make test  - set up, then run ruff, mypy and every test
# Everything lives in .venv; nothing is installed outside this checkout.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
export MELTANO_SEND_ANONYMOUS_USAGE_STATS := false
export MELTANO_CLI_DISABLE_VERSION_CHECK := true

.PHONY: run test lint typecheck pytest promtool bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip uv
	$(BIN)/uv pip install -q --python $(BIN)/python -e '.[test]'
	@rm -f $(VENV)/.installed-* && touch $@

run: $(STAMP)
	$(BIN)/meltano install gruponos-infra tap-jsonl target-jsonl
	$(BIN)/meltano invoke gruponos-infra:validate
	$(BIN)/meltano invoke gruponos-infra:health

lint: $(STAMP)
	$(BIN)/ruff check gruponos_ext tests bench
	$(BIN)/ruff format --check gruponos_ext tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) promtool
	$(BIN)/pytest $(PYTEST_ARGS)

# promtool (Debian's prometheus package) tests monitoring/prometheus-rules.yml.
# Installed when missing, as root with apt-get; elsewhere the rule tests skip
# with the reason (and fail under CI).
promtool:
	@command -v promtool >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing promtool (Debian package prometheus)..."; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	      apt-get install -y -qq --no-install-recommends prometheus >/dev/null; \
	  else \
	    echo "promtool is missing and cannot be installed here (needs root and apt-get)"; \
	  fi; }

test: lint typecheck pytest

bench: $(STAMP)
	$(BIN)/uv pip install -q --python $(BIN)/python -e '.[test,bench]'
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) .meltano output .mypy_cache .ruff_cache .pytest_cache

# The two fresh-machine commands (see README):
#   make run   - set up, then validate, run the sample job under guard, health, history, status page
#   make test  - set up, then run ruff, mypy and every test
# Everything lives in .venv; nothing is installed outside this checkout.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
export MELTANO_SEND_ANONYMOUS_USAGE_STATS := false
export MELTANO_CLI_DISABLE_VERSION_CHECK := true

.PHONY: run test lint typecheck pytest bench clean system-deps

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip uv
	$(BIN)/uv pip install -q --python $(BIN)/python -e '.[test]'
	@rm -f $(VENV)/.installed-* && touch $@

# The lifecycle, seen whole: install, validate, the sample job under guard
# (preflight, tap-jsonl -> target-jsonl, dispose), health, then the history.
run: export GRUPONOS_INFRA_METRICS_DIR := $(CURDIR)/output/metrics
run: $(STAMP)
	@echo "==> Installing the bundled project's plugins (gruponos-infra, tap-jsonl, target-jsonl; first time ~1 min)"
	@$(BIN)/meltano install gruponos-infra tap-jsonl target-jsonl
	@echo "==> Validating settings, wiring and meltano.yml"
	@$(BIN)/meltano invoke gruponos-infra:validate
	@echo "==> Running the sample job under guard: preflight, tap-jsonl -> target-jsonl, dispose"
	@$(BIN)/meltano invoke gruponos-infra:guard-sample
	@echo "==> Health checks"
	@$(BIN)/meltano invoke gruponos-infra:health
	@echo "==> History: runs, locks and health results"
	@$(BIN)/meltano invoke gruponos-infra:history --limit 5
	@echo "==> Status page: jobs, runs, schedules, locks and health in one HTML file"
	@$(BIN)/meltano invoke gruponos-infra:report
	@echo "==> Done. State (run records, locks, health history): $(CURDIR)/.meltano/gruponos-infra/state.db"
	@echo "    Metrics (Prometheus textfiles): $(GRUPONOS_INFRA_METRICS_DIR)/gruponos_job_sample-jsonl.prom, gruponos_health.prom"
	@echo "    Status page (open in a browser): $(GRUPONOS_INFRA_METRICS_DIR)/gruponos_status.html"
	@echo "    Sample output: $(CURDIR)/output/allocations.jsonl"

lint: $(STAMP)
	$(BIN)/ruff check gruponos_ext tests bench
	$(BIN)/ruff format --check gruponos_ext tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

# Debian packages the tests use: PostgreSQL's server binaries (a throw-away server
# per test session), libfaketime (a worker whose clock is off), promtool (package
# prometheus: the alerting rules) and chromium (the status page in a real browser).
# Installed when missing and we are root (CI); otherwise the tests that need them
# say why they skip (and fail under CI).
system-deps:
	@missing=""; \
	ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v faketime >/dev/null 2>&1 || missing="$$missing faketime"; \
	command -v promtool >/dev/null 2>&1 || missing="$$missing prometheus"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian packages the tests use:$$missing"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	      apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else \
	    echo "missing system packages:$$missing (as root: apt-get install$$missing)"; \
	  fi; \
	fi

test: system-deps lint typecheck pytest

bench: $(STAMP)
	$(BIN)/uv pip install -q --python $(BIN)/python -e '.[test,bench]'
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) .meltano output .mypy_cache .ruff_cache .pytest_cache

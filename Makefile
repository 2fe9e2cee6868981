# The README's two commands, `make study` and `make test`, do all set-up on a fresh machine.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CORES ?= 2
REPORT := results/report.html

.PHONY: study test test-fast test-slurm lint report venv lock clean

venv: $(STAMP)

# Rebuilt whenever a pin changes; torch==2.13.0 resolves to the CPU build on disk here and to
# the platform's default build elsewhere.
$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -c requirements.lock -e .
	touch $@

# Safe to rerun after an interruption: a stale lock is removed and incomplete outputs redone;
# nothing completed before is recomputed.
study: $(STAMP)
	$(BIN)/python -m rnndyn.runlock
	$(BIN)/snakemake --cores $(CORES) --rerun-incomplete
	@$(MAKE) --no-print-directory report

# The report is rebuilt only when a result or a caption is newer than it.
report: $(STAMP)
	@if [ -f $(REPORT) ] && [ -z "$$(find results workflow/report -type f -newer $(REPORT) ! -name report.html | head -n 1)" ]; then \
		echo "$(REPORT) is up to date: nothing to be done."; \
	else \
		$(BIN)/snakemake --report $(REPORT); \
	fi

test: $(STAMP)
	$(BIN)/python -m pytest

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not workflow"

lint: $(STAMP)
	$(BIN)/snakemake --lint
	$(BIN)/snakefmt --check --compact-diff Snakefile workflow/

lock: $(STAMP)
	{ sed -n '1,3p' requirements.lock; $(BIN)/python -m pip freeze --exclude-editable | sed 's/^torch==\(.*\)+cpu$$/torch==\1/'; echo "setuptools==80.9.0"; } > requirements.lock.new
	mv requirements.lock.new requirements.lock

clean:
	rm -rf results logs .snakemake

# Needs root. Installs (once) and starts a one-node SLURM cluster, runs the workflow on it through
# profiles/slurm (tests/slurm), and stops the cluster whatever happens, keeping pytest's exit code.
test-slurm: $(STAMP)
	@[ "$$(id -u)" = 0 ] || { echo "make test-slurm needs root: it installs and starts a SLURM cluster" >&2; exit 1; }
	trap 'tests/slurm/cluster.sh stop' EXIT; \
	tests/slurm/cluster.sh start; \
	RNNDYN_SLURM=1 timeout -k 30 1800 $(BIN)/python -m pytest -m slurm tests/slurm

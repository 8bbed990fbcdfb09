# One command surface for people and CI. `make test` and `make check` set everything up.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install browser check lint typecheck imports pin-images test test-fast test-unit test-integration chaos bench bench-kubesim bench-launcher bench-watcher bench-reconciler bench-pipeline bench-dashboard bench-airflow demo clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "podrunner needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 $(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# The dashboard's browser tests drive Debian's Chromium through Playwright, which never downloads
# a browser of its own: install the package when it is missing (as root, where apt-get works).
CHROMIUM ?= /usr/bin/chromium
browser:
	@test -x $(CHROMIUM) || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian's chromium for the browser tests"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "make browser: no $(CHROMIUM); install Debian's chromium package (apt-get install chromium) as root" >&2; exit 1; \
	  fi; }

check: lint typecheck imports

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy shared services migrations scripts tests

imports: install
	$(BIN)/lint-imports

# After `docker push`, pin the Kubernetes manifests to the digests of what was pushed
# (k8s/base/control-plane; a reference with @sha256:... is taken as is), e.g.
#   make pin-images IMAGE=registry.example.com/podrunner:1.2.3 WORKER_IMAGE=python:3.11-slim
pin-images: install
	@test -n "$(IMAGE)$(WORKER_IMAGE)" || { echo "make pin-images: set IMAGE=... and/or WORKER_IMAGE=..." >&2; exit 2; }
	$(BIN)/python -m scripts.pin_images $(if $(IMAGE),--podrunner $(IMAGE)) $(if $(WORKER_IMAGE),--worker $(WORKER_IMAGE))

# pytest exits 5 when it collected nothing: a suite that ran no test has failed.
test: install browser
	@$(BIN)/pytest; rc=$$?; if [ $$rc -eq 5 ]; then echo "make test: no tests were collected" >&2; exit 1; fi; exit $$rc

# Everything but the tests marked slow (each takes more than ~15 s): minutes, not the whole run
# that CI makes with `make test`.
test-fast: install browser
	@$(BIN)/pytest -m 'not slow'; rc=$$?; if [ $$rc -eq 5 ]; then echo "make test-fast: no tests were collected" >&2; exit 1; fi; exit $$rc

test-unit: install
	$(BIN)/pytest tests/unit

test-integration: install
	$(BIN)/pytest tests/integration

# 2,000 mixed tasks under kill -9s, a Redis wipe, cut database connections and API errors; every
# task accounted for (CHAOS_ARGS="--tasks 5000" for a longer run). Exits 1 on any loss or leak.
CHAOS_ARGS ?= --tasks 2000
chaos: install
	$(BIN)/python -m tests.chaos.run $(CHAOS_ARGS)

# Every benchmark on this machine's Postgres and Redis (127.0.0.1): one table, bench-results.json.
bench: install
	$(BIN)/podrunner bench

# The machine's Redis, as `make bench` uses it (an embedded one, the fallback, is slower).
BENCH_REDIS_URL ?= redis://127.0.0.1:6379/14

bench-launcher: install
	$(BIN)/python -m tests.benchmarks.bench_launcher --runs 3 --redis-url $(BENCH_REDIS_URL)

bench-watcher: install
	$(BIN)/python -m tests.benchmarks.bench_watcher --runs 3 --redis-url $(BENCH_REDIS_URL)

# Needs the machine's Postgres and Redis (on 127.0.0.1; see --database-url and --redis-url).
bench-reconciler: install
	$(BIN)/python -m tests.benchmarks.bench_reconciler --runs 3

bench-kubesim: install
	$(BIN)/python -m tests.benchmarks.bench_kubesim --runs 3

# 10,000 tasks end to end (and 100,000 when that fits in 15 minutes), and memory with 100,000 pods.
bench-pipeline: install
	$(BIN)/python -m tests.benchmarks.bench_pipeline --large-tasks 100000

# Airflow's KubernetesExecutor against podrunner's executor, 1,000 tasks each; the first run
# creates the baseline's own environment, .venv-airflow-baseline, with pip.
bench-airflow: install
	$(BIN)/python -m tests.benchmarks.bench_airflow --runs 3 --redis-url $(BENCH_REDIS_URL)

# Each dashboard page's answer time with 100,000 rows (machine's Postgres and Redis on 127.0.0.1).
bench-dashboard: install
	$(BIN)/python -m tests.benchmarks.bench_dashboard --runs 20

# DEMO_ARGS=--keep keeps everything running after the tasks end, to look at the dashboard.
DEMO_ARGS ?=
demo: install
	$(BIN)/podrunner demo $(DEMO_ARGS)

clean:
	rm -rf $(VENV) .venv-airflow-baseline .mypy_cache .ruff_cache .pytest_cache .hypothesis

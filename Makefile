# Two commands do all the set-up: `make run` (install + start) and `make test` (install + every check).
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
STAMP   = $(VENV)/.installed-stamp

.PHONY: run test lint typecheck unit bench soak clean chromium screenshots wrk

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# The engines of the sharded-emission recipes (tests/test_delivery_engines.py: Dask, and
# Ray for about 20 s of the suite), installed on their own: in one resolution with the test
# tools (the [test] extra) pip backtracks for more than ten minutes; after them it takes
# about half a minute.
ENGINES = $(VENV)/.engines-stamp
$(ENGINES): $(STAMP)
	$(BIN)/python -m pip install --quiet 'dask[distributed]>=2024.6' 'ray>=2.30'
	touch $(ENGINES)

run: $(STAMP)
	$(BIN)/bcm-local serve

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/lint-imports --no-cache

typecheck: $(STAMP)
	$(BIN)/mypy --strict src

unit: $(STAMP) $(ENGINES) chromium
	$(BIN)/pytest -q -n 2 tests

# $(call debian_package,NAME,what happens without it): install Debian's NAME if missing
comma := ,
debian_package = command -v $(1) >/dev/null 2>&1 || { \
	  SUDO=$$([ "$$(id -u)" = 0 ] || echo "sudo -n"); \
	  ($$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(1)) >/dev/null 2>&1 \
	  || echo "note: $(1) could not be installed; $(2)"; }

# The console's browser tests drive Debian's Chromium (never a downloaded one); without it
# they are skipped with the reason.
chromium:
	@$(call debian_package,chromium,the browser tests will be skipped)

screenshots: $(STAMP) chromium
	BCM_LOCAL_SCREENSHOTS=1 $(BIN)/pytest -q tests/test_console_browser.py

test: lint typecheck unit

# the S3 rows are driven by wrk (Debian's package), a C load generator
wrk:
	@$(call debian_package,wrk,run benchmarks/run.py --only startup$(comma)api$(comma)export$(comma)emission)

bench: $(STAMP) wrk
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	$(BIN)/python benchmarks/run.py

# a long run of mixed API and S3 traffic watching memory and file descriptors:
# `make soak` (10 minutes) or `make soak MINUTES=3`
MINUTES ?= 10
soak: $(STAMP)
	$(BIN)/python benchmarks/soak.py --minutes $(MINUTES) --write

clean:
	rm -rf $(VENV) build src/*.egg-info

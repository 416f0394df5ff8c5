# Two commands on a fresh machine: `make run` (set up + run on the sample) and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
DAGSTER := $(VENV)/bin/dagster
export DAGSTER_HOME := $(CURDIR)/.dagster
# A user's run: RUN_FILE=path/to/attribution.toml (or ATTRIBUTION_RUN_FILE, or an
# attribution.toml here). Without one and without ATTRIBUTION_* inputs, the sample runs.
ifdef RUN_FILE
export ATTRIBUTION_RUN_FILE := $(abspath $(RUN_FILE))
endif
UI_PORT ?= 3000

.PHONY: install install-spark deps java chromium sample run report test test-fast test-ui check docs wheel ui clean

install: $(VENV)/.installed

# pinned by requirements.lock (pyproject.toml holds the ranges): the same versions everywhere
PIP_INSTALL := $(PY) -m pip install --quiet --disable-pip-version-check -c requirements.lock

$(VENV)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) -e '.[dagster,report,dev]'
	touch $@

# the Spark engine's extra (pyspark, ~490 MB): the tests replay every SQL file on Spark
install-spark: $(VENV)/.installed-spark

$(VENV)/.installed-spark: $(VENV)/.installed
	$(PIP_INSTALL) -e '.[dagster,report,dev,spark]'
	touch $@

# what the Spark and browser tests need from Debian (as root, when missing): a Java runtime
# and chromium, never a downloaded JVM or browser. make test does not install them.
deps: java chromium

java:
	@command -v java >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jre-headless >/dev/null; \
		else echo "the Spark tests need a Java runtime: sudo apt-get install default-jre-headless"; exit 1; fi; }

$(DAGSTER_HOME)/dagster.yaml: dagster_home.yaml
	mkdir -p $(DAGSTER_HOME)
	cp dagster_home.yaml $@

# the sample is written only when it is what runs (no run file, no ATTRIBUTION_* inputs) and
# one of its files is missing; the summary of what the run reads is printed with it
sample: install
	@$(PY) -m attribution.run_summary --write-sample

# Every input is loaded in full, whatever its dates; one run materializes every asset. What the
# run reads (and the sample, when it is what runs and is missing), then the run and its report
# in one process: each start-up of the pipeline's modules costs 0.3-2.5 s.
run: install $(DAGSTER_HOME)/dagster.yaml
	@$(PY) -m attribution.run_summary --write-sample
	@$(PY) -m dagster_defs.run

# the terminal comparison and the HTML report (attribution_report.html next to the exports)
report: install
	@$(PY) -m attribution.report
	@$(PY) -m attribution.html_report

# The UI test drives Debian's chromium with Playwright (never a downloaded browser).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; \
		else echo "the UI test needs Debian's chromium: sudo apt-get install chromium chromium-driver"; exit 1; fi; }

# every test: the DuckDB and browser tests on pytest-xdist workers, then the Spark tests in one
# process (one Spark session); a missing Java or chromium fails the tests that need it (make
# deps installs them)
test: install install-spark
	@$(PY) -m pytest -q -m "not spark"; rc=$$?; \
		if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; \
		$(PY) -m pytest -q -n 0 -m spark; rc2=$$?; \
		if [ $$rc2 -eq 5 ]; then echo "pytest collected no Spark tests: failing"; exit 1; fi; \
		exit $$(( rc > rc2 ? rc : rc2 ))

# the DuckDB tests: without the browser (ui), Spark (spark) and large-world (slow) groups
test-fast: install
	$(PY) -m pytest -q -m "not ui and not spark and not slow"

# the browser tests alone (Debian's chromium driven by Playwright)
test-ui: install
	$(PY) -m pytest -q -m ui

# lint, format, types, SQL and the generated docs: ruff over the tree, mypy over every package
# (with the spark extra installed: mypy reads pyspark's types), sqlfluff over sql/
check: install install-spark
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/sqlfluff lint sql
	$(PY) -m dagster_defs.docs --check

# docs/tables.md from the asset descriptions, the checks and the glossary
docs: install
	$(PY) -m dagster_defs.docs

# the wheel (its SQL inside: attribution/_sql/) under dist/
wheel: install
	$(PY) -m pip wheel --quiet --no-deps --no-build-isolation -w dist .

ui: install sample $(DAGSTER_HOME)/dagster.yaml
	$(DAGSTER) dev -w workspace.yaml -h 127.0.0.1 -p $(UI_PORT)

clean:
	rm -rf $(VENV) $(DAGSTER_HOME) data/sample data/attribution.duckdb data/exports dist

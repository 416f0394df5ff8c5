# Two commands on a fresh machine: `make run` (set up + run on the sample) and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
DAGSTER := $(VENV)/bin/dagster
export DAGSTER_HOME := $(CURDIR)/.dagster
SAMPLE := data/sample/spend.csv
# A user's run: RUN_FILE=path/to/attribution.toml (or ATTRIBUTION_RUN_FILE, or an
# attribution.toml here). Without one and without ATTRIBUTION_* inputs, the sample runs.
ifdef RUN_FILE
export ATTRIBUTION_RUN_FILE := $(abspath $(RUN_FILE))
endif
UI_PORT ?= 3000

.PHONY: install install-spark java sample run report test check ui bench clean chromium

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

# the Spark engine's extra (pyspark, ~490 MB): the tests replay every SQL file on Spark
install-spark: $(VENV)/.installed-spark

$(VENV)/.installed-spark: $(VENV)/.installed
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev,spark]'
	touch $@

# Spark needs a Java runtime: Debian's, installed when missing (never a downloaded JVM)
java:
	@command -v java >/dev/null 2>&1 || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq default-jre-headless >/dev/null; \
		else echo "the Spark tests need a Java runtime: sudo apt-get install default-jre-headless"; exit 1; fi; }

$(DAGSTER_HOME)/dagster.yaml: dagster_home.yaml
	mkdir -p $(DAGSTER_HOME)
	cp dagster_home.yaml $@

# the sample is written only when it is what runs (no run file, no ATTRIBUTION_* inputs)
sample: install
	@if $(PY) -m attribution.runfile --is-sample; then \
		test -f $(SAMPLE) || $(PY) -m attribution.sample_data --out data/sample; fi

# Every input is loaded in full, whatever its dates; one run materializes every asset.
run: install sample $(DAGSTER_HOME)/dagster.yaml
	@$(PY) -m attribution.runfile
	@$(DAGSTER) asset materialize -m dagster_defs --select '*' > $(DAGSTER_HOME)/last_run.log 2>&1 \
		|| { grep -m1 -oP '(?<=events\.Failure: ).*' $(DAGSTER_HOME)/last_run.log \
			|| tail -n 40 $(DAGSTER_HOME)/last_run.log; echo "run failed: see .dagster/last_run.log"; exit 1; }
	@grep -c "STEP_SUCCESS" $(DAGSTER_HOME)/last_run.log | xargs -I{} echo "{} steps succeeded (assets and checks)"
	@$(PY) -m attribution.report
	@$(PY) -m attribution.runfile --report-path

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

test: install install-spark java chromium
	@$(PY) -m pytest -q; rc=$$?; \
		if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; exit $$rc

# lint, format and types: ruff (lint + format check) over the tree, mypy strict on attribution/
# (with the spark extra installed: mypy reads pyspark's types)
check: install install-spark
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

ui: install sample $(DAGSTER_HOME)/dagster.yaml
	$(DAGSTER) dev -w workspace.yaml -h 127.0.0.1 -p $(UI_PORT)

clean:
	rm -rf $(VENV) $(DAGSTER_HOME) data/sample data/attribution.duckdb data/exports

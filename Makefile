# Everyday targets. `make report` and `make test` are the README's two commands.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
SAMPLE  := data/sample
LATEST  ?= 2024/25-Q4
# Test processes (pytest-xdist): one per core. The session's shared runs are made once for all
# of them (tests/helpers.py built_once). TEST_WORKERS=0 runs everything in one process.
TEST_WORKERS ?= auto
# What JupyterLab adds on save that nbstripout keeps by default (tests/test_notebooks_git.py).
NBSTRIP_KEYS := metadata.language_info metadata.widgets cell.metadata.execution

.PHONY: report test test-fast lab sample validate lint bench clean

$(VENV)/.base: pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e .
	@touch $@

$(VENV)/.test: $(VENV)/.base
	$(BIN)/python -m pip install -q -e '.[test]'
	@touch $@

$(SAMPLE)/README.md: | $(VENV)/.base
	$(BIN)/kpi sample --out $(SAMPLE)

sample: $(SAMPLE)/README.md

report: $(VENV)/.base sample
	$(BIN)/kpi run $(LATEST) --data $(SAMPLE)

validate: $(VENV)/.base sample
	$(BIN)/kpi validate $(SAMPLE)

# Everything: lint, then every test (real Papermill runs and the real browser included), then a
# check that the tests left the checkout as they found it (tests write only to temporary folders).
test: lint
	@.ci/checkout-snapshot > $(VENV)/.checkout-before
	$(BIN)/python -m pytest -n $(TEST_WORKERS)
	@.ci/checkout-snapshot | diff $(VENV)/.checkout-before - || \
	  { echo "error: the tests wrote into the checkout (lines marked > above)"; exit 1; }

# Unit tests only (in-process, one shared small panel; no notebooks, browser or real processes):
# the loop to run while working (timings in bench/README.md).
test-fast: $(VENV)/.test
	$(BIN)/python -m pytest -n $(TEST_WORKERS) -m "not integration and not notebooks and not browser and not e2e" -q

lint: $(VENV)/.test
	$(BIN)/ruff check kpi_lib tests bench notebooks/*.py

lab: $(VENV)/.base sample
	$(BIN)/nbstripout --install
	git config filter.nbstripout.extrakeys "$(NBSTRIP_KEYS)"
	$(BIN)/python -m ipykernel install --sys-prefix --name kpi-report --display-name "Budget KPIs (kpi_lib)"
	$(BIN)/jupyter lab notebooks/

bench: $(VENV)/.test sample
	$(BIN)/python bench/run.py

clean:
	rm -rf outputs/*/ $(SAMPLE)

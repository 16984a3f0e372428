# Set-up and everyday commands. `make run` and `make test` build .venv on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
RAY_STAMP := $(VENV)/.installed-ray

THREE_DMOL := static/3Dmol-min.js

.PHONY: venv run test test-fast bench checkpoints-table readme clean

$(STAMP): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $(STAMP)

# The optional Ray engine (`--engine ray`): the tests run it, the app does not need it, so
# `make test` installs it and `make run` does not. A change to either file re-installs.
$(RAY_STAMP): $(STAMP) requirements-ray.txt
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt -r requirements-ray.txt
	touch $(RAY_STAMP)

# 3Dmol.js for the 3D viewer, served by the app itself so it works offline (not committed).
# Without npm or a registry, the viewer falls back to the CDN copy.
$(THREE_DMOL):
	@mkdir -p static
	@tmp=$$(mktemp -d) && (cd $$tmp && npm pack --silent 3dmol@2.5.5 >/dev/null 2>&1 && tar xzf 3dmol-2.5.5.tgz) \
	  && cp $$tmp/package/build/3Dmol-min.js $(THREE_DMOL) && echo "installed $(THREE_DMOL)" \
	  || echo "note: could not fetch 3Dmol.js with npm; the 3D viewer will load it from the CDN"; rm -rf $$tmp

venv: $(STAMP) $(THREE_DMOL)

run: venv
	$(VENV)/bin/streamlit run app.py

test: venv $(RAY_STAMP)
	$(PY) -m pytest -q

# Everyday work: the tests not marked slow (under 2 minutes on 2 cores; see README).
test-fast: venv
	$(PY) -m pytest -q -m "not slow"

bench: venv
	$(PY) bench/throughput.py
	$(PY) bench/app_latency.py
	$(PY) bench/reproduce.py --evaluate
	$(PY) bench/summarize.py

checkpoints-table: venv
	$(PY) -m molapp.cli.checkpoints_table

# README figures: the checkpoint table from the cards, the measured figures and the papers' claims from bench/results.
readme: checkpoints-table
	$(PY) -m molapp.cli.readme_figures
	$(PY) -m molapp.cli.papers_table

clean:
	rm -rf $(VENV) .pytest_cache tests/artifacts

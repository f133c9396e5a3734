# opgan: two commands on a fresh machine -- `make book` (the reproduction) and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.opgan-installed
export PYTHONUNBUFFERED := 1

.PHONY: install data test book bench smoke clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

data: $(STAMP)
	PYTHON=$(PY) scripts/install_data.sh

test: install data
	$(PY) -m pytest -q

smoke: install data
	$(VENV)/bin/opgan train --preset smoke --out runs/smoke

book: install data
	@echo "make book: the notebooks and the Jupyter Book are not built yet (issue 4);"
	@echo "for now it trains the smoke preset and samples it."
	$(VENV)/bin/opgan train --preset smoke --out runs/smoke
	$(VENV)/bin/opgan sample --checkpoint runs/smoke/generator.pt --out runs/smoke/samples.png

bench: install data
	$(PY) benchmarks/bench_train.py --out benchmarks/results/train.json
	$(PY) benchmarks/bench_invert.py --out benchmarks/results/invert.json

clean:
	rm -rf runs/smoke .pytest_cache

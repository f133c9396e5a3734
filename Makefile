# opgan: two commands on a fresh machine -- `make book` (the reproduction) and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.opgan-installed
export PYTHONUNBUFFERED := 1

LINTED := opgan scripts benchmarks tests notebooks

.PHONY: install data browser lint format test book reproduce bench smoke clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

data: $(STAMP)
	PYTHON=$(PY) scripts/install_data.sh

# Headless Chromium for the book's browser check: installed from Debian when running as root;
# elsewhere the check says it is skipped.
browser:
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	    { apt-get install -y -qq chromium >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }; }; } || \
	  echo "no Chromium and no root to install it: the browser check will be skipped"

# The tests, then every notebook at the smoke scale built into a book (fails on a notebook error or
# a figure cell without a figure), then every page of it checked in headless Chromium (screenshots
# in runs/book-smoke/book/_build/screenshots), then every claim rebuilt from the files beside it,
# then pages 01-04 re-executed on their own cached results (04: its models) with the two sides of
# each claim swapped: their verdicts must come out mirrored; last, pages 01-04 run again on the
# smoke book's cache must compute nothing.
test: install data browser lint
	$(PY) -m pytest -q
	rm -rf runs/book-smoke
	$(VENV)/bin/opgan book --scale smoke --out runs/book-smoke/book
	$(PY) scripts/check_book.py runs/book-smoke/book/_build/html
	$(PY) scripts/rebuild_check.py runs/book-smoke/book/results
	$(PY) scripts/flip_check.py runs/book-smoke/book --scale smoke
	$(PY) scripts/rerun_check.py runs/book-smoke/book --scale smoke

# Lint and format check (ruff, configured in pyproject.toml); `make format` rewrites the files.
lint: install
	$(VENV)/bin/ruff check $(LINTED)
	$(VENV)/bin/ruff format --check $(LINTED)

format: install
	$(VENV)/bin/ruff format $(LINTED)
	$(VENV)/bin/ruff check --fix $(LINTED)

smoke: install data
	$(VENV)/bin/opgan train --preset smoke --out runs/smoke

# The main job: every notebook at the cpu scale (models from checkpoints/) into book/, then the HTML
# book in book/_build/html.
book: install data
	$(VENV)/bin/opgan book --scale cpu

# Retrain the whole cpu sweep from scratch (resumable), export it into checkpoints/, rebuild the book.
reproduce: install data
	PYTHON=$(PY) scripts/reproduce.sh

bench: install data
	$(PY) benchmarks/bench_train.py --out benchmarks/results/train.json
	$(PY) benchmarks/bench_invert.py --out benchmarks/results/invert.json
	$(PY) benchmarks/bench_book.py --label current --out benchmarks/results/book_units.json

clean:
	rm -rf runs/smoke runs/book-smoke book/_build book/_cache .pytest_cache

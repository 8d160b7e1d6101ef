# lyra_nb: `make test` and `make demo` do all set-up on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(CURDIR)/$(VENV)/bin
STAMP  := $(VENV)/.installed
export PATH := $(BIN):$(PATH)
export MPLBACKEND := Agg

.PHONY: install test demo docs docs-check bench nbs export clean

# torch==2.13.0 first: it takes the CPU wheel (an unpinned torch would pull a multi-GB CUDA build).
$(STAMP): settings.ini setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	bash tools/test.sh

export: $(STAMP)
	nbdev_export
	nbdev_clean

# Re-run notebooks in place to refresh their saved outputs: `make nbs NBS=nbs/02_s4d.ipynb`.
NBS ?= $(wildcard nbs/[0-9]*.ipynb) nbs/index.ipynb
nbs: $(STAMP)
	python tools/run_nbs.py $(NBS)
	python tools/shrink_figures.py $(NBS)
	nbdev_clean

# Offline docs: nbdev_proc_nbs (no quarto) + pandoc (Debian's) -> docs/*.html and README.md.
docs: $(STAMP)
	command -v pandoc >/dev/null || { apt-get update -qq && apt-get install -y -qq pandoc; }
	bash tools/docs.sh

# Opens every built page in headless Chromium (Debian's): fails on a missing page, a broken link, an image that did
# not load or math left as raw TeX; screenshots of the home, theory and interpretation pages go to _docs_check/.
docs-check: docs
	command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium; }
	python tools/docs_check.py

# Trains Lyra on the Gifford CDR3 subset bundled in the package; prints the test metric and time, saves plots.
demo: $(STAMP)
	python tools/demo.py

# Long benchmarks (`#| slow` cells; they read ../shared/data): refreshes their saved outputs and results/.
BENCH ?= $(wildcard nbs/benchmarks/*.ipynb)
bench: $(STAMP)
	$(BIN)/pip install -q fair-esm==2.0.0  # benchmark-only: the ESM-2 model classes (random weights, nothing downloaded)
	python tools/run_nbs.py --flags slow $(BENCH)
	python tools/shrink_figures.py $(BENCH)
	nbdev_clean
	python -m pytest -q --slow tests/test_ddp.py
	python tools/bench_stream.py

clean:
	rm -rf _proc _docs _docs_check test.log

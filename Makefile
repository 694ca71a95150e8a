# Two commands on a fresh clone:  `make demo` renders examples/song.yaml; `make test` runs the tests.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup setup-test demo test bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)

setup: $(BIN)/python
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q --no-deps 'tinysoundfont==0.3.7'
	$(BIN)/python -m pip install -q -e .

# Tests also exercise the optional neural engine (CPU torch, pinned), Dask and the test peers.
setup-test: setup
	$(BIN)/python -m pip install -q 'torch==2.13.0'
	$(BIN)/python -m pip install -q -e '.[test,neural,cluster,bench]'

demo: setup
	$(BIN)/ainur render examples/song.yaml --out renders/example --force

test: setup-test
	bash scripts/install-system-deps.sh
	$(BIN)/python -m pytest -q

bench: setup
	$(BIN)/python bench/song_bench.py

clean:
	rm -rf renders build *.egg-info .pytest_cache

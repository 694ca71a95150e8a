# Two commands on a fresh clone:  `make demo` renders examples/song.yaml; `make test` runs the tests.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup demo test bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)

setup: $(BIN)/python
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q --no-deps tinysoundfont
	$(BIN)/python -m pip install -q -e '.[test]'

demo: setup
	$(BIN)/ainur render examples/song.yaml --out renders/example --force

test: setup
	bash scripts/install-system-deps.sh
	$(BIN)/python -m pytest -q

bench: setup
	$(BIN)/python bench/song_bench.py

clean:
	rm -rf renders build *.egg-info .pytest_cache

# One entry point for people and CI. The first use creates .venv and installs the project with its test
# extras, so `make test` alone works on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test lint demo sim clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check station tests bench
	$(BIN)/ruff format --check station tests bench
	$(BIN)/mypy

test: lint
	QT_QPA_PLATFORM=offscreen $(BIN)/pytest -q

demo: $(STAMP)
	$(BIN)/station demo --fixtures 8 --units 16

sim: $(STAMP)
	$(BIN)/station sim ppa --count 4

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

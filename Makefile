# One entry point for people and CI. The first use creates .venv and installs the project with its test
# extras, so `make test` alone works on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: test check lint demo sim gui bench bench-sync clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,gui,dashboard]'
	touch $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check station tests bench
	$(BIN)/ruff format --check station tests bench
	$(BIN)/mypy

# The suite runs on every core (pytest-xdist; -n auto is 2 workers on a 2-core machine): most tests wait on
# simulated units, sockets and child processes, so two workers overlap those waits.
test: lint  # the whole suite, `slow` tests included (CI runs this)
	QT_QPA_PLATFORM=offscreen $(BIN)/pytest -q -n auto

check: lint  # the edit loop: the same lint, then every test but the `slow` ones (the SIGKILL and bench runs)
	QT_QPA_PLATFORM=offscreen $(BIN)/pytest -q -n auto -m "not slow"

demo: $(STAMP)
	$(BIN)/station demo --fixtures 8 --units 16

gui: $(STAMP)  # the operator window on a demo station (simulated fixtures, realistic timing)
	$(BIN)/station gui --demo

sim: $(STAMP)
	$(BIN)/station sim ppa --count 4

bench: $(STAMP)  # speed figures of issue 3 as ratios (station overhead, parallel efficiency); ~3 min
	$(BIN)/python -m bench.run
	$(BIN)/python -m bench.dashboard  # issue 20: page/API latency on 500 000 records, live delay; needs PostgreSQL

bench-sync: $(STAMP)  # issue 4: sync records/s into PostgreSQL, 100 000-record chain verify; needs PostgreSQL
	$(BIN)/python -m bench.sync

# Issue 9 evidence: long runs that print figures (bench/README.md); SOAK_FLAGS/CHAOS_FLAGS shorten them,
# e.g. make chaos CHAOS_FLAGS="--units 200 --kills 20".
.PHONY: soak chaos
soak: $(STAMP)  # 10 000 units in one station process: memory and descriptor growth after warm-up; ~40 min
	$(BIN)/python -m bench.soak $(SOAK_FLAGS)

chaos: $(STAMP)  # 1 000 units, random faults, 100 SIGKILLs of `station run`; exit 1 if a must-be-0 figure is not 0
	$(BIN)/python -m bench.chaos $(CHAOS_FLAGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# Issue 9: the release tarball. PyInstaller freezes the station (packaging/pyinstaller/); packaging/build.py
# refuses uncommitted sources unless PACKAGE_FLAGS=--allow-dirty (the tarball names the commit it is built from).
.PHONY: package package-smoke
PACKAGE_STAMP := $(VENV)/.installed-package
VERSION = $(shell sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml)
TARBALL = dist/ppa-station-$(VERSION)-linux-$(shell uname -m).tar.gz

$(PACKAGE_STAMP): pyproject.toml $(STAMP)
	$(BIN)/pip install --quiet -e '.[gui,package]'
	touch $(PACKAGE_STAMP)

package: $(PACKAGE_STAMP)  # dist/ppa-station-<version>-linux-<arch>.tar.gz; ~1 min
	$(BIN)/python packaging/build.py $(PACKAGE_FLAGS)

package-smoke: package  # unpack the tarball into a temporary folder and run the frozen station there
	bash packaging/smoke.sh $(TARBALL)

# Issue 17: the wheel is complete. Build it, install it (not editable) into a fresh virtual environment
# outside the checkout and run the station from there (CI runs this after `make test`); ~30 s.
.PHONY: wheel-smoke
wheel-smoke:
	bash .ci/wheel-smoke

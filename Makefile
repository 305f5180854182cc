# Timbre Studio: `make run` opens the studio, `make test` runs the whole suite.
# Both set everything up first (system packages, .venv, pinned deps) and are quick the
# second time: the install step re-runs only when a requirements file changes.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check
CONSTRAINTS := -c requirements/constraints.txt
STAMP := $(VENV)/.timbre-installed
REQS := requirements/constraints.txt requirements/runtime.txt requirements/nodeps.txt \
        requirements/dev.txt pyproject.toml packaging/system-deps.sh
REQS += requirements/package.txt requirements/lock.txt requirements/nodeps.lock.txt

export QT_API := pyside6

.PHONY: setup run test lint bench bench-music bench-voice bench-consent bench-watermark screenshot clean
.PHONY: bench-transcribe bench-openmp bench-linears

setup: $(STAMP)

$(STAMP): $(REQS)
	$(PYTHON) packaging/lock.py check
	bash packaging/system-deps.sh
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@# Locked installs (make lock): every file hash-checked, nothing resolved here (--no-deps).
	$(PIP) install -q --require-hashes --no-deps -r requirements/lock.txt
	$(PIP) install -q --require-hashes --no-deps -r requirements/nodeps.lock.txt
	$(PIP) install -q --no-deps --no-build-isolation -e .
	@# PyPI torchaudio/torchvision/torchtext are CUDA builds that break imports: never keep them.
	$(PIP) uninstall -y -q torchaudio torchvision torchtext 2>/dev/null || true
	touch $(STAMP)

run: setup
	@$(VENV)/bin/timbre

test: setup
	$(PY) -m ruff check desktop engines tests
	$(VENV)/bin/lint-imports
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -m "not slow and not bench" -p no:cacheprovider

lint: setup
	$(PY) -m ruff check desktop engines tests
	$(VENV)/bin/lint-imports

bench: bench-music bench-voice bench-consent bench-watermark

bench-music: setup
	@# the OpenMP wait policy the timbre entry point gives the app (engines/openmp.py)
	env $$($(PY) -m engines.openmp) $(PY) -m pytest tests/benchmarks/test_bench_music.py -m bench -s -p no:cacheprovider

bench-linears: setup
	@# every way of computing a step's linear layers on this machine, against a plain read
	env $$($(PY) -m engines.openmp) $(PY) -m pytest tests/benchmarks/test_bench_linears.py -m bench -s -p no:cacheprovider

bench-openmp: setup
	$(PY) -m pytest tests/benchmarks/test_bench_openmp.py -m bench -s -p no:cacheprovider

bench-voice: setup
	env $$($(PY) -m engines.openmp) $(PY) -m pytest tests/benchmarks/test_bench_voice.py tests/benchmarks/test_bench_chatterbox.py -m bench -s -p no:cacheprovider

bench-consent: setup
	$(PY) -m pytest tests/benchmarks/test_consent_calibration.py -m bench -s -p no:cacheprovider

bench-watermark: setup
	$(PY) -m pytest tests/benchmarks/test_bench_watermark.py -m bench -s -p no:cacheprovider

bench-transcribe: setup
	$(PY) -m pytest tests/benchmarks/test_bench_transcribe.py -m bench -s -p no:cacheprovider

screenshot: setup
	QT_QPA_PLATFORM=offscreen $(VENV)/bin/timbre --screenshot timbre-screenshot.png

clean:
	rm -rf $(VENV) build dist *.egg-info

# Batch rendering (issue 19): sequential vs local pool vs private Ray cluster, Ray overhead per row.
.PHONY: bench-batch
bench-batch: setup
	$(PY) -m pytest tests/benchmarks/test_bench_batch.py -m bench -s -p no:cacheprovider
.PHONY: bench-train
bench-train: setup
	$(PY) -m pytest tests/benchmarks/test_bench_train.py -m bench -s -p no:cacheprovider
# ---- locked dependencies, frozen app, Debian package (issue 18) ----------------------------
# `make lock` regenerates requirements/lock.txt (pip-compile of requirements/lock.in: torch,
# runtime.txt, dev.txt, package.txt, with hashes) and requirements/nodeps.lock.txt (the
# --no-deps packages of nodeps.txt, with hashes). Run it after editing any requirements file;
# existing pins are kept (LOCK_ARGS=--upgrade moves them). `make setup` refuses a stale lock.
.PHONY: lock package package-test
lock:
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q pip-tools==7.6.2
	$(PY) packaging/lock.py compile $(LOCK_ARGS)
	$(PY) packaging/lock.py nodeps
	$(PY) packaging/lock.py check

# PyInstaller one-folder bundle in dist/timbre-studio/, then dist/timbre-studio_*.deb.
package: setup
	PY=$(PY) bash packaging/build.sh

# Not part of `make test`: runs the bundle and the installed .deb (dpkg -i / -r; needs root).
package-test:
	bash packaging/package_test.sh

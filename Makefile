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

export QT_API := pyside6

.PHONY: setup run test lint bench bench-music bench-voice bench-consent bench-watermark screenshot clean
.PHONY: bench-transcribe

setup: $(STAMP)

$(STAMP): $(REQS)
	bash packaging/system-deps.sh
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install -q $(CONSTRAINTS) setuptools==80.10.2 wheel torch==2.13.0
	$(PIP) install -q $(CONSTRAINTS) -r requirements/runtime.txt -r requirements/dev.txt
	$(PIP) install -q --no-deps -r requirements/nodeps.txt
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
	$(PY) -m pytest tests/benchmarks/test_bench_music.py -m bench -s -p no:cacheprovider

bench-voice: setup
	$(PY) -m pytest tests/benchmarks/test_bench_voice.py -m bench -s -p no:cacheprovider

bench-consent: setup
	$(PY) -m pytest tests/benchmarks/test_consent_calibration.py -m bench -s -p no:cacheprovider

bench-watermark: setup
	$(PY) -m pytest tests/benchmarks/test_bench_watermark.py -m bench -s -p no:cacheprovider

bench-transcribe: setup
	$(PY) -m pytest tests/benchmarks/test_bench_transcribe.py -m bench -s -p no:cacheprovider

screenshot: setup
	QT_QPA_PLATFORM=offscreen $(VENV)/bin/timbre --screenshot timbre-screenshot.png

clean:
	rm -rf $(VENV) build *.egg-info

# Batch rendering (issue 19): sequential vs local pool vs private Ray cluster, Ray overhead per row.
.PHONY: bench-batch
bench-batch: setup
	$(PY) -m pytest tests/benchmarks/test_bench_batch.py -m bench -s -p no:cacheprovider
.PHONY: bench-train
bench-train: setup
	$(PY) -m pytest tests/benchmarks/test_bench_train.py -m bench -s -p no:cacheprovider

# Set-up and everyday commands. `make demo` and `make test` work from a fresh clone.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEMO_OUT := reports/demo

.PHONY: install demo test bench sysdeps train repro lock clean-cache

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c requirements.lock -r requirements.in
	$(BIN)/python -m pip install -q -c requirements.lock --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

# Chromium (the report's rendering test), poppler's pdftotext (the benchmark's reference) and
# antiword (Word 97-2003 .doc extraction).
sysdeps:
	@if command -v chromium >/dev/null && command -v pdftotext >/dev/null \
	    && command -v antiword >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ]; then \
	  apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	    --no-install-recommends chromium poppler-utils antiword fonts-liberation >/dev/null; \
	else echo "note: install chromium, poppler-utils and antiword (rendering test, benchmark, .doc files)"; fi

train: install
	$(BIN)/cenb train

demo: install
	@test -f models/challenges.json || $(BIN)/cenb train --no-mlflow
	$(BIN)/cenb run corpus/raw --out $(DEMO_OUT)
	@echo "Open $(DEMO_OUT)/report.html in a browser; fill in $(DEMO_OUT)/review.xlsx to review."

test: install sysdeps
	$(BIN)/python -m pytest -q

# `dvc repro` needs the cenb console script on PATH.
repro: install
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/dvc repro

bench: install sysdeps
	$(BIN)/python benchmarks/bench.py

# Re-pin every dependency after changing requirements.in.
lock:
	$(BIN)/python -m pip freeze --exclude-editable | grep -v '^-e ' > requirements.lock

clean-cache:
	rm -rf .cache/cenb

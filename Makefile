# The course's commands. Everything runs inside .venv at the repo root (created on demand).
#   make course   set up, fetch data and weights, execute every lesson, print a summary
#   make test     what CI runs
#   make lessons  regenerate lessons/ (student versions) from solutions/ with nbgrader
#   make lab      JupyterLab on the lessons, with the nbgrader extensions

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LESSONS := $(sort $(notdir $(wildcard solutions/*)))
PYTEST_WORKERS ?= 2
export TF_CPP_MIN_LOG_LEVEL ?= 2
export TF_ENABLE_ONEDNN_OPTS ?= 0

.PHONY: setup course test lessons lab report browser clean-venv

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required: install it and run `make PYTHON=python3.11 ...`")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip >/dev/null
	$(BIN)/python -m pip install -r requirements.txt
	$(BIN)/python -m pip install --no-deps -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (transfer-learning course)" >/dev/null
	@touch $(STAMP)

course: $(STAMP)
	$(BIN)/python -m helpers fetch || echo "Some downloads failed (see above): the lessons that need them will say so."
	$(BIN)/python -m helpers course

test: $(STAMP)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadscope --nbval-lax --nbval-current-env --nbval-cell-timeout=900 tests solutions lessons $(PYTEST_ARGS)

lessons: $(STAMP)
	@mkdir -p nbgrader
	@for lesson in $(LESSONS); do \
		PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/nbgrader generate_assignment "$$lesson" --force --log-level=WARN || exit 1; \
	done
	@echo "lessons/ regenerated from solutions/: $(LESSONS)"

lab: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/jupyter lab --notebook-dir=. --ServerApp.default_url=/lab/tree/lessons

# Debian's Chromium for the browser tests (Playwright drives it; its own download is offline-hostile).
browser:
	@command -v chromium >/dev/null || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -q && $$SUDO apt-get install -y -q --no-install-recommends chromium; }
	@chromium --version 2>/dev/null

report: $(STAMP)
	$(BIN)/python -m helpers report

clean-venv:
	rm -rf $(VENV)

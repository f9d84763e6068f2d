# The course's commands. Everything runs inside .venv at the repo root (created on demand).
#   make setup    .venv from the lock (requirements.lock, or requirements-gpu.lock with an NVIDIA GPU / GPU=1)
#   make lock     regenerate the locks from requirements.txt (the human-edited list) after changing it
#   make course   set up, fetch data and weights, execute every lesson, print a summary [MODE=quick|default|cpu|full]
#   make test     what CI runs
#   make lint     ruff: lint and format check; make format rewrites the files the format check names
#   make lessons  regenerate lessons/ (student versions) from solutions/ with nbgrader
#   make lab      JupyterLab on the lessons, with the nbgrader extensions
#   make book     the course website -> _build/html (Jupyter Book, lessons executed in quick mode)
#   make grade SUBMISSIONS=dir   autograde students' notebooks (python -m autograder) -> grading/grades.csv + feedback
#   make learner-dist  the learners' copy (no answers), two flavours -> _dist/learner-{self-paced,graded}/, branches of _dist/learner.git, helpers wheels
#   make memory-table  the guide's per-user memory/CPU table and docs/hub/values.yaml's resources, from bench/results
#   make hub      a local JupyterHub for a class (root; 127.0.0.1:8000; docs/instructor_guide.md); make hub-test: a term on it
#   make bench    measure lesson costs and transfer speedups -> bench/results/<machine>.json, README table, helpers/measured_costs.json

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
LESSONS := $(sort $(notdir $(wildcard solutions/*)))
PYTEST_WORKERS ?= 2
export TF_CPP_MIN_LOG_LEVEL ?= 2

# uv installs the lock (and writes it); the same version is pinned in requirements.txt, so the
# lock keeps it. pip only bootstraps it into a new .venv.
UV_VERSION := 0.13.9
UV := $(BIN)/uv
# GPU=1: the CUDA lock (TensorFlow with CUDA on Linux x86-64); default: 1 where nvidia-smi lists a GPU.
ifeq ($(origin GPU),undefined)
GPU := $(shell nvidia-smi -L 2>/dev/null | grep -q '^GPU' && echo 1 || echo 0)
endif
VARIANT := $(if $(filter 1,$(GPU)),gpu,cpu)
LOCK := $(if $(filter gpu,$(VARIANT)),requirements-gpu.lock,requirements.lock)
# One stamp per variant: switching from one to the other reinstalls.
STAMP := $(VENV)/.installed-$(VARIANT)
# Both locks: every platform (Linux x86-64/aarch64, macOS arm64, Windows x86-64) and Python >= 3.11 in one
# file, with environment markers; tests/test_lock.py checks each platform x Python resolves to wheels.
LOCK_FLAGS := --universal --excludes requirements-excludes.txt --python-version 3.11 --generate-hashes --custom-compile-command "make lock" --quiet

.PHONY: learner-dist memory-table setup lock lock-upgrade lint format course test lessons lab report browser sandbox clean-venv grade bench book hub hub-deps hub-test hub-remove

setup: $(STAMP)

$(UV):
	@$(PYTHON) -c 'import sys; sys.exit(0 if (3, 11) <= sys.version_info[:2] <= (3, 13) else f"Python 3.11, 3.12 or 3.13 is required (the lock is checked for those; this is {sys.version.split()[0]}): install one and run `make PYTHON=python3.12 ...`")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

# sync: exactly the lock, so a package dropped from requirements.txt leaves .venv too. --compile-bytecode: every
# module's .pyc is written now (16 s here), not by each process that imports it: the grading sandbox, a hub's
# users and any shell with PYTHONDONTWRITEBYTECODE=1 (this machine's) cannot write them, so each of their
# kernels compiled TensorFlow again (import 9.9 s instead of 4.4 s). The repository's own
# packages come after it: helpers (what learners install) editable, and the repo root on sys.path through a
# path file, so the tools (coursetools, autograder, bench, coursebook) and tests/ import from any directory.
$(STAMP): $(LOCK) pyproject.toml | $(UV)
	@rm -f $(VENV)/.installed $(VENV)/.installed-cpu $(VENV)/.installed-gpu
	@echo "Installing $(LOCK) ($(VARIANT); GPU=$(GPU)) into $(VENV) ..."
	$(UV) pip sync --python $(BIN)/python --require-hashes --compile-bytecode $(LOCK)
	$(UV) pip install --python $(BIN)/python --no-deps -e .
	@$(BIN)/python -c 'import sysconfig, pathlib; pathlib.Path(sysconfig.get_paths()["purelib"], "tl_course_repo.pth").write_text("$(CURDIR)\n")'
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (transfer-learning course)" >/dev/null
	@touch $(STAMP)

# After editing requirements.txt (or requirements-gpu*.txt): rewrite both locks, keeping every other
# version where it was. `make lock-upgrade` moves every unpinned (transitive) package to its newest release.
lock: | $(UV)
	$(UV) pip compile $(LOCK_FLAGS) $(LOCK_ARGS) requirements.txt -o requirements.lock
	$(UV) pip compile $(LOCK_FLAGS) $(LOCK_ARGS) requirements-gpu.txt --override requirements-gpu-overrides.txt -o requirements-gpu.lock
	@echo "requirements.lock and requirements-gpu.lock rewritten from requirements.txt: check with pytest tests/test_lock.py, then make setup."

lock-upgrade:
	$(MAKE) lock LOCK_ARGS=--upgrade

# ruff, pinned in requirements.txt; its settings are in pyproject.toml ([tool.ruff]).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check . || { echo "Formatting differs: run make format, then commit."; exit 1; }

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# MODE=quick|default|cpu|full; without it, quick on a machine without a GPU, default with one (it says which).
# default is what a learner's run is: full with a GPU, the lessons' cpu budget without one.
course: $(STAMP)
	$(BIN)/python -m helpers fetch || echo "Some downloads failed (see above): the lessons that need them will say so."
	$(BIN)/python -m coursetools course $(if $(MODE),--mode "$(MODE)")

# nbval executes solutions/ once each; lessons/ execute once each in tests/lesson_runs.py, one run
# shared by their checks and the site build (tests/README.md: what each execution checks).
# --durations: the 20 slowest steps, so that a test that grows slow shows in every run.
test: $(STAMP)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadscope --no-loadscope-reorder --nbval-lax --nbval-current-env --nbval-cell-timeout=900 --durations=20 tests solutions $(PYTEST_ARGS)

# The Colab install cell of every solution is first pinned to this version's tag (coursetools/install_cell.py).
lessons: $(STAMP)
	@mkdir -p nbgrader
	@$(BIN)/python -m coursetools.install_cell
	@for lesson in $(LESSONS); do \
		PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/nbgrader generate_assignment "$$lesson" --force --log-level=WARN || exit 1; \
	done
	@echo "lessons/ regenerated from solutions/: $(LESSONS)"

# Settings in jupyter_config/ (shared with tests/lab_server.py): lands in lessons/, no calls home.
# Run from the repo root: nbgrader's extensions read nbgrader_config.py from the server's cwd.
# JUPYTER_PREFER_ENV_PATH=1: .venv's `python3` kernel wins over one in ~/.local/share/jupyter.
lab: $(STAMP)
	@mkdir -p nbgrader
	PATH="$(CURDIR)/$(BIN):$$PATH" JUPYTER_PREFER_ENV_PATH=1 \
		JUPYTER_CONFIG_PATH="$(CURDIR)/jupyter_config$${JUPYTER_CONFIG_PATH:+:$$JUPYTER_CONFIG_PATH}" \
		$(BIN)/jupyter lab $(LAB_ARGS) $$( [ "$$(id -u)" = 0 ] && echo --allow-root )

# Debian's Chromium for the browser tests (Playwright drives it; its own download is offline-hostile).
browser:
	@command -v chromium >/dev/null || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -q && $$SUDO apt-get install -y -q --no-install-recommends chromium; }
	@chromium --version 2>/dev/null

# bubblewrap, the sandbox each graded notebook's kernel runs in (autograder/sandbox.py), from the distribution.
sandbox:
	@command -v bwrap >/dev/null || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -q && $$SUDO apt-get install -y -q --no-install-recommends bubblewrap; }
	@bwrap --version

# The course hub (coursehub/, docs/instructor_guide.md). Its proxy, configurable-http-proxy, is a Node
# program from npm (pinned); Node and npm come from the distribution when missing.
CHP_VERSION := 4.6.3
hub-deps:
	@command -v npm >/dev/null || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -q && $$SUDO apt-get install -y -q --no-install-recommends nodejs npm; }
	@[ "$$(configurable-http-proxy --version 2>/dev/null)" = "$(CHP_VERSION)" ] || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO npm install -g --no-fund --no-audit --loglevel=error "configurable-http-proxy@$(CHP_VERSION)"; }
	@echo "node $$(node --version), configurable-http-proxy $$(configurable-http-proxy --version)"

# make hub: accounts, exchange, course directory and settings (idempotent; logins printed), then
# JupyterHub on 127.0.0.1:HUB_PORT until Ctrl+C. Run as root (it creates users and runs servers as them).
# make hub-remove deletes the hub's accounts (only those it created) and HUB_ROOT.
HUB_ROOT ?= /srv/tl-course-hub
HUB_PORT ?= 8000
hub: $(STAMP) hub-deps sandbox
	PATH="$(CURDIR)/$(BIN):$$PATH" PYTHONPATH="$(CURDIR)" $(BIN)/python -m coursehub run --root "$(HUB_ROOT)" --port "$(HUB_PORT)" $(HUB_ARGS)

hub-remove: $(STAMP)
	PYTHONPATH="$(CURDIR)" $(BIN)/python -m coursehub remove --root "$(HUB_ROOT)" $(HUB_ARGS)

# A whole term on a fresh hub in headless Chromium (tests/test_hub.py, also part of make test);
# its last line is the term's summary (artifacts/hub/summary.txt).
hub-test: $(STAMP) hub-deps browser sandbox
	@rm -f artifacts/hub/summary.txt
	PATH="$(CURDIR)/$(BIN):$$PATH" PYTHONPATH="$(CURDIR)" $(BIN)/python -m pytest -p no:cacheprovider -q tests/test_hub.py $(PYTEST_ARGS)
	@cat artifacts/hub/summary.txt

# The website (coursebook/): executes lessons/ in quick mode (cached locally by content, never on
# CI), then Jupyter Book 1.x with warnings as errors, into _build/html. Offline without ImageNet
# weights it stops and says so; TL_COURSE_ALLOW_RANDOM_WEIGHTS=1 builds with random weights (each such
# page then opens with a notice, and the build's summary lists them). Kernels run as a learner's; coursebook/wording.py rewords their outputs for readers.
# JUPYTERHUB_URL=https://your.hub points the JupyterHub launch button at your hub.
book: $(STAMP)
	$(BIN)/python -m coursebook $(if $(JUPYTERHUB_URL),--jupyterhub-url "$(JUPYTERHUB_URL)") $(BOOK_ARGS)

# Grading: see docs/grading.md. GRADING_DIR keeps the gradebook between runs (re-runs grade only
# new or changed submissions); CELL_TIMEOUT bounds each graded cell (seconds); JOBS notebooks are
# graded at once (default: one per core, at most 4). Each kernel runs in a bwrap sandbox (`make sandbox`);
# SANDBOX=off grades without it (student code then runs with your permissions; grades.csv says so).
GRADING_DIR ?= grading
CELL_TIMEOUT ?= 60
NOTEBOOK_TIMEOUT ?= 600
SANDBOX ?= on
grade: $(STAMP)
	@test -n "$(SUBMISSIONS)" || { echo "usage: make grade SUBMISSIONS=<folder of students' notebooks and .zip archives> [GRADING_DIR=grading] [CELL_TIMEOUT=60] [NOTEBOOK_TIMEOUT=600] [JOBS=2] [SANDBOX=off]"; exit 2; }
	PATH="$(CURDIR)/$(BIN):$$PATH" TL_COURSE_CELL_TIMEOUT=$(CELL_TIMEOUT) TL_COURSE_NOTEBOOK_TIMEOUT=$(NOTEBOOK_TIMEOUT) TL_COURSE_SANDBOX=$(SANDBOX) $(BIN)/python -m autograder "$(SUBMISSIONS)" --grading-dir "$(GRADING_DIR)" $(if $(JOBS),--jobs $(JOBS))

# Benchmark (bench/run_bench.py; not part of `make test`): e.g. make bench BENCH_ARGS="--sections transfer vgg16 --runs 3".
# Offline, without the Keras/ResNet18 ImageNet weights, add --allow-random-weights (flagged in the table).
BENCH_ARGS ?=
bench: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python -m bench.run_bench $(BENCH_ARGS)

# The learner distribution (coursetools/learner_dist.py; docs/instructor_guide.md, "Learner distribution"):
# each flavour a folder and a branch of the bare repository $(DIST_DIR)/learner.git (what nbgitpuller pulls),
# helpers' wheel and sdist (python -m build) in $(DIST_DIR)/wheels/FLAVOUR/, then every file leak-scanned
# with the website's scanner (coursebook/dist_scan.py): a solution, hidden-test or answer line fails it.
# FLAVOUR=self-paced or FLAVOUR=graded builds one.
DIST_DIR ?= _dist
learner-dist: $(STAMP)
	$(BIN)/python -m coursetools.learner_dist --out "$(DIST_DIR)" --wheel $(if $(FLAVOUR),--flavour $(FLAVOUR))
	$(BIN)/python -m coursebook.dist_scan $(foreach f,$(or $(FLAVOUR),self-paced graded),"$(DIST_DIR)/learner-$(f)")

# docs/instructor_guide.md's per-lesson memory/CPU table and docs/hub/values.yaml's resources, from bench/results
memory-table: $(STAMP)
	$(BIN)/python -m bench.memory_table

report: $(STAMP)
	$(BIN)/python -m helpers report

clean-venv:
	rm -rf $(VENV)

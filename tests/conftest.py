"""Test session setup: quick mode, hermetic caches, offline-friendly defaults.

Set before any kernel starts, so notebooks executed by nbval and nbgrader inherit it.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from coursetools.paths import REPO_ROOT

_session_dir = Path(tempfile.mkdtemp(prefix="tl-course-tests-"))
os.environ["TL_COURSE_QUICK"] = "1"
# Tests only: Keras VGG16/ResNet50 and torchvision ResNet18 weights cannot be had offline.
os.environ.setdefault("TL_COURSE_ALLOW_RANDOM_WEIGHTS", "1")
os.environ["TL_COURSE_CACHE"] = str(_session_dir / "cache")
os.environ["TORCH_HOME"] = str(_session_dir / "torch")
os.environ["KERAS_HOME"] = str(_session_dir / "keras")
os.environ.setdefault("MPLBACKEND", "Agg")
# The kernels of the xdist workers share the cores: each framework gets its share of threads, not one per core.
# With one per core, OpenMP threads spin while they wait for a core another kernel holds: two lesson-04 kernels
# at once on 2 cores took 38 s with the default threads and 15 s with one each (tests/README.md). The grading
# sandbox passes these variables on.
# Set in each worker, not in xdist's controller: the workers inherit the controller's environment.
if os.environ.get("PYTEST_XDIST_WORKER"):
    _threads = str(max(1, (os.cpu_count() or 1) // int(os.environ["PYTEST_XDIST_WORKER_COUNT"])))
    for _name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "TF_NUM_INTRAOP_THREADS"):
        os.environ[_name] = _threads
# lesson 06 stops until photos are given: test runs (nbval too) choose its fallback set explicitly,
# and its exports go to the session's folder, not beside the notebook
os.environ.setdefault("TL_COURSE_MY_IMAGES", "fallback")
os.environ["TL_COURSE_EXPORTS"] = str(_session_dir / "exports")
from coursetools.runner import quiet_frameworks  # noqa: E402 - the one place that silences framework noise
from helpers.config import env_text  # noqa: E402

quiet_frameworks()
_default_mirror = REPO_ROOT.parent / "shared" / "mirror"
if env_text("TL_COURSE_MIRROR") is None and _default_mirror.is_dir():
    os.environ["TL_COURSE_MIRROR"] = str(_default_mirror)


def lesson_names() -> list[str]:
    from coursetools.paths import lesson_names as names

    return names(REPO_ROOT)


@pytest.fixture(autouse=True)
def fresh_run_settings(monkeypatch):
    """Each test starts as a fresh kernel does: run settings not decided yet (helpers.runtime keeps
    them once decided, and a test may change the variables they are decided from)."""
    from helpers import runtime

    monkeypatch.setattr(runtime, "_current", None)


@pytest.fixture
def mirror() -> Path:
    """The offline mirror; skipped where there is none, except on CI where it must exist."""
    path = env_text("TL_COURSE_MIRROR")
    if not path or not Path(path).is_dir():
        if os.environ.get("CI"):
            pytest.fail("CI must provide the offline mirror (TL_COURSE_MIRROR=../shared/mirror)")
        pytest.skip("no offline mirror (set TL_COURSE_MIRROR)")
    return Path(path)


@pytest.fixture
def isolated_cache(tmp_path, monkeypatch) -> Path:
    """An empty course cache and framework caches, and no mirror."""
    monkeypatch.setenv("TL_COURSE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.delenv("TL_COURSE_MIRROR", raising=False)
    monkeypatch.delenv("TL_COURSE_ALLOW_RANDOM_WEIGHTS", raising=False)
    return tmp_path


@pytest.fixture(scope="session")
def lesson_runs(tmp_path_factory):
    """Each lesson of lessons/ executed once per test run, shared by every check and by the site
    build, across xdist workers too (tests/lesson_runs.py)."""
    from lesson_runs import LessonRuns, shared_folder

    return LessonRuns(shared_folder(tmp_path_factory.getbasetemp()))


# Scheduling under pytest-xdist (make test: --dist loadscope --no-loadscope-reorder): the tests of one file, or
# the cells of one solution notebook (nbval), share a worker (module-scoped fixtures such as the site, the
# learner distribution or a JupyterLab server). The files that took minutes in measured runs start first
# (LONG_FIRST: tests/README.md), so that no worker is left alone with a long one at the end:
# pytest-xdist's own reorder starts the files with the most tests first, and so began the JupyterHub term and
# lesson 06's full run last. The order changes how long a run takes, never what it checks.
LONG_FIRST = (
    "tests/test_book.py",  # every lesson's run, then the site
    "tests/test_grading.py",  # the torture corpus (04, 05) and every lesson's fairness
    "tests/test_your_own_images.py",  # lesson 06 in full mode, and twice headless
    "tests/test_grading_sandbox.py",  # the attacks (01, 05), budgets, privileges
    "tests/test_hub.py",  # a term on a local JupyterHub
    "tests/test_learner_dist.py",  # lessons from the wheel alone
    "solutions/",  # nbval: each solution notebook
    "tests/test_downloads.py",
    "tests/test_transfer_proof.py",
)


def _first_rank(nodeid: str) -> int:
    return next((rank for rank, prefix in enumerate(LONG_FIRST) if nodeid.startswith(prefix)), len(LONG_FIRST))


def pytest_collection_modifyitems(config, items):
    items.sort(key=lambda item: _first_rank(item.nodeid))  # stable: the order within a file is kept

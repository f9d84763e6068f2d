"""What nbgitpuller pulls into a student's server on the hub: a git repository of the learner's side.

The one place that says where it comes from. Until the learner distribution (`make learner-dist`,
issue #31 item 3, graded-class flavour) is on main, this builds a minimal stand-in from this
checkout: ``lessons/`` (nbgrader's student versions: no solutions, no hidden tests) and the
``helpers`` package, committed on branch ``main``. Swap :func:`graded_class_repo` for the
distribution's folder or branch, and the hub test pulls that instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from coursetools.paths import REPO_ROOT

BRANCH = "main"
CONTENT = ("lessons", "helpers")


def graded_class_repo(dest: Path, repo_root: Path = REPO_ROOT) -> Path:
    """A git repository at ``dest`` (readable by every user) holding the learner's side of the course."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for name in CONTENT:
        shutil.copytree(
            repo_root / name, dest / name, ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints", "*.egg-info")
        )
    env = dict(
        os.environ,
        GIT_AUTHOR_NAME="course hub",
        GIT_AUTHOR_EMAIL="hub@localhost",
        GIT_COMMITTER_NAME="course hub",
        GIT_COMMITTER_EMAIL="hub@localhost",
    )
    for command in (["init", "-q", "-b", BRANCH], ["add", "-A"], ["commit", "-q", "-m", "learner side of the course"]):
        subprocess.run(["git", *command], cwd=dest, env=env, check=True, capture_output=True)
    for path in [dest, *dest.rglob("*")]:
        if not path.is_symlink():
            path.chmod(0o755 if path.is_dir() else 0o644)
    return dest

"""What nbgitpuller pulls into a student's server on the hub: the learner distribution, graded-class flavour.

The one place that says where it comes from: ``make learner-dist``'s graded-class build
(``coursetools.learner_dist``: ``lessons/``, ``helpers`` with the reference answers and the quiz's
answer key left out, the learner docs; no solutions, no hidden tests), whose folder is a git work
tree on branch ``graded``. nbgitpuller clones it from its local path.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from coursetools import learner_dist
from coursetools.paths import REPO_ROOT

BRANCH = "graded"


def graded_class_repo(dest: Path, repo_root: Path = REPO_ROOT) -> Path:
    """The graded-class distribution built under ``dest`` (readable by every user); returns its git work tree."""
    if dest.exists():
        shutil.rmtree(dest)
    dist = learner_dist.build(BRANCH, out=dest, root=repo_root)
    for path in [dest, *dest.rglob("*")]:
        if not path.is_symlink():
            path.chmod(0o755 if path.is_dir() else 0o644)
    return dist.folder

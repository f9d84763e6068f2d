"""Pin the lessons' Colab install cell to this course version (run by ``make lessons``).

The first code cell of every lesson (``colab_install``) installs ``helpers`` from git where it
is missing (Colab, a fresh Python). Installing the branch would give a learner whatever the
branch holds that day, perhaps helpers newer than their notebook; the cell installs the tag
``v<version>`` of ``pyproject.toml`` instead, from the published location (``_config.yml``'s
``repository: url:``, where the learner distribution is pushed: tag each release there, ``git tag v0.1.0``). The
version, not a commit, keeps ``make lessons`` deterministic, so the regenerated lessons/ match.

    python -m coursetools.install_cell          # rewrite the cell in solutions/*/*.ipynb
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

from .paths import REPO_ROOT, lesson_names

__all__ = ["course_version", "repository_url", "pinned_requirement", "pin_install_cells"]

# The requirement inside the cell's `%pip install` line, as it appears in the notebook's JSON.
_REQUIREMENT = re.compile(r'tl-course-helpers @ git\+[^"\\]+')


def course_version(root: Path = REPO_ROOT) -> str:
    return tomllib.loads((root / "pyproject.toml").read_text())["project"]["version"]


def repository_url(root: Path = REPO_ROOT) -> str:
    """The published location: the repository learners get the learner distribution from, as the
    website's ``_config.yml`` names it (``repository: url:``, the one setting)."""
    match = re.search(r"^repository:\s*\n\s+url:\s*(\S+)", (root / "_config.yml").read_text(), re.M)
    if not match:
        raise ValueError(f"{root / '_config.yml'} has no repository: url: line; the install cell needs it.")
    return match[1].rstrip("/")


def pinned_requirement(root: Path = REPO_ROOT) -> str:
    return f"tl-course-helpers @ git+{repository_url(root)}@v{course_version(root)}"


def pin_install_cells(root: Path = REPO_ROOT) -> list[Path]:
    """Rewrite the requirement in each solution's install cell; returns the notebooks changed.

    A text edit of that one string: every other byte of the notebook stays as it is."""
    wanted = pinned_requirement(root)
    changed = []
    for name in lesson_names(root):
        path = root / "solutions" / name / f"{name}.ipynb"
        text = path.read_text()
        found = _REQUIREMENT.findall(text)
        if len(found) != 1:
            raise ValueError(
                f"{path}: expected one `tl-course-helpers @ git+...` requirement in its colab_install cell, found {len(found)}"
            )
        if found[0] != wanted:
            path.write_text(_REQUIREMENT.sub(wanted, text))
            changed.append(path)
    return changed


def main() -> int:
    for path in pin_install_cells():
        print(f"install cell pinned to {pinned_requirement()}: {path.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

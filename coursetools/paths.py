"""Where the course's files live in the repository (never imported by ``helpers``)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["REPO_ROOT", "lesson_names", "lesson_path"]

REPO_ROOT = Path(__file__).resolve().parent.parent


def lesson_names(root: Path = REPO_ROOT, source: str = "solutions") -> list[str]:
    """Lesson folders (``source/NAME/NAME.ipynb``) in course order (their names sort)."""
    folder = root / source
    return sorted(p.name for p in folder.iterdir() if (p / f"{p.name}.ipynb").is_file())


def lesson_path(name: str, source: str = "solutions", root: Path = REPO_ROOT) -> Path:
    """``source/NAME/NAME.ipynb``; an unknown name is an error that lists the lessons."""
    path = root / source / name / f"{name}.ipynb"
    if not path.is_file():
        raise FileNotFoundError(f"No lesson notebook {path}: the lessons are {', '.join(lesson_names(root, source))}.")
    return path

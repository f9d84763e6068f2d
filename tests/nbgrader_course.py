"""A throwaway nbgrader course directory for tests: generate, submit, autograde, read scores.

Each course gets its own folder and SQLite gradebook (SQLite is not thread-safe, and a
gradebook with submissions refuses a changed set of notebooks). nbgrader runs as a
subprocess from the course's own folder, so the repo's nbgrader_config.py is in effect.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

from coursetools.paths import REPO_ROOT

VENV_BIN = str(Path(sys.executable).parent)


class Course:
    def __init__(self, root: Path, lessons: list[str]):
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO_ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
        (root / "nbgrader").mkdir(exist_ok=True)
        for lesson in lessons:
            shutil.copytree(REPO_ROOT / "solutions" / lesson, root / "solutions" / lesson)

    def nbgrader(self, *args: str, timeout: int = 1800) -> subprocess.CompletedProcess:
        env = dict(os.environ, PATH=VENV_BIN + os.pathsep + os.environ.get("PATH", ""))
        return subprocess.run(
            [os.path.join(VENV_BIN, "nbgrader"), *args],
            cwd=self.root,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def generate(self, lesson: str) -> Path:
        result = self.nbgrader("generate_assignment", lesson, "--force")
        assert result.returncode == 0, result.stdout + result.stderr
        return self.root / "lessons" / lesson / f"{lesson}.ipynb"

    def submit(self, student: str, lesson: str, notebook: nbformat.NotebookNode) -> Path:
        target = self.root / "nbgrader" / "submitted" / student / lesson / f"{lesson}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, target)
        return target

    def autograde(self, lesson: str) -> subprocess.CompletedProcess:
        result = self.nbgrader("autograde", lesson, "--force", "--create")
        assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
        return result

    def scores(self, lesson: str, student: str) -> dict[str, float]:
        """Points per graded cell, plus ``"total"`` and ``"max"``."""
        from nbgrader.api import Gradebook

        with Gradebook(f"sqlite:///{self.root / 'nbgrader' / 'gradebook.db'}") as gradebook:
            submission = gradebook.find_submission(lesson, student)
            scores = {}
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    scores[grade.name] = float(grade.score)
            scores["total"] = float(submission.score)
            scores["max"] = float(submission.max_score)
        return scores


def read_notebook(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def graded_cells(notebook: nbformat.NotebookNode) -> dict[str, int]:
    """grade_id -> points of every autograded test cell."""
    return {
        cell.metadata.nbgrader["grade_id"]: cell.metadata.nbgrader["points"]
        for cell in notebook.cells
        if cell.metadata.get("nbgrader", {}).get("grade")
    }


def exercises(notebook: nbformat.NotebookNode) -> list[tuple[str, list[str]]]:
    """(solution cell id, ids of the test cells that follow it before the next solution)."""
    result: list[tuple[str, list[str]]] = []
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution") and cell.cell_type == "code":
            result.append((meta["grade_id"], []))
        elif meta.get("grade") and result:
            result[-1][1].append(meta["grade_id"])
    return result

"""A throwaway nbgrader course directory for tests (a fresh generation of the lessons), and
readers of notebooks' nbgrader metadata.

The course gets its own folder and SQLite gradebook. nbgrader runs as a subprocess from the
course's own folder, so the repo's nbgrader_config.py is in effect. (Grading is tested through
autograder.grading, as instructors run it: tests/test_grading.py.)
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

    def generate_all(self, lessons: list[str]) -> dict[str, Path]:
        """``nbgrader generate_assignment LESSON --force`` for each lesson, in one process (nbgrader's
        start-up and gradebook set-up once, not once per lesson), with the course's config."""
        script = (
            "import sys\n"
            "from pathlib import Path\n"
            "from autograder.workspace import load_api  # the course's config, as grading loads it\n"
            "api = load_api(Path.cwd())\n"
            "for lesson in sys.argv[1:]:\n"
            "    result = api.generate_assignment(lesson, force=True)\n"
            "    if not result['success']:\n"
            "        sys.exit(f'{lesson}: ' + result.get('error', '') + result.get('log', ''))\n"
        )
        env = dict(os.environ, PATH=VENV_BIN + os.pathsep + os.environ.get("PATH", ""))
        result = subprocess.run(
            [sys.executable, "-c", script, *lessons], cwd=self.root, env=env, capture_output=True, text=True, timeout=1800
        )
        assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
        return {lesson: self.root / "lessons" / lesson / f"{lesson}.ipynb" for lesson in lessons}


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

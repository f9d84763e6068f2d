"""The grading folder: the repo's nbgrader config, a snapshot of solutions/, the gradebook, the state.

The state file (``grading_state.json``) records each solution's and each submission's digest and
outcome, so a re-run grades only new or changed submissions.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

from coursetools.paths import REPO_ROOT, lesson_names

from .gradebook_schema import read_schema_revision_in_process
from .submissions import files_digest

__all__ = ["STATE_FILE", "load_api", "prepare_workspace", "read_state", "write_state", "check_apart"]


STATE_FILE = "grading_state.json"


def load_api(workspace: Path):
    from nbgrader.apps import NbGraderAPI
    from traitlets.config.loader import PyFileConfigLoader

    read_schema_revision_in_process()  # a new gradebook needs no `alembic` subprocess
    config = PyFileConfigLoader("nbgrader_config.py", path=str(workspace)).load_config()
    config.CourseDirectory.root = str(workspace)
    # the API sets up an exchange even though grading never uses it: keep it in the workspace
    (workspace / "exchange").mkdir(parents=True, exist_ok=True)
    config.Exchange.root = str(workspace / "exchange")
    return NbGraderAPI(config=config)


def prepare_workspace(workspace: Path, lessons: list[str] | None = None, solutions: Path = REPO_ROOT / "solutions") -> list[str]:
    """A grading folder with the repo's nbgrader config, a snapshot of solutions/, a gradebook.

    Returns the assignments. A gradebook refuses a changed set of notebooks, so grading goes on
    against the snapshot taken the first time; a changed solution is an error that says what to do.
    """
    workspace = Path(workspace).resolve()
    solutions = Path(solutions)
    lessons = lessons or lesson_names(solutions.parent, solutions.name)
    state = read_state(workspace)
    workspace.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO_ROOT / "nbgrader_config.py", workspace / "nbgrader_config.py")
    (workspace / "nbgrader").mkdir(exist_ok=True)
    # nbgrader creates the gradebook with alembic, which must be on PATH
    os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")
    api = None
    for lesson in lessons:
        source = solutions / lesson / f"{lesson}.ipynb"
        digest = files_digest([source])
        known = state["solutions"].get(lesson)
        if known == digest:
            continue
        if known is not None:
            raise RuntimeError(
                f"solutions/{lesson} changed since grading started in {workspace}; its gradebook "
                "cannot take a changed notebook. Grade with the old version (restore it), or start "
                f"a new grading folder (GRADING_DIR=... or delete {workspace}) and grade everyone again."
            )
        target = workspace / "solutions" / lesson
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(solutions / lesson, target, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        api = api or load_api(workspace)
        result = api.generate_assignment(lesson, force=True, create=True)
        if not result["success"]:
            raise RuntimeError(f"nbgrader could not build the gradebook entry for {lesson}:\n{result['log'][-3000:]}")
        state["solutions"][lesson] = digest
        write_state(workspace, state)
    _use_wal(workspace / "nbgrader" / "gradebook.db")
    return lessons


def _use_wal(database: Path) -> None:
    """Write-ahead logging: parallel graders read the gradebook while one of them writes."""
    import sqlite3

    if database.is_file():
        with sqlite3.connect(database, timeout=30) as connection:
            connection.execute("PRAGMA journal_mode=WAL")


def read_state(workspace: Path) -> dict:
    path = Path(workspace) / STATE_FILE
    if path.is_file():
        return json.loads(path.read_text())
    return {"solutions": {}, "submissions": {}}


def write_state(workspace: Path, state: dict) -> None:
    path = Path(workspace) / STATE_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=1, sort_keys=True))
    tmp.replace(path)  # atomic: an interrupted run never leaves a half-written state


def check_apart(submissions: Path, workspace: Path) -> None:
    """Grading writes into the workspace (and replaces its copies of submissions): it must never
    overlap the folder of the students' originals, or an original could be overwritten."""
    if submissions == workspace or submissions in workspace.parents or workspace in submissions.parents:
        raise ValueError(
            f"the submissions folder ({submissions}) and the grading folder ({workspace}) overlap; "
            "grading writes into the grading folder, so keep the students' files elsewhere: copy them "
            "out (e.g. cp -r nbgrader/submitted ~/class-submissions) or pass another GRADING_DIR=..."
        )

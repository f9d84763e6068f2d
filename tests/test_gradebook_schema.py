"""The grader stamps new gradebooks with the revision nbgrader's own `alembic heads` gives, in-process."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import nbgrader.api
from nbgrader.dbutil import _temp_alembic_ini

from autograder.gradebook_schema import alembic_head
from autograder.workspace import prepare_workspace


def test_in_process_revision_is_what_the_alembic_command_prints():
    alembic = Path(sys.executable).with_name("alembic")  # the command nbgrader itself runs
    with _temp_alembic_ini("sqlite:///unused.db") as ini:
        printed = subprocess.check_output([str(alembic), "-c", ini, "heads"], text=True)
    assert printed.split()[:2] == [alembic_head(), "(head)"]


def test_a_new_gradebook_is_stamped_without_a_subprocess(tmp_path, monkeypatch):
    prepare_workspace(tmp_path / "grading", ["05_quiz"])  # what every grading run does first
    assert nbgrader.api.get_alembic_version is alembic_head

    def no_subprocess(*args, **kwargs):
        raise AssertionError(f"a subprocess was started: {args}")

    monkeypatch.setattr(nbgrader.api.sp, "check_output", no_subprocess)
    nbgrader.api.Gradebook(f"sqlite:///{tmp_path / 'new.db'}").close()
    with sqlite3.connect(tmp_path / "new.db") as db:
        assert db.execute("SELECT version_num FROM alembic_version").fetchall() == [(alembic_head(),)]

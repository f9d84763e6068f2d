"""``grades.csv``: one row per student and assignment, from the gradebook and the run's state."""

from __future__ import annotations

import csv
from pathlib import Path

from .workspace import read_state

__all__ = ["GRADES_COLUMNS", "write_grades_csv"]


GRADES_COLUMNS = ["student", "assignment", "score", "max", "status", "note"]


def write_grades_csv(workspace: Path, state: dict | None = None) -> Path:
    """grades.csv from the gradebook and the run's state: one row per student and assignment."""
    from nbgrader.api import Gradebook, MissingEntry

    state = state or read_state(workspace)
    rows = []
    with Gradebook(f"sqlite:///{workspace / 'nbgrader' / 'gradebook.db'}") as gradebook:
        for key, entry in sorted(state["submissions"].items()):
            student, assignment = key.split("/", 1)
            max_score = float(gradebook.find_assignment(assignment).max_score)
            score = 0.0
            if entry["status"] in ("graded", "review"):  # the state file stores Status values as plain text
                try:
                    score = float(gradebook.find_submission(assignment, student).score)
                except MissingEntry:
                    entry = dict(entry, status="error", note="graded but missing from the gradebook; re-run")
            rows.append([student, assignment, f"{score:g}", f"{max_score:g}", entry["status"], entry.get("note", "")])
    path = workspace / "grades.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(GRADES_COLUMNS)
        writer.writerows(rows)
    return path

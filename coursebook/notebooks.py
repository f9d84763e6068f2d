"""Execute a student notebook for the website and keep only what a learner should see.

The student version (``lessons/``) is executed, never the instructor source, so no answer can
reach the site. Its exercise stubs raise ``NotImplementedError`` and its grading cells fail
without answers: the run allows errors, then drops the outputs of those nbgrader cells.
Walkthrough cells never depend on exercise answers, so an error anywhere else is a real
failure and stops the build with the cell and its message.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from helpers.config import env_text

# Live-kernel widgets (tqdm.auto progress bars) have no state in a static page: a built page
# would show a dead "HBox(...)" or a frozen 0 % bar, so their outputs are dropped.
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
INLINE_BACKEND = "module://matplotlib_inline.backend_inline"
# Environment that changes what the executed outputs look like, so it is part of the cache key.
KEY_ENV = ("TL_COURSE_QUICK", "TL_COURSE_ALLOW_RANDOM_WEIGHTS", "TL_COURSE_MIRROR")


class LessonExecutionError(RuntimeError):
    """A walkthrough cell of a lesson failed: the site would show a traceback."""


@dataclass
class CellFailure:
    index: int
    cell_id: str
    message: str


def nbgrader_role(cell) -> str:
    """ "solution", "grade" (tests), or "" for every other cell."""
    meta = cell.get("metadata", {}).get("nbgrader", {})
    if meta.get("solution"):
        return "solution"
    if meta.get("grade"):
        return "grade"
    return ""


def clean_outputs(nb) -> list[CellFailure]:
    """Strip what must not be published; return the errors of cells that had to succeed."""
    failures = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        if nbgrader_role(cell):  # an exercise stub or its tests: no answer, no traceback
            cell.outputs = []
            cell.execution_count = None
            continue
        kept = []
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                message = f"{output.get('ename', 'Error')}: {output.get('evalue', '')}".strip()
                failures.append(CellFailure(index, cell.get("id", "?"), message))
                continue
            if WIDGET_MIME in output.get("data", {}):
                continue
            kept.append(output)
        cell.outputs = kept
    nb.metadata.pop("widgets", None)
    return failures


def cache_key(notebook: Path, extra_sources: list[Path]) -> str:
    """Content hash of the notebook, the code it imports and the environment that shapes it."""
    digest = hashlib.sha256(notebook.read_bytes())
    for path in sorted(extra_sources):
        digest.update(path.as_posix().encode())
        digest.update(path.read_bytes())
    for name in KEY_ENV:
        digest.update(f"{name}={env_text(name) or ''}".encode())
    return digest.hexdigest()[:20]


def run_for_site(source: Path, folder: Path, timeout: int = 900):
    """Execute ``source`` in quick mode in ``folder`` as the site shows it, errors allowed (the
    stubs raise); returns coursetools' ``NotebookRun``. The tests share this one run of each
    lesson between their checks and the site (``tests/lesson_runs.py``).

    Figures are inline whatever the caller's MPLBACKEND (tests set Agg).
    """
    from coursetools.runner import run_notebook

    folder.mkdir(parents=True, exist_ok=True)
    return run_notebook(source, "quick", allow_errors=True, timeout=timeout, cwd=folder, env={"MPLBACKEND": INLINE_BACKEND})


def execute_for_site(source: Path, target: Path, timeout: int = 900, staging: Path | None = None) -> None:
    """Execute ``source`` (``run_for_site``) in ``target``'s folder and publish it (``publish``).
    ``staging`` is the site's source folder (its path is hidden)."""
    run = run_for_site(source, target.parent, timeout)
    publish(run.notebook, run.stopped, run.error, source, target, staging or target.parent)


def publish(nb, stopped: bool, error: str, source: Path, target: Path, hidden: Path) -> None:
    """Clean an executed lesson, make it reader-facing (``reader.make_reader_facing``) and write
    it to ``target``. ``hidden`` is the folder it ran in (its path is hidden).

    Raises LessonExecutionError naming every walkthrough cell that failed.
    """
    from . import reader

    import nbformat

    failures = clean_outputs(nb)
    if failures:
        raise LessonExecutionError(_failure_report(source, failures))
    if stopped:  # a cell timeout or a dead kernel: the page would be cut short
        raise LessonExecutionError(f"{source}: execution stopped before the end ({error})")
    reader.make_reader_facing(nb, hidden)
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target)


# Runs made earlier (``python -m coursebook --executed DIR``): DIR/lessons/NAME/NAME.ipynb as
# executed, beside NAME.run.json (how the run ended, and the key of what it was made from).
def save_run(run, source: Path, folder: Path, key: str) -> Path:
    """Keep ``run`` (of ``source``, executed in ``folder``) in ``folder`` for ``load_run``."""
    import nbformat

    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(run.notebook, folder / source.name)
    record = {"key": key, "stopped": run.stopped, "error": run.error, "seconds": round(run.seconds, 1)}
    path = folder / f"{source.stem}.run.json"
    path.write_text(json.dumps(record, indent=1))
    return path


def load_run(source: Path, folder: Path, key: str):
    """``(notebook, record)`` of the run of ``source`` kept in ``folder``; LessonExecutionError when
    there is none, or when it was made from another version of the lesson or of the code it imports."""
    import nbformat

    path = folder / f"{source.stem}.run.json"
    if not path.is_file():
        raise LessonExecutionError(
            f"{folder} holds no run of {source.name} ({path.name} is missing): build without --executed to execute the lessons."
        )
    record = json.loads(path.read_text())
    if record.get("key") != key:
        raise LessonExecutionError(
            f"{folder / source.name} was executed from another version of {source.name} "
            "or of helpers/: build without --executed to execute it again."
        )
    return nbformat.read(folder / source.name, as_version=4), record


def _failure_report(source: Path, failures: list[CellFailure]) -> str:
    lines = [f"{source}: {len(failures)} walkthrough cell(s) failed, so the page would show a traceback:"]
    lines += [f"  cell {f.index} (id {f.cell_id}): {f.message}" for f in failures]
    text = " ".join(f.message for f in failures)
    if "WeightsUnavailable" in text or "weights" in text.lower():
        lines.append(
            "Pretrained weights are missing and cannot be downloaded. Fetch them online first "
            "(`python -m helpers fetch`), or build a site with RANDOM weights (numbers meaningless, "
            "for tests) with TL_COURSE_ALLOW_RANDOM_WEIGHTS=1."
        )
    else:
        lines.append("Run the lesson in JupyterLab (`make lab`) with TL_COURSE_QUICK=1 to see the full error.")
    return "\n".join(lines)

"""Each lesson of ``lessons/`` executes once per test session; every check of an executed lesson
reads that one run (tests/README.md lists them).

The run is the site's (``coursebook.notebooks.run_for_site``: quick mode, errors allowed, figures
inline), kept as ``coursebook.notebooks.save_run`` writes it, so ``python -m coursebook --executed``
publishes the very run the checks read. Under pytest-xdist the workers share one folder (the
run's base temporary folder): a lock per lesson, and the first worker to need a lesson runs it.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from filelock import FileLock

from coursebook import build, notebooks

from coursetools.paths import REPO_ROOT

# Markers nbval would honour; the check below does not, so a lesson must not rely on them.
NBVAL_MARKERS = ("NBVAL_CHECK_OUTPUT", "NBVAL_IGNORE_OUTPUT", "NBVAL_SKIP", "NBVAL_RAISES_EXCEPTION")
# A lesson that shows another lesson's saved result (lesson 03's table reads lesson 02's) runs after it.
READS_RESULT = re.compile(r'load_result\(\\?"(\w+)\\?"\)')


@dataclass
class LessonRun:
    name: str
    notebook: object  # nbformat.NotebookNode, as executed (outputs not cleaned)
    stopped: bool  # a cell timed out or the kernel died: the rest did not run
    error: str
    seconds: float


class LessonRuns:
    """The session's runs of ``lessons/NAME/NAME.ipynb``, in ``folder/lessons/NAME/``."""

    def __init__(self, folder: Path, root: Path = REPO_ROOT, execute: Callable | None = None):
        self.folder, self.root = folder, root
        self._execute = execute or notebooks.run_for_site

    def source(self, name: str) -> Path:
        return self.root / "lessons" / name / f"{name}.ipynb"

    def results_read(self, name: str) -> list[str]:
        """The lessons whose saved results lesson ``name`` reads (``load_result("NAME")`` in its source)."""
        return sorted(set(READS_RESULT.findall(self.source(name).read_text())) - {name})

    def get(self, name: str) -> LessonRun:
        """The run of lesson ``name``: made now if no worker made it yet, else read back. The lessons whose
        results it reads run first, as in a learner's course, so that the page shows their rows."""
        for earlier in self.results_read(name):
            self.get(earlier)
        source, folder = self.source(name), self.folder / "lessons" / name  # the layout coursebook reads
        key = notebooks.cache_key(source, build.shaping_sources(self.root))
        self.folder.mkdir(parents=True, exist_ok=True)
        with FileLock(str(self.folder / f"{name}.lock")):
            if not (folder / f"{name}.run.json").is_file():
                notebooks.save_run(self._execute(source, folder), source, folder, key)
            nb, record = notebooks.load_run(source, folder, key)
        return LessonRun(name, nb, record["stopped"], record["error"], record["seconds"])


def shared_folder(basetemp: Path) -> Path:
    """One folder for the whole test run: xdist workers each get ``<run>/popen-gwN`` as basetemp."""
    return (basetemp.parent if os.environ.get("PYTEST_XDIST_WORKER") else basetemp) / "lesson-runs"


def unexpected_errors(nb) -> list[str]:
    """The errors a run must not have: nbval's ``--nbval-lax`` rule (an error only in a cell tagged
    ``raises-exception``), and, stricter, only in an nbgrader exercise stub or test cell (a
    walkthrough cell never depends on an answer: the site would show its traceback)."""
    found = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") != "error":
                continue
            tagged = "raises-exception" in cell.get("metadata", {}).get("tags", [])
            if not (tagged and notebooks.nbgrader_role(cell)):
                found.append(
                    f"cell {index} (id {cell.get('id', '?')}): {output.get('ename', 'Error')}: {output.get('evalue', '')}"
                )
    return found


def nbval_markers(nb) -> list[str]:
    """Cells that carry an nbval marker (the shared run would silently ignore it)."""
    return [
        f"cell {index}: {marker}"
        for index, cell in enumerate(nb.cells)
        if cell.cell_type == "code"
        for marker in NBVAL_MARKERS
        if marker in cell.source or marker.lower().replace("_", "-") in cell.get("metadata", {}).get("tags", [])
    ]

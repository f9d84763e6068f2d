"""lessons/ is exactly what nbgrader generates from solutions/, and the metadata is sound."""

from __future__ import annotations

import re

import pytest
from conftest import REPO_ROOT, lesson_names
from nbgrader_course import Course, graded_cells, read_notebook

LESSONS = lesson_names()


def test_every_solution_has_a_released_lesson_and_a_toc_entry():
    released = sorted(p.name for p in (REPO_ROOT / "lessons").iterdir() if p.is_dir())
    assert released == LESSONS, "run `make lessons` and commit lessons/"
    toc = (REPO_ROOT / "_toc.yml").read_text()
    for lesson in LESSONS:
        assert f"lessons/{lesson}/{lesson}" in toc, f"{lesson} is missing from _toc.yml"
    assert "solutions/" not in toc, "the website must not show solutions"


@pytest.mark.parametrize("lesson", LESSONS)
def test_released_lesson_matches_a_fresh_generation(lesson, tmp_path):
    course = Course(tmp_path / "course", [lesson])
    fresh = course.generate(lesson).read_bytes()
    committed = (REPO_ROOT / "lessons" / lesson / f"{lesson}.ipynb").read_bytes()
    assert fresh == committed, f"lessons/{lesson} is stale or hand-edited: run `make lessons`"


@pytest.mark.parametrize("lesson", LESSONS)
def test_solution_metadata(lesson):
    notebook = read_notebook(REPO_ROOT / "solutions" / lesson / f"{lesson}.ipynb")
    ids = [c.metadata["nbgrader"]["grade_id"] for c in notebook.cells if "nbgrader" in c.metadata]
    assert len(ids) == len(set(ids)), "grade_id values must be unique"
    assert all(re.fullmatch(r"[A-Za-z0-9_-]+", i) for i in ids)
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code":
            assert not cell.get("outputs"), "solutions are committed without outputs"
        if "raises-exception" in cell.metadata.get("tags", []):
            # only nbgrader stubs may raise: solution cells (a bare stub) and the tests that call them
            assert meta.get("grade") or meta.get("solution"), "an ordinary cell must not expect an exception"
        if meta.get("grade") and not meta.get("solution"):  # grade and solution: a manually graded answer
            assert meta.get("locked"), "test cells must be locked"
            last = [line for line in cell.source.strip().splitlines() if line.strip()][-1]
            assert not last.startswith(("True", "False", "None")), "end test cells with assert"
        if meta.get("solution") and cell.cell_type == "code":
            assert "### BEGIN SOLUTION" in cell.source
    assert graded_cells(notebook), "every lesson has graded exercises"


BLOCK = re.compile(r"### BEGIN (?:SOLUTION|HIDDEN TESTS)\n(.*?)### END (?:SOLUTION|HIDDEN TESTS)", re.S)


@pytest.mark.parametrize("lesson", LESSONS)
def test_released_lesson_leaks_no_solution(lesson):
    """No line of a solution or hidden-test block reaches the student version, unless the
    walkthrough itself shows that line (e.g. `parameter.requires_grad = False`)."""
    solution = read_notebook(REPO_ROOT / "solutions" / lesson / f"{lesson}.ipynb")
    released = read_notebook(REPO_ROOT / "lessons" / lesson / f"{lesson}.ipynb")
    released_lines = {line.strip() for cell in released.cells for line in cell.source.splitlines()}
    public_lines = {line.strip() for cell in solution.cells for line in BLOCK.sub("", cell.source).splitlines()}
    for cell in solution.cells:
        for block in BLOCK.findall(cell.source):
            for line in block.splitlines():
                line = line.strip()
                if len(line) > 12 and not line.startswith("#") and line not in public_lines:
                    assert line not in released_lines, f"leaked into lessons/{lesson}: {line}"

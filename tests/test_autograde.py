"""nbgrader scores the course's exercises as an instructor expects.

For each lesson, in a fresh course directory: the solution gets full marks, the released
blank gets 0, and a submission missing one exercise loses exactly that exercise's points.
"""
from __future__ import annotations

import copy

import pytest
from conftest import REPO_ROOT, lesson_names
from nbgrader_course import Course, exercises, graded_cells, read_notebook

LESSONS = lesson_names()


def _with_cell_from(notebook, donor, grade_id):
    """``notebook`` with the cell ``grade_id`` replaced by ``donor``'s version of it."""
    result = copy.deepcopy(notebook)
    replacement = next(c for c in donor.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    for i, cell in enumerate(result.cells):
        if cell.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            result.cells[i] = copy.deepcopy(replacement)
    return result


@pytest.mark.parametrize("lesson", LESSONS)
def test_autograde_full_blank_and_partial(lesson, tmp_path):
    course = Course(tmp_path / "course", [lesson])
    released = read_notebook(course.generate(lesson))
    solution = read_notebook(REPO_ROOT / "solutions" / lesson / f"{lesson}.ipynb")
    points = graded_cells(solution)
    first_solution, first_tests = exercises(solution)[0]

    course.submit("full", lesson, copy.deepcopy(solution))
    course.submit("blank", lesson, released)
    course.submit("partial", lesson, _with_cell_from(solution, released, first_solution))
    course.autograde(lesson)

    full = course.scores(lesson, "full")
    assert full["max"] == sum(points.values())
    assert full["total"] == full["max"], f"the solution must get full marks: {full}"
    blank = course.scores(lesson, "blank")
    assert blank["total"] == 0, f"the released blank must score 0: {blank}"
    partial = course.scores(lesson, "partial")
    lost = {cell for cell in points if partial[cell] < points[cell]}
    assert lost == set(first_tests), f"only {first_tests} should lose points: {partial}"


def test_resnet18_plausible_wrong_answer_loses_exactly_its_cell(tmp_path):
    lesson = "04_pytorch_resnet18"
    course = Course(tmp_path / "course", [lesson])
    course.generate(lesson)
    notebook = read_notebook(REPO_ROOT / "solutions" / lesson / f"{lesson}.ipynb")
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "ex2_count":
            # a classic slip: counting every parameter, frozen ones included
            cell.source = cell.source.replace(" if p.requires_grad", "")
    course.submit("slip", lesson, notebook)
    course.autograde(lesson)
    scores = course.scores(lesson, "slip")
    points = graded_cells(notebook)
    assert scores["ex2_test"] == 0
    assert scores["total"] == sum(points.values()) - points["ex2_test"], scores

"""Every released lesson (lessons/) runs top to bottom: checked on the session's one run of it.

This replaces nbval over lessons/ (``make test`` passes only solutions/ to nbval): the rule is
nbval's ``--nbval-lax`` one, made stricter, and the same run then builds the site (test_book.py).
The unit tests below prove that each rule can fail and that concurrent workers execute a lesson once.
"""

from __future__ import annotations

import threading
import time

import nbformat
import pytest
from conftest import REPO_ROOT, lesson_names
from lesson_runs import LessonRuns, nbval_markers, unexpected_errors

from coursetools.runner import NotebookRun

LESSONS = lesson_names()


@pytest.mark.parametrize("lesson", LESSONS)
def test_released_lesson_runs_top_to_bottom(lesson, lesson_runs):
    run = lesson_runs.get(lesson)
    assert not run.stopped, f"lessons/{lesson}: execution stopped before the end ({run.error})"
    errors = unexpected_errors(run.notebook)
    assert not errors, (
        f"lessons/{lesson}: cells failed that must not: {errors}. Run it in JupyterLab "
        "(`make lab`) with TL_COURSE_QUICK=1 to see the full error."
    )
    executed = [c for c in run.notebook.cells if c.cell_type == "code" and c.get("execution_count")]
    assert len(executed) == sum(c.cell_type == "code" and c.source.strip() != "" for c in run.notebook.cells)


@pytest.mark.parametrize("lesson", LESSONS)
def test_no_lesson_relies_on_an_nbval_marker(lesson):
    for folder in ("solutions", "lessons"):
        nb = nbformat.read(REPO_ROOT / folder / lesson / f"{lesson}.ipynb", as_version=4)
        assert not nbval_markers(nb), (
            f"{folder}/{lesson}: {nbval_markers(nb)}: lessons/ is checked on the "
            "shared run (tests/lesson_runs.py), which has no such markers"
        )


def _cell(source, outputs=(), tags=(), nbgrader=None):
    cell = nbformat.v4.new_code_cell(source, outputs=list(outputs))
    if tags:
        cell.metadata["tags"] = list(tags)
    if nbgrader:
        cell.metadata["nbgrader"] = nbgrader
    return cell


ERROR = nbformat.v4.new_output("error", ename="NotImplementedError", evalue="stub", traceback=[])


def test_only_a_tagged_exercise_cell_may_fail():
    nb = nbformat.v4.new_notebook()
    stub = {"solution": True, "grade": False, "grade_id": "ex1"}
    nb.cells = [
        _cell("raise NotImplementedError()", [ERROR], ["raises-exception"], stub),  # allowed
        _cell("load()", [ERROR]),  # a walkthrough cell: nbval-lax fails it too
        _cell("load()", [ERROR], ["raises-exception"]),  # tagged, but no exercise: nbval-lax lets it pass
        _cell("raise NotImplementedError()", [ERROR], [], stub),
    ]  # a stub without the tag
    assert [line.split(" (")[0] for line in unexpected_errors(nb)] == ["cell 1", "cell 2", "cell 3"]


def test_nbval_markers_are_found_in_source_and_tags():
    nb = nbformat.v4.new_notebook()
    nb.cells = [_cell("x = 1  # NBVAL_SKIP"), _cell("y = 2", tags=["nbval-ignore-output"]), _cell("z = 3")]
    assert nbval_markers(nb) == ["cell 0: NBVAL_SKIP", "cell 1: NBVAL_IGNORE_OUTPUT"]


def test_workers_share_one_run_per_lesson(tmp_path):
    """Two workers (threads here, processes under xdist: the lock is a file) ask for both lessons
    at once: each lesson executes once, and both read the same run."""
    calls = []

    def execute(source, folder):
        calls.append(source.stem)
        time.sleep(0.3)  # a real run takes minutes: without the lock the other worker would start it too
        nb = nbformat.read(source, as_version=4)
        return NotebookRun(nb, 0.5, None, "", stopped=False)

    root = tmp_path / "repo"
    for name in ("a", "b"):
        (root / "lessons" / name).mkdir(parents=True)
        nbformat.write(nbformat.v4.new_notebook(cells=[_cell(f"print('{name}')")]), root / "lessons" / name / f"{name}.ipynb")
    (root / "helpers").mkdir()
    seen = []

    def worker(order):
        runs = LessonRuns(tmp_path / "runs", root=root, execute=execute)
        seen.extend((name, runs.get(name).notebook.cells[0].source) for name in order)

    threads = [threading.Thread(target=worker, args=(order,)) for order in (["a", "b"], ["b", "a"])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(calls) == ["a", "b"]
    assert sorted(seen) == [("a", "print('a')"), ("a", "print('a')"), ("b", "print('b')"), ("b", "print('b')")]


def test_a_lesson_runs_after_the_lessons_whose_results_it_reads(tmp_path):
    """Lesson 03's page shows lesson 02's saved result: asked for first, 03 still runs after 02."""
    calls = []

    def execute(source, folder):
        calls.append(source.stem)
        return NotebookRun(nbformat.read(source, as_version=4), 0.1, None, "", stopped=False)

    root = tmp_path / "repo"
    (root / "helpers").mkdir(parents=True)
    for name, code in (("a", "save_result('a', {})"), ("b", 'earlier = load_result("a")'), ("c", "x = 1")):
        (root / "lessons" / name).mkdir(parents=True)
        nbformat.write(nbformat.v4.new_notebook(cells=[_cell(code)]), root / "lessons" / name / f"{name}.ipynb")
    runs = LessonRuns(tmp_path / "runs", root=root, execute=execute)
    for name in ("c", "b", "a"):
        runs.get(name)
    assert calls == ["c", "a", "b"]


def test_the_shared_run_of_lesson_03_shows_lesson_02s_row(lesson_runs):
    run = lesson_runs.get("03_resnet50_fine_tuning")
    shown = "".join(
        str(output.get("text", "")) + str(output.get("data", {}).get("text/markdown", ""))
        for cell in run.notebook.cells
        for output in cell.get("outputs", [])
    )
    assert "No saved result of lesson 02" not in shown


def test_a_missing_run_or_one_of_another_lesson_version_is_refused(tmp_path):
    from coursebook import notebooks
    from coursebook.notebooks import LessonExecutionError

    root = tmp_path / "repo"
    (root / "lessons" / "a").mkdir(parents=True)
    (root / "helpers").mkdir()
    source = root / "lessons" / "a" / "a.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[_cell("x = 1")]), source)
    runs = LessonRuns(
        tmp_path / "runs",
        root=root,
        execute=lambda s, f: NotebookRun(nbformat.read(s, as_version=4), 0.1, None, "", stopped=False),
    )
    runs.get("a")
    (tmp_path / "runs" / "lessons" / "a" / "a.run.json").rename(tmp_path / "a.run.json")
    with pytest.raises(LessonExecutionError, match="holds no run of a.ipynb"):
        notebooks.load_run(source, tmp_path / "runs" / "lessons" / "a", "any key")
    (tmp_path / "a.run.json").rename(tmp_path / "runs" / "lessons" / "a" / "a.run.json")
    nbformat.write(nbformat.v4.new_notebook(cells=[_cell("x = 2")]), source)  # the lesson changed since
    with pytest.raises(LessonExecutionError, match="another version"):
        runs.get("a")

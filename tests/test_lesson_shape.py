"""Issue #28, point 3: short walkthroughs with the learner's own cells (coursetools/lesson_shape.py)."""

import pytest

from coursetools.lesson_shape import MAX_CODE_LINES, MAX_WORDS, MIN_YOUR_TURN, lesson_shape
from coursetools.paths import REPO_ROOT

WALKTHROUGHS = sorted(p for p in (REPO_ROOT / "solutions").glob("*/*.ipynb") if p.stem != "05_quiz")


@pytest.mark.parametrize("notebook", WALKTHROUGHS, ids=lambda p: p.stem)
def test_walkthrough_is_short_and_the_learner_writes_in_it(notebook):
    shape = lesson_shape(notebook)
    assert shape.words <= MAX_WORDS, f"{shape.lesson}: {shape.words} words of prose before the exercises (at most {MAX_WORDS})"
    assert shape.visible_code_lines <= MAX_CODE_LINES, (
        f"{shape.lesson}: {shape.visible_code_lines} visible code lines before the exercises (at most {MAX_CODE_LINES}): "
        "move instrumentation into helpers or into cells tagged hide-input with jupyter.source_hidden"
    )
    wanted = MIN_YOUR_TURN.get(shape.lesson, 0)
    assert shape.your_turn_cells >= wanted, f"{shape.lesson}: {shape.your_turn_cells} your-turn cells (at least {wanted})"


def test_the_counts_see_hidden_cells_and_your_turn_tags(tmp_path):
    import nbformat

    nb = nbformat.v4.new_notebook()
    hidden = nbformat.v4.new_code_cell("a = 1\nb = 2")
    hidden.metadata.update(tags=["hide-input"], jupyter={"source_hidden": True})
    turn = nbformat.v4.new_code_cell("base = None\n\n# YOUR CODE HERE")
    turn.metadata["tags"] = ["your-turn"]
    answer = nbformat.v4.new_code_cell("def f():\n    raise NotImplementedError()")
    answer.metadata["nbgrader"] = {"solution": True, "grade": False, "locked": False, "grade_id": "f"}
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Title\nthree more words"),
        hidden,
        turn,
        nbformat.v4.new_markdown_cell("## 7. Exercises"),
        answer,
    ]
    path = tmp_path / "x.ipynb"
    nbformat.write(nb, path)
    shape = lesson_shape(path)
    assert (shape.words, shape.visible_code_lines, shape.hidden_code_lines, shape.your_turn_cells, shape.exercise_cells) == (
        5,
        2,
        2,
        1,
        1,
    )


def test_the_readme_table_is_current():
    from coursetools.lesson_shape import readme_with_table, shape_table

    readme = (REPO_ROOT / "README.md").read_text()
    assert readme_with_table(readme, shape_table()) == readme, (
        "README's shape table is stale: python -m coursetools.lesson_shape --readme"
    )


@pytest.mark.parametrize("notebook", sorted((REPO_ROOT / "solutions").glob("*/*.ipynb")), ids=lambda p: p.stem)
def test_the_setup_cells_at_the_top_are_hidden_alike_in_every_lesson(notebook):
    """The Colab install, cost and imports cells are boilerplate: every lesson and the quiz fold their source away
    the same way, on the website (tag hide-input) and in JupyterLab (jupyter.source_hidden) (fresh review 7, C4)."""
    import nbformat

    setup = {
        cell.metadata["nbgrader"]["grade_id"]: cell
        for cell in nbformat.read(notebook, as_version=4).cells
        if cell.metadata.get("nbgrader", {}).get("grade_id") in ("colab_install", "cost", "setup")
    }
    assert sorted(setup) == ["colab_install", "cost", "setup"], f"{notebook.stem}: setup cells {sorted(setup)}"
    for grade_id, cell in setup.items():
        assert "hide-input" in cell.metadata.get("tags", []), f"{notebook.stem}: tag the {grade_id} cell hide-input"
        assert cell.metadata.get("jupyter", {}).get("source_hidden"), f"{notebook.stem}: {grade_id} needs jupyter.source_hidden"

"""The walkthrough's "your turn" cells: the check (helpers/your_turn.py) and their nbgrader stub."""

import nbformat
import numpy as np
import pytest
from nbgrader.preprocessors import ClearSolutions
from nbgrader.utils import determine_grade

from coursetools.your_turn_stub import YOUR_TURN_STUB, ClearSolutionsKeepingYourTurn
from helpers.your_turn import check, expect

POSITIVE = expect(lambda x: x > 0, "x must be positive")


def test_a_right_answer_goes_on_and_says_so_on_stdout(capsys):
    assert check("Your turn 1: x", 3, POSITIVE, reference=lambda: pytest.fail("reference called")) == 3
    out, err = capsys.readouterr()
    assert out.startswith("✓ Your turn 1: x") and err == ""


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (None, "not written yet"),
        (..., "not written yet"),
        (-1, "x must be positive"),
        ("text", "x must be positive (checking it raised TypeError"),
    ],
)
def test_a_wrong_or_missing_answer_is_one_stderr_line_and_the_reference_goes_on(capsys, answer, message):
    assert check("Your turn 1: x", answer, POSITIVE, reference=lambda: 7) == 7
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and message in err and "reference answer" in err


def test_an_array_answer_is_checked_not_compared_with_none(capsys):
    answer = np.ones(3)
    assert check("Your turn: ones", answer, expect(lambda a: a.sum() == 3, "three ones"), reference=lambda: None) is answer


def test_without_shipped_reference_answers_a_missing_answer_stops_with_what_to_do():
    def not_shipped():
        raise NotImplementedError("In a graded class the reference answers are not shipped: write the cell above.")

    with pytest.raises(NotImplementedError, match="Your turn 2: head: not written yet.*write the cell above"):
        check("Your turn 2: head", None, reference=not_shipped)


def _graded_check_cell(stream_name: str):
    cell = nbformat.v4.new_code_cell("x = check(...)")
    cell.metadata["nbgrader"] = {"grade": True, "solution": False, "locked": True, "points": 2, "grade_id": "check_x"}
    cell.outputs = [nbformat.v4.new_output("stream", name=stream_name, text="...\n")]
    return cell


def test_nbgrader_gives_the_check_cell_its_points_only_without_stderr():
    """The grading rule the mechanism relies on (nbgrader.utils.determine_grade), pinned here."""
    assert determine_grade(_graded_check_cell("stdout")) == (2, 2)
    assert determine_grade(_graded_check_cell("stderr")) == (0, 2)


def _solution_cell(tags):
    cell = nbformat.v4.new_code_cell("base = None  # your turn\n### BEGIN SOLUTION\nbase = 1\n### END SOLUTION")
    cell.metadata["tags"] = tags
    return cell


def test_the_your_turn_stub_does_not_raise_and_exercises_still_do():
    stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
    keeping, plain = ClearSolutionsKeepingYourTurn(code_stub=stub), ClearSolutions(code_stub=stub)
    your_turn = _solution_cell(["your-turn"])
    assert keeping._replace_solution_region(your_turn, "python")
    assert your_turn.source == f"base = None  # your turn\n{YOUR_TURN_STUB}"
    namespace = {}
    exec(your_turn.source, namespace)  # noqa: S102 - the released cell must run (Run All goes on)
    assert namespace["base"] is None
    for preprocessor in (keeping, plain):
        cell = _solution_cell([])
        preprocessor._replace_solution_region(cell, "python")
        assert cell.source.endswith("raise NotImplementedError()")
    assert keeping.code_stub == stub  # the exercise stub is restored after a your-turn cell


def test_the_website_shows_a_skipped_cell_as_one_plain_line(capsys):
    from coursebook.wording import READER_YOUR_TURN, reader_your_turn

    check("Your turn 1: x", None, POSITIVE, reference=lambda: 7)
    output = nbformat.v4.new_output("stream", name="stderr", text=capsys.readouterr().err)
    reader_your_turn(output)
    assert output["name"] == "stdout" and output["text"] == f"Your turn 1: x: {READER_YOUR_TURN}\n"
    check("Your turn 1: x", -1, POSITIVE, reference=lambda: 7)  # a wrong answer is not the site's business: kept
    wrong = nbformat.v4.new_output("stream", name="stderr", text=capsys.readouterr().err)
    reader_your_turn(wrong)
    assert wrong["name"] == "stderr" and "x must be positive" in wrong["text"]

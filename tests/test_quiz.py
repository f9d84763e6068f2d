"""helpers.quiz: the hashed answers match the quiz's solutions, and nothing else passes.

The right answers are read from the instructor notebook (solutions/05_quiz), so the hash
table and the notebook cannot drift apart without this test failing.
"""

from __future__ import annotations

import json
import re

import pytest

from coursetools.paths import REPO_ROOT
from helpers import quiz
from helpers.errors import UnknownNameError

QUIZ = REPO_ROOT / "solutions" / "05_quiz" / "05_quiz.ipynb"
SOLUTION = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", re.S)


def solution_answers() -> dict:
    """{"q1": "b", ...} from the solution regions of the quiz notebook."""
    namespace: dict = {}
    for cell in json.loads(QUIZ.read_text())["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("solution"):
            for block in SOLUTION.findall("".join(cell["source"])):
                exec(block, {}, namespace)  # noqa: S102 - our own notebook, assignments only
    return namespace


ANSWERS = solution_answers()


def test_every_question_has_a_solution_and_vice_versa():
    assert len(quiz.QUESTIONS) >= 12
    assert set(ANSWERS) == set(quiz.QUESTIONS)


@pytest.mark.parametrize("question_id", sorted(quiz.QUESTIONS))
def test_solution_answer_is_correct(question_id):
    answer = ANSWERS[question_id]
    assert quiz.answer_hash(question_id, answer) == quiz.QUESTIONS[question_id]["hash"]
    assert quiz.check(question_id, answer, quiet=True) is True


@pytest.mark.parametrize("question_id", sorted(quiz.QUESTIONS))
def test_wrong_answers_are_rejected(question_id):
    spec, right = quiz.QUESTIONS[question_id], ANSWERS[question_id]
    kind = spec["kind"]
    if kind == "choice":
        wrong = [o for o in spec["options"] if o != right]
    elif kind == "bool":
        wrong = [not right]
    elif kind == "int":
        wrong = [right + 1, right - 1, right * 10]
    else:
        wrong = [right + 0.05, right - 0.05, right * 100]
    for answer in wrong + [None, "", [right], {right: right}]:
        assert quiz.check(question_id, answer, quiet=True) is False, answer


def test_normalisation():
    choice = next(q for q, s in quiz.QUESTIONS.items() if s["kind"] == "choice")
    right = ANSWERS[choice]
    for variant in (right.upper(), f"  {right} ", f"({right})", f"{right})", f"{right}."):
        assert quiz.check(choice, variant, quiet=True), variant
    integer = next(q for q, s in quiz.QUESTIONS.items() if s["kind"] == "int")
    n = ANSWERS[integer]
    for variant in (n, float(n), str(n), f"{n:,}", f" {n} "):
        assert quiz.check(integer, variant, quiet=True), variant
    assert not quiz.check(integer, n + 0.5, quiet=True)
    assert not quiz.check(integer, True, quiet=True)
    boolean = next(q for q, s in quiz.QUESTIONS.items() if s["kind"] == "bool")
    b = ANSWERS[boolean]
    assert quiz.check(boolean, str(b).lower(), quiet=True)
    assert not quiz.check(boolean, int(b), quiet=True), "1/0 are not booleans"


def test_float_tolerance_is_one_unit_of_the_last_decimal():
    question = next(q for q, s in quiz.QUESTIONS.items() if s["kind"] == "float")
    right, unit = ANSWERS[question], 10.0 ** -quiz.QUESTIONS[question]["decimals"]
    for near in (right, right + 0.4 * unit, right - unit, right + unit, str(right)):
        assert quiz.check(question, near, quiet=True), near
    for far in (right + 2.5 * unit, right - 2.5 * unit, float("nan"), float("inf")):
        assert not quiz.check(question, far, quiet=True), far


def test_an_object_that_equals_everything_is_rejected():
    class Anything:
        def __eq__(self, other):
            return True

        def __hash__(self):
            return 0

    class SneakyStr(str):
        def __eq__(self, other):
            return True

        __hash__ = str.__hash__

    for question_id in quiz.QUESTIONS:
        assert quiz.check(question_id, Anything(), quiet=True) is False
    choice = next(q for q, s in quiz.QUESTIONS.items() if s["kind"] == "choice")
    wrong = next(o for o in quiz.QUESTIONS[choice]["options"] if o != ANSWERS[choice])
    assert quiz.check(choice, SneakyStr(wrong), quiet=True) is False


def test_feedback_shows_hint_but_never_the_answer(capsys):
    for question_id, spec in quiz.QUESTIONS.items():
        quiz.show_feedback(question_id, ANSWERS[question_id])
        assert "Correct" in capsys.readouterr().out
        quiz.check(question_id, "zzz" if spec["kind"] != "choice" else "q")
        assert "Not yet" in capsys.readouterr().out
    choice = next(q for q, s in quiz.QUESTIONS.items() if s["kind"] == "choice")
    wrong = next(o for o in quiz.QUESTIONS[choice]["options"] if o != ANSWERS[choice])
    quiz.check(choice, wrong)
    out = capsys.readouterr().out
    assert "Hint:" in out and quiz.QUESTIONS[choice]["hint"] in out


def test_check_all_counts_and_lists_unanswered(capsys):
    answers = dict(ANSWERS)
    missing = sorted(answers)[0]
    del answers[missing]
    assert quiz.check_all(answers) == len(quiz.QUESTIONS) - 1
    assert f"{missing}: not answered yet." in capsys.readouterr().out


def test_unknown_question_and_making_new_questions():
    with pytest.raises(UnknownNameError, match="Unknown question"):
        quiz.check("q999", "a")
    entry = quiz.make_question("extra", 42, hint="h")
    assert entry["kind"] == "int" and entry["hash"] == quiz.answer_hash("extra", "42", kind="int")
    assert "42" not in json.dumps(entry).replace(entry["hash"], "")
    with pytest.raises(ValueError):
        quiz.answer_hash("extra", [42], kind="int")


# --------------------------------------------------------------------------- the clickable widget


def test_widget_carries_the_hash_and_never_the_answer():
    from helpers.quiz_widget import ask

    for question_id, spec in quiz.QUESTIONS.items():
        page = ask(question_id)._repr_html_()
        assert f'data-hash="{spec["hash"]}"' in page and f'data-question="{question_id}"' in page
        assert "<script>" in page and "tlQuiz" in page
        answer = str(ANSWERS[question_id]).lower()
        if spec["kind"] in ("int", "float"):
            assert answer not in page.replace(spec["hash"], ""), f"{question_id}: the answer is readable in the widget"
        if spec["kind"] == "choice":
            assert all(f'data-answer="{o}"' in page for o in spec["options"])
    with pytest.raises(UnknownNameError):
        ask("q999")


def test_quiz_notebook_offers_the_widget_under_every_question_and_keeps_its_points():
    cells = json.loads(QUIZ.read_text())["cells"]
    ids = [c.get("id") for c in cells]
    for question_id in quiz.QUESTIONS:
        text, widget, answer = (
            ids.index(f"{question_id}_text"),
            ids.index(f"{question_id}_try"),
            ids.index(f"{question_id}_answer"),
        )
        assert text < widget < answer, question_id
        assert "".join(cells[widget]["source"]) == f'ask("{question_id}")'
        assert cells[widget]["metadata"]["nbgrader"]["locked"] and not cells[widget]["metadata"]["nbgrader"]["grade"]
    points = [c["metadata"]["nbgrader"].get("points") for c in cells if c["metadata"].get("nbgrader", {}).get("grade")]
    assert points == [1] * len(quiz.QUESTIONS)
    code = [c for c in cells if c["cell_type"] == "code"]
    assert code[0]["id"] == "colab_install"

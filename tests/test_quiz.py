"""helpers.quiz: the hashed answers match the quiz's solutions, and nothing else passes.

The right answers are read from the instructor notebook (solutions/05_quiz), so the hash
table and the notebook cannot drift apart without this test failing.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

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


@pytest.fixture
def numeric_questions(monkeypatch):
    """An int and a float question, registered for one test (the course quiz asks none today)."""
    extra = {"n_int": 513, "n_float": 0.54}
    monkeypatch.setitem(quiz.QUESTIONS, "n_int", quiz.make_question("n_int", 513, hint="count", kind="int"))
    monkeypatch.setitem(quiz.QUESTIONS, "n_float", quiz.make_question("n_float", 0.54, hint="divide", kind="float"))
    return extra


def test_normalisation(numeric_questions):
    choice = next(q for q, s in quiz.QUESTIONS.items() if s["kind"] == "choice")
    right = ANSWERS[choice]
    for variant in (right.upper(), f"  {right} ", f"({right})", f"{right})", f"{right}."):
        assert quiz.check(choice, variant, quiet=True), variant
    n = numeric_questions["n_int"]
    for variant in (n, float(n), str(n), f"{n:,}", f" {n} "):
        assert quiz.check("n_int", variant, quiet=True), variant
    for wrong in (n + 0.5, True, n + 1, None, [n]):
        assert not quiz.check("n_int", wrong, quiet=True), wrong
    boolean = next(q for q, s in quiz.QUESTIONS.items() if s["kind"] == "bool")
    b = ANSWERS[boolean]
    assert quiz.check(boolean, str(b).lower(), quiet=True)
    assert not quiz.check(boolean, int(b), quiet=True), "1/0 are not booleans"


def test_float_tolerance_is_one_unit_of_the_last_decimal(numeric_questions):
    right, unit = numeric_questions["n_float"], 10.0 ** -quiz.QUESTIONS["n_float"]["decimals"]
    for near in (right, right + 0.4 * unit, right - unit, right + unit, str(right)):
        assert quiz.check("n_float", near, quiet=True), near
    for far in (right + 2.5 * unit, right - 2.5 * unit, right * 100, float("nan"), float("inf")):
        assert not quiz.check("n_float", far, quiet=True), far


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
        test = "".join(cells[ids.index(f"{question_id}_test")]["source"])
        assert test.startswith(f'graded_feedback("{question_id}", globals().get("{question_id}"))'), (
            "the check cell fails when wrong"
        )
        assert f'assert check("{question_id}", {question_id}, quiet=True)' in test, "the hidden test grades it too"
    points = [c["metadata"]["nbgrader"].get("points") for c in cells if c["metadata"].get("nbgrader", {}).get("grade")]
    assert points == [1] * len(quiz.QUESTIONS)
    code = [c for c in cells if c["cell_type"] == "code"]
    assert code[0]["id"] == "colab_install"


# --------------------------------------------------------------------------- the graded check cell


def test_graded_feedback_passes_on_stdout_and_fails_on_one_stderr_line(capsys):
    for question_id, spec in quiz.QUESTIONS.items():
        right = ANSWERS[question_id]
        quiz.graded_feedback(question_id, right)
        out, err = capsys.readouterr()
        assert out == f"{question_id}: Correct.\n" and err == "", question_id
        wrong = next(o for o in spec["options"] if o != right) if spec["kind"] == "choice" else (not right)
        quiz.graded_feedback(question_id, wrong)
        out, err = capsys.readouterr()
        assert out == "" and err.count("\n") == 1 and spec["hint"] in err and "fails" in err, question_id
        if spec["kind"] == "choice":
            assert f'"{right}"' not in err and f"({right})" not in err, f"{question_id}: the hint names the answer"
        quiz.graded_feedback(question_id, "zzz")
        out, err = capsys.readouterr()
        assert out == "" and "Not yet: answer with" in err, question_id


def test_an_unanswered_question_gets_one_stderr_line_not_a_name_error(capsys):
    """The answer cell left as released raises NotImplementedError, so q1 is never defined: the check
    cell itself, run as the notebook has it, must give the promised one line, not a raw NameError."""
    cells = json.loads(QUIZ.read_text())["cells"]
    for question_id in quiz.QUESTIONS:
        (test,) = [c for c in cells if c.get("id") == f"{question_id}_test"]
        check_line = "".join(test["source"]).splitlines()[0]
        exec(check_line, {"graded_feedback": quiz.graded_feedback})  # noqa: S102 - the notebook's own check line
        out, err = capsys.readouterr()
        assert out == "" and err.count("\n") == 1, (question_id, out, err)
        assert err.startswith(f"{question_id}: not answered yet: answer with") and "fails" in err, err


def test_without_an_answer_key_graded_feedback_only_gives_show_feedbacks_output(monkeypatch, capsys):
    # A graded class's distribution ships no hashes (coursetools.learner_dist): nothing to judge with.
    keyless = {k: v for k, v in quiz.QUESTIONS["q1"].items() if k != "hash"}
    monkeypatch.setitem(quiz.QUESTIONS, "q1", keyless)
    monkeypatch.setattr(quiz, "show_feedback", lambda q, a: print(f"{q}: recorded"))
    quiz.graded_feedback("q1", "a")
    assert capsys.readouterr() == ("q1: recorded\n", "")


HINT_SECTION = re.compile(
    r'(?i:the) (concepts|VGG16|ResNet50|ResNet18|your-own-images) lesson[^"]*?"([^"]+)"|(?i:the) recipe card, "([^"]+)"'
)
LESSON_OF = {
    "concepts": "01_concepts",
    "VGG16": "02_vgg16_feature_extraction",
    "ResNet50": "03_resnet50_fine_tuning",
    "ResNet18": "04_pytorch_resnet18",
    "your-own-images": "06_your_own_images",
}


def _headings(markdown: str) -> set[str]:
    """Heading titles without their '#' and section number ("4. Phase 2" -> "Phase 2")."""
    return {re.sub(r"^\d+\.\s*", "", line.lstrip("#").strip()) for line in markdown.splitlines() if line.startswith("#")}


def test_every_hint_points_at_a_section_that_exists():
    recipe = _headings((REPO_ROOT / "docs" / "recipe.md").read_text())
    lessons = {}
    for nickname, lesson in LESSON_OF.items():
        cells = json.loads((REPO_ROOT / "solutions" / lesson / f"{lesson}.ipynb").read_text())["cells"]
        lessons[nickname] = set().union(*(_headings("".join(c["source"])) for c in cells if c["cell_type"] == "markdown"))
    for question_id, spec in quiz.QUESTIONS.items():
        places = HINT_SECTION.findall(spec["hint"])
        assert places, f'{question_id}: the hint names no section (the <lesson> lesson, "<title>")'
        for nickname, title, card_title in places:
            if card_title:
                assert card_title in recipe, f"{question_id}: docs/recipe.md has no section {card_title!r}"
            else:
                assert title in lessons[nickname], f"{question_id}: {LESSON_OF[nickname]} has no section {title!r}"


def _student_quiz(tmp_path, answers: dict) -> Path:
    """The released quiz (lessons/) with ``answers`` written into its answer cells, as a learner would."""
    notebook = json.loads((REPO_ROOT / "lessons" / "05_quiz" / "05_quiz.ipynb").read_text())
    for cell in notebook["cells"]:
        grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id", "")
        if grade_id.endswith("_answer") and grade_id[: -len("_answer")] in answers:
            question_id = grade_id[: -len("_answer")]
            cell["source"] = f"{question_id} = {answers[question_id]!r}\n"
    path = tmp_path / "05_quiz.ipynb"
    path.write_text(json.dumps(notebook))
    return path


def test_validate_fails_a_wrong_answer_with_its_hint_and_passes_right_ones(tmp_path):
    """nbgrader's Validate (the learner's button) on the released quiz: one wrong answer, then all right."""
    from nbgrader.validator import Validator

    wrong_id = "q1"
    right = ANSWERS[wrong_id]
    wrong = next(o for o in quiz.QUESTIONS[wrong_id]["options"] if o != right)
    results = Validator().validate(str(_student_quiz(tmp_path, {**ANSWERS, wrong_id: wrong})))
    failed = results.get("failed", [])
    assert [f["source"].splitlines()[0].split("  #")[0] for f in failed] == [
        f'graded_feedback("{wrong_id}", globals().get("{wrong_id}"))'
    ], results
    assert quiz.QUESTIONS[wrong_id]["hint"] in failed[0]["raw_error"]
    assert f'"{right}"' not in failed[0]["raw_error"] and f"= {right!r}" not in failed[0]["raw_error"]

    assert Validator().validate(str(_student_quiz(tmp_path, ANSWERS))) == {}, "every right answer passes"

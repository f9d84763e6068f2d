"""Self-check quizzes: immediate feedback on an answer, without the answer being readable.

A lesson asks a question, the learner puts an answer in a variable (``q1 = ...``: a letter,
True/False or a number) and runs the check cell ``graded_feedback("q1", globals().get("q1"))``: "Correct" on stdout,
or the hint on stderr, so that nbgrader's Validate reports a wrong answer as failing (``show_feedback``,
internal, prints the same without the stderr).
The right answers are not stored anywhere, only a salted SHA-256 of each one (the answer key,
``helpers.quiz_key``), so reading this file or the notebook does not give them away. This hides answers from a casual look, not from a
determined learner: a multiple-choice answer has four possible values, and trying them all
is the same as guessing. Graded runs (nbgrader) assert ``check(...)`` in hidden tests.

In a graded class the learners get no answer key at all: the graded flavour of the learner
distribution (``coursetools.learner_dist``) ships ``helpers.quiz_key`` with ``ANSWER_HASHES = None``.
Then ``show_feedback`` (and ``graded_feedback``) only check the answer's form and say that the score
comes with the feedback, ``check`` raises ``AnswerKeyNotShippedError``, and the widget shows no buttons.

Answers are normalised before hashing, so harmless differences do not matter:

- ``choice``: a letter; ``" B "``, ``"b"``, ``"(b)"`` and ``"b)"`` are the same answer.
- ``bool``: ``True``/``False`` (also the strings ``"true"``/``"false"``).
- ``int``: an integer; ``513``, ``513.0``, ``"513"`` and ``"1,026"``-style strings are accepted.
- ``float``: a number, compared after rounding to the question's ``decimals``; one unit of
  the last decimal either way is accepted (``0.54`` for 0.5425, ``0.55`` too, with 2 decimals).

Anything else (a list, ``None``, an object that claims to equal everything) is never
correct: answers are converted to plain strings first and never compared with ``==``.

To add a question, call ``make_question("q16", answer, hint="...", kind=..., options=...)``
in a Python session, paste the returned entry without its ``hash`` into ``QUESTIONS`` and the
hash into ``helpers.quiz_key.ANSWER_HASHES``.
"""

from __future__ import annotations

import hashlib
import math
import numbers
import sys
from typing import Any, Mapping

from .errors import AnswerKeyNotShippedError, UnknownNameError
from .quiz_key import ANSWER_HASHES

__all__ = ["QUESTIONS", "check", "check_all", "graded_feedback"]

SALT = "tl-course-quiz-v1"
KINDS = ("choice", "bool", "int", "float")

# question id -> the hash of the right one (from helpers.quiz_key, where shipped), how to normalise the answer, and a hint that
# points to where the answer is taught (never the answer itself).
QUESTIONS: dict[str, dict[str, Any]] = {}  # filled below


# --------------------------------------------------------------------------- normalisation


def _number(answer: Any) -> float | None:
    """A real number from an int, float, NumPy scalar or numeric string; else None."""
    if isinstance(answer, bool) or type(answer).__name__ == "bool_":
        return None
    if isinstance(answer, numbers.Real):
        value = float(answer)
    elif isinstance(answer, str):
        text = str.strip(answer).replace(",", "").replace("_", "").replace(" ", "")
        try:
            value = float(text)
        except ValueError:
            return None
    else:
        return None
    return value if math.isfinite(value) else None


def normalise(kind: str, answer: Any, options: str = "abcd", decimals: int = 2) -> str | None:
    """The canonical text of an answer for a question of ``kind``, or None if it is not valid."""
    if kind == "choice":
        if not isinstance(answer, str):
            return None
        text = str.lower(str.strip(answer)).strip("().: ")
        return text if len(text) == 1 and text in options else None
    if kind == "bool":
        if isinstance(answer, bool) or type(answer).__name__ == "bool_":
            return "true" if bool(answer) else "false"
        if isinstance(answer, str) and str.lower(str.strip(answer)) in ("true", "false"):
            return str.lower(str.strip(answer))
        return None
    if kind == "int":
        value = _number(answer)
        if value is None or not float(value).is_integer():
            return None
        return str(int(value))
    if kind == "float":
        value = _number(answer)
        return None if value is None else f"{round(value, decimals):.{decimals}f}"
    raise ValueError(f"Unknown question kind {kind!r}: use one of {', '.join(KINDS)}.")


def _digest(question_id: str, canonical: str) -> str:
    return hashlib.sha256(f"{SALT}:{question_id}:{canonical}".encode()).hexdigest()


def answer_hash(
    question_id: str, answer: Any, kind: str | None = None, options: str | None = None, decimals: int | None = None
) -> str:
    """The salted SHA-256 of an answer, as stored in ``QUESTIONS``.

    For a registered question the kind, options and decimals default to the registered ones.
    Raises ValueError if the answer is not valid for the question's kind.
    """
    spec = QUESTIONS.get(question_id, {})
    kind = kind or spec.get("kind")
    if kind is None:
        raise ValueError(f"{question_id!r} is not registered: pass kind= (one of {', '.join(KINDS)}).")
    canonical = normalise(
        kind, answer, options or spec.get("options", "abcd"), decimals if decimals is not None else spec.get("decimals", 2)
    )
    if canonical is None:
        raise ValueError(f"{answer!r} is not a valid answer for a {kind!r} question.")
    return _digest(question_id, canonical)


def make_question(
    question_id: str, answer: Any, hint: str, kind: str | None = None, options: str = "abcd", decimals: int = 2
) -> dict[str, Any]:
    """A ``QUESTIONS`` entry for a new question (the answer itself is not kept)."""
    if kind is None:
        kind = (
            "bool"
            if isinstance(answer, bool)
            else "int"
            if isinstance(answer, int)
            else "float"
            if isinstance(answer, float)
            else "choice"
        )
    entry: dict[str, Any] = {"kind": kind, "hint": hint}
    if kind == "choice":
        entry["options"] = options
    if kind == "float":
        entry["decimals"] = decimals
    entry["hash"] = answer_hash(question_id, answer, kind, options, decimals)
    return entry


# --------------------------------------------------------------------------- checking


def _spec(question_id: str) -> dict[str, Any]:
    try:
        return QUESTIONS[question_id]
    except KeyError:
        raise UnknownNameError(f"Unknown question {question_id!r}. The questions are: {', '.join(QUESTIONS)}.") from None


def _expected_form(spec: dict[str, Any]) -> str:
    kind = spec["kind"]
    if kind == "choice":
        return "one letter: " + ", ".join(f'"{o}"' for o in spec.get("options", "abcd"))
    if kind == "bool":
        return "True or False"
    if kind == "int":
        return "a whole number, e.g. 42"
    return f"a number, e.g. 0.5 (rounded to {spec.get('decimals', 2)} decimals)"


def _candidates(question_id: str, spec: dict[str, Any], answer: Any) -> list[str]:
    """The canonical forms of the answer that count as right (floats: +-1 in the last decimal)."""
    canonical = normalise(spec["kind"], answer, spec.get("options", "abcd"), spec.get("decimals", 2))
    if canonical is None:
        return []
    if spec["kind"] != "float":
        return [canonical]
    decimals = spec.get("decimals", 2)
    unit = 10.0**-decimals
    value = float(canonical)
    return [f"{round(value + k * unit, decimals):.{decimals}f}" for k in (0, -1, 1)]


GRADED_CLASS_NOTE = "self-check is off in this graded class: your score comes with the feedback after you submit"


def self_check_available() -> bool:
    """True where the answer key ships (self-paced); False in a graded class's distribution."""
    return ANSWER_HASHES is not None


def check(question_id: str, answer: Any, quiet: bool = False) -> bool:
    """True if ``answer`` is right. Prints "Correct" or a hint unless ``quiet``.

    Raises AnswerKeyNotShippedError in a graded class's distribution (there is no key to check with)."""
    spec = _spec(question_id)
    if "hash" not in spec:
        raise AnswerKeyNotShippedError(
            f"{question_id}: the answer key is not shipped in a graded class, so answers cannot be checked here; "
            "they are graded after you submit."
        )
    candidates = _candidates(question_id, spec, answer)
    correct = any(_digest(question_id, c) == spec["hash"] for c in candidates)
    if not quiet:
        if correct:
            print(f"{question_id}: Correct.")
        elif not candidates:
            print(f"{question_id}: Not yet: answer with {_expected_form(spec)} (got {answer!r}).")
        else:
            print(f"{question_id}: Not yet. Hint: {spec['hint']}")
    return bool(correct)


def show_feedback(question_id: str, answer: Any) -> None:
    """Print "Correct" or a hint for one answer (returns nothing, so nothing else is shown).

    In a graded class: whether the answer has the right form, and that it is recorded."""
    if self_check_available():
        check(question_id, answer)
        return
    spec = _spec(question_id)
    if not _candidates(question_id, spec, answer):
        print(f"{question_id}: Not yet: answer with {_expected_form(spec)} (got {answer!r}).")
    else:
        print(f"{question_id}: answer recorded ({answer!r}); {GRADED_CLASS_NOTE}.")


def check_all(answers: Mapping[str, Any]) -> int | None:
    """Check every question answered in ``answers`` (e.g. ``globals()``); print and return the score.

    In a graded class: list the unanswered questions and return None (no key, no score)."""
    if not self_check_available():
        missing = [q for q in QUESTIONS if q not in answers]
        for question_id in missing:
            print(f"{question_id}: not answered yet.")
        print(f"{len(QUESTIONS) - len(missing)} of {len(QUESTIONS)} questions answered; {GRADED_CLASS_NOTE}.")
        return None
    score = 0
    for question_id in QUESTIONS:
        if question_id not in answers:
            print(f"{question_id}: not answered yet.")
            continue
        score += check(question_id, answers[question_id])
    print(f"Score: {score} of {len(QUESTIONS)}.")
    return score


# --------------------------------------------------------------------------- the graded test cell


def graded_feedback(question_id: str, answer: Any) -> None:
    """The quiz's test cell: "Correct" on stdout, or what is wrong as one line on **stderr**.

    nbgrader gives a test cell no points, and *Validate* reports it as failing, when the cell writes to
    stderr (``nbgrader.utils.determine_grade``, as for ``helpers.your_turn.check``). So a wrong answer
    shows as failing before it is submitted, with the hint (never the right answer), and *Run All* goes
    on: nothing is raised. Without an answer key (a graded class's learner distribution, whose
    questions carry no ``hash``) it prints what ``show_feedback`` prints and never judges.
    """
    spec = _spec(question_id)
    if answer is None:  # the check cell passes globals().get("q1"): the answer cell not run, or still raising
        print(
            f"{question_id}: not answered yet: answer with {_expected_form(spec)} in the cell above; "
            "this check fails until then.",
            file=sys.stderr,
            flush=True,
        )
        return
    if "hash" not in spec:
        show_feedback(question_id, answer)
        return
    if check(question_id, answer, quiet=True):
        print(f"{question_id}: Correct.")
        return
    if not _candidates(question_id, spec, answer):
        line = f"Not yet: answer with {_expected_form(spec)} (got {answer!r}); this check fails until then."
    else:
        line = f"Not yet. Hint: {spec['hint']} (This check fails until the answer is right.)"
    print(f"{question_id}: {line}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- the course quiz (05_quiz)

# Hints name where the answer is taught as `the <lesson> lesson, "<section title>"` or
# `the recipe card, "<section title>"`: tests/test_quiz.py checks that those sections exist.
QUESTIONS.update(
    {
        "q1": {
            "kind": "choice",
            "options": "abcd",
            "hint": 'Which split may a choice be made on, and which one is scored once? The recipe card, "Evaluation: choose on validation, score the test split once".',
        },
        "q2": {
            "kind": "choice",
            "options": "abcd",
            "hint": 'A small target, similar to the source: the concepts lesson, "The four scenarios: how much data, how similar?", and the recipe card, "Head first".',
        },
        "q3": {
            "kind": "bool",
            "hint": 'Look again at the first-layer filters: the concepts lesson, "Why early layers transfer and late layers do not".',
        },
        "q4": {
            "kind": "choice",
            "options": "abcd",
            "hint": 'The concepts lesson names the three benefits and measures, on a learning curve, the start, and the end of a short run (not an asymptote): "What transfer buys, and what a learning rate far too high does".',
        },
        "q5": {
            "kind": "bool",
            "hint": 'Weights are data with their own terms: see the licence lines the concepts lesson prints in "What transfer learning is".',
        },
        "q6": {
            "kind": "choice",
            "options": "abcd",
            "hint": 'Ask what changes between epochs when the images go through the base each time: the VGG16 lesson, "The efficient way: extract features once".',
        },
        "q7": {
            "kind": "choice",
            "options": "abcd",
            "hint": 'When does Keras read `trainable`? The recipe card, "Head first", and the ResNet50 lesson, "Phase 2: fine-tune the top stage".',
        },
        "q8": {
            "kind": "choice",
            "options": "abcd",
            "hint": 'Feed each backbone the pixels it was trained on: the VGG16 lesson, "Another backbone, its own preprocessing", and the recipe card, "Each backbone its own preprocessing".',
        },
        "q9": {
            "kind": "choice",
            "options": "abcd",
            "hint": 'Look at the pixels `preprocess_input` hands to VGG16: the VGG16 lesson, "The classic mistake: `rescale=1./255` for VGG16".',
        },
        "q10": {
            "kind": "choice",
            "options": "abcd",
            "hint": 'What does a BatchNorm layer compute in inference mode, and with which mean and variance? The recipe card, "BatchNorm: statistics frozen, scale and shift train with their stage".',
        },
        "q11": {
            "kind": "bool",
            "hint": 'What would large updates do to weights that are already good? The recipe card, "Learning rates: the pretrained layers get a tenth of the head\'s rate".',
        },
        "q12": {
            "kind": "choice",
            "options": "abcd",
            "hint": 'Think about the size of the errors while the head is still random: the ResNet50 lesson, "Phase 2: fine-tune the top stage", the concepts lesson, "The strategies, in code", and the recipe card, "Head first".',
        },
        "q13": {
            "kind": "choice",
            "options": "abcd",
            "hint": 'What does freezing do, and what does it not do? The ResNet18 lesson, "Phase 1: train the head".',
        },
        "q14": {
            "kind": "choice",
            "options": "abcd",
            "hint": '`requires_grad` and `eval()` are two separate switches: the ResNet18 lesson, "Phase 1: train the head" (the training loop) and "BatchNorm: inference mode or training mode?", and the recipe card, "BatchNorm: statistics frozen, scale and shift train with their stage".',
        },
        "q15": {
            "kind": "choice",
            "options": "abcd",
            "hint": 'A test photo measures generalisation only if nothing like it was trained on: the your-own-images lesson, "A split without leakage".',
        },
    }
)

if ANSWER_HASHES is not None:  # self-paced: the key ships; a graded class's distribution has None
    if set(ANSWER_HASHES) != set(QUESTIONS):
        raise ImportError(f"helpers.quiz_key does not match the questions: {sorted(set(ANSWER_HASHES) ^ set(QUESTIONS))}")
    for _question_id, _hash in ANSWER_HASHES.items():
        QUESTIONS[_question_id]["hash"] = _hash

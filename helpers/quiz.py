"""Self-check quizzes: immediate feedback on an answer, without the answer being readable.

A lesson asks a question, the learner puts an answer in a variable (``q1 = "b"``) and calls
``show_feedback("q1", q1)``, which prints "Correct" or a hint. The right answers are not
stored here, only a salted SHA-256 of each one (``QUESTIONS``), so reading this file or the
notebook does not give them away. This hides answers from a casual look, not from a
determined learner: a multiple-choice answer has four possible values, and trying them all
is the same as guessing. Graded runs (nbgrader) assert ``check(...)`` in hidden tests.

Answers are normalised before hashing, so harmless differences do not matter:

- ``choice``: a letter; ``" B "``, ``"b"``, ``"(b)"`` and ``"b)"`` are the same answer.
- ``bool``: ``True``/``False`` (also the strings ``"true"``/``"false"``).
- ``int``: an integer; ``513``, ``513.0``, ``"513"`` and ``"1,026"``-style strings are accepted.
- ``float``: a number, compared after rounding to the question's ``decimals``; one unit of
  the last decimal either way is accepted (``0.54`` for 0.5425, ``0.55`` too, with 2 decimals).

Anything else (a list, ``None``, an object that claims to equal everything) is never
correct: answers are converted to plain strings first and never compared with ``==``.

To add a question, call ``make_question("q16", answer, hint="...", kind=..., options=...)``
in a Python session and paste the returned entry into ``QUESTIONS``.
"""

from __future__ import annotations

import hashlib
import math
import numbers
import sys
from typing import Any, Mapping

from .errors import UnknownNameError

__all__ = ["QUESTIONS", "check", "check_all", "graded_feedback", "show_feedback"]

SALT = "tl-course-quiz-v1"
KINDS = ("choice", "bool", "int", "float")

# question id -> how to normalise the answer, the hash of the right one, and a hint that
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


def check(question_id: str, answer: Any, quiet: bool = False) -> bool:
    """True if ``answer`` is right. Prints "Correct" or a hint unless ``quiet``."""
    spec = _spec(question_id)
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
    """Print "Correct" or a hint for one answer (returns nothing, so nothing else is shown)."""
    check(question_id, answer)


def check_all(answers: Mapping[str, Any]) -> int:
    """Check every question answered in ``answers`` (e.g. ``globals()``); print and return the score."""
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
            "hash": "6d3c7aae4ae4d1e0d50afc2b167d118e413943e5627f0f4ac508771202e27c14",
        },
        "q2": {
            "kind": "choice",
            "options": "abcd",
            "hint": 'A small target, similar to the source: the concepts lesson, "The four scenarios: how much data, how similar?", and the recipe card, "Head first".',
            "hash": "4c99a35017f898f12adcff20fc8f50d75729f073994ef6362c0f982c88111028",
        },
        "q3": {
            "kind": "bool",
            "hint": 'Look again at the first-layer filters: the concepts lesson, "Why early layers transfer and late layers do not".',
            "hash": "d771811d97d52932185ef33819aa43a22cf6daf1b1f3793f368b58d6cd815c4b",
        },
        "q4": {
            "kind": "choice",
            "options": "abcd",
            "hint": 'The concepts lesson measures the three benefits on a learning curve: "What transfer buys: start, slope, asymptote".',
            "hash": "1d94da2bb48fc7cc434fc20196aee05c6185ff09b461e47ed521883a6ac0852d",
        },
        "q5": {
            "kind": "bool",
            "hint": 'Weights are data with their own terms: see the licence lines the concepts lesson prints in "What transfer learning is".',
            "hash": "977004dad56ce7b17b646e9117039dd9e734e4144c800e17e7bba90698524d5a",
        },
        "q6": {
            "kind": "choice",
            "options": "abcd",
            "hint": 'Ask what changes between epochs when the images go through the base each time: the VGG16 lesson, "The efficient way: extract features once".',
            "hash": "c1653f297dd907f5f4dcfc5c271e09fa2bf4b80219219d06752c65371eb317f8",
        },
        "q7": {
            "kind": "choice",
            "options": "abcd",
            "hint": 'When does Keras read `trainable`? The recipe card, "Head first", and the ResNet50 lesson, "Phase 2: fine-tune the top of the network".',
            "hash": "33113b4c0afd30d39b0d4cd22c164d351d9a2ac74ef0edde21ad00f497fe263d",
        },
        "q8": {
            "kind": "choice",
            "options": "abcd",
            "hint": 'Feed each backbone the pixels it was trained on: the VGG16 lesson, "Another backbone, its own preprocessing", and the recipe card, "Each backbone its own preprocessing".',
            "hash": "f08b21580fbef09534fcdedc88fc8a932bdf87db72a5c9456a8efbe2af4a51ed",
        },
        "q9": {
            "kind": "choice",
            "options": "abcd",
            "hint": 'Look at the pixels `preprocess_input` hands to VGG16: the VGG16 lesson, "The classic mistake: `rescale=1./255` for VGG16".',
            "hash": "1e87aaf2eb28c2d4eb99031414e8fad278ae1cb653d15fbd9e6189509a644b67",
        },
        "q10": {
            "kind": "choice",
            "options": "abcd",
            "hint": 'What does a BatchNorm layer compute in inference mode, and with which mean and variance? The recipe card, "BatchNorm: statistics frozen, scale and shift train with their stage".',
            "hash": "0b8978ac87271c072524b41462c3636bc832adcaacd9efdc65fcb5bbebd9264e",
        },
        "q11": {
            "kind": "bool",
            "hint": 'What would large updates do to weights that are already good? The recipe card, "Learning rates: the pretrained layers get a tenth of the head\'s rate".',
            "hash": "b3c60bb91c9fdbccf18fd8c0def3bcdeec996f256bd17b12da7e4af83c2a0245",
        },
        "q12": {
            "kind": "choice",
            "options": "abcd",
            "hint": 'Think about the size of the errors while the head is still random: the ResNet50 lesson, "Phase 2: fine-tune the top of the network", the concepts lesson, "The strategies, in code", and the recipe card, "Head first".',
            "hash": "e8779b9f0f5929a80af01d723776a45837e5b9afaebf6d605eb12ae21d0888ab",
        },
        "q13": {
            "kind": "choice",
            "options": "abcd",
            "hint": 'What does freezing do, and what does it not do? The ResNet18 lesson, "Phase 1: feature extraction".',
            "hash": "94e9164cfdc4a97188c7781d12e018d65f61a1c5f3d48699ae2d13e3f6df62c9",
        },
        "q14": {
            "kind": "choice",
            "options": "abcd",
            "hint": '`requires_grad` and `eval()` are two separate switches: the ResNet18 lesson, "Phase 1: feature extraction" (the training loop), and the recipe card, "BatchNorm: statistics frozen, scale and shift train with their stage".',
            "hash": "00626bfc39f0299001722d1105ffea84c313aa4336690133cacf726eb4c59c50",
        },
        "q15": {
            "kind": "choice",
            "options": "abcd",
            "hint": 'A test photo measures generalisation only if nothing like it was trained on: the your-own-images lesson, "A split without leakage".',
            "hash": "cf5e403f43880bbdf87bb60f768e3d54348092462ff5f55a67def0dce1166069",
        },
    }
)

"""The walkthrough's "your turn" cells: a learner's few lines, checked at once, and a lesson that goes on.

A lesson asks the learner to write the transfer-learning lines where the walkthrough needs them (load
the backbone, freeze it, build the head, recompile at the lower rate, ...). Each such cell (tag
``your-turn``) starts with the name it must define set to ``None``; the cell after it calls
:func:`check`::

    base = check(
        "Your turn 1: the frozen backbone",
        globals().get("base"),  # not `base`: a cell that crashed before defining it still gets the reference
        expect(lambda b: isinstance(b, keras.Model), "base is not a Keras model: call keras.applications.VGG16(...)"),
        expect(lambda b: not b.trainable, "base still trains: set base.trainable = False"),
        reference=lambda: reference.frozen_vgg16(IMAGE_SIZE),
    )

Autograding runs only nbgrader's cells (locked cells, answer cells such as these, test cells such as
the check) and skips the rest of the walkthrough (``autograder/execute.py``), so a your-turn cell and
its check may use only what locked cells and earlier your-turn cells define.

- Right: one line on stdout (a check mark), and the learner's own object goes on.
- Wrong, or not written (still ``None``): one line on **stderr** that says what is wrong, and the
  lesson goes on with the course's reference answer (``helpers.reference_answers``), so *Run All*
  completes and a learner who skips a cell is never stuck.

Why stderr and never an exception: the check cell is an nbgrader test cell, and nbgrader gives a test
cell no points, and *Validate* reports it failing, when the cell writes to stderr
(``nbgrader.utils.determine_grade``); an exception would do the same but stop *Run All* and every
later cell of an autograded notebook. In a graded class the reference answers are not shipped (the
learner distribution replaces them), so there a missing answer stops the lesson with that message.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

__all__ = ["check", "expect"]

T = TypeVar("T")
# What a your-turn cell's name holds until the learner writes it.
NOT_WRITTEN = (None, Ellipsis)
# The first characters of the lines check() prints; the website (coursebook) finds them by these.
RIGHT_MARK = "✓ "
WRONG_MARK = "✗ "
REFERENCE_NOTE = "the lesson goes on with the course's reference answer"
NOT_WRITTEN_PROBLEM = "not written yet (the cell above still sets it to None)"


@dataclass(frozen=True)
class Expectation:
    """One property a right answer has, and the one-line message when it does not."""

    holds: Callable[[Any], bool]
    problem: str


def expect(holds: Callable[[Any], bool], problem: str) -> Expectation:
    """A property of a right answer (``holds(answer)`` is true), and what to tell the learner when it is not."""
    if not callable(holds):
        raise TypeError(f"expect() takes a function of the answer, not {type(holds).__name__}")
    return Expectation(holds, problem)


def _first_problem(answer: Any, expectations: tuple[Expectation, ...]) -> str | None:
    """The first expectation the answer misses (checks run in order: later ones may rely on earlier ones)."""
    if any(answer is placeholder for placeholder in NOT_WRITTEN):  # identity: an array has no truth value
        return NOT_WRITTEN_PROBLEM
    for expectation in expectations:
        try:
            if not expectation.holds(answer):
                return expectation.problem
        except Exception as error:  # a wrong answer may break a check: that is a wrong answer, said in one line
            detail = str(error).strip().splitlines()[0] if str(error).strip() else ""
            return f"{expectation.problem} (checking it raised {type(error).__name__}{': ' + detail if detail else ''})"
    return None


def check(step: str, answer: T, *expectations: Expectation, reference: Callable[[], T]) -> T:
    """``answer`` if it has every expected property, else the reference answer; says which in one line.

    ``step`` names the cell for the learner ("Your turn 2: the new head"). ``reference`` is called only
    when the answer is missing or wrong, so a right answer costs nothing extra.
    """
    problem = _first_problem(answer, expectations)
    if problem is None:
        print(f"{RIGHT_MARK}{step}: right.")
        return answer
    try:
        fallback = reference()
    except NotImplementedError as error:  # a graded class's distribution ships no reference answers
        raise NotImplementedError(f"{step}: {problem}. {error}") from None
    # One line, on stderr: nbgrader then gives this test cell no points (see the module's docstring).
    print(
        f"{WRONG_MARK}{step}: {problem}. For now {REFERENCE_NOTE}; fix the cell above and run both again.",
        file=sys.stderr,
        flush=True,
    )
    return fallback

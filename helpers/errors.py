"""Errors a learner can hit, each saying what went wrong and what to do next."""

from __future__ import annotations

__all__ = [
    "CourseError",
    "MirrorNotFoundError",
    "DatasetUnavailableError",
    "DatasetIntegrityError",
    "WeightsUnavailableError",
    "UnknownNameError",
    "AnswerKeyNotShippedError",
    "RandomWeightsWarning",
]


class CourseError(RuntimeError):
    """Base class: every message ends with the fix."""

    def _render_traceback_(self) -> list[str]:
        # IPython shows this instead of a stack trace: the message already says what to do.
        return [f"\x1b[0;31m{type(self).__name__}\x1b[0m: {self}"]


class MirrorNotFoundError(CourseError):
    """``TL_COURSE_MIRROR`` points to a folder that does not exist."""


class DatasetUnavailableError(CourseError):
    """A dataset is neither cached, nor in the mirror, nor downloadable right now."""


class DatasetIntegrityError(CourseError):
    """A dataset folder does not have the files it should (interrupted download, edits)."""


class WeightsUnavailableError(CourseError):
    """Pretrained weights are neither cached, nor in the mirror, nor downloadable right now."""


class UnknownNameError(CourseError, KeyError):
    """A dataset or backbone name that the course does not know."""

    def __str__(self) -> str:  # KeyError would print the message with quotes
        return str(self.args[0])


class AnswerKeyNotShippedError(CourseError):
    """The quiz's answer key is not part of a graded class's learner distribution (``helpers.quiz``)."""


class RandomWeightsWarning(UserWarning):
    """A model runs with random weights: its accuracy says nothing about transfer learning."""

"""Who reads a lesson's outputs: a learner at a notebook, or a reader of the course website.

The website build (``make book``) runs the lessons with ``TL_COURSE_AUDIENCE=reader``. Helpers
then print what a lesson needs in general (names, sizes) instead of the state of the machine
that built the pages (its network, paths, environment variables), and a model running with
random weights is flagged for the build, which opens the page with one notice. Learners (the
default, ``learner``) get the full, machine-specific messages.
"""
from __future__ import annotations

from .config import env_text
from .errors import CourseError

__all__ = ["AUDIENCE_VARIABLE", "AUDIENCES", "RANDOM_WEIGHTS_FLAG", "for_readers", "flag_random_weights"]

AUDIENCE_VARIABLE = "TL_COURSE_AUDIENCE"
AUDIENCES = ("learner", "reader")
# Output metadata key of the random-weights flag; coursebook turns it into the page's notice.
RANDOM_WEIGHTS_FLAG = "tl_course_random_weights"


def for_readers() -> bool:
    """True while the website build executes the lesson (``TL_COURSE_AUDIENCE=reader``)."""
    value = (env_text(AUDIENCE_VARIABLE) or "learner").lower()
    if value not in AUDIENCES:
        raise CourseError(
            f"{AUDIENCE_VARIABLE}={value!r} is not one of {', '.join(AUDIENCES)}: unset it in a "
            "notebook (`learner` is the default); the website build sets `reader` itself."
        )
    return value == "reader"


def flag_random_weights(model_name: str) -> None:
    """Tell the website build that ``model_name`` runs with random weights on this page.

    The output carries the flag in its metadata and no text: the build removes it and opens
    the page with a notice instead, so the reader sees it once, at the top."""
    from IPython.display import display

    display({"text/plain": ""}, raw=True, metadata={RANDOM_WEIGHTS_FLAG: model_name})

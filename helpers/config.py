"""Every ``TL_COURSE_*`` environment variable, read here and nowhere else.

Each variable is declared once in ``VARIABLES`` (what it does), and read by one of four parsers
(``env_flag``, ``env_text``, ``env_choice``, ``env_int``) that name the variable and the fix when
a value cannot be read. The course's packages (``helpers``, ``coursetools``, ``coursebook``,
``bench``, ``autograder``) read their settings through these functions; a test checks that no
other module reads a ``TL_COURSE_*`` variable from ``os.environ`` itself.

Writing a variable (a runner setting the run mode of the kernel it starts) is not reading: that
stays with the code that starts the process.
"""

from __future__ import annotations

import os

__all__: list[str] = []  # nothing here is for lessons (see the package docstring)

# name: what it sets. A name missing here is a programming error (a typo would read as "unset").
VARIABLES = {
    "TL_COURSE_MODE": "run mode: quick, cpu or full (helpers.runtime)",
    "TL_COURSE_QUICK": "yes/no: the small, fast version of every lesson (CI, a first look)",
    "TL_COURSE_DEVICE": "torch device to use instead of the best one, e.g. cpu",
    "TL_COURSE_CACHE": "folder of datasets, downloads and lesson results",
    "TL_COURSE_MIRROR": "read-only offline mirror (datasets/, weights/)",
    "TL_COURSE_OFFLINE": "yes/no: never try the network",
    "TL_COURSE_ALLOW_RANDOM_WEIGHTS": "yes/no: run a model with random weights when its weights cannot be had (tests)",
    "TL_COURSE_MY_IMAGES": "lesson 06: the learner's image folder (fallback: the course's four-class set)",
    "TL_COURSE_EXPORTS": "lesson 06: where exports go instead of exports/ beside the notebook (tests, bench)",
    "TL_COURSE_CELL_TIMEOUT": "autograder: seconds one graded cell may run",
    "TL_COURSE_NOTEBOOK_TIMEOUT": "autograder: seconds a whole graded notebook may run",
    "TL_COURSE_GRADING_JOBS": "autograder: notebooks graded at once",
    "TL_COURSE_SANDBOX": "autograder: off grades without the sandbox",
    "TL_COURSE_SANDBOX_MEMORY_MB": "autograder: the sandbox's address-space limit",
    "TL_COURSE_SANDBOX_PROCESSES": "autograder: the sandbox's process limit",
    "TL_COURSE_SANDBOX_DISK_MB": "autograder: the size of the sandbox's tmpfs",
    "TL_COURSE_CHROMIUM": "tests: the Chromium binary of the browser tests",
    "TL_COURSE_ARTIFACTS": "tests: where the browser tests keep screenshots (default artifacts/)",
    "TL_COURSE_BOOK_OUTPUT": "tests: build the website test's book here instead of a temporary folder",
    # Not ours, but an input of the run mode: nbgrader sets it while it executes a notebook.
    "NBGRADER_EXECUTION": "set by nbgrader (autograde / validate) while it executes a notebook",
}

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def _raw(name: str) -> str | None:
    if name not in VARIABLES:
        raise KeyError(f"{name} is not a course setting: declare it in helpers.config.VARIABLES.")
    return os.environ.get(name)


def env_text(name: str) -> str | None:
    """The variable's value, stripped; None when it is unset or empty."""
    raw = (_raw(name) or "").strip()
    return raw or None


def env_flag(name: str, default: bool = False) -> bool:
    """A yes/no variable (``TL_COURSE_QUICK``, ``TL_COURSE_OFFLINE``, ...), read one way.

    ``1/true/yes/on`` (any case) is yes, ``0/false/no/off`` or empty is no, unset is ``default``;
    anything else is an error that names the variable, so a typo is never read as a choice.
    """
    raw = _raw(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"{name}={raw!r} is not a yes/no value: set it to 1 (yes) or 0 (no), or unset it.")


def env_choice(name: str, choices: tuple[str, ...], hint: str = "unset it") -> str | None:
    """One of ``choices`` (any case, spaces ignored), or None when unset or empty."""
    value = env_text(name)
    if value is None:
        return None
    if value.lower() not in choices:
        raise ValueError(f"{name}={os.environ[name]!r} is not one of {', '.join(choices)}: use one of them, or {hint}.")
    return value.lower()


def env_int(name: str, default: int, minimum: int = 1) -> int:
    """A whole number of at least ``minimum``, or ``default`` when unset or empty."""
    value = env_text(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        number = None
    if number is None or number < minimum:
        raise ValueError(
            f"{name}={os.environ[name]!r} is not a whole number >= {minimum}: set one, or unset it (default {default})."
        )
    return number

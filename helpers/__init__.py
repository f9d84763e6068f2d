"""Helpers for the transfer-learning course: the boilerplate, never the lesson.

Import names explicitly from the module that owns them, e.g.
``from helpers.data import load_splits``. The most used names are re-exported here;
they are a stable public API (renamed names keep a deprecated alias).

The public API is what the lessons and learners use: each module's ``__all__`` (and the
errors, which learners see and may catch). Every other name is internal: the repository's
own tools (``coursetools``, ``coursebook``, ``bench``, ``autograder``, the tests) may use it,
since they change together with this package, but lessons must not, and it may change
without notice. ``tests/test_packages.py`` keeps the API equal to what the lessons import.

Modules: ``runtime`` (run settings, seeding, devices, report), ``config`` (the ``TL_COURSE_*``
settings), ``storage`` (cache and mirror folders), ``data`` (datasets, integrity, loaders),
``models`` (backbones and weights), ``downloads`` (what a lesson needs), ``feature_cache``,
``training`` (torch loops), ``plots``, ``quiz``, ``results`` (what lessons save), ``costs``
(what lessons cost, as measured), ``errors``, ``cli`` (``python -m helpers fetch|report``).

Only what lessons import lives here: grading is in ``autograder/``, course tooling in
``coursetools/``, the website in ``coursebook/`` (all in the repository, not in this package).
"""

from .errors import (
    CourseError,
    DatasetIntegrityError,
    DatasetUnavailableError,
    RandomWeightsWarning,
    WeightsUnavailableError,
)
from .runtime import environment_report, is_quick, pick, seed_everything, torch_device

__all__ = [
    "CourseError",
    "DatasetIntegrityError",
    "DatasetUnavailableError",
    "RandomWeightsWarning",
    "WeightsUnavailableError",
    "environment_report",
    "is_quick",
    "pick",
    "seed_everything",
    "torch_device",
]
__version__ = "0.1.0"

"""Helpers for the transfer-learning course: the boilerplate, never the lesson.

Import names explicitly from the module that owns them, e.g.
``from helpers.data import load_splits``. The most used names are re-exported here;
they are a stable public API (renamed names keep a deprecated alias).

Modules: ``runtime`` (quick mode, seeding, devices, report), ``flags`` (yes/no settings),
``storage`` (cache and mirror folders), ``data`` (datasets, integrity, loaders), ``models``
(backbones and weights), ``downloads`` (what a lesson needs), ``feature_cache``, ``training``
(torch loops), ``plots``, ``quiz``, ``results`` (what lessons save), ``costs`` (what lessons
cost, as measured), ``errors``, ``cli`` (``python -m helpers fetch|report``).

Only what lessons import lives here: grading is in ``autograder/``, course tooling in
``coursetools/`` (both in the repository, not in this package).
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

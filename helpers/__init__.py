"""Helpers for the transfer-learning course: the boilerplate, never the lesson.

Import names explicitly from the module that owns them, e.g.
``from helpers.data import load_splits``. The most used names are re-exported here;
they are a stable public API (renamed names keep a deprecated alias).

Modules: ``runtime`` (quick mode, seeding, devices, report), ``storage`` (cache and mirror),
``data`` (datasets and loaders), ``models`` (backbones and weights), ``training`` (torch
loops), ``plots``, ``results`` (what lessons save), ``course`` (run every lesson), ``cli``.
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

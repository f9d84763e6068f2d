"""Old home of ``env_flag``, kept while ``autograder/sandbox.py`` imports it from here: the
settings readers live in ``helpers.config``. Remove once nothing imports it."""
from __future__ import annotations

from .config import env_flag  # noqa: F401 - re-exported for autograder/sandbox.py

__all__: list[str] = []

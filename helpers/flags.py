"""Yes/no settings from the environment, read one way (``env_flag``)."""
from __future__ import annotations

import os

__all__ = ["env_flag"]

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def env_flag(name: str, default: bool = False) -> bool:
    """A yes/no environment variable (``TL_COURSE_QUICK``, ``TL_COURSE_OFFLINE``, ...), read one way.

    ``1/true/yes/on`` (any case) is yes, ``0/false/no/off`` or empty is no, unset is ``default``;
    anything else is an error that names the variable, so a typo is never read as a choice.
    """
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"{name}={raw!r} is not a yes/no value: set it to 1 (yes) or 0 (no), or unset it.")

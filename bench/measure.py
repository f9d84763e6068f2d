"""Timing helpers: every figure is a median with its min and max, and the load it ran under.

The machines this course is benchmarked on are often shared, so each measurement records the
1-minute load average (``os.getloadavg``) when it started and ended: a figure taken under a
load above the core count is slower than the machine can do, and the table says so.
"""

from __future__ import annotations

import os
import statistics
import time
from contextlib import contextmanager
from typing import Iterator


def load_1m() -> float | None:
    """The 1-minute load average, or None where the OS has none (Windows)."""
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


def summarize(values: list[float], digits: int = 2) -> dict:
    """``{"median", "min", "max", "runs"}`` of a list of measurements (empty: runs 0)."""
    if not values:
        return {"median": None, "min": None, "max": None, "runs": 0}
    return {
        "median": round(statistics.median(values), digits),
        "min": round(min(values), digits),
        "max": round(max(values), digits),
        "runs": len(values),
    }


class Stopwatch:
    """Wall time of a block, with the load average at its start and end."""

    seconds: float = 0.0
    load_start: float | None = None
    load_end: float | None = None

    def load(self) -> list:
        return [self.load_start, self.load_end]


@contextmanager
def stopwatch() -> Iterator[Stopwatch]:
    watch = Stopwatch()
    watch.load_start = load_1m()
    start = time.perf_counter()
    try:
        yield watch
    finally:
        watch.seconds = time.perf_counter() - start
        watch.load_end = load_1m()


@contextmanager
def environment(**values: str | None) -> Iterator[None]:
    """Set (or, with None, remove) environment variables for a block; kernels started inside
    inherit them. The previous values come back afterwards."""
    saved = {name: os.environ.get(name) for name in values}
    try:
        for name, value in values.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value

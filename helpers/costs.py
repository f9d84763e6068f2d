"""What each lesson costs, as measured by ``make bench``: one schema, one reader, one duration format.

``make bench`` writes ``bench/results/<machine>.json`` and bundles the lesson costs of every
machine into ``helpers/measured_costs.json``, which ships inside this package, so a lesson's
cost cell works wherever ``helpers`` is installed (a clone, ``pip install git+...`` on Colab).

Schema (the same ``machine`` and ``lessons`` keys in a per-machine results file and in the bundle)::

    {"machines": [{"machine": {"description": str, "cores": int, "gpu": str | null},
                   "lessons": {LESSON: {MODE: {"median_s", "min_s", "max_s", "runs",
                                               "peak_rss_mb", "load_1m"}}}}]}

The README table, the website's table (``coursebook/costs.py``) and the lessons' first cells format every duration with
``format_duration``, so a lesson shows the same figure everywhere.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__: list[str] = []  # nothing here is for lessons (see the package docstring)

PACKAGED_COSTS = Path(__file__).with_name("measured_costs.json")
# What the bundle keeps of a measurement (a results file also has every run's figures).
COST_KEYS = ("median_s", "min_s", "max_s", "runs", "peak_rss_mb", "load_1m", "note")
MACHINE_KEYS = ("description", "cores", "gpu")


@dataclass
class MachineCosts:
    """One benchmarked machine and its lessons' measurements, ``{lesson: {mode: stats}}``."""

    machine: dict[str, Any]
    lessons: dict[str, dict[str, dict[str, Any]]]


def format_duration(seconds: float | None) -> str:
    """ "13 s" under two minutes, "2.0 min" above: the one duration format of the course."""
    if seconds is None:
        return "-"
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def format_timing(stats: dict[str, Any]) -> str:
    """A measurement as "median (min-max, N runs)", e.g. "13 s (13 s-14 s, 3 runs)"."""
    if stats.get("runs") == 1:
        return f"{format_duration(stats['median_s'])} (1 run)"
    return (
        f"{format_duration(stats['median_s'])} ({format_duration(stats.get('min_s'))}-"
        f"{format_duration(stats.get('max_s'))}, {stats.get('runs', '?')} runs)"
    )


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{path} is not valid JSON ({err}): run `make bench` again or restore it from git.") from err


def read_costs(source: Path = PACKAGED_COSTS) -> list[MachineCosts]:
    """Every machine's lesson costs, from the bundle (default) or a folder of per-machine results
    files (``bench/results``). Nothing measured: an empty list. A corrupt file: an error naming it."""
    source = Path(source)
    if source.is_dir():
        entries = [{**_read_json(path), "_name": path.stem} for path in sorted(source.glob("*.json"))]
    elif source.is_file():
        entries = _read_json(source).get("machines", [])
    else:
        return []
    found = []
    for entry in entries:
        machine = dict(entry.get("machine", {}))
        machine.setdefault("description", entry.get("_name", "?"))
        lessons = {
            name: {mode: stats for mode, stats in modes.items() if isinstance(stats, dict) and "median_s" in stats}
            for name, modes in entry.get("lessons", {}).items()
        }
        found.append(MachineCosts(machine, {name: modes for name, modes in lessons.items() if modes}))
    return found


def bundle_costs(results_dir: Path) -> dict[str, Any]:
    """The package-data bundle (``measured_costs.json``) made from ``make bench``'s results files."""
    machines = []
    for found in read_costs(results_dir):
        machines.append(
            {
                "machine": {key: found.machine.get(key) for key in MACHINE_KEYS},
                "lessons": {
                    name: {
                        mode: {key: stats.get(key) for key in COST_KEYS if key != "note" or stats.get(key)}
                        for mode, stats in sorted(modes.items())
                    }
                    for name, modes in sorted(found.lessons.items())
                },
            }
        )
    return {"generated_by": "make bench (bench/results/*.json); do not edit", "machines": machines}


def lesson_costs(lesson: str, source: Path = PACKAGED_COSTS) -> list[dict[str, Any]]:
    """Measured cost of a lesson on every benchmarked machine, one row per machine and mode."""
    return [
        {"machine": found.machine.get("description"), "mode": mode, "machine_cores": found.machine.get("cores"), **stats}
        for found in read_costs(source)
        for mode, stats in sorted(found.lessons.get(lesson, {}).items())
    ]


def lesson_cost_lines(lesson: str, source: Path = PACKAGED_COSTS) -> list[str]:
    """What ``show_lesson_cost`` prints, as lines."""
    rows = lesson_costs(lesson, source)
    if not rows:
        return [f"The cost of {lesson} has not been measured on any machine yet (run `make bench`)."]
    lines = [f"Measured cost of {lesson} (median of runs, min-max; `make bench`):"]
    for row in rows:
        rss = f", peak memory {row['peak_rss_mb'] / 1024:.1f} GB" if row.get("peak_rss_mb") else ""
        note = f"; {row['note']}" if row.get("note") else ""  # how it was measured, where that matters
        lines.append(f"  {row['machine']}, {row['mode']} mode: {format_timing(row)}{rss}{_load_note(row)}{note}")
    return lines


def show_lesson_cost(lesson: str, frameworks: tuple[str, ...] = (), source: Path = PACKAGED_COSTS) -> None:
    """Print what this lesson costs, as measured by the benchmark (``make bench``), then decide this
    run's settings once, asking each framework the lesson uses for a GPU
    (``helpers.runtime.decide_run_settings``), and say which mode it runs in and why: every
    ``pick()`` of the lesson then follows that sentence."""
    from .runtime import decide_run_settings, mode_reason

    decide_run_settings(frameworks)
    print("\n".join([*lesson_cost_lines(lesson, source), "", f"This run: {mode_reason()}"]))


def _load_note(row: dict[str, Any]) -> str:
    """A warning when the benchmark shared the CPU (1-minute load above the core count)."""
    loads = [v for pair in row.get("load_1m") or [] for v in (pair or []) if v is not None]
    cores = row.get("machine_cores")
    if not loads or not cores or max(loads) <= cores:
        return ""
    return f"; measured while the CPU was shared (load {min(loads):.0f}-{max(loads):.0f} on {cores} cores): slower than alone"

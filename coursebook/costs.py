"""The intro page's lesson table: what each lesson costs on a CPU and on a GPU, as measured.

Numbers come only from ``bench/results/*.json`` (written by ``make bench``; the format
``helpers.results.lesson_costs`` reads: ``{"machine": {...}, "lessons": {NAME: {MODE:
{"median_s": ...}}}}``). A lesson or a device without a measurement says "not measured yet":
nothing is typed by hand.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

NOT_MEASURED = "not measured yet"


def is_gpu_machine(machine: dict[str, Any]) -> bool:
    """True when the benchmark ran on a GPU: ``make bench`` records its name in ``machine["gpu"]``
    (null on a CPU-only machine)."""
    return bool(machine.get("gpu")) or str(machine.get("device", "")).lower().startswith("cuda")


def measurements(results_dir: Path) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(machine, lessons) of every results file; a corrupt file is an error naming it."""
    found = []
    for path in sorted(results_dir.glob("*.json")) if results_dir.is_dir() else []:
        try:
            data = json.loads(path.read_text())
        except json.JSONDecodeError as err:
            raise ValueError(f"{path} is not valid JSON ({err}): run `make bench` again or delete it.") from err
        machine = dict(data.get("machine", {}))
        machine.setdefault("description", path.stem)
        found.append((machine, data.get("lessons", {})))
    return found


def _minutes(seconds: float) -> str:
    """Seconds under a minute ("0.0 min" would hide a short lesson), minutes above."""
    return f"{seconds:.0f} s" if seconds < 60 else f"{seconds / 60:.1f} min"


def cost_cell(lesson: str, gpu: bool, found) -> str:
    """Every measurement of ``lesson`` on that kind of device: "full 3.2 min, quick 0.8 min (machine)"."""
    parts = []
    for machine, lessons in found:
        if is_gpu_machine(machine) != gpu:
            continue
        modes = lessons.get(lesson, {})
        timed = [f"{mode} {_minutes(stats['median_s'])}" for mode, stats in sorted(modes.items())
                 if isinstance(stats, dict) and "median_s" in stats]
        if timed:
            parts.append(f"{', '.join(timed)} ({machine['description']})")
    return "; ".join(parts) if parts else NOT_MEASURED


def lesson_table(lessons: list[str], results_dir: Path) -> str:
    """A Markdown table: lesson, CPU cost, GPU cost (median wall time per run mode)."""
    found = measurements(results_dir)
    rows = ["| # | lesson | cost on a CPU | cost on a GPU |", "| --- | --- | --- | --- |"]
    for number, lesson in enumerate(lessons, start=1):
        link = f"[`{lesson}`](../lessons/{lesson}/{lesson}.ipynb)"
        rows.append(f"| {number} | {link} | {cost_cell(lesson, False, found)} | {cost_cell(lesson, True, found)} |")
    source = "`bench/results/`" if found else "no benchmark results yet (`make bench` writes `bench/results/`)"
    rows.append("")
    rows.append(f"Median wall time of one run in each mode, measured by the benchmark; source: {source}.")
    return "\n".join(rows)

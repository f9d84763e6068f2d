"""The intro page's lesson table: what each lesson costs on a CPU and on a GPU, as measured.

Numbers come only from the benchmark's measurements, read by ``helpers.costs`` (the one reader
and duration format: the lessons' own cost cells and the README show the same figures). A
lesson or a device without a measurement says "not measured yet": nothing is typed by hand.
"""

from __future__ import annotations

from pathlib import Path

from typing import Any

from helpers.costs import MachineCosts, format_duration, read_costs

NOT_MEASURED = "not measured yet"


def is_gpu_machine(machine: dict[str, Any]) -> bool:
    """True when the benchmark ran on a GPU (``make bench`` records its name in ``machine["gpu"]``)."""
    return bool(machine.get("gpu")) or str(machine.get("device", "")).lower().startswith("cuda")


def cost_cell(lesson: str, gpu: bool, found: list[MachineCosts]) -> str:
    """Every measurement of ``lesson`` on that kind of device: "full 3.2 min, quick 13 s (machine)"."""
    parts = []
    for costs in found:
        if is_gpu_machine(costs.machine) != gpu:
            continue
        timed = [f"{mode} {format_duration(stats['median_s'])}" for mode, stats in sorted(costs.lessons.get(lesson, {}).items())]
        if timed:
            parts.append(f"{', '.join(timed)} ({costs.machine['description']})")
    return "; ".join(parts) if parts else NOT_MEASURED


def lesson_table(lessons: list[str], results_dir: Path) -> str:
    """A Markdown table: lesson, CPU cost, GPU cost (median wall time per run mode)."""
    found = read_costs(results_dir)
    rows = ["| # | lesson | cost on a CPU | cost on a GPU |", "| --- | --- | --- | --- |"]
    for number, lesson in enumerate(lessons, start=1):
        link = f"[`{lesson}`](../lessons/{lesson}/{lesson}.ipynb)"
        rows.append(f"| {number} | {link} | {cost_cell(lesson, False, found)} | {cost_cell(lesson, True, found)} |")
    source = "`bench/results/`" if found else "no benchmark results yet (`make bench` writes `bench/results/`)"
    rows.append("")
    rows.append(f"Median wall time of one run in each mode, measured by the benchmark; source: {source}.")
    return "\n".join(rows)

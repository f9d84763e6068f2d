"""Results that lessons save and later lessons, the course runner and the benchmark read.

Every number a lesson reports about itself (accuracy, training time, parameters) is written
here by the notebook that computed it, so comparison tables are read, never typed.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from .storage import cache_dir


def results_dir() -> Path:
    path = cache_dir() / "results"
    path.mkdir(parents=True, exist_ok=True)
    return path


def save_result(lesson: str, metrics: dict[str, Any], key_metric: str | None = None) -> Path:
    """Record a lesson's computed metrics (JSON), with the run mode and when it ran."""
    from .runtime import mode

    record = {
        "lesson": lesson,
        "mode": mode(),
        "saved_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "key_metric": key_metric,
        "metrics": metrics,
    }
    path = results_dir() / f"{lesson}.json"
    partial = path.with_suffix(".json.partial")
    partial.write_text(json.dumps(record, indent=2, default=_jsonable))
    os.replace(partial, path)
    return path


def load_result(lesson: str) -> dict[str, Any] | None:
    """A lesson's last saved record, or None if it has not run yet on this machine."""
    path = results_dir() / f"{lesson}.json"
    if not path.exists():
        return None
    return json.loads(path.read_text())


def _jsonable(value):
    if hasattr(value, "item"):  # numpy / torch scalars
        return value.item()
    return str(value)


def bench_results_dir() -> Path:
    """Committed benchmark results (``make bench`` writes ``bench/results/<machine>.json``)."""
    return Path(__file__).resolve().parent.parent / "bench" / "results"


def lesson_costs(lesson: str) -> list[dict[str, Any]]:
    """Measured cost of a lesson on every benchmarked machine, one row per machine and mode."""
    rows = []
    folder = bench_results_dir()
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        data = json.loads(path.read_text())
        machine = data.get("machine", {})
        for run_mode, stats in sorted(data.get("lessons", {}).get(lesson, {}).items()):
            rows.append({"machine": machine.get("description", path.stem), "mode": run_mode,
                         "machine_cores": machine.get("cores"), **stats})
    return rows


def show_lesson_cost(lesson: str) -> None:
    """Print what this lesson costs, as measured by the benchmark (``make bench``)."""
    rows = lesson_costs(lesson)
    if not rows:
        print(f"The cost of {lesson} has not been measured on any machine yet (run `make bench`).")
        return
    print(f"Measured cost of {lesson} (median of runs, min-max; `make bench`):")
    for row in rows:
        rss = f", peak memory {row['peak_rss_mb'] / 1024:.1f} GB" if row.get("peak_rss_mb") else ""
        print(
            f"  {row['machine']}, {row['mode']} mode: {row['median_s'] / 60:.1f} min "
            f"({row['min_s'] / 60:.1f}-{row['max_s'] / 60:.1f}, {row.get('runs', '?')} runs){rss}"
            + _load_note(row)
        )


def _load_note(row: dict[str, Any]) -> str:
    """A warning when the benchmark shared the CPU (1-minute load above the core count)."""
    loads = [v for pair in row.get("load_1m") or [] for v in (pair or []) if v is not None]
    cores = row.get("machine_cores")
    if not loads or not cores or max(loads) <= cores:
        return ""
    return f"; measured while the CPU was shared (load {min(loads):.0f}-{max(loads):.0f} on {cores} cores): slower than alone"

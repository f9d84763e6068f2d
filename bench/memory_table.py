"""What a hub must give each learner: the per-lesson memory/CPU table of docs/instructor_guide.md and
the resource block of docs/hub/values.yaml, both written from ``bench/results/*.json``.

    python -m bench.memory_table            # rewrite both from the results files (make memory-table)
    python -m bench.memory_table --check    # exit 1 where either differs from what the results give

Each lesson's row is its newest cpu-mode measurement in any results file (cpu mode is what a
learner's run is without a GPU, the common hub): the kernel's peak memory (highest of its runs,
measured by ``coursetools.runner``), its median time (flagged where the load exceeded the cores:
other work shared the CPU), the number of runs, the machine and date.
Re-measure a lesson (``make bench BENCH_ARGS="--sections lessons --modes cpu --lessons NAME"``) and
run this again; the table and values.yaml follow.

Per user, from the table (the rules are choices, stated here and in the guide):

- memory limit = the largest lesson peak + ``SERVER_HEADROOM_MB`` MiB (the JupyterLab server and its
  extensions), rounded up to half a GiB; memory guarantee = the limit, so a learner running the
  heaviest lesson is never the one the node evicts.
- CPU limit = the cores the cpu-mode times were measured with (the times in the table hold);
  CPU guarantee = ``CPU_GUARANTEE``: learners read and write far more than they run cells.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from coursetools.paths import REPO_ROOT, lesson_names

RESULTS = REPO_ROOT / "bench" / "results"
GUIDE = REPO_ROOT / "docs" / "instructor_guide.md"
VALUES = REPO_ROOT / "docs" / "hub" / "values.yaml"
# The results' "MB" are MiB (VmHWM / 1024). The issue's bar: every lesson's cpu-mode kernel within 3 GB.
HUB_LIMIT_MIB = 3e9 / 2**20  # 2861 MiB
# A JupyterLab server with the course's settings held 121 MiB idle here (1 run, load 7, 2026-12-06);
# the rest covers its extensions (nbgrader's), a terminal and the file browser. A choice, not a measurement.
SERVER_HEADROOM_MB = 512
CPU_GUARANTEE = 0.5
TABLE_BEGIN, TABLE_END = "<!-- memory-table: python -m bench.memory_table -->", "<!-- /memory-table -->"
VALUES_BEGIN, VALUES_END = "  # BEGIN resources: python -m bench.memory_table", "  # END resources"


@dataclass(frozen=True)
class Row:
    lesson: str
    peak_mb: float | None
    median_s: float | None
    runs: int
    machine: str
    measured_at: str
    cores: int | None
    max_load: float | None = None  # the highest 1-minute load seen at a run's start or end


def rows(results: Path = RESULTS, lessons: list[str] | None = None) -> list[Row]:
    """Each lesson's newest cpu-mode measurement across the results files (None where there is none)."""
    newest: dict[str, tuple[str, dict, dict]] = {}
    for path in sorted(results.glob("*.json")):
        data = json.loads(path.read_text())
        for lesson, by_mode in data.get("lessons", {}).items():
            entry = by_mode.get("cpu")
            if entry and entry.get("peak_rss_mb") is not None:
                stamp = entry.get("measured_at", "")
                if lesson not in newest or stamp > newest[lesson][0]:
                    newest[lesson] = (stamp, entry, data.get("machine", {}))
    out = []
    for lesson in lessons or lesson_names():
        if lesson not in newest:
            out.append(Row(lesson, None, None, 0, "", "", None))
            continue
        stamp, entry, machine = newest[lesson]
        out.append(
            Row(
                lesson,
                float(entry["peak_rss_mb"]),
                entry.get("median_s"),
                int(entry.get("runs", 0)),
                machine.get("description", "?"),
                stamp[:10],
                machine.get("cores"),
                max((v for pair in entry.get("load_1m", []) for v in pair if v is not None), default=None),
            )
        )
    return out


def per_user(table: list[Row]) -> dict:
    """The resources one learner's server needs, from the table (see the module's docstring)."""
    measured = [r for r in table if r.peak_mb is not None]
    if not measured:
        raise ValueError("No lesson has a cpu-mode measurement in bench/results: run make bench first.")
    peak = max(r.peak_mb for r in measured)
    limit_gib = math.ceil((peak + SERVER_HEADROOM_MB) / 1024 * 2) / 2
    cores = max(r.cores or 1 for r in measured)
    return {
        "memory_limit": f"{limit_gib:g}Gi",
        "memory_guarantee": f"{limit_gib:g}Gi",
        "cpu_limit": float(cores),
        "cpu_guarantee": CPU_GUARANTEE,
        "largest_peak_mb": peak,
        "heaviest": max(measured, key=lambda r: r.peak_mb).lesson,
    }


def render_table(table: list[Row]) -> str:
    user = per_user(table)
    lines = [
        TABLE_BEGIN,
        "| lesson | kernel peak, cpu mode | within 3 GB (2,861 MiB) | cpu-mode time | runs | measured on |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in table:
        if r.peak_mb is None:
            lines.append(f"| `{r.lesson}` | not measured | | | 0 | |")
            continue
        within = "yes" if r.peak_mb <= HUB_LIMIT_MIB else "**no**"
        if r.median_s is None:
            time_text = "?"
        else:
            time_text = f"{r.median_s / 60:.1f} min" if r.median_s >= 60 else f"{r.median_s:.0f} s"
            if r.max_load is not None and r.cores and r.max_load > r.cores:  # other work shared the CPU
                time_text += f" (load up to {r.max_load:.1f}: slower than the machine can do)"
        lines.append(
            f"| `{r.lesson}` | {r.peak_mb:,.0f} MiB | {within} | {time_text} | {r.runs} | {r.machine}, {r.measured_at} |"
        )
    lines += [
        "",
        f"**Per user**: memory guarantee and limit {user['memory_limit']} (the largest peak, "
        f"{user['largest_peak_mb']:,.0f} MiB in `{user['heaviest']}`, plus {SERVER_HEADROOM_MB} MiB for the "
        f"JupyterLab server, rounded up to half a GiB); CPU limit {user['cpu_limit']:g} (the cores the times were "
        f"measured with), guarantee {user['cpu_guarantee']:g}.",
        TABLE_END,
    ]
    return "\n".join(lines)


def render_values(table: list[Row]) -> str:
    user = per_user(table)
    return "\n".join(
        [
            VALUES_BEGIN,
            f"  # from the guide's per-lesson table: largest cpu-mode kernel peak {user['largest_peak_mb']:.0f} MiB "
            f"({user['heaviest']}) + {SERVER_HEADROOM_MB} MiB server",
            "  memory:",
            f"    guarantee: {user['memory_guarantee']}",
            f"    limit: {user['memory_limit']}",
            "  cpu:",
            f"    guarantee: {user['cpu_guarantee']:g}",
            f"    limit: {user['cpu_limit']:g}",
            VALUES_END,
        ]
    )


def _replace_block(text: str, begin: str, end: str, block: str, path: Path) -> str:
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end), re.S)
    if not pattern.search(text):
        raise ValueError(f"{path} has no block between {begin!r} and {end!r}.")
    return pattern.sub(lambda _: block, text, count=1)


def updated(table: list[Row], guide: Path | None = None, values: Path | None = None) -> dict[Path, str]:
    """The guide's and values.yaml's text with their generated blocks rewritten from ``table``."""
    guide, values = guide or GUIDE, values or VALUES
    return {
        guide: _replace_block(guide.read_text(), TABLE_BEGIN, TABLE_END, render_table(table), guide),
        values: _replace_block(values.read_text(), VALUES_BEGIN, VALUES_END, render_values(table), values),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.memory_table", description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 where a file is out of date")
    args = parser.parse_args(argv)
    table = rows()
    stale = []
    for path, text in updated(table).items():
        if path.read_text() != text:
            stale.append(path)
            if not args.check:
                path.write_text(text)
    print(render_table(table))
    if args.check and stale:
        print(f"Out of date: {', '.join(str(p) for p in stale)}: run python -m bench.memory_table.")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

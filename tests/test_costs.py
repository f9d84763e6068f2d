"""Lesson costs: one schema, one reader, one duration format, shipped inside ``helpers``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib

import pytest

from coursetools.paths import REPO_ROOT
from helpers import costs

LESSONS = sorted(p.name for p in (REPO_ROOT / "solutions").iterdir() if (p / f"{p.name}.ipynb").is_file())


@pytest.mark.parametrize(
    ("seconds", "shown"), [(0.4, "0 s"), (12.9, "13 s"), (119, "119 s"), (120, "2.0 min"), (3600, "60.0 min")]
)
def test_one_duration_format(seconds, shown):
    assert costs.format_duration(seconds) == shown


def test_packaged_costs_are_the_bundle_of_the_committed_bench_results():
    """`make bench` writes helpers/measured_costs.json; a hand edit or a stale copy fails here."""
    shipped = json.loads(costs.PACKAGED_COSTS.read_text())
    assert shipped == json.loads(json.dumps(costs.bundle_costs(REPO_ROOT / "bench" / "results")))
    assert shipped["machines"], "no measured costs shipped"


def test_packaged_costs_are_package_data():
    config = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "measured_costs.json" in config["package-data"]["helpers"]


@pytest.mark.parametrize("lesson", LESSONS)
def test_each_lessons_cost_line_agrees_with_the_readme_table(lesson):
    lines = costs.lesson_cost_lines(lesson)
    readme = (REPO_ROOT / "README.md").read_text()
    bench_block = readme[readme.index("<!-- bench:start -->") : readme.index("<!-- bench:end -->")]  # not the shape table
    readme_rows = [line for line in bench_block.splitlines() if line.startswith(f"| `{lesson}` |")]
    rows = costs.lesson_costs(lesson)
    if not rows:  # not benchmarked yet: both say so, neither shows a figure
        assert "has not been measured" in lines[0] and not readme_rows, (lines, readme_rows)
        return
    # one README row per lesson and measured machine (bench/results/<machine>.json)
    assert len(readme_rows) == len({row["machine"] for row in rows}), (readme_rows, rows)
    for row in rows:
        figure = costs.format_timing(row)
        assert any(f"{row['mode']} mode: {figure}" in line for line in lines)
        assert any(f"| {figure}" in readme_row for readme_row in readme_rows), (
            f"README shows another figure than the lesson for {lesson} {row['mode']}"
        )


def test_cost_cell_works_from_an_installed_copy_of_helpers(tmp_path):
    """As on Colab: helpers installed alone, no bench/results beside it."""
    shutil.copytree(REPO_ROOT / "helpers", tmp_path / "site" / "helpers", ignore=shutil.ignore_patterns("__pycache__"))
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
    out = subprocess.run(
        [sys.executable, "-c", "from helpers.results import show_lesson_cost; show_lesson_cost('01_concepts')"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "not been measured" not in out and "cpu mode: " in out and "This run: " in out


def test_reader_refuses_a_corrupt_file_and_reads_nothing_as_nothing(tmp_path):
    assert costs.read_costs(tmp_path / "missing.json") == []
    assert "not been measured" in costs.lesson_cost_lines("01_concepts", tmp_path / "missing.json")[0]
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(ValueError, match="bad.json"):
        costs.read_costs(tmp_path / "bad.json")

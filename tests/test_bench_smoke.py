"""The benchmark harness (``make bench``) must keep working: a smoke run with tiny settings.

It writes only into a temporary folder (never bench/results/ or README.md) and checks the
shape of what it writes, not how fast anything is: this is not a timed test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import nbformat
import pytest

from coursetools.paths import REPO_ROOT
from helpers import costs

sys.path.insert(0, str(REPO_ROOT))  # bench/ is a folder of the repo, not an installed package

from bench import lesson_costs, report  # noqa: E402
from bench.run_bench import save_results  # noqa: E402

README = "# Course\n\n## Benchmarks\n\n<!-- bench:start -->\nold table\n<!-- bench:end -->\n\nAfter.\n"


def _results_snapshot() -> tuple[set, list]:
    """Files in bench/results and which of them hold smoke figures (none may)."""
    folder = REPO_ROOT / "bench" / "results"
    files = sorted(folder.glob("*.json")) if folder.is_dir() else []
    smoke = [p.name for p in files if '"smoke": true' in p.read_text()]
    return {p.name for p in folder.glob("*")} if folder.is_dir() else set(), smoke


@pytest.mark.usefixtures("mirror")
def test_smoke_run_writes_results_and_readme_block(tmp_path):
    before = _results_snapshot()
    readme = tmp_path / "README.md"
    readme.write_text(README)
    out = tmp_path / "results"
    # install's smoke is a dry run (`make -n setup`) in a fresh clone: it needs a git checkout
    sections = ["transfer", "vgg16"] + (["install"] if (REPO_ROOT / ".git").exists() else [])
    done = subprocess.run(
        [sys.executable, "-m", "bench.run_bench", "--smoke", "--sections", *sections, "--out", str(out), "--readme", str(readme)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    [path] = out.glob("*.json")
    data = json.loads(path.read_text())
    assert data["machine"]["cores"] >= 1 and data["machine"]["description"]
    proof = data["transfer_proof"]
    assert proof["smoke"] is True
    for method in ("a_cached_head", "b_fine_tune", "c_random_weights", "d_tutorial_frozen", "e_tutorial_published"):
        stats = proof["methods"][method]
        assert stats["seconds"]["runs"] == 1 and stats["seconds"]["median"] > 0
        assert 0.0 <= stats["accuracy"]["median"] <= 1.0
    [run] = proof["per_run"]
    assert run["c_random_weights"]["weights_source"] == "random"
    assert run["b_fine_tune"]["weights_source"] == "imagenet"  # the real mobilenet_v2 weights
    assert run["speedup_d_over_a"] == pytest.approx(
        run["d_tutorial_frozen"]["seconds"] / run["a_cached_head"]["seconds"], rel=0.02, abs=0.01
    )  # ratios are stored rounded to 0.01
    assert run["speedup_e_over_a"] == pytest.approx(
        run["e_tutorial_published"]["seconds"] / run["a_cached_head"]["seconds"], rel=0.02, abs=0.01
    )
    assert run["e_tutorial_published"]["epochs"] == 1 and run["e_tutorial_published"]["weights_source"] == "imagenet"
    race = data["vgg16_cache_speedup"]["per_run"][0]
    assert race["speedup"] == pytest.approx(
        race["frozen_forward_s"] / race["cached_total_s"], rel=0.02, abs=0.01
    )  # ratios are stored rounded to 0.01
    if "install" in sections:
        assert data["install"]["per_run"][0]["ok"], data["install"]
    text = readme.read_text()
    assert "old table" not in text and text.endswith("After.\n")
    assert "SMOKE RUN" in text and data["machine"]["description"] in text
    assert (out / f"{path.stem}.md").is_file()
    after = _results_snapshot()
    assert after[0] == before[0] and not after[1]  # nothing written into the committed results


def test_lesson_cost_is_the_kernels_peak_memory_in_the_format_lessons_read(tmp_path, monkeypatch):
    notebook = tmp_path / "tiny.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import numpy as np\nx = np.ones(300 * 2**20 // 8)  # 300 MiB in the kernel")]
    nbformat.write(nb, notebook)
    stats = lesson_costs.measure_lessons(
        ["tiny"], ["quick"], runs=2, tmp_root=tmp_path, echo=lambda *a: None, paths={"tiny": notebook}
    )
    entry = stats["tiny"]["quick"]
    assert entry["runs"] == 2 and entry["min_s"] <= entry["median_s"] <= entry["max_s"]
    assert entry["peak_rss_mb"] >= 300  # measured in the kernel, not in this process
    # What the lessons' first cells print comes from this file format.
    out = tmp_path / "results"
    save_results(out / "m.json", {"machine": {"description": "test machine"}, "lessons": {"tiny": stats["tiny"]}})
    [row] = costs.lesson_costs("tiny", out)
    assert row["machine"] == "test machine" and row["mode"] == "quick" and row["median_s"] == entry["median_s"]


def test_failed_lesson_is_recorded_without_a_time(tmp_path):
    notebook = tmp_path / "broken.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("raise RuntimeError('no data here')")]
    nbformat.write(nb, notebook)
    stats = lesson_costs.measure_lessons(
        ["broken"], ["quick"], runs=1, tmp_root=tmp_path, echo=lambda *a: None, paths={"broken": notebook}
    )
    entry = stats["broken"]["quick"]
    assert "median_s" not in entry and "no data here" in entry["failures"][0]
    data = {"machine": {"description": "m"}, "lessons": {}, "lessons_not_measured": {"broken": {"quick": "failed"}}}
    assert "not measured: failed" in report.render_machine(data)


def test_grading_section_summarises_the_grading_workflow(tmp_path, monkeypatch):
    """The grading figures come from autograder.grading.benchmark_grading (its own tests run nbgrader);
    here a recorded-shape stand-in checks the summary, and the real function's signature."""
    import inspect

    from bench import grading_cost
    from autograder import grading

    assert {"n_students", "lessons", "workdir"} <= set(inspect.signature(grading.benchmark_grading).parameters)
    calls = []
    monkeypatch.delenv("TL_COURSE_SANDBOX", raising=False)

    def fake(n_students, lessons, workdir):
        calls.append((n_students, os.environ.get("TL_COURSE_SANDBOX")))
        seconds = 10.0 * n_students + len(calls)
        return {
            "students": n_students,
            "lessons": ["05_quiz"],
            "seconds": seconds,
            "per_student_s": seconds / n_students,
            "per_notebook_s": {"05_quiz": [seconds / n_students] * n_students},
            "all_full_marks": True,
            "jobs": 2,
        }

    monkeypatch.setattr(grading, "benchmark_grading", fake)
    result = grading_cost.run_grading_cost(runs=3, students=4, tmp_root=tmp_path)
    # each sandboxed student is followed by the same student without the sandbox (its overhead)
    assert calls == [(1, None), (1, "off")] * 3 + [(4, None)]
    assert "TL_COURSE_SANDBOX" not in os.environ
    assert result["per_student_s"] == {"median": 13.0, "min": 11.0, "max": 15.0, "runs": 3}
    assert result["sandbox_overhead"]["without_s"] == {"median": 14.0, "min": 12.0, "max": 16.0, "runs": 3}
    assert result["sandbox_overhead"]["ratio"]["median"] == round(13 / 14, 2)
    assert result["class_s"]["median"] == 47.0 and result["class_projection_s"] == 52.0
    line = report.grading_lines({**result, "measured_at": "2026-01-01T00:00"})[0]
    assert "a class of 4: 47 s" in line and "2 notebooks graded at once" in line
    assert "Sandbox overhead, side by side: one student 13 s (11 s-15 s, 3 runs) in the sandbox, 14 s" in line
    assert "Goals: a class of 4 <= 15 min in every run met; sandbox <= 1.2x (median of pairs) met." in line
    slow = {
        **result,
        "class_s": {**result["class_s"], "max": 901.0},
        "sandbox_overhead": {**result["sandbox_overhead"], "ratio": {"median": 1.3}},
    }
    assert "in every run NOT met; sandbox <= 1.2x (median of pairs) NOT met" in report.grading_lines(slow)[0]
    projected = {**result, "class_students": None}
    assert "<= 15 min not shown (no class was graded)" in report.grading_lines(projected)[0]


def test_runs_pool_only_for_the_same_code(tmp_path):
    """Lesson runs measured apart (two `make bench` calls) pool only when the notebook, helpers and
    runner were byte-for-byte the same; the merge of results files replaces them otherwise."""
    root = tmp_path / "repo"
    for path, text in {"solutions/x/x.ipynb": "{}", "helpers/a.py": "A = 1", "coursetools/runner.py": "R"}.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    first = lesson_costs.code_digest("x", root=root)
    assert lesson_costs.code_digest("x", root=root) == first
    (root / "helpers" / "a.py").write_text("A = 2")
    assert lesson_costs.code_digest("x", root=root) != first
    assert lesson_costs.code_digest("x", read=lambda p: (root / p).read_bytes().replace(b"2", b"1"), root=root) == first

    def entry(seconds, stamp, code="abc"):
        return {
            "seconds": seconds,
            "peak_rss_mb_each": [100.0] * len(seconds),
            "load_1m": [[1, 1]] * len(seconds),
            "weights_source": ["random"],
            "device": ["cpu"],
            "code_sha256": code,
            "measured_at": stamp,
            "runs": len(seconds),
        }

    pooled = lesson_costs.pool_entries(entry([440.0], "2026-12-03T12:49"), entry([400.0, 500.0], "2026-12-03T16:00"))
    assert pooled["seconds"] == [440.0, 400.0, 500.0] and pooled["runs"] == 3
    assert (pooled["median_s"], pooled["min_s"], pooled["max_s"]) == (440.0, 400.0, 500.0)
    assert pooled["pooled"] == ["2026-12-03T12:49", "2026-12-03T16:00"] and pooled["measured_at"] == "2026-12-03T16:00"
    with pytest.raises(ValueError, match="same code"):
        lesson_costs.pool_entries(entry([1.0], "t1"), entry([2.0], "t2", code="other"))


def test_merge_from_pools_same_code_and_replaces_other(tmp_path):
    from bench.machine import describe_machine, machine_slug

    machine = describe_machine()
    base, extra = tmp_path / "base", tmp_path / "extra"

    def write(folder, lessons):
        folder.mkdir()
        (folder / f"{machine_slug(machine)}.json").write_text(json.dumps({"machine": machine, "lessons": lessons}))

    def entry(seconds, code, stamp="2026-12-03T16:00"):
        return {
            "seconds": seconds,
            "peak_rss_mb_each": [1.0] * len(seconds),
            "load_1m": [],
            "weights_source": ["none"],
            "device": ["cpu"],
            "code_sha256": code,
            "measured_at": stamp,
            "runs": len(seconds),
            "median_s": seconds[0],
            "min_s": seconds[0],
            "max_s": seconds[0],
            "peak_rss_mb": 1.0,
        }

    write(base, {"05_quiz": {"cpu": entry([10.0], "same", "2026-12-03T12:00"), "quick": entry([1.0], "old")}})
    write(extra, {"05_quiz": {"cpu": entry([12.0, 14.0], "same"), "quick": entry([2.0], "new")}})
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.run_bench",
            "--report-only",
            "--no-readme",
            "--out",
            str(base),
            "--merge-from",
            str(extra / f"{machine_slug(machine)}.json"),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    merged = json.loads((base / f"{machine_slug(machine)}.json").read_text())["lessons"]["05_quiz"]
    assert merged["cpu"]["seconds"] == [10.0, 12.0, 14.0] and merged["cpu"]["median_s"] == 12.0
    assert merged["quick"]["seconds"] == [2.0]
    # the same file merged again: its runs are already in, and are not counted twice
    again = lesson_costs.merge_entry(merged["cpu"], entry([12.0, 14.0], "same"))
    assert again["seconds"] == [10.0, 12.0, 14.0]

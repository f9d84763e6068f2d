"""Course tooling: the one notebook runner and `make course`'s mode, table and last line."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import nbformat
import pytest

from conftest import REPO_ROOT
from coursetools import course, runner
from coursetools.paths import lesson_names


def _notebook(path, *sources):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    nbformat.write(nb, path)
    return path


def test_runner_reports_time_kernel_memory_and_the_first_error_as_one_plain_line(tmp_path):
    path = _notebook(
        tmp_path / "n.ipynb",
        "import numpy as np\nx = np.ones(300 * 2**20 // 8)  # 300 MiB in the kernel",
        "raise ValueError('\\x1b[31mno data here\\x1b[0m\\nsecond line')",
        "print('after')",
    )
    stopped = runner.run_notebook(path)
    assert stopped.stopped and stopped.error == "ValueError: no data here"
    assert stopped.peak_rss_mb >= 300 and stopped.seconds > 0  # the kernel's memory, not this process's
    assert not stopped.notebook.cells[2].outputs
    through = runner.run_notebook(path, allow_errors=True, output=tmp_path / "out" / "n.ipynb")
    assert not through.stopped and through.error == "ValueError: no data here"
    assert through.notebook.cells[2].outputs[0]["text"] == "after\n"
    assert (tmp_path / "out" / "n.ipynb").is_file()


def test_runner_sets_the_mode_and_cache_in_one_place(tmp_path, monkeypatch):
    monkeypatch.setenv("TL_COURSE_QUICK", "1")  # exported by the learner's shell: the runner's mode wins
    path = _notebook(
        tmp_path / "n.ipynb",
        "import os\nfrom helpers.runtime import mode\n"
        "print(os.environ.get('TL_COURSE_MODE'), mode(), os.environ['TL_COURSE_CACHE'], os.environ['TF_CPP_MIN_LOG_LEVEL'])",
    )
    for mode, variable, seen in (
        ("quick", "quick", "quick"),
        ("default", "None", None),
        ("cpu", "cpu", "cpu"),
        ("full", "full", "full"),
    ):
        run = runner.run_notebook(path, mode, cache=tmp_path / "c")
        printed = run.notebook.cells[0].outputs[0]["text"].split()
        assert printed[0] == variable and printed[2:] == [str(tmp_path / "c"), "2"]
        assert printed[1] == seen if seen else printed[1] in ("cpu", "full")  # default: cpu here, full with a GPU
    with pytest.raises(ValueError, match="quick, default, cpu, full"):
        runner.kernel_env("fast")


def test_kernels_start_without_the_tcp_warning(tmp_path):
    path = _notebook(tmp_path / "n.ipynb", "print(1)")
    script = textwrap.dedent(f"""
        from pathlib import Path
        from coursetools.runner import run_notebook
        assert run_notebook(Path({str(path)!r})).ok
    """)
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "without encryption" not in done.stderr and not list(tmp_path.glob("kernel-ipc*"))


def test_course_mode_says_why_and_defaults_to_quick_without_a_gpu():
    assert course.choose_mode(None, gpu=False)[0] == "quick" and "no GPU" in course.choose_mode(None, gpu=False)[1]
    assert course.choose_mode(None, gpu=True)[0] == "default"
    assert course.choose_mode("full", gpu=False) == ("full", "MODE=full was asked for")
    with pytest.raises(ValueError, match="MODE=quick, MODE=default, MODE=cpu or MODE=full"):
        course.choose_mode("fast")


def test_course_summary_is_plain_text_and_ends_with_what_to_do_next(tmp_path):
    bad = _notebook(tmp_path / "bad.ipynb", "raise RuntimeError('\\x1b[31mbroken\\x1b[0m')")
    runs = [
        course.LessonRun("good", 1.0, True, key_metric="accuracy = 0.900"),
        course.LessonRun("bad", 2.0, False, runner.run_notebook(bad).error),
    ]
    table = course.summary_table(runs, "quick", "no GPU was found")
    assert "\x1b" not in table and "FAILED: RuntimeError: broken" in table and table.startswith("Mode: quick (no GPU")
    done = subprocess.run(
        [sys.executable, "-m", "coursetools", "course", "05_quiz", "--mode", "quick", "--summary", str(tmp_path / "summary.md")],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "[course] quick mode: MODE=quick was asked for" in done.stdout
    assert done.stdout.rstrip().endswith(course.NEXT_STEP) and "\x1b" not in done.stdout
    assert "without encryption" not in done.stderr


def test_install_cell_pins_the_course_version_not_the_branch(tmp_path):
    from coursetools import install_cell

    wanted = install_cell.pinned_requirement()
    assert wanted.endswith(f"@v{install_cell.course_version()}")
    for folder in ("solutions", "lessons"):
        for name in lesson_names():
            assert wanted in (REPO_ROOT / folder / name / f"{name}.ipynb").read_text(), f"{folder}/{name}: run `make lessons`"
    # deterministic: pinning a copy again changes nothing; an unpinned copy gets exactly that line changed
    import shutil

    for item in ("pyproject.toml", "_config.yml", "solutions"):
        (shutil.copytree if (REPO_ROOT / item).is_dir() else shutil.copy)(REPO_ROOT / item, tmp_path / item)
    assert install_cell.pin_install_cells(tmp_path) == []
    path = tmp_path / "solutions" / "05_quiz" / "05_quiz.ipynb"
    before = path.read_text()
    path.write_text(before.replace(wanted, wanted.rsplit("@", 1)[0]))
    assert install_cell.pin_install_cells(tmp_path) == [path] and path.read_text() == before


def test_old_course_command_forwards_with_a_deprecation_message():
    done = subprocess.run(
        [sys.executable, "-m", "helpers", "course", "99_nothing"], capture_output=True, text=True, cwd=REPO_ROOT, timeout=300
    )
    assert done.returncode == 2 and "deprecated" in done.stderr and "python -m coursetools course" in done.stderr
    assert "no lesson 99_nothing" in done.stderr and "01_concepts" in done.stderr

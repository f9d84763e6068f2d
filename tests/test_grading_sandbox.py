"""Grading that a hostile submission cannot game: every kernel runs in a bwrap sandbox.

Per lesson: a victim is graded first; then students whose solution cells attack the grader
(tests/hostile_corpus.py) are graded beside a correct submission. Every attack must report
``blocked``, only the attacked exercises lose their points, the victim's files and grade are
byte-for-byte unchanged, and the correct submission gets full marks.
"""
from __future__ import annotations

import copy
import csv
import hashlib
import random
import shutil
import socket
import time

import nbformat
import pytest
from conftest import REPO_ROOT, lesson_names
from grading_corpus import Crafted, expected_scores, write
from hostile_corpus import ATTACKERS, Targets, build, verdicts

from autograder import sandbox
from autograder.grading import grade
from autograder.workspace import prepare_workspace

LESSONS = lesson_names()
needs_bwrap = pytest.mark.skipif(
    shutil.which("bwrap") is None and not __import__("os").environ.get("CI"),
    reason="bubblewrap is not installed (make sandbox); CI installs it")


def _digests(*folders):
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest()
            for folder in folders for p in sorted(folder.rglob("*")) if p.is_file()}


def _cell_scores(workspace, lesson, student):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{workspace / 'nbgrader' / 'gradebook.db'}") as gradebook:
        submission = gradebook.find_submission(lesson, student)
        return {g.name: float(g.score) for nb in submission.notebooks for g in nb.grades}


def _rows(workspace):
    with (workspace / "grades.csv").open() as handle:
        return {row["student"]: row for row in csv.DictReader(handle)}


@needs_bwrap
@pytest.mark.parametrize("lesson", LESSONS)
def test_hostile_submissions_are_contained(lesson, tmp_path, monkeypatch):
    monkeypatch.setenv("TL_COURSE_CELL_TIMEOUT", "60")
    monkeypatch.setenv(sandbox.PROCESSES_VARIABLE, "256")
    monkeypatch.setenv(sandbox.DISK_VARIABLE, "64")
    monkeypatch.delenv(sandbox.SWITCH_VARIABLE, raising=False)
    solutions = tmp_path / "solutions"
    (solutions / lesson).mkdir(parents=True)
    shutil.copy(REPO_ROOT / "solutions" / lesson / f"{lesson}.ipynb", solutions / lesson)
    solution = nbformat.read(solutions / lesson / f"{lesson}.ipynb", as_version=4)
    workspace = tmp_path / "grading"
    submissions = tmp_path / "submissions"
    prepare_workspace(workspace, [lesson], solutions)

    victim = Crafted("aa_victim", copy.deepcopy(solution))
    write(submissions, lesson, victim)
    first = grade(submissions, workspace, [lesson], solutions=solutions, echo=lambda *_: None, jobs=1)
    assert [(o.status, o.score) for o in first.outcomes] == [("graded", first.outcomes[0].max_score)]
    victim_files = _digests(submissions / victim.student, *(workspace / "nbgrader" / step / victim.student
                                                            for step in ("submitted", "autograded", "feedback")))
    victim_row = _rows(workspace)[victim.student]

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))  # the only address the network attack is pointed at
    listener.listen(8)
    listener.setblocking(False)
    try:
        targets = Targets(workspace, REPO_ROOT, lesson, victim.student, listener.getsockname()[1])
        hostile, placed = build(solution, targets)
        correct = Crafted("zz_correct", copy.deepcopy(solution))
        for crafted in [*hostile, correct]:
            write(submissions, lesson, crafted)
        lines: list[str] = []
        run = grade(submissions, workspace, [lesson], solutions=solutions, echo=lines.append, jobs=2)
        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody connected
    finally:
        listener.close()
    report = "\n".join(lines)

    outcomes = {o.student: o for o in run.outcomes}
    assert outcomes[correct.student].status == "graded", report
    assert outcomes[correct.student].score == outcomes[correct.student].max_score > 0, report
    for crafted in hostile:
        assert outcomes[crafted.student].status == "graded", f"{crafted.student}\n{report}"
        assert _cell_scores(workspace, lesson, crafted.student) == expected_scores(solution, crafted), crafted.student
        autograded = nbformat.read(workspace / "nbgrader" / "autograded" / crafted.student / lesson / f"{lesson}.ipynb",
                                   as_version=4)
        seen = verdicts(autograded)
        assert set(seen) == set(ATTACKERS[crafted.student]), f"{crafted.student}: {seen}"
        for name, verdict in seen.items():
            assert verdict.startswith("blocked"), f"{crafted.student} {name}: {verdict}"
        leftovers = [p for p in (workspace / "nbgrader" / "autograded" / crafted.student).rglob("*")
                     if p.is_file() and p.suffix != ".ipynb"]
        assert not leftovers, f"{crafted.student} left files in the grading folder: {leftovers}"
    assert _digests(submissions / victim.student, *(workspace / "nbgrader" / step / victim.student
                                                    for step in ("submitted", "autograded", "feedback"))) == victim_files
    assert _rows(workspace)[victim.student] == victim_row
    assert "pwned" not in (workspace / "grades.csv").read_text()


@needs_bwrap
def test_sandbox_mounts_nothing_of_the_grader(tmp_path, monkeypatch):
    """The bwrap command binds the system, Python, the venv and helpers, never the grading folder."""
    workspace = tmp_path / "grading"
    cwd = workspace / "nbgrader" / "autograded" / "ann" / "05_quiz"
    cwd.mkdir(parents=True)
    (cwd / "05_quiz.ipynb").write_text("{}")
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    command = sandbox.bwrap_command("bwrap", ["python", "-m", "ipykernel_launcher"], cwd, runtime, {})
    binds = [command[i + 2] for i, arg in enumerate(command) if arg in ("--bind", "--ro-bind")]
    assert str(workspace) not in binds and str(REPO_ROOT) not in binds
    assert [b for b in binds if b.startswith(str(workspace))] == [str(cwd / "05_quiz.ipynb")]
    assert [command[i + 2] for i, arg in enumerate(command) if arg == "--bind"] == [str(runtime)]
    for flag in ("--unshare-net", "--unshare-pid", "--die-with-parent"):
        assert flag in command
    env = sandbox.sandbox_env({"GITHUB_TOKEN": "secret", "TL_COURSE_QUICK": "1", "HOME": "/root"})
    assert "GITHUB_TOKEN" not in env and env["TL_COURSE_QUICK"] == "1" and env["HOME"] == "/tmp"


def test_grading_without_bwrap_stops_and_names_the_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no bwrap on PATH
    monkeypatch.delenv(sandbox.SWITCH_VARIABLE, raising=False)
    (tmp_path / "subs").mkdir()
    with pytest.raises(sandbox.SandboxUnavailable, match=r"make sandbox.*apt-get install bubblewrap.*SANDBOX=off"):
        grade(tmp_path / "subs", tmp_path / "grading", ["05_quiz"], echo=lambda *_: None)
    assert not (tmp_path / "grading").exists()


def test_sandbox_off_warns_in_the_run_and_in_grades_csv(tmp_path, monkeypatch):
    monkeypatch.setenv(sandbox.SWITCH_VARIABLE, "off")
    folder = tmp_path / "subs" / "ann" / "05_quiz"
    folder.mkdir(parents=True)
    shutil.copy(REPO_ROOT / "solutions" / "05_quiz" / "05_quiz.ipynb", folder)
    lines: list[str] = []
    run = grade(tmp_path / "subs", tmp_path / "grading", ["05_quiz"], echo=lines.append, jobs=1)
    assert any(line.startswith("WARNING") and "WITHOUT the sandbox" in line for line in lines)
    row = _rows(tmp_path / "grading")["ann"]
    assert row["status"] == "graded" and float(row["score"]) == float(row["max"]) > 0
    assert "WITHOUT the sandbox" in row["note"], row
    assert run.outcomes[0].score == run.outcomes[0].max_score


def test_sandbox_switch_rejects_nonsense(monkeypatch):
    monkeypatch.setenv(sandbox.SWITCH_VARIABLE, "maybe")
    with pytest.raises(ValueError, match=sandbox.SWITCH_VARIABLE):
        sandbox.sandbox_enabled()
    monkeypatch.setenv(sandbox.SWITCH_VARIABLE, "on")
    monkeypatch.setenv(sandbox.MEMORY_VARIABLE, "lots")
    with pytest.raises(ValueError, match=sandbox.MEMORY_VARIABLE):
        sandbox.bwrap_command("bwrap", ["python"], REPO_ROOT, REPO_ROOT, {})


@needs_bwrap
def test_a_graded_kernel_leaves_no_process_behind(tmp_path, monkeypatch):
    """Grading kills each kernel when its notebook is done (no graceful shutdown): killing the
    sandbox must end every process in it, even one that left the kernel's session."""
    import psutil

    from autograder.execute import GradedCellsExecute

    monkeypatch.delenv(sandbox.SWITCH_VARIABLE, raising=False)
    marker = f"{random.randint(10_000, 99_999)}.5"  # sleep's argument: this test's processes only
    cell = nbformat.v4.new_code_cell(
        "import subprocess\n"
        f"daemon = subprocess.Popen(['sleep', '{marker}'], start_new_session=True)\n"
        "print('started', daemon.pid)",
        metadata={"nbgrader": {"grade_id": "ex", "solution": True, "grade": False, "locked": False}})
    nb = nbformat.v4.new_notebook(cells=[cell])
    executor = GradedCellsExecute(timeout=60)
    assert executor.shutdown_kernel == "immediate"
    executor.preprocess(nb, {"metadata": {"path": str(tmp_path)}})
    assert "started" in nb.cells[0].outputs[0]["text"], nb.cells[0].outputs

    def survivors():
        return [p for p in psutil.process_iter(["cmdline"]) if (p.info["cmdline"] or [])[-1:] == [marker]]

    deadline = time.monotonic() + 10
    while survivors() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not survivors(), "a process started in the sandbox outlived its kernel"

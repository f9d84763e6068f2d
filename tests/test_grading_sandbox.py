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
import json
import os
import random
import shutil
import socket
import time
from pathlib import Path

import nbformat
import pytest
from conftest import REPO_ROOT, lesson_names
from grading_corpus import Crafted, expected_scores, write
from hostile_corpus import ATTACKERS, SECRETS, Targets, build, verdicts

from autograder import sandbox
from autograder.grading import grade
from autograder.workspace import prepare_workspace

LESSONS = lesson_names()
# The attacks aim at the grader and its sandbox, which are the same for every lesson: make test aims them
# from the quiz (the cheapest kernel) and lesson 01 (a PyTorch kernel). A lesson's own files in the
# sandbox and its tests are graded for every lesson in test_grading.py (test_each_lessons_tests_are_fair);
# GRADING_ALL_LESSONS=1 runs the attacks from every lesson.
HOSTILE_LESSONS = ("01_concepts", "05_quiz")
needs_bwrap = pytest.mark.skipif(
    shutil.which("bwrap") is None and not os.environ.get("CI"),
    reason="bubblewrap is not installed (make sandbox); CI installs it",
)


def _digests(*folders):
    return {
        str(p): hashlib.sha256(p.read_bytes()).hexdigest() for folder in folders for p in sorted(folder.rglob("*")) if p.is_file()
    }


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
def test_hostile_submissions_are_contained(lesson, tmp_path, monkeypatch, capfd):
    if lesson not in HOSTILE_LESSONS and os.environ.get("GRADING_ALL_LESSONS") != "1":
        pytest.skip(f"make test runs the attacks from {' and '.join(HOSTILE_LESSONS)}; GRADING_ALL_LESSONS=1 from every lesson")
    monkeypatch.setenv("TL_COURSE_CELL_TIMEOUT", "60")
    for name, value in SECRETS.items():  # the grader's secrets: none may reach any file written
        monkeypatch.setenv(name, value)
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
    # a complete student: every autograded point (manually graded answers, lesson 06's decisions, come later)
    autograded_max = sum(expected_scores(solution, victim).values())
    assert [(o.status, o.score) for o in first.outcomes] == [("graded", autograded_max)]
    assert autograded_max > 0
    victim_files = _digests(
        submissions / victim.student,
        *(workspace / "nbgrader" / step / victim.student for step in ("submitted", "autograded", "feedback")),
    )
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
    terminal = capfd.readouterr()
    assert "\x1b]0;tl-pwned-title" not in terminal.err + terminal.out, "a kernel wrote raw to the grader's terminal"

    outcomes = {o.student: o for o in run.outcomes}
    assert outcomes[correct.student].status == "graded", report
    assert outcomes[correct.student].score == autograded_max, report
    for crafted in hostile:
        # "review": the static scan flags some attack code (ctypes, os._exit ...) for a person
        assert outcomes[crafted.student].status in ("graded", "review"), f"{crafted.student}\n{report}"
        assert _cell_scores(workspace, lesson, crafted.student) == expected_scores(solution, crafted), crafted.student
        autograded = nbformat.read(
            workspace / "nbgrader" / "autograded" / crafted.student / lesson / f"{lesson}.ipynb", as_version=4
        )
        seen = verdicts(autograded)
        assert set(seen) == set(ATTACKERS[crafted.student]), f"{crafted.student}: {seen}"
        for name, verdict in seen.items():
            assert verdict.startswith("blocked"), f"{crafted.student} {name}: {verdict}"
        leftovers = [
            p
            for p in (workspace / "nbgrader" / "autograded" / crafted.student).rglob("*")
            if p.is_file() and p.suffix != ".ipynb"
        ]
        assert not leftovers, f"{crafted.student} left files in the grading folder: {leftovers}"
    assert (
        _digests(
            submissions / victim.student,
            *(workspace / "nbgrader" / step / victim.student for step in ("submitted", "autograded", "feedback")),
        )
        == victim_files
    )
    assert _rows(workspace)[victim.student] == victim_row
    assert "pwned" not in (workspace / "grades.csv").read_text()
    leaks = [
        (name, str(p))
        for p in workspace.rglob("*")
        if p.is_file()
        for name, value in SECRETS.items()
        if value.encode() in p.read_bytes()
    ]
    assert not leaks, f"secrets reached files the grader wrote: {leaks}"
    escalate = "hostile_escalate"
    autograded = workspace / "nbgrader" / "autograded" / escalate / lesson / f"{lesson}.ipynb"
    feedback = run.feedback(escalate, lesson)
    outputs = json.dumps([cell.get("outputs", []) for cell in nbformat.read(autograded, as_version=4).cells])
    assert '"text/html"' in outputs, "the attack's HTML output is missing: nothing was checked"
    for live in ("<script", "onerror", "javascript:", "<iframe", '"application/javascript":'):
        assert live not in outputs, f"{live} left in a student's output of the autograded notebook"
    html = feedback.read_text()  # the cell's source is shown there escaped (&lt;script&gt;)
    assert "<script>window.__tl_pwned" not in html and "<iframe srcdoc" not in html
    assert_inert_in_chromium(feedback)


def assert_inert_in_chromium(html_file):
    """Open the page in headless Chromium, click the student's link: no student script ran."""
    from browser import chromium_page

    with chromium_page() as page:
        page.goto(html_file.as_uri())
        page.wait_for_load_state("load")
        page.wait_for_timeout(500)
        if page.locator("#tl-link").count():
            page.locator("#tl-link").first.click()
        assert page.evaluate("window.__tl_pwned === undefined"), page.evaluate("String(window.__tl_pwned)")


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
        metadata={"nbgrader": {"grade_id": "ex", "solution": True, "grade": False, "locked": False}},
    )
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


# ---------------------------------------------------------------------------- item 1: privileges

# Imported by the sandbox launcher (json, resource, ctypes, struct) or by Python's start-up
# (sitecustomize, usercustomize): a submitted file of that name records who imported it, then
# hands over the real module, so that grading goes on as if nothing happened.
_SHADOWS = ("json", "resource", "ctypes", "struct", "sitecustomize", "usercustomize")
_EVIDENCE_MODULE = """
import os as _os
try:
    _caps = [_l.split()[1] for _l in open("/proc/self/status") if _l.startswith("CapEff")][0]
except Exception:
    _caps = "?"
with open({path!r}, "a") as _f:
    _f.write(f"{{__name__}} uid={{_os.getuid()}} euid={{_os.geteuid()}} caps={{_caps}}\\n")
import sys as _sys, importlib as _importlib
_here = _os.path.dirname(_os.path.abspath(__file__))
_saved = _sys.path[:]
_sys.path[:] = [_p for _p in _sys.path if _os.path.abspath(_p or ".") != _here]
del _sys.modules[__name__]
try:
    if __name__ not in ("sitecustomize", "usercustomize"):
        _sys.modules[__name__] = _importlib.import_module(__name__)
finally:
    _sys.path[:] = _saved
"""


def _submission_with_shadows(folder, solution, lesson, evidence):
    """A correct notebook whose first answer prints the evidence file, beside the shadow modules."""
    notebook = copy.deepcopy(solution)
    first = next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("solution"))
    first.source = (
        f"import os as _os\nprint('EVIDENCE', open({evidence!r}).read() if _os.path.exists({evidence!r}) "
        f"else 'none')\n" + first.source
    )
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, folder / f"{lesson}.ipynb")
    for name in _SHADOWS:
        (folder / f"{name}.py").write_text(_EVIDENCE_MODULE.format(path=evidence))


def _evidence(autograded_notebook) -> list[str]:
    notebook = nbformat.read(autograded_notebook, as_version=4)
    text = "".join(out.get("text", "") for cell in notebook.cells for out in cell.get("outputs", []))
    assert "EVIDENCE" in text, "the evidence cell did not run: nothing was checked"
    return [line for line in text.split("EVIDENCE", 1)[1].splitlines() if "uid=" in line]


@needs_bwrap
@pytest.mark.parametrize("entry", ["make grade", "python -m autograder", "nbgrader autograde", "formgrader"])
def test_submitted_modules_never_run_privileged(entry, tmp_path, monkeypatch):
    """Modules named after the standard library's, and site/usercustomize.py, handed in beside
    the notebook never run with uid 0 or any capability, however grading starts. (On main,
    `nbgrader autograde` and formgrader ran json.py as root in the launcher.)"""
    import os
    import subprocess
    import sys

    from autograder.workspace import load_api

    monkeypatch.delenv(sandbox.SWITCH_VARIABLE, raising=False)
    lesson = "05_quiz"
    solution = nbformat.read(REPO_ROOT / "solutions" / lesson / f"{lesson}.ipynb", as_version=4)
    evidence = f"/tmp/tl-evidence-{random.randint(10**8, 10**9)}.txt"
    workspace = tmp_path / "grading"
    env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"], PYTHONPATH=str(REPO_ROOT))
    if entry in ("make grade", "python -m autograder"):
        _submission_with_shadows(tmp_path / "subs" / "ann" / lesson, solution, lesson, evidence)
        command = (
            ["make", "grade", f"SUBMISSIONS={tmp_path / 'subs'}", f"GRADING_DIR={workspace}", "JOBS=1"]
            if entry == "make grade"
            else [
                sys.executable,
                "-m",
                "autograder",
                str(tmp_path / "subs"),
                "--grading-dir",
                str(workspace),
                "--lessons",
                lesson,
                "--jobs",
                "1",
            ]
        )
        result = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=900)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    else:  # what nbgrader does with the course's nbgrader_config.py: every submitted file is copied
        prepare_workspace(workspace, [lesson])
        _submission_with_shadows(workspace / "nbgrader" / "submitted" / "ann" / lesson, solution, lesson, evidence)
        if entry == "nbgrader autograde":
            result = subprocess.run(
                [sys.executable, "-m", "nbgrader", "autograde", lesson, "--student", "ann", "--force"],
                cwd=workspace,
                env=env,
                capture_output=True,
                text=True,
                timeout=900,
            )
            assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        else:  # formgrader's "autograde" button: NbGraderAPI built from the course's config file
            monkeypatch.chdir(workspace)
            outcome = load_api(workspace).autograde(lesson, "ann", force=True, create=True)
            assert outcome["success"], outcome["log"][-3000:]
        copied = workspace / "nbgrader" / "autograded" / "ann" / lesson / "json.py"
        assert copied.is_file(), "nbgrader no longer copies the other files: this test lost its point"
    lines = _evidence(workspace / "nbgrader" / "autograded" / "ann" / lesson / f"{lesson}.ipynb")
    for line in lines:
        assert " uid=0 " not in line and " euid=0 " not in line, f"{entry}: {line}"
        assert line.endswith("caps=0000000000000000"), f"{entry}: {line}"
    assert not Path(evidence).exists(), "a submitted module wrote on the host"


# ---------------------------------------------------------------------------- item 3: in-kernel cheats

CHEATS = {
    # every later cell, hidden tests included, becomes `pass` (the one-liner)
    "cheat_transformer": 'get_ipython().input_transformers_post.append(lambda lines: ["pass\\n"])',
    # the same, where resetting the shell's transformer list cannot undo it
    "cheat_class_patch": (
        "from IPython.core.inputtransformer2 import TransformerManager\n"
        "TransformerManager.transform_cell = lambda self, cell: 'pass\\n'"
    ),
    # an AST transformer that drops every assert
    "cheat_ast": (
        "import ast\nclass _NoAsserts(ast.NodeTransformer):\n"
        "    def visit_Assert(self, node):\n        return ast.Pass()\n"
        "get_ipython().ast_transformers.append(_NoAsserts())"
    ),
}


@needs_bwrap
def test_in_kernel_cheats_get_review_never_full_marks(tmp_path, monkeypatch):
    """A cheat in the first answer, every other answer left blank: on main each got full marks."""
    monkeypatch.delenv(sandbox.SWITCH_VARIABLE, raising=False)
    lesson = "05_quiz"
    workspace = tmp_path / "grading"
    prepare_workspace(workspace, [lesson])
    released = nbformat.read(workspace / "lessons" / lesson / f"{lesson}.ipynb", as_version=4)
    for student, source in CHEATS.items():
        notebook = copy.deepcopy(released)
        next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("solution")).source = source
        write(tmp_path / "subs", lesson, Crafted(student, notebook))
    lines: list[str] = []
    run = grade(tmp_path / "subs", workspace, [lesson], echo=lines.append, jobs=2)
    rows = _rows(workspace)
    for student in CHEATS:
        row = rows[student]
        assert row["status"] == "review", f"{student}: {row}\n" + "\n".join(lines)
        assert float(row["score"]) == 0 < float(row["max"]), row
        assert "flagged for review: IPython input/AST transformer" in row["note"], row
    assert "tests did not run as written" in rows["cheat_class_patch"]["note"]
    assert run.grades_csv.is_file()


# ---------------------------------------------------------------------------- item 6: budgets

_HOG = (
    "import subprocess as _sp, sys as _sys\n"
    "_hogs = [_sp.Popen([_sys.executable, '-c', \"import time; _x = b'1' * 2**30; time.sleep(20)\"])"
    " for _ in range(3)]\n"
)


@needs_bwrap
def test_notebook_budget_and_a_memory_hog_beside_a_correct_student(tmp_path, monkeypatch):
    """A quiz whose 15 answers all loop ends within its notebook budget (on main: 15 cell
    timeouts); a student holding 3 GiB in three processes is graded beside a correct one, who
    still gets full marks."""
    monkeypatch.delenv(sandbox.SWITCH_VARIABLE, raising=False)
    monkeypatch.setenv("TL_COURSE_CELL_TIMEOUT", "10")
    monkeypatch.setenv("TL_COURSE_NOTEBOOK_TIMEOUT", "20")
    lesson = "05_quiz"
    solution = nbformat.read(REPO_ROOT / "solutions" / lesson / f"{lesson}.ipynb", as_version=4)
    looper, hog = copy.deepcopy(solution), copy.deepcopy(solution)
    answers = [c for c in looper.cells if c.metadata.get("nbgrader", {}).get("solution")]
    assert len(answers) >= 10, "the quiz needs many answers for this test to mean something"
    for cell in answers:
        cell.source = "while True:\n    pass\n" + cell.source
    first = next(c for c in hog.cells if c.metadata.get("nbgrader", {}).get("solution"))
    first.source = _HOG + first.source
    for crafted in (Crafted("aa_looper", looper), Crafted("bb_hog", hog), Crafted("cc_correct", copy.deepcopy(solution))):
        write(tmp_path / "subs", lesson, crafted)
    lines: list[str] = []
    run = grade(tmp_path / "subs", tmp_path / "grading", [lesson], echo=lines.append, jobs=2)
    outcomes = {o.student: o for o in run.outcomes}
    report = "\n".join(lines)
    assert outcomes["cc_correct"].score == outcomes["cc_correct"].max_score > 0, report
    assert outcomes["bb_hog"].status in ("graded", "review") and outcomes["bb_hog"].score > 0, report
    looped = outcomes["aa_looper"]
    assert looped.status == "graded" and looped.score == 0, report
    # 20 s of budget, plus the kernel's start, feedback and a loaded machine; main needed 150 s+
    assert looped.seconds < 75, report
    autograded = nbformat.read(
        tmp_path / "grading" / "nbgrader" / "autograded" / "aa_looper" / lesson / f"{lesson}.ipynb", as_version=4
    )
    assert any(out.get("ename") == "NotebookTimeout" for c in autograded.cells for out in c.get("outputs", []))


def test_notebook_timeout_setting_is_checked(monkeypatch):
    from autograder.execute import NOTEBOOK_TIMEOUT_VARIABLE, notebook_timeout

    monkeypatch.delenv(NOTEBOOK_TIMEOUT_VARIABLE, raising=False)
    assert notebook_timeout() == 600
    for bad in ("ten", "0", "-5"):
        monkeypatch.setenv(NOTEBOOK_TIMEOUT_VARIABLE, bad)
        with pytest.raises(ValueError, match=NOTEBOOK_TIMEOUT_VARIABLE):
            notebook_timeout()
    assert "NOTEBOOK_TIMEOUT" in (REPO_ROOT / "Makefile").read_text()


def test_limits_note_says_per_process_without_cgroup_v2():
    note = sandbox.notebook_limits_note()
    assert "per process" in note and "MB" in note


# ---------------------------------------------------------------------------- items 4 and 7: the command


def test_only_listed_variables_reach_the_kernel():
    env = {
        "JPY_API_TOKEN": "a",
        "JUPYTERHUB_API_TOKEN": "b",
        "OPENAI_API_KEY": "c",
        "MY_SERVICE_TOKEN": "d",
        "NBGRADER_DB_PASSWORD": "e",
        "LANGCHAIN_API_KEY": "f",
        "TF_VAR_password": "g",
        "LC_SECRET": "h",
        "TL_COURSE_QUICK": "1",
        "NBGRADER_EXECUTION": "autograde",
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "LANG": "C.UTF-8",
    }
    kept = sandbox.sandbox_env(env)
    assert not set("abcdefgh") & set(kept.values()), kept
    assert kept["TL_COURSE_QUICK"] == "1" and kept["NBGRADER_EXECUTION"] == "autograde" and kept["LANG"] == "C.UTF-8"


def test_sandbox_command_drops_privileges_before_python(tmp_path):
    import os

    cwd = tmp_path / "nb"
    cwd.mkdir()
    for name in ("05_quiz.ipynb", "json.py", "sitecustomize.py", "data.csv"):
        (cwd / name).write_text("{}")
    (cwd / "linked.ipynb").symlink_to(cwd / "05_quiz.ipynb")
    command = sandbox.bwrap_command("bwrap", ["python", "-m", "ipykernel_launcher"], cwd, tmp_path, {})
    binds = [command[i + 1] for i, arg in enumerate(command) if arg == "--ro-bind"]
    assert [b for b in binds if b.startswith(str(cwd))] == [str(cwd / "05_quiz.ipynb")]
    assert "--new-session" in command and "--die-with-parent" in command
    python_at = next(i for i, arg in enumerate(command) if arg.endswith("/python") and command[i + 1] == "-I")
    assert command[python_at + 1 : python_at + 4] == ["-I", "-S", "-c"]
    if os.geteuid() == 0:  # setpriv, not Python, is the first thing in the sandbox
        first = command.index("--") + 1
        assert command[first] == "/usr/bin/setpriv" and first < python_at
        assert {"--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--clear-groups"} <= set(command)
        assert command[command.index("--cap-drop") + 1] == "ALL"
    else:
        assert "--unshare-user" in command and "--disable-userns" in command


def test_sandbox_uid_is_free_and_outside_systemds_range():
    import os
    import pwd

    uid = sandbox.sandbox_uid()
    assert uid not in range(61184, 65520) and sandbox.uid_is_free(uid)
    assert not sandbox.uid_is_free(61184) and not sandbox.uid_is_free(65519)
    assert not sandbox.uid_is_free(pwd.getpwall()[0].pw_uid)
    assert not sandbox.uid_is_free(os.getuid())  # running processes count as taken


def test_seccomp_filter_is_well_formed():
    from autograder import seccomp

    program = seccomp.program("x86_64")
    assert len(program) % 8 == 0 and 8 < len(program) <= 8 * 64
    assert seccomp.program("sparc") == b""


def test_kernel_stderr_is_escaped():
    assert sandbox.escape_control("a\x1b]0;title\x07b\n") == "a\\x1b]0;title\\x07b\n"


def test_runtime_folder_never_chowns_through_a_symlink(tmp_path):
    import os

    if os.geteuid() != 0:
        pytest.skip("the runtime folder changes owner only when grading runs as root")
    target = tmp_path / "host-file"
    target.write_text("the grader's")
    manager = sandbox.SandboxedKernelManager.__new__(sandbox.SandboxedKernelManager)
    manager._runtime = tmp_path / "runtime"
    manager._runtime.mkdir()
    manager.connection_file = str(manager._runtime / "connection.json")
    os.symlink(target, manager.connection_file)
    manager._open_runtime(writable=True)
    assert target.stat().st_uid == 0, "chown followed the symlink to a host file"
    assert os.lstat(manager.connection_file).st_uid == sandbox.sandbox_uid()


def test_a_lessons_declared_files_come_from_the_instructor(tmp_path):
    cwd = tmp_path / "nb"
    cwd.mkdir()
    (cwd / "05_quiz.ipynb").write_text("{}")
    (cwd / "labels.csv").write_text("the student's copy")
    instructor = tmp_path / "solutions" / "05_quiz" / "labels.csv"
    instructor.parent.mkdir(parents=True)
    instructor.write_text("the instructor's copy")
    command = sandbox.bwrap_command("bwrap", ["python"], cwd, tmp_path, {}, {"labels.csv": instructor})
    pairs = [(command[i + 1], command[i + 2]) for i, arg in enumerate(command) if arg == "--ro-bind"]
    assert (str(instructor), str(cwd / "labels.csv")) in pairs
    assert (str(cwd / "labels.csv"), str(cwd / "labels.csv")) not in pairs

"""`make hub-test`: a whole term on the course hub, end to end, through the hub's real login page.

A fresh hub (coursehub/) on 127.0.0.1 with its own accounts (prefix ``tlt-``, deleted afterwards)
and folder. In headless Chromium: the instructor generates and releases 05_quiz and 01_concepts in
formgrader; two students open an nbgitpuller link (the learner's side of the course, pulled from
a local git path), log in, fetch both from the Assignment List, answer (one all right, one partly
wrong), save and submit; the instructor sets the quiz's due date and one student submits again,
late; the instructor collects, autogrades (the course's sandboxed grading, through
nbgrader_config.py), generates and releases feedback; each student fetches feedback and reads their
own score; the second grader sees the same gradebook. Not in the browser: `nbgrader export`
(grades.csv; formgrader has no button for it), run as the grading account, and the checks that
read files as root. The last line printed is the term's summary (also in artifacts/hub/summary.txt).
"""

from __future__ import annotations

import csv
import datetime
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import nbformat
import pytest

import hub_term as term
from browser import artifacts_dir
from coursehub import users
from coursehub.formgrader_service import as_account
from coursehub.launcher import kill_account_processes, start_hub
from coursehub.layout import COURSE_ID, HubLayout
from coursehub.learner_source import BRANCH, graded_class_repo
from coursehub.provision import provision
from coursetools.paths import REPO_ROOT
from lab_server import free_port

LESSONS = ["05_quiz", "01_concepts"]
# student2's wrong answers (grade_id -> text); the late resubmission puts q7 right
WRONG = {
    "q1_answer": 'q1 = "a"',
    "q2_answer": 'q2 = "a"',
    "q7_answer": "q7 = 512",
    "ex3_count": "def count_trainable_parameters(model: nn.Module) -> int:\n    return 0",
}
LATE_FIX = ["q7_answer"]


def _require(condition: bool, message: str) -> None:
    if not condition:
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def points(lesson: str, wrong: dict[str, str]) -> tuple[float, float]:
    """(expected score, max) of a lesson's notebook answered right except ``wrong``'s exercises."""
    from nbgrader_course import exercises, graded_cells

    notebook = nbformat.read(REPO_ROOT / "lessons" / lesson / f"{lesson}.ipynb", as_version=4)
    cells = graded_cells(notebook)
    lost = sum(cells[test] for answer, tests in exercises(notebook) if answer in wrong for test in tests)
    return float(sum(cells.values()) - lost), float(sum(cells.values()))


@pytest.fixture(scope="module")
def hub():
    _require(os.geteuid() == 0, "the hub test creates system users and runs servers as them: it needs root")
    _require(shutil.which("configurable-http-proxy") is not None, "configurable-http-proxy is missing: run `make hub-deps`")
    root = Path(tempfile.mkdtemp(prefix="tl-hub-test-", dir="/tmp"))
    course_env = {"TL_COURSE_QUICK": "1", "TL_COURSE_ALLOW_RANDOM_WEIGHTS": "1", "TL_COURSE_OFFLINE": "1"}
    root.chmod(0o755)
    learner = graded_class_repo(root / "learner-dist")
    layout = HubLayout(
        root=root,
        prefix="tlt-",
        students=("student1", "student2"),
        port=free_port(),
        hub_port=free_port(),
        proxy_api_port=free_port(),
        service_port=free_port(),
        course_env=course_env,
        git_sources=(str(learner),),
    )
    kill_account_processes(layout)  # a run that died before its cleanup left them: start afresh
    for name in layout.accounts:
        users.remove_user(name)
    timeline = term.Timeline()
    process = None
    try:
        with timeline.step("hub up"):
            passwords = provision(layout, lessons=LESSONS)
            process = start_hub(layout, root / "jupyterhub.log")
        yield layout, passwords, learner, timeline, process
    finally:
        if process is not None:
            for log in (process.log_path, process.log_path.with_name("formgrader.log")):
                if log.exists():
                    shutil.copy(log, artifacts_dir("hub") / log.name)
            process.stop()
        kill_account_processes(layout)
        for name in layout.accounts:
            users.remove_user(name)
        shutil.rmtree(root, ignore_errors=True)


def test_a_term_on_the_hub(hub):
    layout, passwords, learner, timeline, process = hub
    url, service = layout.url, layout.service_prefix
    instructor, grader = layout.instructor, layout.grader
    s1, s2 = layout.student_users
    shots = artifacts_dir("hub")
    expected = {(s1, lesson): points(lesson, {}) for lesson in LESSONS} | {
        (s2, lesson): points(lesson, {k: v for k, v in WRONG.items() if k not in LATE_FIX}) for lesson in LESSONS
    }
    answers = {
        (student, lesson): term.answers(
            REPO_ROOT / "solutions" / lesson / f"{lesson}.ipynb",
            REPO_ROOT / "lessons" / lesson / f"{lesson}.ipynb",
            wrong,
        )
        for student, wrong in ((s1, {}), (s2, WRONG))
        for lesson in LESSONS
    }
    current = None
    with term.browser() as chromium:
        try:
            # --- the instructor releases two lessons -----------------------------------------
            with timeline.step("instructor releases 2 lessons"):
                teacher = current = term.new_page(chromium)
                term.log_in(teacher, url, instructor, passwords[instructor])
                term.wait_for_lab(teacher, instructor)
                link = term.course_list_link(teacher)  # nbgrader's Course List finds the hub service
                assert link.startswith(f"{url}{service}"), link
                term.formgrader(teacher, url, service)
                for lesson in LESSONS:
                    term.assignment_action(teacher, lesson, "assign")  # Generate (student version)
                    term.assignment_action(teacher, lesson, "release")
            # --- students: nbgitpuller link, login, fetch, answer, submit -------------------
            pull = f"/hub/user-redirect/git-pull?repo=file://{learner}&branch={BRANCH}&urlpath=lab/tree/{learner.name}/lessons"
            pages = {}
            for student in (s1, s2):
                with timeline.step(f"{student} pulls the lessons, fetches, answers, submits"):
                    page = current = pages[student] = term.new_page(chromium)
                    term.log_in(page, url, student, passwords[student], start=pull)
                    term.wait_for_lab(page, student)
                    home = Path("/home") / student
                    pulled = home / learner.name
                    assert (pulled / "lessons" / "05_quiz" / "05_quiz.ipynb").is_file(), "nbgitpuller did not pull the lessons"
                    assert not (pulled / "solutions").exists()
                    term.open_assignment_list(page)
                    for lesson in LESSONS:
                        term.fetch_assignment(page, lesson)
                    for lesson in LESSONS:
                        term.open_fetched_notebook(page, lesson)
                        term.answer_cells(page, answers[(student, lesson)])
                        _wait_saved(home / lesson / f"{lesson}.ipynb", answers[(student, lesson)])
                        term.close_all_tabs(page)
                        term.open_assignment_list(page)
                        term.submit_assignment(page, lesson)
            # --- the due date passes; student2 fixes q7 and submits again, late ---------------
            with timeline.step("due date set, one late resubmission"):
                current = teacher
                term.formgrader(teacher, url, service)
                due = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
                term.set_due_date(teacher, "05_quiz", due)
                page = current = pages[s2]
                late = term.answers(
                    REPO_ROOT / "solutions" / "05_quiz" / "05_quiz.ipynb",
                    REPO_ROOT / "lessons" / "05_quiz" / "05_quiz.ipynb",
                    {k: v for k, v in WRONG.items() if k not in LATE_FIX},
                )
                term.open_fetched_notebook(page, "05_quiz")
                term.answer_cells(page, late)
                _wait_saved(Path("/home") / s2 / "05_quiz" / "05_quiz.ipynb", late)
                term.close_all_tabs(page)
                term.open_assignment_list(page)
                term.submit_assignment(page, "05_quiz")
            # --- the instructor collects, autogrades (sandboxed), releases feedback ------------
            graded = {}
            with timeline.step("collect + autograde (sandboxed)"):
                page = current = teacher
                term.formgrader(teacher, url, service)
                for lesson in LESSONS:
                    term.assignment_action(teacher, lesson, "collect")
                for lesson in LESSONS:
                    graded[lesson] = term.autograde_all(teacher, url, service, lesson, [s1, s2])
            with timeline.step("feedback generated + released"):
                term.formgrader(teacher, url, service)
                for lesson in LESSONS:
                    term.assignment_action(teacher, lesson, "generate-feedback")
                    term.assignment_action(teacher, lesson, "release-feedback")
            # --- each student fetches feedback and reads their own score ----------------------
            seen = {}
            with timeline.step("students fetch feedback, read scores"):
                for student in (s1, s2):
                    page = current = pages[student]
                    page.goto(f"{url}/user/{student}/lab")
                    term.wait_for_lab(page, student)
                    term.open_assignment_list(page)
                    for lesson in LESSONS:
                        term.fetch_feedback(page, lesson)
                    for lesson in LESSONS:
                        files = sorted((Path("/home") / student / lesson / "feedback").glob(f"*/{lesson}.html"))
                        assert len(files) == 1, f"{student} {lesson}: feedback files {files}"
                        relative = files[0].relative_to(Path("/home") / student).as_posix()
                        score, maximum, text = term.read_score_in_feedback(page, url, student, relative)
                        other = s2 if student == s1 else s1
                        assert other not in text, f"{student}'s feedback names {other}"
                        seen[(student, lesson)] = (score, maximum)
                    # a student cannot open the gradebook
                    response = page.goto(f"{url}{service}formgrader")
                    assert response.status == 403, f"{student} reached formgrader: {response.status}"
            # --- the second grader sees the same gradebook ---------------------------------------
            with timeline.step("second grader opens the gradebook"):
                page = current = term.new_page(chromium)
                term.log_in(page, url, grader, passwords[grader])
                term.wait_for_lab(page, grader)
                for lesson in LESSONS:
                    term.formgrader(page, url, service, f"manage_submissions/{lesson}")
                    assert term.submission_scores(page, rows=len(graded[lesson])) == graded[lesson], (
                        "the second grader sees another gradebook"
                    )
        except BaseException:
            if current is not None:
                current.screenshot(path=str(shots / "failure.png"), full_page=True)
                (shots / "failure.html").write_text(current.content())
            print(process.log_tail(8000))
            raise
    # --- grades.csv (nbgrader export, as the grading account) -------------------------------------
    with timeline.step("grades.csv (nbgrader export)"):
        bin_dir = layout.runtime_venv / "bin"
        env = {
            "PATH": f"{bin_dir}:/usr/bin:/bin",
            "PYTHONPATH": str(layout.repo_root),
            "HOME": f"/home/{layout.grading_account}",
            "JUPYTER_CONFIG_PATH": str(layout.config_dir("grading")),
        }
        result = subprocess.run(
            [str(bin_dir / "nbgrader"), "export"],
            cwd=layout.course_dir,
            env=env,
            preexec_fn=as_account(layout.grading_account),
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        with open(layout.course_dir / "grades.csv") as handle:
            rows = {(row["student_id"], row["assignment"]): row for row in csv.DictReader(handle)}
        shutil.copy(layout.course_dir / "grades.csv", shots / "grades.csv")
    assert set(rows) == set(expected), sorted(rows)
    for key, (score, maximum) in expected.items():
        assert (float(rows[key]["score"]), float(rows[key]["max_score"])) == (score, maximum), (key, rows[key])
        assert seen[key] == (score, maximum), (key, seen[key])
    assert float(rows[(s2, "05_quiz")]["late_submission_penalty"]) == 0.0
    late_seconds = _seconds_late(layout, "05_quiz", s2)
    assert late_seconds > 0, "student2's resubmission was not late"
    assert _seconds_late(layout, "05_quiz", s1) == 0
    total = sum(seconds for _, seconds in timeline.steps)
    scores = "; ".join(
        f"{student}: "
        + ", ".join(f"{lesson} {expected[(student, lesson)][0]:g}/{expected[(student, lesson)][1]:g}" for lesson in LESSONS)
        for student in (s1, s2)
    )
    sentence = (
        f"Hub term ({COURSE_ID}, 2 students, 2 graders, {len(LESSONS)} lessons): {scores} "
        f"({s2} resubmitted 05_quiz {late_seconds:.0f} s late); {timeline.sentence()}; total {total:.0f} s."
    )
    (shots / "summary.txt").write_text(sentence + "\n")
    print("\n" + sentence)


def _wait_saved(path: Path, answers: list[tuple[int, str]], timeout: float = 60.0) -> None:
    """The notebook on the student's disk holds exactly what was typed (the save has landed)."""
    deadline = time.monotonic() + timeout
    while True:
        cells = nbformat.read(path, as_version=4).cells
        differ = [index for index, text in answers if cells[index].source != text]
        if not differ:
            return
        assert time.monotonic() < deadline, f"{path}: cells {differ} were not saved as typed: {cells[differ[0]].source!r}"
        time.sleep(0.5)


def _seconds_late(layout: HubLayout, lesson: str, student: str) -> float:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{layout.course_dir / 'nbgrader' / 'gradebook.db'}") as gradebook:
        return float(gradebook.find_submission(lesson, student).total_seconds_late)

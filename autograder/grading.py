"""Grade a class: ``make grade SUBMISSIONS=<dir>`` / ``python -m autograder <dir>``.

Takes the notebooks as an instructor gets them, autogrades them with nbgrader against a
gradebook built from ``solutions/``, and writes, in the grading folder (default ``grading/``):

- ``grades.csv``: student, assignment, score, max, status, note (one row per submission);
- ``nbgrader/feedback/STUDENT/ASSIGNMENT/ASSIGNMENT.html``: per-student feedback;
- ``nbgrader/gradebook.db`` (the gradebook), ``nbgrader/autograded/`` (executed notebooks).

Accepted layouts of the submissions folder (mixed freely):

- nbgrader's: ``STUDENT/ASSIGNMENT/*.ipynb`` (what ``nbgrader collect`` writes under
  ``submitted/``; a course folder holding ``submitted/`` or ``nbgrader/submitted/`` works too),
  or the exchange's inbound folders ``STUDENT+ASSIGNMENT+TIMESTAMP[+...]/`` (the latest one per
  student wins; a ``COURSE/inbound`` folder or an exchange root with one course works too);
- files downloaded from an LMS, one per student, as nbgrader's ``zip_collect`` handles: the
  assignment is the lesson name found in the file name (``jdoe_1234_01_concepts-1.ipynb``),
  the student the owner's first ``_``-separated word plus the LMS's numeric user id when there
  is one (see ``_lms_student``). ``--pattern`` takes a regular expression with named groups
  ``student`` and ``assignment`` instead. Archives (``.zip``) are reported, not opened.

The submissions folder and the grading folder must not overlap (an original could be
overwritten): ``grade`` refuses.

Re-running is idempotent: a submission whose files did not change is not graded again, and
grades.csv always has one row per student and assignment. A new or changed submission (a late
one) is graded alone. One student's broken notebook (corrupt JSON, a crash, an endless loop)
is reported on its own line and never stops the run.
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from coursetools.paths import REPO_ROOT, lesson_names

from .export import write_grades_csv
from .sandbox import check_for_grading
from .submissions import Submission, check_notebook, collect, files_digest, nbgrader_layout_root
from .workspace import check_apart, load_api, prepare_workspace, read_state, write_state

__all__ = ["Status", "Outcome", "GradingRun", "grading_jobs", "grade", "benchmark_grading",
           "collect", "prepare_workspace", "write_grades_csv"]


class Status(StrEnum):
    """What happened to one submission (the ``status`` column of grades.csv)."""

    GRADED = "graded"  # autograded now
    UNCHANGED = "unchanged"  # same files as a run before: not graded again
    CORRUPT = "corrupt"  # not a readable notebook: scored 0
    ERROR = "error"  # nbgrader or its process failed: re-run to retry
    MISSING = "missing"  # no notebook for the assignment: scored 0

    @property
    def counts_as_graded(self) -> bool:
        return self in (Status.GRADED, Status.UNCHANGED)


@dataclass
class Outcome:
    student: str
    assignment: str
    status: Status
    score: float | None = None
    max_score: float | None = None
    seconds: float = 0.0
    note: str = ""
    graded_before: bool = False  # for "unchanged": whether the earlier run graded it

    def line(self) -> str:
        points = f"{_fmt(self.score)}/{_fmt(self.max_score)}" if self.score is not None else "-"
        text = f"{self.status:<10} {self.student:<20} {self.assignment:<30} {points:>9}"
        if self.seconds:
            text += f"  {self.seconds:5.1f} s"
        return text + (f"  {self.note}" if self.note else "")


@dataclass
class GradingRun:
    workspace: Path
    outcomes: list[Outcome] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def grades_csv(self) -> Path:
        return self.workspace / "grades.csv"

    def feedback(self, student: str, assignment: str) -> Path:
        return self.workspace / "nbgrader" / "feedback" / student / assignment / f"{assignment}.html"


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


# ---------------------------------------------------------------------------- grading


def grading_jobs(requested: int | None = None) -> int:
    """How many notebooks to autograde at once: ``requested``, ``TL_COURSE_GRADING_JOBS``, or
    one per CPU core (at most 4), fewer when memory is short (a lesson's kernel peaks near 2.5 GB).
    Most of a graded notebook's time is its kernel importing torch or TensorFlow, one core's
    work, so two at once on two cores grade a class in little more than half the time.
    """
    raw = requested if requested is not None else os.environ.get("TL_COURSE_GRADING_JOBS", "").strip()
    if raw not in ("", None):
        try:
            jobs = int(raw)
        except ValueError:
            raise ValueError(f"grading jobs must be a whole number, got {raw!r} (TL_COURSE_GRADING_JOBS or --jobs)") from None
        if jobs < 1:
            raise ValueError(f"grading jobs must be at least 1, got {jobs}")
        return jobs
    import psutil

    by_memory = int(psutil.virtual_memory().available // (3 * 2**30))
    return max(1, min(os.cpu_count() or 1, 4, by_memory))


def grade(submissions: Path, workspace: Path = REPO_ROOT / "grading", lessons: list[str] | None = None,
          pattern: str | None = None, echo=print, solutions: Path = REPO_ROOT / "solutions",
          jobs: int | None = None) -> GradingRun:
    """Autograde every new or changed submission, write feedback and grades.csv.

    ``jobs`` notebooks are graded at once, each in its own process (see ``grading_jobs``);
    the run's state and grades.csv are written by this process alone, after every notebook.
    """
    start = time.perf_counter()
    workspace = Path(workspace).resolve()
    if Path(submissions).is_dir():  # a missing folder is collect()'s error, with its fix
        check_apart(nbgrader_layout_root(Path(submissions)).resolve(), workspace)
    unsandboxed = check_for_grading(echo)  # stops here, with the fix, when bwrap is missing
    assignments = prepare_workspace(workspace, lessons, solutions)
    found, unmatched = collect(Path(submissions), assignments, pattern)
    run = GradingRun(workspace, unmatched=unmatched)
    for line in unmatched:
        echo(f"not used   {line}")
    state = read_state(workspace)
    outcomes: dict[int, Outcome] = {}
    todo: list[tuple[int, Submission, str]] = []
    for index, sub in enumerate(found):
        digest = files_digest(sub.files) if sub.files else ""
        previous = state["submissions"].get(f"{sub.student}/{sub.assignment}")
        if previous and previous["sha256"] == digest and previous["status"] != Status.ERROR:
            outcomes[index] = Outcome(sub.student, sub.assignment, Status.UNCHANGED, note=previous.get("note", ""),
                                      graded_before=previous["status"] == Status.GRADED)
        else:
            todo.append((index, sub, digest))
    jobs = min(grading_jobs(jobs), max(1, len(todo)))
    _add_students(workspace, {sub.student for _, sub, _ in todo})
    if todo:
        echo(f"grading {len(todo)} notebook(s), {jobs} at a time ...")
    for done, (index, sub, digest, outcome) in enumerate(_grade_all(workspace, todo, jobs), 1):
        if unsandboxed and outcome.status == Status.GRADED:
            outcome.note = "; ".join(filter(None, (outcome.note, unsandboxed)))
        outcomes[index] = outcome
        state["submissions"][f"{sub.student}/{sub.assignment}"] = {
            "sha256": digest, "status": outcome.status, "note": outcome.note}
        write_state(workspace, state)  # after every notebook: a stopped run keeps what it graded
        echo(f"[{done:>3}/{len(todo)}] {outcome.status:<8} {sub.student}/{sub.assignment} ({outcome.seconds:.1f} s)")
    run.outcomes = [outcomes[index] for index in range(len(found))]
    _fill_scores(workspace, run.outcomes)
    for outcome in run.outcomes:
        echo(outcome.line())
    write_grades_csv(workspace, state)
    run.seconds = time.perf_counter() - start
    graded = sum(o.status != Status.UNCHANGED for o in run.outcomes)
    echo(f"\n{graded} submission(s) graded, {len(run.outcomes) - graded} unchanged, in {run.seconds:.0f} s")
    echo(f"grades:   {run.grades_csv}")
    echo(f"feedback: {workspace / 'nbgrader' / 'feedback'}/STUDENT/ASSIGNMENT/ASSIGNMENT.html")
    return run


def _add_students(workspace: Path, students: set[str]) -> None:
    """Students into the gradebook before parallel grading: two workers grading one new student's
    lessons at once would both insert them (UNIQUE constraint failed: student.id) and one fails."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{workspace / 'nbgrader' / 'gradebook.db'}") as gradebook:
        for student in sorted(students):
            gradebook.update_or_create_student(student)


def _grade_all(workspace: Path, todo: list, jobs: int):
    """Yield ``(index, submission, digest, outcome)`` as each notebook is graded."""
    if jobs <= 1:
        api = load_api(workspace)
        for index, sub, digest in todo:
            yield index, sub, digest, _grade_safely(api, workspace, sub)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    # spawn, not fork: the parent may hold threads and sockets (jupyter_client) that a fork would copy
    with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {pool.submit(_grade_in_worker, str(workspace), sub): (index, sub, digest)
                   for index, sub, digest in todo}
        for future in as_completed(futures):
            index, sub, digest = futures[future]
            try:
                outcome = future.result()
            except Exception as err:  # a worker that died (killed, out of memory): this notebook only
                outcome = Outcome(sub.student, sub.assignment, Status.ERROR,
                                  note=f"the grading process failed ({type(err).__name__}: {err}); re-run to retry")
            yield index, sub, digest, outcome


_WORKER_API: dict[str, object] = {}


def _grade_in_worker(workspace: str, sub: Submission) -> Outcome:
    import warnings

    warnings.filterwarnings("ignore", module="nbgrader")  # SQLAlchemy chatter from nbgrader's gradebook
    if workspace not in _WORKER_API:
        _WORKER_API[workspace] = load_api(Path(workspace))
    return _grade_safely(_WORKER_API[workspace], Path(workspace), sub)


def _grade_safely(api, workspace: Path, sub: Submission, attempts: int = 4) -> Outcome:
    """``_grade_one``, retried when another grading process held the gradebook too long."""
    import random

    for attempt in range(attempts):
        outcome = _grade_one(api, workspace, sub)
        if not (outcome.status == Status.ERROR and "database is locked" in outcome.note) or attempt == attempts - 1:
            return outcome
        time.sleep(random.uniform(0.5, 2.0) * (attempt + 1))
    return outcome


def _grade_one(api, workspace: Path, sub: Submission) -> Outcome:
    started = time.perf_counter()
    expected = f"{sub.assignment}.ipynb"
    target = workspace / "nbgrader" / "submitted" / sub.student / sub.assignment
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    note = sub.note
    chosen = [p for p in sub.files if p.name == expected]
    others = [p for p in sub.files if p.name != expected]
    if not chosen and len(others) == 1:  # renamed (e.g. "01_concepts-Copy1.ipynb"): still their work
        chosen = others
        note = note or f"graded {others[0].name} as {expected} (renamed)"
    if not chosen:
        names = ", ".join(p.name for p in sub.files) or "none"
        return Outcome(sub.student, sub.assignment, Status.MISSING, note=f"no {expected} (found: {names}); scored 0")
    problem = check_notebook(chosen[0])
    if problem:
        return Outcome(sub.student, sub.assignment, Status.CORRUPT, note=problem + "; scored 0")
    shutil.copy(chosen[0], target / expected)
    if sub.timestamp:
        (target / "timestamp.txt").write_text(sub.timestamp)
    result = api.autograde(sub.assignment, sub.student, force=True, create=True)
    if not result["success"]:
        reason = _last_error(result.get("log", ""))
        return Outcome(sub.student, sub.assignment, Status.ERROR, seconds=time.perf_counter() - started,
                       note=f"nbgrader could not grade it ({reason}); see the log above, fix, and re-run")
    feedback = api.generate_feedback(sub.assignment, sub.student, force=True)
    if not feedback["success"]:
        note = (note + "; " if note else "") + "feedback not written: " + _last_error(feedback.get("log", ""))
    return Outcome(sub.student, sub.assignment, Status.GRADED, seconds=time.perf_counter() - started, note=note)


def _last_error(log: str) -> str:
    """The most telling line of an nbgrader log: the last exception raised, else the last error."""
    lines = [line.strip() for line in log.splitlines() if line.strip()]
    raised = [line for line in lines if re.match(r"^[\w.]+(Error|Exception): ", line)]
    errors = [line for line in lines if "ERROR" in line]
    return (raised or errors or lines or ["no log"])[-1][:200]


def _fill_scores(workspace: Path, outcomes: list[Outcome]) -> None:
    from nbgrader.api import Gradebook, MissingEntry

    with Gradebook(f"sqlite:///{workspace / 'nbgrader' / 'gradebook.db'}") as gradebook:
        for outcome in outcomes:
            outcome.max_score = float(gradebook.find_assignment(outcome.assignment).max_score)
            if outcome.status == Status.GRADED or outcome.graded_before:
                try:
                    outcome.score = float(gradebook.find_submission(outcome.assignment, outcome.student).score)
                except MissingEntry:
                    outcome.score = None
            else:
                outcome.score = 0.0


# ---------------------------------------------------------------------------- benchmark


def benchmark_grading(n_students: int = 1, lessons: list[str] | None = None, workdir: Path | None = None,
                      solutions: Path = REPO_ROOT / "solutions", jobs: int | None = None) -> dict:
    """Time autograding ``n_students`` complete, correct submissions (all graded lessons).

    For the benchmark harness: returns ``{"students", "lessons", "seconds", "per_student_s",
    "per_notebook_s": {lesson: [seconds, ...]}, "all_full_marks"}``, measured in a fresh
    temporary grading folder. ``seconds`` covers collecting, autograding, feedback and
    grades.csv; building the gradebook (once per term, ~3 s a lesson) is excluded.
    """
    solutions = Path(solutions)
    lessons = lessons or lesson_names(solutions.parent, solutions.name)
    with tempfile.TemporaryDirectory(prefix="tl-grading-bench-", dir=workdir) as tmp:
        root = Path(tmp)
        submissions = root / "submissions"
        for index in range(n_students):
            for lesson in lessons:
                folder = submissions / f"student{index + 1:03d}" / lesson
                folder.mkdir(parents=True)
                shutil.copy(solutions / lesson / f"{lesson}.ipynb", folder)
        prepare_workspace(root / "grading", lessons, solutions)
        jobs = grading_jobs(jobs)
        run = grade(submissions, root / "grading", lessons, echo=lambda *_: None, solutions=solutions, jobs=jobs)
    per_notebook: dict[str, list[float]] = {lesson: [] for lesson in lessons}
    for outcome in run.outcomes:
        per_notebook[outcome.assignment].append(round(outcome.seconds, 2))
    return {
        "students": n_students,
        "jobs": jobs,
        "lessons": lessons,
        "seconds": round(run.seconds, 1),
        "per_student_s": round(run.seconds / n_students, 1),
        "per_notebook_s": per_notebook,
        "all_full_marks": all(o.status == Status.GRADED and o.score == o.max_score for o in run.outcomes),
    }

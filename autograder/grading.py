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
  ``student`` and ``assignment`` instead;
- archives (``.zip``, e.g. an LMS's bulk download): unpacked safely into the grading folder's
  ``unpacked/NAME/`` (``archives.py``: no symlinks, no ``..``, size and file-count caps) and read
  as a submissions folder of their own.

A symlink anywhere on the way to a notebook is never followed: that submission is ``refused``
(a link to the solutions, or to a classmate's folder, is nobody's work).

A notebook whose test cells did not run as written (``execute.py``), or whose code uses a known
way to cheat from inside the kernel (``scan.py``), gets the ``review`` status with the reason in
grades.csv's note: its score stands until a person has looked.

The submissions folder and the grading folder must not overlap (an original could be
overwritten): ``grade`` refuses.

Before any submission of a lesson runs, the ImageNet weights its graded cells load must be where
the sandbox finds them (``weights.py``): a lesson whose weights are missing is not graded at all
(its submissions are ``held``: not run, nothing recorded, one message with the fix), and the
other lessons are graded.

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
import zipfile
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from coursetools.paths import REPO_ROOT, lesson_names
from helpers.config import env_int, env_text

from . import archives, weights
from .execute import NOT_AS_WRITTEN
from .export import write_grades_csv
from .sandbox import check_for_grading, notebook_limits_note
from .scan import scan_notebook
from .submissions import Submission, check_notebook, collect, files_digest, nbgrader_layout_root
from .workspace import check_apart, load_api, prepare_workspace, read_state, write_state

__all__ = [
    "Status",
    "Outcome",
    "GradingRun",
    "grading_jobs",
    "grade",
    "benchmark_grading",
    "collect",
    "prepare_workspace",
    "write_grades_csv",
]


class Status(StrEnum):
    """What happened to one submission (the ``status`` column of grades.csv)."""

    GRADED = "graded"  # autograded now
    UNCHANGED = "unchanged"  # same files as a run before: not graded again
    CORRUPT = "corrupt"  # not a readable notebook: scored 0
    ERROR = "error"  # nbgrader or its process failed: re-run to retry
    MISSING = "missing"  # no notebook for the assignment: scored 0
    REFUSED = "refused"  # a symlink in the submission: never graded, scored 0
    REVIEW = "review"  # graded, but its tests did not run as written or it uses a cheating idiom
    HELD = "held"  # not run: its lesson's ImageNet weights are missing (weights.py); nothing recorded

    @property
    def counts_as_graded(self) -> bool:
        return self in (Status.GRADED, Status.UNCHANGED, Status.REVIEW)


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
    if requested is not None:
        if requested < 1:
            raise ValueError(f"grading jobs must be at least 1, got {requested} (--jobs)")
        return requested
    if env_text("TL_COURSE_GRADING_JOBS"):
        return env_int("TL_COURSE_GRADING_JOBS", 1)
    import psutil

    by_memory = int(psutil.virtual_memory().available // (3 * 2**30))
    return max(1, min(os.cpu_count() or 1, 4, by_memory))


def grade(
    submissions: Path,
    workspace: Path = REPO_ROOT / "grading",
    lessons: list[str] | None = None,
    pattern: str | None = None,
    echo=print,
    solutions: Path = REPO_ROOT / "solutions",
    jobs: int | None = None,
) -> GradingRun:
    """Autograde every new or changed submission, write feedback and grades.csv.

    ``jobs`` notebooks are graded at once, each in its own process (see ``grading_jobs``);
    the run's state and grades.csv are written by this process alone, after every notebook.
    """
    start = time.perf_counter()
    workspace = Path(workspace).resolve()
    if Path(submissions).is_dir():  # a missing folder is collect()'s error, with its fix
        check_apart(nbgrader_layout_root(Path(submissions)).resolve(), workspace)
    unsandboxed = check_for_grading(echo)  # stops here, with the fix, when bwrap is missing
    if not unsandboxed:
        echo(f"limits: {notebook_limits_note()}")
    assignments = prepare_workspace(workspace, lessons, solutions)
    found, unmatched = _collect_with_archives(Path(submissions), workspace, assignments, pattern)
    run = GradingRun(workspace, unmatched=unmatched)
    for line in unmatched:
        echo(f"not used   {line}")
    state = read_state(workspace)
    outcomes: dict[int, Outcome] = {}
    todo: list[tuple[int, Submission, str]] = []
    for index, sub in enumerate(found):
        if sub.refused:  # checked first: a digest would read through the link
            outcomes[index] = Outcome(sub.student, sub.assignment, Status.REFUSED, note=sub.refused)
            state["submissions"][f"{sub.student}/{sub.assignment}"] = {
                "sha256": "",
                "status": Status.REFUSED,
                "note": sub.refused,
            }
            continue
        digest = files_digest(sub.files) if sub.files else ""
        previous = state["submissions"].get(f"{sub.student}/{sub.assignment}")
        if previous and previous["sha256"] == digest and previous["status"] != Status.ERROR:
            outcomes[index] = Outcome(
                sub.student,
                sub.assignment,
                Status.UNCHANGED,
                note=previous.get("note", ""),
                graded_before=previous["status"] in (Status.GRADED, Status.REVIEW),
            )
        else:
            todo.append((index, sub, digest))
    held = _check_weights(workspace, todo, echo)  # before anything of a lesson runs
    for index, sub, _ in todo:
        if sub.assignment in held:
            outcomes[index] = Outcome(sub.student, sub.assignment, Status.HELD, note=HELD_NOTE)
    todo = [job for job in todo if job[1].assignment not in held]
    jobs = min(grading_jobs(jobs), max(1, len(todo)))
    _add_students(workspace, {sub.student for _, sub, _ in todo})
    if todo:
        echo(f"grading {len(todo)} notebook(s), {jobs} at a time ...")
    for done, (index, sub, digest, outcome) in enumerate(_grade_all(workspace, todo, jobs), 1):
        if unsandboxed and outcome.status in (Status.GRADED, Status.REVIEW):
            outcome.note = "; ".join(filter(None, (outcome.note, unsandboxed)))
        outcomes[index] = outcome
        state["submissions"][f"{sub.student}/{sub.assignment}"] = {
            "sha256": digest,
            "status": outcome.status,
            "note": outcome.note,
        }
        write_state(workspace, state)  # after every notebook: a stopped run keeps what it graded
        echo(f"[{done:>3}/{len(todo)}] {outcome.status:<8} {sub.student}/{sub.assignment} ({outcome.seconds:.1f} s)")
    run.outcomes = [outcomes[index] for index in range(len(found))]
    _fill_scores(workspace, run.outcomes)
    for outcome in run.outcomes:
        echo(outcome.line())
    write_grades_csv(workspace, state)
    run.seconds = time.perf_counter() - start
    unchanged = sum(o.status == Status.UNCHANGED for o in run.outcomes)
    waiting = sum(o.status == Status.HELD for o in run.outcomes)
    review = sum(o.status == Status.REVIEW for o in run.outcomes)
    echo(
        f"\n{len(run.outcomes) - unchanged - waiting} submission(s) handled, {unchanged} unchanged, in {run.seconds:.0f} s"
        + (f"; {review} marked for review (see the note in grades.csv)" if review else "")
        + (f"; {waiting} NOT graded, weights missing for {', '.join(sorted(held))} (see above)" if waiting else "")
    )
    echo(f"grades:   {run.grades_csv}")
    echo(f"feedback: {workspace / 'nbgrader' / 'feedback'}/STUDENT/ASSIGNMENT/ASSIGNMENT.html")
    return run


HELD_NOTE = "not graded: the lesson's ImageNet weights are missing (see the message above); nothing recorded"


def _check_weights(workspace: Path, todo: list, echo) -> dict[str, str]:
    """Lessons of ``todo`` whose graded cells need weights the sandbox cannot find: lesson -> message
    (echoed). Read from the grading folder's snapshot of the solutions, what the gradebook holds."""
    counts: dict[str, int] = {}
    for _, sub, _ in todo:
        counts[sub.assignment] = counts.get(sub.assignment, 0) + 1
    lessons = {lesson: workspace / "solutions" / lesson / f"{lesson}.ipynb" for lesson in sorted(counts)}
    return weights.preflight(lessons, echo, counts)


def _collect_with_archives(
    submissions: Path, workspace: Path, assignments: list[str], pattern: str | None
) -> tuple[list[Submission], list[str]]:
    """``collect`` on the submissions folder, then on each ``.zip`` in it, unpacked safely into
    ``WORKSPACE/unpacked/NAME/`` (afresh every run). A submission found twice keeps the newer."""
    found, unmatched = collect(submissions, assignments, pattern)
    if not submissions.is_dir():
        return found, unmatched
    root = nbgrader_layout_root(submissions)
    unpacked = workspace / "unpacked"
    if unpacked.exists():
        shutil.rmtree(unpacked)
    unmatched = [line for line in unmatched if ": an archive, not graded" not in line]
    by_key = {(s.student, s.assignment): s for s in found}
    for archive in sorted(root.rglob("*.zip")):
        relative = archive.relative_to(root)
        dest = unpacked / relative.with_suffix("")
        try:
            count = archives.unpack(archive, dest)
        except (archives.UnsafeArchive, zipfile.BadZipFile, OSError) as err:
            unmatched.append(f"{relative}: archive refused, not unpacked ({err}); ask for the notebook itself")
            continue
        inner, inner_unmatched = collect(dest, assignments, pattern)
        unmatched += [f"{relative}/{line}" for line in inner_unmatched]
        if not inner:
            unmatched.append(f"{relative}: unpacked {count} file(s), but no submission recognised in it")
        for sub in inner:
            sub.origin = f"{relative}: {sub.origin}"
            key = (sub.student, sub.assignment)
            if key in by_key and by_key[key].order >= sub.order:
                unmatched.append(f"{sub.origin}: an older or duplicate submission of {key[0]}/{key[1]}, not used")
                continue
            by_key[key] = sub
    return sorted(by_key.values(), key=lambda s: (s.assignment, s.student)), unmatched


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
        futures = {pool.submit(_grade_in_worker, str(workspace), sub): (index, sub, digest) for index, sub, digest in todo}
        for future in as_completed(futures):
            index, sub, digest = futures[future]
            try:
                outcome = future.result()
            except Exception as err:  # a worker that died (killed, out of memory): this notebook only
                outcome = Outcome(
                    sub.student,
                    sub.assignment,
                    Status.ERROR,
                    note=f"the grading process failed ({type(err).__name__}: {err}); re-run to retry",
                )
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
    shutil.copy(chosen[0], target / expected, follow_symlinks=False)
    flagged = _scan(target / expected)
    if sub.timestamp:
        (target / "timestamp.txt").write_text(sub.timestamp)
    result = api.autograde(sub.assignment, sub.student, force=True, create=True)
    if not result["success"]:
        reason = _last_error(result.get("log", ""))
        return Outcome(
            sub.student,
            sub.assignment,
            Status.ERROR,
            seconds=time.perf_counter() - started,
            note=f"nbgrader could not grade it ({reason}); see the log above, fix, and re-run",
        )
    feedback = api.generate_feedback(sub.assignment, sub.student, force=True)
    if not feedback["success"]:
        note = (note + "; " if note else "") + "feedback not written: " + _last_error(feedback.get("log", ""))
    autograded = workspace / "nbgrader" / "autograded" / sub.student / sub.assignment / expected
    review = [*_not_as_written(autograded), *([f"flagged for review: {', '.join(flagged)}"] if flagged else [])]
    note = "; ".join(filter(None, (note, *review)))
    return Outcome(
        sub.student, sub.assignment, Status.REVIEW if review else Status.GRADED, seconds=time.perf_counter() - started, note=note
    )


def _scan(notebook: Path) -> list[str]:
    import nbformat

    return scan_notebook(nbformat.read(notebook, as_version=4))


def _not_as_written(autograded: Path) -> list[str]:
    """A note naming the test cells that did not run as written (``execute.py``), if any."""
    import nbformat

    try:
        notebook = nbformat.read(autograded, as_version=4)
    except (OSError, ValueError):
        return []
    cells = [
        cell.metadata.get("nbgrader", {}).get("grade_id") or f"cell {i + 1}"
        for i, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and any(out.get("ename") == NOT_AS_WRITTEN for out in cell.get("outputs", []))
    ]
    if not cells:
        return []
    return [f"tests did not run as written ({', '.join(cells)}): scored 0, check the notebook"]


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
            if outcome.status == Status.HELD:
                outcome.score = None  # not graded, not zero
            elif outcome.status in (Status.GRADED, Status.REVIEW) or outcome.graded_before:
                try:
                    outcome.score = float(gradebook.find_submission(outcome.assignment, outcome.student).score)
                except MissingEntry:
                    outcome.score = None
            else:
                outcome.score = 0.0


# ---------------------------------------------------------------------------- benchmark


def benchmark_grading(
    n_students: int = 1,
    lessons: list[str] | None = None,
    workdir: Path | None = None,
    solutions: Path = REPO_ROOT / "solutions",
    jobs: int | None = None,
) -> dict:
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
        # full marks = every autograded point; manually graded answers (lesson 06) score 0 until a person grades them
        "all_full_marks": all(
            o.status == Status.GRADED
            and o.score == o.max_score - _manual_points(solutions / o.assignment / f"{o.assignment}.ipynb")
            for o in run.outcomes
        ),
    }


def _manual_points(notebook: Path) -> float:
    """Points of a notebook's manually graded answers (nbgrader cells that are both grade and solution)."""
    import nbformat

    cells = nbformat.read(notebook, as_version=4).cells
    flags = [c.metadata.get("nbgrader", {}) for c in cells]
    return sum(float(f.get("points", 0)) for f in flags if f.get("grade") and f.get("solution"))

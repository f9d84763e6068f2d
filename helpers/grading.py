"""Grade a class: ``make grade SUBMISSIONS=<dir>`` / ``python -m helpers grade <dir>``.

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

import csv
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
STATE_FILE = "grading_state.json"
_INBOUND = re.compile(r"^(?P<student>[^+]+)\+(?P<assignment>[^+]+)\+(?P<timestamp>[^+]+)(\+.*)?$")


@dataclass
class Submission:
    """One student's work on one assignment, as found in the submissions folder."""

    student: str
    assignment: str
    files: list[Path]  # notebooks found for it
    origin: str  # where it came from, for the report
    timestamp: str = ""  # nbgrader's submission time, when the layout records one
    note: str = ""
    order: str = ""  # which of two submissions of one student is newer (timestamp, else file time)


@dataclass
class Outcome:
    student: str
    assignment: str
    status: str  # graded, unchanged, corrupt, error, missing
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


def _sha256(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _student_id(text: str) -> str:
    """A gradebook-safe student id from a name or file-name word."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", text.strip()).strip("-.")
    return cleaned or "unknown"


# ---------------------------------------------------------------------------- collecting


def collect(folder: Path, assignments: list[str], pattern: str | None = None) -> tuple[list[Submission], list[str]]:
    """Submissions found in ``folder`` (any layout above), and lines about files not used."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(
            f"no submissions folder {folder}: pass the folder holding the students' notebooks, "
            "e.g. make grade SUBMISSIONS=~/Downloads/submissions")
    folder = _nbgrader_layout_root(folder)
    found: dict[tuple[str, str], Submission] = {}
    used: set[Path] = set()
    unmatched: list[str] = []

    def add(sub: Submission) -> None:
        key = (sub.student, sub.assignment)
        sub.order = sub.order or sub.timestamp
        if key in found and found[key].order >= sub.order:
            unmatched.append(f"{sub.origin}: an older or duplicate submission of {key[0]}/{key[1]}, not used")
            return
        if key in found:
            unmatched.append(f"{found[key].origin}: an older submission of {key[0]}/{key[1]}, "
                             f"superseded by {sub.origin}")
        found[key] = sub

    for entry in sorted(p for p in folder.iterdir() if p.is_dir()):
        inbound = _INBOUND.match(entry.name)
        if inbound and inbound["assignment"] in assignments:
            add(Submission(_student_id(inbound["student"]), inbound["assignment"], _notebooks(entry),
                           str(entry), inbound["timestamp"]))
            used.add(entry)
            continue
        for sub_dir in sorted(p for p in entry.iterdir() if p.is_dir() and p.name in assignments):
            stamp = sub_dir / "timestamp.txt"
            add(Submission(_student_id(entry.name), sub_dir.name, _notebooks(sub_dir), str(sub_dir),
                           stamp.read_text().strip() if stamp.is_file() else ""))
            used.add(sub_dir)

    regexp = re.compile(pattern) if pattern else None
    for path in sorted(folder.rglob("*.ipynb")):
        if ".ipynb_checkpoints" in path.parts or any(parent in used for parent in path.parents):
            continue
        relative = path.relative_to(folder)
        if regexp:
            match = regexp.search(str(relative))
            student = match["student"] if match else None
            assignment = match["assignment"] if match else None
        else:
            assignment = _lesson_in(relative, assignments)
            student = _lms_student(relative, assignment) if assignment else None
            if assignment and not student:
                unmatched.append(f"{relative}: no student name in its name or folder, not graded "
                                 "(rename it STUDENT_..., put it in a folder named after the student, or pass --pattern)")
                continue
        if not student or assignment not in assignments:
            unmatched.append(f"{relative}: no student/assignment recognised in its name, not graded "
                             f"(expected a lesson name: {', '.join(assignments)}; or pass --pattern)")
            continue
        # a download's file time is not the submission time: it only orders duplicates
        add(Submission(_student_id(student), assignment, [path], str(relative),
                       note=f"from {relative.name}", order=_mtime(path)))
    for archive in sorted(folder.rglob("*.zip")):
        unmatched.append(f"{archive.relative_to(folder)}: an archive, not graded: unpack it into the "
                         f"submissions folder (e.g. `unzip -d {archive.with_suffix('')} {archive}`) and run again")
    return sorted(found.values(), key=lambda s: (s.assignment, s.student)), unmatched


def _nbgrader_layout_root(folder: Path) -> Path:
    """The folder of students' submissions inside a course folder or an nbgrader exchange.

    ``COURSE/submitted`` and ``COURSE/nbgrader/submitted`` (this course's own layout) hold
    ``STUDENT/ASSIGNMENT/``; an exchange's ``COURSE_ID/inbound`` (or an exchange root with a
    single course) holds ``STUDENT+ASSIGNMENT+TIMESTAMP/``. Without this, the course or exchange
    folder's own name would be taken for one student and everyone merged into it.
    """
    for inner in (folder / "submitted", folder / "nbgrader" / "submitted", folder / "inbound"):
        if inner.is_dir():
            return inner
    courses = sorted(p for p in folder.glob("*/inbound") if p.is_dir())
    if len(courses) > 1:
        raise ValueError(f"{folder} is an nbgrader exchange with several courses "
                         f"({', '.join(p.parent.name for p in courses)}): pass one course's inbound folder, "
                         f"e.g. {courses[0]}")
    return courses[0] if courses else folder


def _lms_student(relative: Path, assignment: str) -> str:
    """The student of an LMS download, as nbgrader's ``zip_collect`` names them.

    The owner is the top folder (Moodle: ``Jane Doe_1234_assignsubmission_file_/``) or the file
    name (Canvas: ``jdoe_LATE_1234_5678_01_concepts-1.ipynb``; Blackboard:
    ``01_concepts_jdoe_attempt_2026-01-01-10-00-00_x.ipynb``). The student is its first word,
    with the LMS's numeric user id when one follows, so two students who share a name stay apart
    ("" when the name holds none).
    """
    owner = relative.parts[0] if len(relative.parts) > 1 else relative.stem
    if "_attempt_" in owner:  # Blackboard: ASSIGNMENT_STUDENT_attempt_TIMESTAMP[_FILE]
        return owner.split("_attempt_")[0].replace(assignment, "").strip("_ ")
    first, *rest = (word.strip() for word in owner.replace(assignment, " ").split("_"))
    rest = [word for word in rest if word and word != "LATE"]
    return f"{first}_{rest[0]}" if first and rest and rest[0].isdigit() else first


def _notebooks(folder: Path) -> list[Path]:
    return sorted(p for p in folder.glob("*.ipynb"))


def _mtime(path: Path) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(path.stat().st_mtime))


def _lesson_in(relative: Path, assignments: list[str]) -> str | None:
    """The longest lesson name in the file name, else in its folders' names."""
    for text in (relative.name, str(relative.parent)):
        hits = [name for name in assignments if name in text]
        if hits:
            return max(hits, key=len)
    return None


def _check_notebook(path: Path) -> str:
    """'' if ``path`` is a readable notebook, else what is wrong with it."""
    import nbformat

    try:
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
    except Exception as err:  # JSON errors, schema errors, binary junk, empty files
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        first_line = re.split(r""": ['"]""", first_line)[0]  # not the file's contents
        return (f"{path.name} is not a valid notebook ({type(err).__name__}: {first_line[:120]}); "
                "ask the student to download it again (File > Download) and re-submit")
    return ""


# ---------------------------------------------------------------------------- the workspace


def _load_api(workspace: Path):
    from nbgrader.apps import NbGraderAPI
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(workspace)).load_config()
    config.CourseDirectory.root = str(workspace)
    # the API sets up an exchange even though grading never uses it: keep it in the workspace
    (workspace / "exchange").mkdir(parents=True, exist_ok=True)
    config.Exchange.root = str(workspace / "exchange")
    return NbGraderAPI(config=config)


def prepare_workspace(workspace: Path, lessons: list[str] | None = None,
                      solutions: Path = REPO_ROOT / "solutions") -> list[str]:
    """A grading folder with the repo's nbgrader config, a snapshot of solutions/, a gradebook.

    Returns the assignments. A gradebook refuses a changed set of notebooks, so grading goes on
    against the snapshot taken the first time; a changed solution is an error that says what to do.
    """
    from .course import lesson_names

    workspace = Path(workspace).resolve()
    solutions = Path(solutions)
    lessons = lessons or lesson_names(solutions.parent, solutions.name)
    state = _read_state(workspace)
    workspace.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO_ROOT / "nbgrader_config.py", workspace / "nbgrader_config.py")
    (workspace / "nbgrader").mkdir(exist_ok=True)
    # nbgrader creates the gradebook with alembic, which must be on PATH
    os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", "")
    api = None
    for lesson in lessons:
        source = solutions / lesson / f"{lesson}.ipynb"
        digest = _sha256([source])
        known = state["solutions"].get(lesson)
        if known == digest:
            continue
        if known is not None:
            raise RuntimeError(
                f"solutions/{lesson} changed since grading started in {workspace}; its gradebook "
                "cannot take a changed notebook. Grade with the old version (restore it), or start "
                f"a new grading folder (GRADING_DIR=... or delete {workspace}) and grade everyone again.")
        target = workspace / "solutions" / lesson
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(solutions / lesson, target,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        api = api or _load_api(workspace)
        result = api.generate_assignment(lesson, force=True, create=True)
        if not result["success"]:
            raise RuntimeError(f"nbgrader could not build the gradebook entry for {lesson}:\n{result['log'][-3000:]}")
        state["solutions"][lesson] = digest
        _write_state(workspace, state)
    _use_wal(workspace / "nbgrader" / "gradebook.db")
    return lessons


def _use_wal(database: Path) -> None:
    """Write-ahead logging: parallel graders read the gradebook while one of them writes."""
    import sqlite3

    if database.is_file():
        with sqlite3.connect(database, timeout=30) as connection:
            connection.execute("PRAGMA journal_mode=WAL")


def _read_state(workspace: Path) -> dict:
    path = Path(workspace) / STATE_FILE
    if path.is_file():
        return json.loads(path.read_text())
    return {"solutions": {}, "submissions": {}}


def _write_state(workspace: Path, state: dict) -> None:
    path = Path(workspace) / STATE_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=1, sort_keys=True))
    tmp.replace(path)  # atomic: an interrupted run never leaves a half-written state


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
        _check_apart(_nbgrader_layout_root(Path(submissions)).resolve(), workspace)
    from autograder.sandbox import check_for_grading

    unsandboxed = check_for_grading(echo)  # stops here, with the fix, when bwrap is missing
    assignments = prepare_workspace(workspace, lessons, solutions)
    found, unmatched = collect(Path(submissions), assignments, pattern)
    run = GradingRun(workspace, unmatched=unmatched)
    for line in unmatched:
        echo(f"not used   {line}")
    state = _read_state(workspace)
    outcomes: dict[int, Outcome] = {}
    todo: list[tuple[int, Submission, str]] = []
    for index, sub in enumerate(found):
        digest = _sha256(sub.files) if sub.files else ""
        previous = state["submissions"].get(f"{sub.student}/{sub.assignment}")
        if previous and previous["sha256"] == digest and previous["status"] != "error":
            outcomes[index] = Outcome(sub.student, sub.assignment, "unchanged", note=previous.get("note", ""),
                                      graded_before=previous["status"] == "graded")
        else:
            todo.append((index, sub, digest))
    jobs = min(grading_jobs(jobs), max(1, len(todo)))
    _add_students(workspace, {sub.student for _, sub, _ in todo})
    if todo:
        echo(f"grading {len(todo)} notebook(s), {jobs} at a time ...")
    for done, (index, sub, digest, outcome) in enumerate(_grade_all(workspace, todo, jobs), 1):
        if unsandboxed and outcome.status == "graded":
            outcome.note = "; ".join(filter(None, (outcome.note, unsandboxed)))
        outcomes[index] = outcome
        state["submissions"][f"{sub.student}/{sub.assignment}"] = {
            "sha256": digest, "status": outcome.status, "note": outcome.note}
        _write_state(workspace, state)  # after every notebook: a stopped run keeps what it graded
        echo(f"[{done:>3}/{len(todo)}] {outcome.status:<8} {sub.student}/{sub.assignment} ({outcome.seconds:.1f} s)")
    run.outcomes = [outcomes[index] for index in range(len(found))]
    _fill_scores(workspace, run.outcomes)
    for outcome in run.outcomes:
        echo(outcome.line())
    write_grades_csv(workspace, state)
    run.seconds = time.perf_counter() - start
    graded = sum(o.status != "unchanged" for o in run.outcomes)
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


def _check_apart(submissions: Path, workspace: Path) -> None:
    """Grading writes into the workspace (and replaces its copies of submissions): it must never
    overlap the folder of the students' originals, or an original could be overwritten."""
    if submissions == workspace or submissions in workspace.parents or workspace in submissions.parents:
        raise ValueError(
            f"the submissions folder ({submissions}) and the grading folder ({workspace}) overlap; "
            "grading writes into the grading folder, so keep the students' files elsewhere: copy them "
            "out (e.g. cp -r nbgrader/submitted ~/class-submissions) or pass another GRADING_DIR=...")


def _grade_all(workspace: Path, todo: list, jobs: int):
    """Yield ``(index, submission, digest, outcome)`` as each notebook is graded."""
    if jobs <= 1:
        api = _load_api(workspace)
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
                outcome = Outcome(sub.student, sub.assignment, "error",
                                  note=f"the grading process failed ({type(err).__name__}: {err}); re-run to retry")
            yield index, sub, digest, outcome


_WORKER_API: dict[str, object] = {}


def _grade_in_worker(workspace: str, sub: Submission) -> Outcome:
    import warnings

    warnings.filterwarnings("ignore", module="nbgrader")  # SQLAlchemy chatter from nbgrader's gradebook
    if workspace not in _WORKER_API:
        _WORKER_API[workspace] = _load_api(Path(workspace))
    return _grade_safely(_WORKER_API[workspace], Path(workspace), sub)


def _grade_safely(api, workspace: Path, sub: Submission, attempts: int = 4) -> Outcome:
    """``_grade_one``, retried when another grading process held the gradebook too long."""
    import random

    for attempt in range(attempts):
        outcome = _grade_one(api, workspace, sub)
        if not (outcome.status == "error" and "database is locked" in outcome.note) or attempt == attempts - 1:
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
        return Outcome(sub.student, sub.assignment, "missing", note=f"no {expected} (found: {names}); scored 0")
    problem = _check_notebook(chosen[0])
    if problem:
        return Outcome(sub.student, sub.assignment, "corrupt", note=problem + "; scored 0")
    shutil.copy(chosen[0], target / expected)
    if sub.timestamp:
        (target / "timestamp.txt").write_text(sub.timestamp)
    result = api.autograde(sub.assignment, sub.student, force=True, create=True)
    if not result["success"]:
        reason = _last_error(result.get("log", ""))
        return Outcome(sub.student, sub.assignment, "error", seconds=time.perf_counter() - started,
                       note=f"nbgrader could not grade it ({reason}); see the log above, fix, and re-run")
    feedback = api.generate_feedback(sub.assignment, sub.student, force=True)
    if not feedback["success"]:
        note = (note + "; " if note else "") + "feedback not written: " + _last_error(feedback.get("log", ""))
    return Outcome(sub.student, sub.assignment, "graded", seconds=time.perf_counter() - started, note=note)


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
            if outcome.status == "graded" or outcome.graded_before:
                try:
                    outcome.score = float(gradebook.find_submission(outcome.assignment, outcome.student).score)
                except MissingEntry:
                    outcome.score = None
            else:
                outcome.score = 0.0


def write_grades_csv(workspace: Path, state: dict | None = None) -> Path:
    """grades.csv from the gradebook and the run's state: one row per student and assignment."""
    from nbgrader.api import Gradebook, MissingEntry

    state = state or _read_state(workspace)
    rows = []
    with Gradebook(f"sqlite:///{workspace / 'nbgrader' / 'gradebook.db'}") as gradebook:
        for key, entry in sorted(state["submissions"].items()):
            student, assignment = key.split("/", 1)
            max_score = float(gradebook.find_assignment(assignment).max_score)
            score = 0.0
            if entry["status"] == "graded":
                try:
                    score = float(gradebook.find_submission(assignment, student).score)
                except MissingEntry:
                    entry = dict(entry, status="error", note="graded but missing from the gradebook; re-run")
            rows.append([student, assignment, f"{score:g}", f"{max_score:g}", entry["status"], entry.get("note", "")])
    path = workspace / "grades.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["student", "assignment", "score", "max", "status", "note"])
        writer.writerows(rows)
    return path


# ---------------------------------------------------------------------------- benchmark


def benchmark_grading(n_students: int = 1, lessons: list[str] | None = None, workdir: Path | None = None,
                      solutions: Path = REPO_ROOT / "solutions", jobs: int | None = None) -> dict:
    """Time autograding ``n_students`` complete, correct submissions (all graded lessons).

    For the benchmark harness: returns ``{"students", "lessons", "seconds", "per_student_s",
    "per_notebook_s": {lesson: [seconds, ...]}, "all_full_marks"}``, measured in a fresh
    temporary grading folder. ``seconds`` covers collecting, autograding, feedback and
    grades.csv; building the gradebook (once per term, ~3 s a lesson) is excluded.
    """
    from .course import lesson_names

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
        "all_full_marks": all(o.status == "graded" and o.score == o.max_score for o in run.outcomes),
    }

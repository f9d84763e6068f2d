"""Collecting submissions: the students' notebooks found in a folder, in any layout ``grade`` accepts.

Layouts (mixed freely): nbgrader's ``STUDENT/ASSIGNMENT/*.ipynb`` (what ``nbgrader collect``
writes under ``submitted/``; a course folder holding ``submitted/`` or ``nbgrader/submitted/``
works too); the exchange's inbound folders ``STUDENT+ASSIGNMENT+TIMESTAMP[+...]/`` (the latest
one per student wins); files downloaded from an LMS, one per student, as nbgrader's
``zip_collect`` names them (see ``_lms_student``), or matched by ``--pattern``.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

from nbgrader.plugins import FileNameCollectorPlugin
from traitlets import List, Unicode

__all__ = ["Submission", "LmsCollectorPlugin", "collect", "check_notebook", "files_digest", "nbgrader_layout_root"]


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
    refused: str = ""  # why it is not graded at all (a symlink on the way to it), else ""


def files_digest(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _student_id(text: str) -> str:
    """A gradebook-safe student id from a name or file-name word."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", text.strip()).strip("-.")
    return cleaned or "unknown"


def collect(folder: Path, assignments: list[str], pattern: str | None = None) -> tuple[list[Submission], list[str]]:
    """Submissions found in ``folder`` (any layout above), and lines about files not used."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(
            f"no submissions folder {folder}: pass the folder holding the students' notebooks, "
            "e.g. make grade SUBMISSIONS=~/Downloads/submissions"
        )
    folder = nbgrader_layout_root(folder)
    found: dict[tuple[str, str], Submission] = {}
    used: set[Path] = set()
    unmatched: list[str] = []

    def add(sub: Submission) -> None:
        link = next(filter(None, (_link_on_path(p, folder) for p in [Path(sub.origin), *sub.files])), None)
        if link is not None:
            sub.refused = (
                f"refused: {link.relative_to(folder)} is a symlink (to {os.readlink(link)}); "
                "a link is never graded as anyone's work, ask for the notebook itself"
            )
            sub.files = []
        key = (sub.student, sub.assignment)
        sub.order = sub.order or sub.timestamp
        if key in found and found[key].order >= sub.order:
            unmatched.append(f"{sub.origin}: an older or duplicate submission of {key[0]}/{key[1]}, not used")
            return
        if key in found:
            unmatched.append(f"{found[key].origin}: an older submission of {key[0]}/{key[1]}, superseded by {sub.origin}")
        found[key] = sub

    for entry in sorted(p for p in folder.iterdir() if p.is_dir()):
        inbound = _INBOUND.match(entry.name)
        if inbound and inbound["assignment"] in assignments:
            add(
                Submission(
                    _student_id(inbound["student"]), inbound["assignment"], _notebooks(entry), str(entry), inbound["timestamp"]
                )
            )
            used.add(entry)
            continue
        for sub_dir in sorted(p for p in entry.iterdir() if p.is_dir() and p.name in assignments):
            stamp = sub_dir / "timestamp.txt"
            add(
                Submission(
                    _student_id(entry.name),
                    sub_dir.name,
                    _notebooks(sub_dir),
                    str(sub_dir),
                    stamp.read_text().strip() if stamp.is_file() else "",
                )
            )
            used.add(sub_dir)

    collector = LmsCollectorPlugin(assignments=list(assignments), pattern=pattern or "")
    for path in sorted(folder.rglob("*.ipynb")):
        if ".ipynb_checkpoints" in path.parts or any(parent in used for parent in path.parents):
            continue
        relative = path.relative_to(folder)
        found_ids = collector.collect(str(relative))
        if found_ids is None:
            if not pattern and _lesson_in(relative, assignments):
                unmatched.append(
                    f"{relative}: no student name in its name or folder, not graded "
                    "(rename it STUDENT_..., put it in a folder named after the student, or pass --pattern)"
                )
            else:
                unmatched.append(
                    f"{relative}: no student/assignment recognised in its name, not graded "
                    f"(expected a lesson name: {', '.join(assignments)}; or pass --pattern)"
                )
            continue
        student, assignment = found_ids["student_id"], found_ids["assignment"]
        # a download's file time is not the submission time: it only orders duplicates
        add(Submission(_student_id(student), assignment, [path], str(relative), note=f"from {relative.name}", order=_mtime(path)))
    for archive in sorted(folder.rglob("*.zip")):
        unmatched.append(
            f"{archive.relative_to(folder)}: an archive, not graded here (`make grade` unpacks "
            "the archives of the submissions folder, not archives inside archives)"
        )
    return sorted(found.values(), key=lambda s: (s.assignment, s.student)), unmatched


class LmsCollectorPlugin(FileNameCollectorPlugin):
    """nbgrader's file-name collector for this course: the assignment is the lesson name found in
    the path, the student as ``_lms_student`` reads LMS downloads (or both from ``pattern``, a
    regular expression with named groups ``student`` and ``assignment``).

    ``collect`` uses it for downloaded files; ``nbgrader zip_collect`` can use it too
    (``c.ZipCollectApp.collector_plugin = "autograder.submissions.LmsCollectorPlugin"``).
    """

    assignments = List(Unicode(), help="the course's assignments (lesson names)").tag(config=True)
    pattern = Unicode("", help="regex with named groups student and assignment, searched in the path").tag(config=True)

    def collect(self, submitted_file: str) -> dict | None:
        """``{"student_id", "assignment", "file_id"}`` of a notebook path, None when not recognised."""
        relative = Path(submitted_file)
        if relative.suffix not in self.valid_ext:
            return None
        if self.pattern:
            match = re.search(self.pattern, str(relative))
            student = match["student"] if match else None
            assignment = match["assignment"] if match else None
        else:
            assignment = _lesson_in(relative, self.assignments)
            student = _lms_student(relative, assignment) if assignment else None
        if not student or assignment not in self.assignments:
            return None
        return {"student_id": student, "assignment": assignment, "file_id": relative.name}


def nbgrader_layout_root(folder: Path) -> Path:
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
        raise ValueError(
            f"{folder} is an nbgrader exchange with several courses "
            f"({', '.join(p.parent.name for p in courses)}): pass one course's inbound folder, "
            f"e.g. {courses[0]}"
        )
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


def _link_on_path(path: Path, root: Path) -> Path | None:
    """The first symlink among ``path`` and its folders below ``root`` (None when there is none)."""
    try:
        relative = Path(path).relative_to(root)
    except ValueError:
        return None
    current = root
    for part in relative.parts:
        current = current / part
        if current.is_symlink():
            return current
    return None


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


def check_notebook(path: Path) -> str:
    """'' if ``path`` is a readable notebook, else what is wrong with it."""
    import nbformat

    try:
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
    except Exception as err:  # JSON errors, schema errors, binary junk, empty files
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        first_line = re.split(r""": ['"]""", first_line)[0]  # not the file's contents
        return (
            f"{path.name} is not a valid notebook ({type(err).__name__}: {first_line[:120]}); "
            "ask the student to download it again (File > Download) and re-submit"
        )
    return ""

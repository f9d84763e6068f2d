"""Grading instructors can trust: a torture corpus through ``autograder.grading.grade``.

For each lesson, in a fresh grading folder: the released blank, wrong answers, an object equal
to everything, raising, sys.exit(), os._exit(), an endless loop, a flood of output, stderr, a
tampered and a deleted test cell, corrupt JSON, then (re-run) nothing is graded twice, and a
late, renamed, correct submission is graded alone, after all the bad ones, with full marks.
(This replaces the former test_autograde.py: full / blank / partial are covered here.)
"""

from __future__ import annotations

import copy
import csv
import hashlib
import os
import subprocess
import sys

import nbformat
import pytest
from conftest import REPO_ROOT, lesson_names
from grading_corpus import autograded_size, build, expected_scores, fairness, late_correct, write

from autograder.grading import collect, grade, grading_jobs, prepare_workspace
from autograder.execute import SKIPPED_NOTE

LESSONS = lesson_names()
CELL_TIMEOUT = "20"  # fairness: no submission loops; the slowest test cell (lesson 03) takes 2 s alone
# The corpus's endless loops run until this cut (one spins a core all along): 8 s is 4x the slowest graded
# test or solution cell of any lesson alone (lesson 03's, 2 s); locked setup cells have their own timeout.
CORPUS_CELL_TIMEOUT = "8"
JOBS = 2  # the corpus is graded two notebooks at a time: crashes and loops must not disturb the other
# The whole corpus tests the grader's mechanics (crashes, loops, floods, tampering, re-runs, late and
# renamed files), which are the same code for every lesson: make test runs it on the quiz (the cheapest
# kernel) and on lesson 04 (a framework kernel with state to replay after a crash, and its classic
# slip). What depends on a lesson (its stubs, its tests, its files in the sandbox) is graded for every
# lesson by test_each_lessons_tests_are_fair. GRADING_ALL_LESSONS=1 runs the whole corpus on every lesson.
CORPUS_LESSONS = ("04_pytorch_resnet18", "05_quiz")


def _solutions_copy(tmp_path, lesson):
    folder = tmp_path / "solutions"
    path = folder / lesson / f"{lesson}.ipynb"
    path.parent.mkdir(parents=True)
    notebook = nbformat.read(REPO_ROOT / "solutions" / lesson / f"{lesson}.ipynb", as_version=4)
    nbformat.write(notebook, path)
    return folder, notebook


def _cell_scores(workspace, lesson, student):
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{workspace / 'nbgrader' / 'gradebook.db'}") as gradebook:
        submission = gradebook.find_submission(lesson, student)
        return {g.name: float(g.score) for nb in submission.notebooks for g in nb.grades}


def _slip(solution):
    """Lesson 04: a classic slip, unfreezing the top stages without freezing the rest first (the tests start all-trainable)."""
    from grading_corpus import Crafted

    notebook = copy.deepcopy(solution)
    freeze_first = "    for parameter in model.parameters():\n        parameter.requires_grad = False\n"
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "ex2_stages":
            assert freeze_first in cell.source, "update the slip with the solution"
            cell.source = cell.source.replace(freeze_first, "")
    return Crafted("plausible_slip", notebook, loses={"ex2_stages"})


def _digests(folder):
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def _grade_and_check(lesson, tmp_path, corpus_of):
    """Grade the crafted submissions ``corpus_of(lesson, solution, released)`` in a fresh grading
    folder (sandboxed, as `make grade` does: when bwrap is missing the run stops and says so) and
    check each one's status and every test cell's score against what it deserves."""
    solutions, solution = _solutions_copy(tmp_path, lesson)
    workspace = tmp_path / "grading"
    prepare_workspace(workspace, [lesson], solutions)
    released = nbformat.read(workspace / "lessons" / lesson / f"{lesson}.ipynb", as_version=4)
    corpus = corpus_of(lesson, solution, released)
    if lesson == "04_pytorch_resnet18":
        corpus.append(_slip(solution))
    submissions = tmp_path / "submissions"
    for crafted in corpus:
        write(submissions, lesson, crafted)

    originals = _digests(submissions)
    lines: list[str] = []
    run = grade(submissions, workspace, [lesson], solutions=solutions, echo=lines.append, jobs=JOBS)
    assert _digests(submissions) == originals, "grading changed or removed a student's file"
    report = "\n".join(lines)
    outcomes = {o.student: o for o in run.outcomes}
    assert set(outcomes) == {c.student for c in corpus}, report
    for crafted in corpus:
        outcome = outcomes[crafted.student]
        assert outcome.status == crafted.status, f"{crafted.student}: {outcome.line()}\n{report}"
        if crafted.status not in ("graded", "review"):
            assert outcome.score == 0 and outcome.note, outcome.line()
            continue
        expected = expected_scores(solution, crafted)
        assert _cell_scores(workspace, lesson, crafted.student) == expected, f"{crafted.student}\n{report}"
        assert run.feedback(crafted.student, lesson).is_file()
    (correct,) = [c for c in corpus if c.student == "zz_correct_after_the_bad_ones"]
    assert outcomes[correct.student].score == sum(expected_scores(solution, correct).values()) > 0, report
    # walkthrough cells were skipped, and the feedback says so
    if any(c.cell_type == "code" and "nbgrader" not in c.metadata for c in solution.cells):
        assert SKIPPED_NOTE.strip() in run.feedback("blank", lesson).read_text()
    return solutions, solution, workspace, submissions, corpus, run, originals


def _whole_corpus(lesson: str) -> bool:
    return lesson in CORPUS_LESSONS or os.environ.get("GRADING_ALL_LESSONS") == "1"


def _wanted(lesson: str) -> None:
    if not _whole_corpus(lesson):
        pytest.skip(
            f"make test grades the whole corpus for {' and '.join(CORPUS_LESSONS)} (the grader's mechanics are the "
            "same for every lesson; test_each_lessons_tests_are_fair grades this one); GRADING_ALL_LESSONS=1 runs it"
        )


@pytest.mark.parametrize("lesson", LESSONS)
def test_each_lessons_tests_are_fair(lesson, tmp_path, monkeypatch):
    """Every lesson, in the sandbox with its own files: the blank, wrong answers and an object equal
    to everything score 0 (the last flagged for review), the solution scores every autograded point
    (lesson 04: a classic slip loses its exercise)."""
    if _whole_corpus(lesson):
        pytest.skip("test_torture_corpus grades this lesson's whole corpus, these submissions included")
    monkeypatch.setenv("TL_COURSE_CELL_TIMEOUT", CELL_TIMEOUT)
    _grade_and_check(lesson, tmp_path, lambda _lesson, solution, released: fairness(solution, released))


@pytest.mark.parametrize("lesson", LESSONS)
def test_torture_corpus(lesson, tmp_path, monkeypatch):
    _wanted(lesson)
    monkeypatch.setenv("TL_COURSE_CELL_TIMEOUT", CORPUS_CELL_TIMEOUT)
    solutions, solution, workspace, submissions, corpus, run, originals = _grade_and_check(lesson, tmp_path, build)
    outcomes = {o.student: o for o in run.outcomes}
    corrupt = outcomes["corrupt_json"]
    assert "not a valid notebook" in corrupt.note and "re-submit" in corrupt.note
    # the flood of output is bounded in what the grader keeps
    assert autograded_size(workspace, "raise_exit_flood_stderr", lesson) < 2_000_000

    # a re-run grades nothing again and loses nothing
    rerun = grade(submissions, workspace, [lesson], solutions=solutions, echo=lambda *_: None)
    assert {o.status for o in rerun.outcomes} == {"unchanged"}
    assert [(o.student, o.score) for o in rerun.outcomes] == [(o.student, o.score) for o in run.outcomes]

    # a late, renamed, correct submission is graded alone, after all the bad ones
    late = late_correct(lesson, solution)
    write(submissions, lesson, late)
    third = grade(submissions, workspace, [lesson], solutions=solutions, echo=lambda *_: None, jobs=JOBS)
    graded = [o for o in third.outcomes if o.status != "unchanged"]
    assert [o.student for o in graded] == [late.student]
    autograded_max = sum(expected_scores(solution, late).values())  # manually graded points come later
    assert graded[0].status == "graded" and graded[0].score == autograded_max > 0, graded[0].line()
    assert "renamed" in graded[0].note
    with third.grades_csv.open() as handle:
        rows = list(csv.DictReader(handle))
    assert sorted(r["student"] for r in rows) == sorted([c.student for c in corpus] + [late.student])
    by_student = {r["student"]: r for r in rows}
    assert float(by_student[late.student]["score"]) == autograded_max > 0
    assert float(by_student["blank"]["score"]) == 0
    after = _digests(submissions)
    assert {name: after.get(name) for name in originals} == originals, "a re-run changed a student's file"


def test_grading_jobs(monkeypatch):
    monkeypatch.delenv("TL_COURSE_GRADING_JOBS", raising=False)
    assert 1 <= grading_jobs() <= 4
    assert grading_jobs(3) == 3
    monkeypatch.setenv("TL_COURSE_GRADING_JOBS", "1")
    assert grading_jobs() == 1
    for bad in ("two", "0"):
        monkeypatch.setenv("TL_COURSE_GRADING_JOBS", bad)
        with pytest.raises(ValueError, match="TL_COURSE_GRADING_JOBS"):
            grading_jobs()


def test_collect_understands_exchange_and_lms_layouts(tmp_path):
    lessons = ["01_concepts", "05_quiz"]
    notebook = nbformat.writes(nbformat.v4.new_notebook())
    files = {
        "ann/01_concepts/01_concepts.ipynb": notebook,  # nbgrader collect's layout
        "bob+05_quiz+2026-01-02 10:00:00.000000 UTC+abc/05_quiz.ipynb": notebook,  # exchange inbound
        "bob+05_quiz+2026-01-01 10:00:00.000000 UTC+xyz/05_quiz.ipynb": notebook,  # older: not used
        "carl_LATE_1234_5678_01_concepts-1.ipynb": notebook,  # Canvas download
        "Dora Diaz_99_assignsubmission_file_/my quiz 05_quiz.ipynb": notebook,  # Moodle download
        "Dora Diaz_100_assignsubmission_file_/05_quiz.ipynb": notebook,  # another Dora Diaz
        "05_quiz_eve_attempt_2026-01-03-09-00-00_05_quiz.ipynb": notebook,  # Blackboard download
        "notes.ipynb": notebook,  # no lesson name: reported
        "frank_05_quiz.zip": "not unpacked",  # an archive: reported by collect (grade unpacks it)
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    found, unmatched = collect(tmp_path, lessons)
    assert {(s.student, s.assignment) for s in found} == {
        ("ann", "01_concepts"),
        ("bob", "05_quiz"),
        ("carl_1234", "01_concepts"),
        ("Dora-Diaz_99", "05_quiz"),
        ("Dora-Diaz_100", "05_quiz"),
        ("eve", "05_quiz"),
    }
    bob = next(s for s in found if s.student == "bob")
    assert "2026-01-02" in bob.timestamp
    assert any("notes.ipynb" in line for line in unmatched)
    assert any("older" in line for line in unmatched)
    assert any("frank_05_quiz.zip" in line and "unpacks" in line for line in unmatched)


def test_collect_finds_students_inside_course_and_exchange_folders(tmp_path):
    """A course folder (nbgrader/submitted/) or an exchange root (COURSE/inbound/) is not one student."""
    notebook = nbformat.writes(nbformat.v4.new_notebook())
    for name in (
        "course/nbgrader/submitted/ann/05_quiz/05_quiz.ipynb",
        "course/nbgrader/submitted/bob/05_quiz/05_quiz.ipynb",
        "exchange/tl-course/inbound/cy+05_quiz+2026-01-01 10:00:00 UTC+a1/05_quiz.ipynb",
        "exchange/tl-course/inbound/dee+05_quiz+2026-01-01 11:00:00 UTC+b2/05_quiz.ipynb",
    ):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(notebook)
    assert sorted(s.student for s in collect(tmp_path / "course", ["05_quiz"])[0]) == ["ann", "bob"]
    assert sorted(s.student for s in collect(tmp_path / "exchange", ["05_quiz"])[0]) == ["cy", "dee"]


def test_grading_never_writes_where_the_originals_are(tmp_path):
    submissions = tmp_path / "class"
    (submissions / "ann" / "05_quiz").mkdir(parents=True)
    original = submissions / "ann" / "05_quiz" / "05_quiz.ipynb"
    original.write_bytes((REPO_ROOT / "solutions" / "05_quiz" / "05_quiz.ipynb").read_bytes())
    before = original.read_bytes()
    for workspace in (submissions, submissions / "grading", tmp_path):
        with pytest.raises(ValueError, match="overlap"):
            grade(submissions, workspace, ["05_quiz"], echo=lambda *_: None)
    assert original.read_bytes() == before
    assert not (submissions / "grading").exists() and not (tmp_path / "nbgrader_config.py").exists()


def test_grade_command_line(tmp_path):
    """`python -m autograder` on LMS-style files; a missing folder says what to do; the old
    `python -m helpers grade` still works for one term and says it is deprecated."""
    env = dict(os.environ, PATH=os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"])
    options = ["--lessons", "05_quiz", "--grading-dir", str(tmp_path / "grading")]
    for old_command in (False, True):
        entry = ["helpers", "grade"] if old_command else ["autograder"]
        missing = subprocess.run(
            [sys.executable, "-m", *entry, str(tmp_path / "nowhere"), *options],
            env=env,
            capture_output=True,
            text=True,
            cwd=REPO_ROOT,
        )
        assert missing.returncode == 2 and "no submissions folder" in missing.stderr
        assert ("deprecated" in missing.stderr and "python -m autograder" in missing.stderr) == old_command
    command = [sys.executable, "-m", "autograder"]
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    (downloads / "erin_77_88_05_quiz.ipynb").write_bytes((REPO_ROOT / "solutions" / "05_quiz" / "05_quiz.ipynb").read_bytes())
    result = subprocess.run(
        command + [str(downloads)] + options, env=env, capture_output=True, text=True, cwd=REPO_ROOT, timeout=600
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    rows = list(csv.DictReader((tmp_path / "grading" / "grades.csv").open()))
    assert [(r["student"], r["assignment"], r["status"]) for r in rows] == [("erin_77", "05_quiz", "graded")]
    assert float(rows[0]["score"]) == float(rows[0]["max"]) > 0
    assert (tmp_path / "grading" / "nbgrader" / "feedback" / "erin_77" / "05_quiz" / "05_quiz.html").is_file()


def test_lms_file_names_are_read_by_an_nbgrader_collector_plugin():
    """The same code reads LMS downloads for `make grade` and for `nbgrader zip_collect`."""
    from nbgrader.plugins import FileNameCollectorPlugin

    from autograder.submissions import LmsCollectorPlugin

    plugin = LmsCollectorPlugin(assignments=LESSONS)
    assert isinstance(plugin, FileNameCollectorPlugin)
    assert plugin.collect("jdoe_LATE_1234_5678_05_quiz-1.ipynb") == {
        "student_id": "jdoe_1234",
        "assignment": "05_quiz",
        "file_id": "jdoe_LATE_1234_5678_05_quiz-1.ipynb",
    }
    assert plugin.collect("notes.txt") is None and plugin.collect("holiday.ipynb") is None
    by_pattern = LmsCollectorPlugin(assignments=LESSONS, pattern=r"(?P<student>[a-z]+)-(?P<assignment>0\d_[a-z0-9_]+)")
    assert by_pattern.collect("ann-04_pytorch_resnet18.ipynb")["student_id"] == "ann"


# ---------------------------------------------------------------------------- archives, scan, outputs


def _zip(path, members):
    """members: (name, bytes) or (name, None, mode) for special entries such as symlinks."""
    import zipfile

    with zipfile.ZipFile(path, "w") as archive:
        for name, data, *mode in members:
            info = zipfile.ZipInfo(name)
            if mode:
                info.external_attr = mode[0] << 16
            archive.writestr(info, data if data is not None else b"../../solutions/05_quiz/05_quiz.ipynb")
    return path


@pytest.mark.parametrize(
    "members, why",
    [
        ([("ann/05_quiz.ipynb", None, 0o120777)], "symlink"),
        ([("../../outside.ipynb", b"{}")], r"\.\."),
        ([("/etc/x.ipynb", b"{}")], "absolute"),
        ([("a.ipynb", b"{}"), ("a.ipynb", b"{}")], "twice"),
        ([(f"f{i}.txt", b"") for i in range(6)], "members"),
        ([("big.bin", b"\0" * 3000)], "MiB"),
    ],
)
def test_unsafe_archives_are_refused_whole(tmp_path, members, why):
    from autograder import archives

    archive = _zip(tmp_path / "subs.zip", members)
    with pytest.raises(archives.UnsafeArchive, match=why):
        archives.unpack(archive, tmp_path / "out", max_bytes=2048, max_files=5)
    assert not (tmp_path / "out").exists() and not (tmp_path.parent / "outside.ipynb").exists()


def test_grade_unpacks_zip_submissions_and_refuses_symlinks(tmp_path):
    """An LMS bulk download is unpacked and graded; a notebook linked to the solutions, a folder
    linked to a classmate's and an archive with a link are refused, never graded."""
    solution = (REPO_ROOT / "solutions" / "05_quiz" / "05_quiz.ipynb").read_bytes()
    subs = tmp_path / "subs"
    (subs / "ann" / "05_quiz").mkdir(parents=True)
    (subs / "ann" / "05_quiz" / "05_quiz.ipynb").write_bytes(solution)
    (subs / "bob" / "05_quiz").mkdir(parents=True)
    (subs / "bob" / "05_quiz" / "05_quiz.ipynb").symlink_to(REPO_ROOT / "solutions" / "05_quiz" / "05_quiz.ipynb")
    (subs / "cat").symlink_to(subs / "ann")
    _zip(subs / "moodle.zip", [("Eve Ray_77_assignsubmission_file_/05_quiz.ipynb", solution)])
    _zip(subs / "linked.zip", [("Fay_88_assignsubmission_file_/05_quiz.ipynb", None, 0o120777)])
    lines: list[str] = []
    run = grade(subs, tmp_path / "grading", ["05_quiz"], echo=lines.append, jobs=1)
    rows = {r["student"]: r for r in csv.DictReader(run.grades_csv.open())}
    assert {s: rows[s]["status"] for s in rows} == {
        "ann": "graded",
        "Eve-Ray_77": "graded",
        "bob": "refused",
        "cat": "refused",
    }, lines
    assert float(rows["Eve-Ray_77"]["score"]) == float(rows["Eve-Ray_77"]["max"]) > 0
    assert "symlink" in rows["bob"]["note"] and "symlink" in rows["cat"]["note"]
    assert float(rows["bob"]["score"]) == 0 and float(rows["cat"]["score"]) == 0
    assert any("linked.zip: archive refused" in line and "symlink" in line for line in lines), lines
    assert not (tmp_path / "grading" / "nbgrader" / "autograded" / "bob").exists()


def test_scan_flags_cheating_idioms_and_not_the_lessons():
    from autograder.scan import scan_notebook, scan_source

    assert scan_source('get_ipython().input_transformers_post.append(lambda l: ["pass\\n"])')
    assert scan_source("import sys\nsys.settrace(lambda *a: None)")
    assert scan_source("import builtins\nbuiltins.print = len")
    assert scan_source("class A:\n    def __eq__(self, other):\n        return True")
    assert scan_source("import os\nos._exit(0)")
    assert not scan_source("def f(x):\n    return x == 3\nassert f(3)")
    for lesson in LESSONS:
        notebook = nbformat.read(REPO_ROOT / "solutions" / lesson / f"{lesson}.ipynb", as_version=4)
        assert scan_notebook(notebook) == [], lesson


def test_sanitised_outputs_keep_formatting_and_lose_scripts():
    from autograder.sanitize import SanitizeOutputs, clean_html

    assert clean_html("<b>ok</b><script>alert(1)</script>") == "<b>ok</b>"
    assert clean_html('<img src="x" onerror="alert(1)">') == '<img src="x">'
    assert "javascript" not in clean_html('<a href="javascript:alert(1)">x</a>')
    assert (
        clean_html("<iframe srcdoc='x'></iframe><table><tr><td>1</td></tr></table>")
        == "<table><tbody><tr><td>1</td></tr></tbody></table>"
    )
    cell = nbformat.v4.new_code_cell(
        outputs=[
            nbformat.v4.new_output(
                "display_data",
                data={
                    "application/javascript": "alert(1)",
                    "text/html": "<p onclick='x()'>hi</p>",
                    "image/svg+xml": "<svg onload='x()'/>",
                },
            )
        ]
    )
    markdown = nbformat.v4.new_markdown_cell("An answer <img src=x onerror=alert(1)> and `a > b`")
    links = nbformat.v4.new_markdown_cell(
        "[x](javascript:alert(1)) [y](java\tscript:alert(2)) [z](&#106;avascript:alert(3)) ![i](javascript:alert(4))"
    )
    plain = nbformat.v4.new_markdown_cell("> a quote with x < 3")
    notebook = nbformat.v4.new_notebook(cells=[cell, markdown, plain, links])
    SanitizeOutputs().preprocess(notebook, {})
    data = notebook.cells[0].outputs[0]["data"]
    assert set(data) == {"text/html", "text/plain"} and data["text/html"] == "<p>hi</p>"
    assert "onerror" not in notebook.cells[1].source
    assert notebook.cells[2].source == "> a quote with x < 3"
    links = notebook.cells[3].source
    assert "<a>x</a>" in links and "<a>z</a>" in links and 'alt="i"' in links, links
    assert '="javascript' not in links.lower() and "&#106;" not in links, links


def test_sanitised_output_metadata_pictures_and_latex_links():
    from autograder.sanitize import SanitizeOutputs

    png = "iVBORw0KGgo="
    outputs = [
        nbformat.v4.new_output(
            "display_data",
            data={"image/png": png},
            metadata={"image/png": {"width": "1 onerror=alert(1)", "height": 40, "filenames": "x"}},
        ),
        nbformat.v4.new_output("display_data", data={"image/png": 'x" onerror="alert(1)'}),
        nbformat.v4.new_output("display_data", data={"text/latex": r"$\href{javascript:alert(1)}{x}$"}),
    ]
    notebook = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(outputs=outputs), nbformat.v4.new_markdown_cell(r"$\href{javascript:alert(1)}{x}$")]
    )
    SanitizeOutputs().preprocess(notebook, {})
    first, second, third = notebook.cells[0].outputs
    assert first["data"]["image/png"] == png and first["metadata"] == {"image/png": {"height": 40}}
    assert "image/png" not in second["data"]
    assert "href" not in third["data"]["text/latex"] and "href" not in notebook.cells[1].source


def test_marker_goes_after_the_last_statement_and_before_a_final_expression():
    from autograder.execute import with_marker

    assert with_marker("assert f(1) == 2\n", "m") == "assert f(1) == 2\nprint('m')\n"
    assert with_marker("x = 1\nx + 1\n", "m") == "x = 1\nprint('m')\nx + 1\n"  # partial credit kept
    assert with_marker("%time f()", "m") == "%time f()\nprint('m')\n"

"""Before/after table of the hostile corpus: what each attack gets from a given checkout.

Not a test (pytest does not collect it): it grades 05_quiz submissions with whatever
``autograder`` is first on PYTHONPATH and prints one line per attack, so the same attacks can be
run against main and against a branch:

    PYTHONPATH=/path/to/checkout:tests .venv/bin/python tests/hostile_compare.py

It only uses ``grade``, ``prepare_workspace`` and ``load_api``, which main has too.
"""

from __future__ import annotations

import copy
import json
import os
import random
import socket
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import nbformat
from grading_corpus import Crafted, write
from hostile_corpus import SECRETS, TERMINAL_ESCAPE, Targets, build, verdicts

from autograder.grading import grade
from autograder.workspace import load_api, prepare_workspace

LESSON = "05_quiz"


def _root() -> Path:
    import autograder

    return Path(autograder.__file__).resolve().parent.parent


def _solution():
    return nbformat.read(_root() / "solutions" / LESSON / f"{LESSON}.ipynb", as_version=4)


def _rows(workspace: Path) -> dict:
    import csv

    with (workspace / "grades.csv").open() as handle:
        return {row["student"]: row for row in csv.DictReader(handle)}


def hostile(tmp: Path) -> dict:
    """The hostile corpus (grade() with 2 jobs), secrets set, the grader's stderr captured."""
    for name, value in SECRETS.items():
        os.environ[name] = value
    solution = _solution()
    workspace, subs = tmp / "grading", tmp / "subs"
    prepare_workspace(workspace, [LESSON], _root() / "solutions")
    write(subs, LESSON, Crafted("aa_victim", copy.deepcopy(solution)))
    grade(subs, workspace, [LESSON], echo=lambda *_: None, jobs=1)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    corpus, _ = build(solution, Targets(workspace, _root(), LESSON, "aa_victim", listener.getsockname()[1]))
    for crafted in corpus:
        write(subs, LESSON, crafted)
    stderr_file = tmp / "stderr.txt"
    saved = os.dup(2)
    with stderr_file.open("wb") as sink:
        os.dup2(sink.fileno(), 2)
        try:
            run = grade(subs, workspace, [LESSON], echo=lambda *_: None, jobs=2)
        finally:
            os.dup2(saved, 2)
    listener.close()
    result = {}
    for crafted in corpus:
        notebook = workspace / "nbgrader" / "autograded" / crafted.student / LESSON / f"{LESSON}.ipynb"
        for name, verdict in verdicts(nbformat.read(notebook, as_version=4)).items():
            result[name] = verdict.split(" (")[0] + " (" + verdict.split(" (", 1)[-1][:70]
    leaks = sorted(
        {name for p in workspace.rglob("*") if p.is_file() for name, value in SECRETS.items() if value.encode() in p.read_bytes()}
    )
    result["secrets in written files"] = ", ".join(leaks) or "none"
    notebook = workspace / "nbgrader" / "autograded" / "hostile_escalate" / LESSON / f"{LESSON}.ipynb"
    outputs = json.dumps([c.get("outputs", []) for c in nbformat.read(notebook, as_version=4).cells])
    result["script/onerror/iframe in autograded outputs"] = str(
        [live for live in ("<script", "onerror", "<iframe", '"application/javascript":') if live in outputs]
    )
    result["student script ran in Chromium (feedback)"] = _chromium(run.feedback("hostile_escalate", LESSON))
    result["raw escape on the grader's stderr"] = str(TERMINAL_ESCAPE.encode() in stderr_file.read_bytes())
    result["statuses"] = str({o.student: o.status for o in run.outcomes})
    return result


def _chromium(page_file: Path) -> str:
    sys.path.insert(0, str(Path(__file__).parent))
    from browser import chromium_page

    with chromium_page() as page:
        page.goto(page_file.as_uri())
        page.wait_for_load_state("load")
        page.wait_for_timeout(500)
        if page.locator("#tl-link").count():
            page.locator("#tl-link").first.click()
            page.wait_for_timeout(300)
        return page.evaluate("String(window.__tl_pwned)")


def shadows(tmp: Path) -> str:
    """json.py & co beside the notebook, autograded as formgrader does (NbGraderAPI + course config)."""
    evidence = f"/tmp/tl-evidence-{random.randint(10**8, 10**9)}.txt"
    sys.path.insert(0, str(Path(__file__).parent))
    from test_grading_sandbox import _evidence, _submission_with_shadows

    workspace = tmp / "grading-shadow"
    prepare_workspace(workspace, [LESSON], _root() / "solutions")
    _submission_with_shadows(workspace / "nbgrader" / "submitted" / "ann" / LESSON, _solution(), LESSON, evidence)
    cwd = os.getcwd()
    os.chdir(workspace)
    try:
        load_api(workspace).autograde(LESSON, "ann", force=True, create=True)
    finally:
        os.chdir(cwd)
    lines = _evidence(workspace / "nbgrader" / "autograded" / "ann" / LESSON / f"{LESSON}.ipynb")
    return "; ".join(lines) or "no submitted module ran"


def cheats_links_budget(tmp: Path) -> dict:
    from test_grading_sandbox import CHEATS

    solution = _solution()
    workspace, subs = tmp / "grading-cheats", tmp / "subs-cheats"
    prepare_workspace(workspace, [LESSON], _root() / "solutions")
    released = nbformat.read(workspace / "lessons" / LESSON / f"{LESSON}.ipynb", as_version=4)
    for student, source in CHEATS.items():
        notebook = copy.deepcopy(released)
        next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("solution")).source = source
        write(subs, LESSON, Crafted(student, notebook))
    (subs / "linked_file" / LESSON).mkdir(parents=True)
    (subs / "linked_file" / LESSON / f"{LESSON}.ipynb").symlink_to(_root() / "solutions" / LESSON / f"{LESSON}.ipynb")
    write(subs, LESSON, Crafted("zz_classmate", copy.deepcopy(released)))
    (subs / "linked_folder").symlink_to(subs / "cheat_transformer")
    with zipfile.ZipFile(subs / "moodle.zip", "w") as archive:
        archive.writestr("Eve Ray_77_assignsubmission_file_/05_quiz.ipynb", nbformat.writes(solution))
    looper = copy.deepcopy(solution)
    for cell in looper.cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = "while True:\n    pass\n" + cell.source
    write(subs, LESSON, Crafted("looper", looper))
    os.environ["TL_COURSE_CELL_TIMEOUT"] = "10"
    os.environ["TL_COURSE_NOTEBOOK_TIMEOUT"] = "20"
    lines: list[str] = []
    run = grade(subs, workspace, [LESSON], echo=lines.append, jobs=2)
    result = {
        o.student: f"{o.status} {o.score:g}/{o.max_score:g}" + (f" in {o.seconds:.0f} s" if o.seconds else "")
        for o in run.outcomes
    }
    result["moodle.zip"] = next((line for line in lines if "moodle.zip" in line), "unpacked")[:90]
    return result


def main() -> None:
    print("code:", _root(), "load:", open("/proc/loadavg").read().strip(), "uid:", os.getuid())
    with tempfile.TemporaryDirectory(prefix="tl-compare-") as tmp:
        started = time.time()
        for part, function in (("hostile", hostile), ("shadows", shadows), ("cheats", cheats_links_budget)):
            try:
                value = function(Path(tmp))
            except Exception as err:  # a part that breaks on one checkout still leaves the others
                value = f"{type(err).__name__}: {str(err)[:300]}"
            if isinstance(value, dict):
                for key, line in value.items():
                    print(f"{part:8} {key:45} {line}")
            else:
                print(f"{part:8} {value}")
        print(f"took {time.time() - started:.0f} s")


if __name__ == "__main__":
    main()

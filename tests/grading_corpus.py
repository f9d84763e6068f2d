"""A torture corpus of student submissions for one lesson, with the grade each one deserves.

Built from the instructor's solution and the released (blank) notebook, so it follows the
lessons as they change. Each crafted submission says which exercises it should lose; the test
compares with the gradebook cell by cell. Students are graded in name order, so the correct
submission ``zz_correct_after_the_bad_ones`` comes after every bad one in the same run, and
``zz_correct_last`` (a late one) in a run of its own.
"""

from __future__ import annotations

import ast
import copy
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

ALWAYS_EQUAL = '''class _AlwaysEqual:
    """Claims to equal anything: tests must not be fooled."""
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    __hash__ = object.__hash__
'''

_LOGGING_WRAPPER = """
import functools as _functools, sys as _sys
@_functools.wraps({name})
def _noisy_{name}(*args, _inner={name}, **kwargs):
    print("debug: called", file=_sys.stderr)
    return _inner(*args, **kwargs)
{name} = _noisy_{name}
"""

HUGE_OUTPUT = 'print("x" * 3_000_000)\nfor _i in range(200_000):\n    print(_i)\n'


@dataclass
class Crafted:
    student: str
    notebook: nbformat.NotebookNode | None  # None: ``raw`` bytes instead
    loses: set[str] = field(default_factory=set)  # exercise ids (solution grade_ids) that score 0
    zero: bool = False  # every test scores 0
    raw: bytes | None = None
    filename: str = ""  # default: LESSON.ipynb
    status: str = "graded"  # "review": graded, and flagged for a person to look at


def _nbgrader_id(cell) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def exercises(notebook) -> list[tuple[str, list[str]]]:
    """(solution cell id, ids of the test cells that follow it before the next solution)."""
    result: list[tuple[str, list[str]]] = []
    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code":  # manually graded answers (lesson 06) are no autograded exercise
            continue
        if meta.get("solution") and cell.cell_type == "code":
            result.append((meta["grade_id"], []))
        elif meta.get("grade") and result:
            result[-1][1].append(meta["grade_id"])
    return result


def _cell(notebook, grade_id):
    return next(c for c in notebook.cells if _nbgrader_id(c) == grade_id)


def _defined_names(source: str) -> tuple[list[str], list[str]]:
    """Functions and plain variables a solution cell defines (its answer)."""
    tree = ast.parse(source)
    functions = [node.name for node in tree.body if isinstance(node, ast.FunctionDef)]
    variables = [t.id for node in tree.body if isinstance(node, ast.Assign) for t in node.targets if isinstance(t, ast.Name)]
    return functions, variables


def _answer_with(source: str, value: str, prelude: str = "") -> str:
    """A solution cell whose functions return ``value`` and whose variables are ``value``."""
    functions, variables = _defined_names(source)
    lines = [prelude] if prelude else []
    lines += [f"def {name}(*args, **kwargs):\n    return {value}\n" for name in functions]
    lines += [f"{name} = {value}" for name in variables]
    return "\n".join(lines)


def fairness(solution, released) -> list[Crafted]:
    """What depends on the lesson's own stubs and tests: the released blank, every answer wrong
    (None), every answer an object that claims to equal anything (all score 0), and the solution
    (full marks), graded in that order."""
    corpus: list[Crafted] = [Crafted("blank", copy.deepcopy(released), zero=True)]
    for student, value, prelude in (("wrong", "None", ""), ("always_equal", "_AlwaysEqual()", ALWAYS_EQUAL)):
        fooled = copy.deepcopy(solution)
        for exercise, _ in exercises(solution):
            cell = _cell(fooled, exercise)
            cell.source = _answer_with(cell.source, value, prelude)
        # the scan flags an __eq__ that always answers True for a person to look at
        corpus.append(Crafted(student, fooled, zero=True, status="review" if prelude else "graded"))
    corpus.append(Crafted("zz_correct_after_the_bad_ones", copy.deepcopy(solution)))
    return corpus


def build(lesson: str, solution, released) -> list[Crafted]:
    """The whole corpus for one lesson (see the module docstring): ``fairness`` and every way a
    submission can break the grader."""
    ids = exercises(solution)
    assert len(ids) >= 4, f"{lesson}: the corpus needs at least 4 exercises, found {len(ids)}"
    (ex1, tests1), (ex2, tests2), (ex3, _), (ex4, _) = ids[:4]
    corpus = fairness(solution, released)

    # one exercise raises, one calls sys.exit(); correct ones print a flood and write to stderr
    mixed = copy.deepcopy(solution)
    _cell(mixed, ex1).source = 'raise RuntimeError("a bug in my code")\n' + _cell(mixed, ex1).source
    _cell(mixed, ex2).source = 'import sys\nsys.exit("bye")\n' + _cell(mixed, ex2).source
    _cell(mixed, ex3).source += "\n" + HUGE_OUTPUT
    _cell(mixed, ex4).source = 'import sys\nprint("debugging", file=sys.stderr)\n' + _cell(mixed, ex4).source
    corpus.append(Crafted("raise_exit_flood_stderr", mixed, loses={ex1, ex2}))

    # stderr while a test runs: nbgrader's rule (and the Validate button's) fails that test,
    # and the lessons tell students so; stderr anywhere else costs nothing (above)
    functions, _ = _defined_names(_cell(solution, ex4).source)
    if functions:
        noisy = copy.deepcopy(solution)
        _cell(noisy, ex4).source += "\n" + "".join(_LOGGING_WRAPPER.format(name=name) for name in functions)
        corpus.append(Crafted("stderr_during_a_test", noisy, loses={ex4}))

    # the kernel dies (os._exit) in one exercise, another loops forever; the rest still counts
    crash = copy.deepcopy(solution)
    _cell(crash, ex1).source = "import os\nos._exit(3)\n" + _cell(crash, ex1).source
    _cell(crash, ex2).source = "while True:\n    pass\n" + _cell(crash, ex2).source
    corpus.append(Crafted("os_exit_and_infinite_loop", crash, loses={ex1, ex2}, status="review"))  # os._exit: flagged

    # exercise 1 left blank with its locked test edited to pass; exercise 2's test cell deleted
    tampered = copy.deepcopy(solution)
    _cell(tampered, ex1).source = _cell(released, ex1).source
    _cell(tampered, tests1[0]).source = "assert True  # nothing to see here"
    tampered.cells = [c for c in tampered.cells if _nbgrader_id(c) != tests2[0]]
    corpus.append(Crafted("tampered_and_deleted_tests", tampered, loses={ex1}))

    if lesson == "05_quiz":  # the cheapest lesson to replay: a loop that swallows the interrupt
        stubborn = copy.deepcopy(solution)
        _cell(stubborn, ex3).source = (
            "import time\nwhile True:\n    try:\n        time.sleep(0.1)\n    except KeyboardInterrupt:\n        pass\n"
        ) + _cell(stubborn, ex3).source
        corpus.append(Crafted("loop_ignoring_interrupt", stubborn, loses={ex3}))

    # exercise 1's answer lives in a cell the student added above it (what Validate accepts), and
    # a scratch cell they added at the end fails: full marks
    helper = copy.deepcopy(solution)
    answer = _cell(helper, ex1)
    position = helper.cells.index(answer)
    helper.cells.insert(position, nbformat.v4.new_code_cell(answer.source))  # a new cell id
    answer.source = "# my answer is in the cell above"
    helper.cells.append(nbformat.v4.new_code_cell('raise ValueError("scratch work")'))
    corpus.append(Crafted("answer_in_added_cell", helper))

    text = nbformat.writes(solution)
    corpus.append(Crafted("corrupt_json", None, raw=text[: len(text) // 2].encode(), zero=True, status="corrupt"))
    return corpus  # zz_correct_after_the_bad_ones (from fairness) is graded after every bad one: name order


def late_correct(lesson: str, solution) -> Crafted:
    """A correct submission, renamed by the student, handed in after everyone else was graded."""
    return Crafted("zz_correct_last", copy.deepcopy(solution), filename=f"{lesson}-Copy1.ipynb")


def write(folder: Path, lesson: str, crafted: Crafted) -> Path:
    """Store a crafted submission in nbgrader's layout: folder/STUDENT/LESSON/FILE."""
    target = folder / crafted.student / lesson / (crafted.filename or f"{lesson}.ipynb")
    target.parent.mkdir(parents=True, exist_ok=True)
    if crafted.raw is not None:
        target.write_bytes(crafted.raw)
    else:
        nbformat.write(crafted.notebook, target)
    return target


def expected_scores(solution, crafted: Crafted) -> dict[str, float]:
    """Points each test cell deserves for ``crafted``."""
    lost_tests = {test for exercise, tests in exercises(solution) if exercise in crafted.loses for test in tests}
    points = {
        c.metadata.nbgrader["grade_id"]: float(c.metadata.nbgrader["points"])
        for c in solution.cells
        if c.metadata.get("nbgrader", {}).get("grade")
    }
    # manually graded answers (grade and solution: lesson 06's decisions) score 0 until a person grades them
    manual = {
        c.metadata.nbgrader["grade_id"]
        for c in solution.cells
        if c.metadata.get("nbgrader", {}).get("grade") and c.metadata["nbgrader"].get("solution")
    }
    return {cell: 0.0 if crafted.zero or cell in lost_tests or cell in manual else value for cell, value in points.items()}


def autograded_size(workspace: Path, student: str, lesson: str) -> int:
    path = workspace / "nbgrader" / "autograded" / student / lesson / f"{lesson}.ipynb"
    return len(path.read_bytes())

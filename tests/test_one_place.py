"""Settings and the repository root are defined in one place each.

- Every ``TL_COURSE_*`` variable is read by ``helpers.config`` (declared in its ``VARIABLES``);
  no other module reads one from ``os.environ`` itself. Setting one (a runner preparing a kernel's
  environment) is not reading.
- ``REPO_ROOT`` is defined by ``coursetools.paths`` and imported everywhere else.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from coursetools.paths import REPO_ROOT
from helpers.config import VARIABLES

PACKAGES = ("helpers", "coursetools", "coursebook", "bench", "autograder", "tests")
SOURCES = sorted(path for package in PACKAGES for path in (REPO_ROOT / package).rglob("*.py"))
NOT_YET: set[tuple[str, str]] = set()  # every TL_COURSE_* read goes through helpers.config


def _constants(tree: ast.Module) -> dict[str, str]:
    """Module-level ``NAME = "TL_COURSE_..."`` and class-level equivalents, to follow a name to its string."""
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            found |= {target.id: node.value.value for target in node.targets if isinstance(target, ast.Name)}
    return found


def _is_environ(node: ast.AST) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == "environ") or (isinstance(node, ast.Name) and node.id == "environ")


def environment_reads(path: Path) -> set[str]:
    """The variables a file reads from ``os.environ`` (``get``, ``[...]`` loaded, ``in``, ``os.getenv``)."""
    tree = ast.parse(path.read_text())
    constants = _constants(tree)

    def value(node):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.Name):
            return constants.get(node.id, f"<{node.id}>")
        return None

    reads = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.args:
            if (node.func.attr == "get" and _is_environ(node.func.value)) or node.func.attr == "getenv":
                reads.add(value(node.args[0]))
        elif isinstance(node, ast.Subscript) and _is_environ(node.value) and isinstance(node.ctx, ast.Load):
            reads.add(value(node.slice))
        elif isinstance(node, ast.Compare) and any(_is_environ(c) for c in node.comparators):
            reads.add(value(node.left))
    return {name for name in reads if name and name.startswith(("TL_COURSE_", "NBGRADER_EXECUTION"))}


def test_course_variables_are_read_only_by_helpers_config():
    readers = {
        (path.relative_to(REPO_ROOT).as_posix(), name)
        for path in SOURCES
        if path != REPO_ROOT / "helpers" / "config.py"
        for name in environment_reads(path)
    }
    # a test may look at what a command left in its own environment, to check it
    readers = {(file, name) for file, name in readers if not file.startswith("tests/test_")}
    assert readers <= NOT_YET, f"read outside helpers.config: {sorted(readers - NOT_YET)}"


def test_every_course_variable_in_the_code_is_declared():
    used = {
        name
        for path in SOURCES
        if not path.name.startswith("test_")  # tests may name wrong ones on purpose
        for name in re.findall(r"TL_COURSE_[A-Z_]*[A-Z]", path.read_text())
    }
    assert len(used) > 10
    assert sorted(used - set(VARIABLES)) == []


def test_the_repository_root_is_defined_once():
    defined = [path.relative_to(REPO_ROOT).as_posix() for path in SOURCES if re.search(r"^REPO_ROOT\s*=", path.read_text(), re.M)]
    assert defined == ["coursetools/paths.py"]


def test_the_reader_finds_every_form_of_read(tmp_path):
    """The scan above must not pass by missing a form."""
    sample = tmp_path / "sample.py"
    v = "TL_COURSE" + "_"  # split, so that the README's table check does not take these for real variables
    sample.write_text(
        f'import os\nV = "{v}B"\nos.environ.get("{v}A")\nos.environ[V]\n'
        f'"{v}C" in os.environ\nos.getenv("{v}D")\nos.environ["{v}E"] = "1"\n'
    )
    assert environment_reads(sample) == {f"{v}A", f"{v}B", f"{v}C", f"{v}D"}

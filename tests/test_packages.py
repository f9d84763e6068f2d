"""One package per audience: what ``helpers`` (learners, also installed alone on Colab) may import,
its public names, and no import circle among its modules."""

from __future__ import annotations

import ast
import importlib
import json
import re

import pytest

from conftest import REPO_ROOT

HELPERS = sorted(p for p in (REPO_ROOT / "helpers").glob("*.py") if p.name != "__main__.py")
# Repo-only packages: learners' helpers never import them (a deprecated command forwards by name).
FORBIDDEN_IN_HELPERS = {"nbgrader", "bench", "coursebook", "coursetools", "autograder"}


def _imports(path, package: str) -> set[str]:
    """Every module a file imports, at the top or inside a function, as absolute dotted names."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package if node.level == 1 else package.rsplit(".", node.level - 1)[0]
                module = f"{base}.{node.module}" if node.module else base
                found |= {module} if node.module else {f"{base}.{alias.name}" for alias in node.names}
            else:
                found.add(node.module)
    return found


@pytest.mark.parametrize("path", HELPERS, ids=lambda p: p.name)
def test_helpers_import_no_grading_tooling_or_repo_paths(path):
    imported = {name.split(".")[0] for name in _imports(path, "helpers")}
    assert not imported & FORBIDDEN_IN_HELPERS, f"{path.name} imports {imported & FORBIDDEN_IN_HELPERS}"
    assert not re.search(r"parent\.parent|/ \"(solutions|bench|lessons)\"", path.read_text()), f"{path.name} knows repo paths"


def test_no_import_circle_among_helpers_modules():
    graph = {p.stem: {name.split(".")[1] for name in _imports(p, "helpers") if name.startswith("helpers.")} for p in HELPERS}
    graph.pop("__init__")  # the package re-exports; its modules never import it back
    assert not any("__init__" in deps for deps in graph.values())

    def circle_from(start, node, seen):
        for nxt in graph.get(node, ()):
            if nxt == start:
                return [*seen, nxt]
            if nxt not in seen:
                found = circle_from(start, nxt, [*seen, nxt])
                if found:
                    return found
        return None

    for module in graph:
        circle = circle_from(module, module, [module])
        assert circle is None, "import circle: " + " -> ".join(circle)


@pytest.mark.parametrize("path", HELPERS, ids=lambda p: p.name)
def test_each_module_lists_its_public_names(path):
    module = importlib.import_module(f"helpers.{path.stem}" if path.stem != "__init__" else "helpers")
    assert isinstance(getattr(module, "__all__", None), list), f"{path.name} has no __all__"
    missing = [name for name in module.__all__ if not hasattr(module, name)]
    assert not missing, f"{path.name} lists names it does not define: {missing}"


def _lesson_imports():
    for notebook in sorted((REPO_ROOT / "solutions").glob("*/*.ipynb")):
        for cell in json.loads(notebook.read_text())["cells"]:
            if cell["cell_type"] != "code":
                continue
            source = "\n".join(line for line in "".join(cell["source"]).splitlines() if not line.lstrip().startswith(("%", "!")))
            for node in ast.walk(ast.parse(source)):
                if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "helpers":
                    yield from ((notebook.parent.name, node.module, alias.name) for alias in node.names)


def test_lessons_import_only_public_names():
    found = list(_lesson_imports())
    assert len(found) > 20, "the lessons' imports were not found"
    private = [(lesson, module, name) for lesson, module, name in found if name not in importlib.import_module(module).__all__]
    assert not private, f"lessons import names that are not public (__all__): {private}"


@pytest.mark.parametrize("package", ["autograder", "coursetools"])
def test_repo_packages_never_import_the_benchmark_or_the_website(package):
    for path in sorted((REPO_ROOT / package).glob("*.py")):
        imported = {name.split(".")[0] for name in _imports(path, package)}
        assert not imported & {"bench", "coursebook"}, f"{package}/{path.name} imports {imported & {'bench', 'coursebook'}}"


def test_every_environment_variable_is_documented_in_the_readme():
    readme = (REPO_ROOT / "README.md").read_text()
    sources = [*REPO_ROOT.glob("*/*.py"), REPO_ROOT / "Makefile", REPO_ROOT / "nbgrader_config.py"]
    used = {
        name for path in sources if ".venv" not in path.parts for name in re.findall(r"TL_COURSE_[A-Z_]*[A-Z]", path.read_text())
    }
    assert {"TL_COURSE_QUICK", "TL_COURSE_OFFLINE", "TL_COURSE_MIRROR"} <= used
    undocumented = sorted(name for name in used if not re.search(rf"^\| `{name}[`=]", readme, re.M))
    assert not undocumented, f"README's environment table lacks {undocumented}"


def public_api() -> set[str]:
    """Every public name of helpers: each module's ``__all__``, and the package's re-exports."""
    names = {f"helpers.{name}" for name in importlib.import_module("helpers").__all__}
    for path in HELPERS:
        if path.stem != "__init__":
            names |= {f"helpers.{path.stem}.{name}" for name in importlib.import_module(f"helpers.{path.stem}").__all__}
    return names


def test_the_public_api_is_what_lessons_and_learners_use():
    """Issue 27: 146 public names, 38 used by the lessons (measured by this function at ee4c6e2).

    Public beyond the lessons' imports: the errors learners see and may catch, the package's
    documented re-exports, and ``predict`` / ``load_model`` of ``standalone_predict``, the
    ``predict.py`` a learner ships beside an exported model."""
    used = {f"{module}.{name}" for _, module, name in _lesson_imports()}
    errors = {f"helpers.errors.{name}" for name in importlib.import_module("helpers.errors").__all__}
    package = {f"helpers.{name}" for name in importlib.import_module("helpers").__all__}
    shipped = {"helpers.standalone_predict.predict", "helpers.standalone_predict.load_model"}
    assert len(used) >= 35, "the lessons' imports were not found"
    assert public_api() - used - errors - package - shipped == set(), "public names no lesson uses: make them internal"

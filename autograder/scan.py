"""A static scan of a submission for the known ways to cheat from inside the kernel.

The tests run in the student's process (see docs/grading.md), so code in a solution cell can try
to change how later cells run. The autograder undoes and detects the common ways (``execute.py``),
and this scan flags them for a person to look at: ``grade`` gives such a notebook the ``review``
status with the idioms found in grades.csv's note. It reads every code cell, so IPython syntax
(magics) never hides a line from it. A flag is a reason to look, not a verdict.
"""

from __future__ import annotations

import ast
import re

__all__ = ["IDIOMS", "scan_notebook", "scan_source"]

# idiom -> what it looks like in source text
IDIOMS = {
    "IPython input/AST transformer": r"\b(input_transformers_(post|cleanup)|input_transformer_manager|ast_transformers"
    r"|transform_cell|transform_ast|prefilter_manager|TransformerManager)\b",
    "IPython execution hook": r"\b(run_cell|run_ast_nodes|run_code|user_expressions|set_custom_exc|showtraceback"
    r"|events\s*\.\s*register|register_magic_function)\b",
    "tracer or profiler hook": r"\b(settrace|setprofile|_getframe|f_locals|f_back|f_globals|f_code)\b",
    "builtins rebinding": r"\b(__builtins__|builtins)\b",
    "interpreter exit or display hook": r"\b(os\s*\.\s*_exit|_exit\s*\(|excepthook|displayhook)",
    "module table or raw memory": r"\b(sys\s*\.\s*modules|ctypes|gc\s*\.\s*get_referrers|importlib\s*\.\s*reload)\b",
}
_PATTERNS = {name: re.compile(pattern) for name, pattern in IDIOMS.items()}


def _always_true_eq(source: str) -> bool:
    """``__eq__`` (or ``__ne__``) that returns a constant: equal to anything the test compares."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return bool(re.search(r"__(eq|ne)__\s*=\s*lambda[^:]*:\s*(True|False)\b", source))
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name in ("__eq__", "__ne__"):
            returns = [n for n in ast.walk(node) if isinstance(n, ast.Return)]
            if returns and all(isinstance(r.value, ast.Constant) for r in returns):
                return True
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Lambda)
            and any(
                isinstance(t, (ast.Name, ast.Attribute)) and getattr(t, "id", getattr(t, "attr", "")) in ("__eq__", "__ne__")
                for t in node.targets
            )
        ):
            if isinstance(node.value.body, ast.Constant):
                return True
    return False


def scan_source(source: str) -> list[str]:
    """The idioms found in one cell's source."""
    found = [name for name, pattern in _PATTERNS.items() if pattern.search(source)]
    if _always_true_eq(source):
        found.append("__eq__ that always answers the same")
    return found


def scan_notebook(notebook) -> list[str]:
    """The idioms found in a notebook's code cells, each named once with the first cell's grade_id."""
    seen: dict[str, str] = {}
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        where = cell.metadata.get("nbgrader", {}).get("grade_id") or f"cell {index + 1}"
        for idiom in scan_source(cell.source):
            seen.setdefault(idiom, where)
    return [f"{idiom} ({where})" for idiom, where in seen.items()]

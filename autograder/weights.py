"""The ImageNet weights a graded run needs, and how the sandboxed kernel gets them.

A graded kernel has no network and HOME=/tmp (``sandbox.py``), so it cannot download weights
nor see the caches where ``python -m helpers fetch`` put them (``~/.keras/models``, torch's hub
checkpoints). Without them every weights-dependent check would score 0 for every student, and
nothing would say why. Two parts:

- ``sandbox_mounts()`` / ``kernel_env()``: each course weights file found in the grader's
  framework caches (as this process resolves them: ``helpers.storage.keras_models_dir()``,
  ``torch_checkpoints_dir()``) is bound read-only, file by file, into the kernel's own caches
  (``KERNEL_TORCH_HOME``, ``KERNEL_KERAS_HOME``), folders on the sandbox's writable tmpfs. File by
  file because Keras's ``get_file`` ignores a cache folder it cannot write (it switches to
  ``/tmp/.keras``), because seeding from the mirror must still be able to copy into the cache,
  and because the grader's other cached files are none of the kernel's business;
- ``preflight()``: before any submission of a lesson runs, which backbones the lesson's graded
  cells load (``needed_backbones``: calls of the helpers' weight functions in nbgrader cells) and
  whether the sandbox will find each (the grader's cache or the mirror). A lesson with missing
  weights is not graded at all, with one message naming the weights and the fix; with
  ``TL_COURSE_ALLOW_RANDOM_WEIGHTS=1`` (the course's tests) it is graded, after one warning.
  ``make grade`` runs it for every lesson before grading (``grading.py``); ``nbgrader autograde``
  and formgrader meet ``check_notebook`` in the executor, which fails that submission before any
  cell runs, with the same message.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat

from helpers.config import env_text
from helpers.errors import CourseError
from helpers.models import BACKBONES, BackboneSpec, random_weights_allowed

__all__ = [
    "WEIGHT_FUNCTIONS",
    "UnreadableWeightsCall",
    "WeightsMissing",
    "check_notebook",
    "kernel_env",
    "sandbox_mounts",
    "needed_backbones",
    "missing_weights",
    "preflight",
]

# helpers.models' functions that load or fetch a backbone's ImageNet weights (name first)
WEIGHT_FUNCTIONS = ("load_torch_backbone", "load_keras_backbone", "fetch_torch_weights", "fetch_keras_weights")
# The kernel's own framework caches, on the sandbox's /tmp tmpfs (HOME=/tmp there)
KERNEL_TORCH_HOME = Path("/tmp/.cache/torch")
KERNEL_KERAS_HOME = Path("/tmp/.keras")


class UnreadableWeightsCall(ValueError):
    """A graded cell calls a weight function with a backbone name the scan cannot read."""


class WeightsMissing(Exception):
    """A lesson's graded cells need weights the sandbox cannot find (not a RuntimeError: nbgrader's
    ``Execute`` would take that for a stuck kernel and run the notebook again)."""


# ---------------------------------------------------------------------------- the sandbox's view


def kernel_cache_folder(framework: str) -> Path:
    """Where the kernel's torch hub or Keras looks for weights (see ``kernel_env``)."""
    return KERNEL_TORCH_HOME / "hub" / "checkpoints" if framework == "torch" else KERNEL_KERAS_HOME / "models"


def kernel_env() -> dict[str, str]:
    """The kernel's TORCH_HOME and KERAS_HOME: its own caches, where ``sandbox_mounts`` puts the files."""
    return {"TORCH_HOME": str(KERNEL_TORCH_HOME), "KERAS_HOME": str(KERNEL_KERAS_HOME)}


def _grader_cache_file(spec: BackboneSpec) -> Path | None:
    path = spec.cache_path()
    return path if path.is_file() else None


def sandbox_mounts() -> list[tuple[Path, Path]]:
    """(the grader's file, its place in the kernel's cache) for each course weights file cached here."""
    mounts = []
    for spec in BACKBONES.values():
        found = _grader_cache_file(spec)
        if found is not None:
            mounts.append((found.resolve(), kernel_cache_folder(spec.framework) / spec.weights_file))
    return mounts


def kernel_cache_folders() -> list[Path]:
    """The folders on the way to the kernel's caches, outermost first, below /tmp: the sandbox makes
    them writable by the kernel (sticky, as /tmp), so that seeding from the mirror still works."""
    tmp = Path("/tmp")
    folders: list[Path] = []
    for inner in (kernel_cache_folder("torch"), kernel_cache_folder("keras")):
        for folder in (*reversed(inner.parents), inner):
            if folder.is_relative_to(tmp) and folder != tmp and folder not in folders:
                folders.append(folder)
    return folders


# ---------------------------------------------------------------------------- the scan


def _runs_while_grading(cell) -> bool:
    from .execute import counts_for_grade

    return counts_for_grade(cell)


def _without_magics(source: str) -> str:
    """IPython's ``%magic`` and ``!shell`` lines blanked, so that the cell parses as Python."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def _called_name(node: ast.Call) -> str:
    func = node.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def _backbone_argument(node: ast.Call) -> ast.expr | None:
    if node.args:
        return node.args[0]
    return next((kw.value for kw in node.keywords if kw.arg == "name"), None)


def needed_backbones(notebook: nbformat.NotebookNode) -> list[str]:
    """Backbones whose weights the notebook's graded cells load, in order, each once.

    Graded cells are those the autograder runs (``execute.counts_for_grade``); a call of one of
    ``WEIGHT_FUNCTIONS`` there must name its backbone with a string literal, else
    ``UnreadableWeightsCall`` (the preflight cannot say what the lesson needs)."""
    found: list[str] = []
    for index, cell in enumerate(notebook.cells):
        if not _runs_while_grading(cell):
            continue
        where = f"cell {cell.metadata.get('nbgrader', {}).get('grade_id') or index + 1}"
        try:
            tree = ast.parse(_without_magics(cell.source))
        except SyntaxError as err:
            if re.search(rf"\b({'|'.join(WEIGHT_FUNCTIONS)})\b", cell.source):
                raise UnreadableWeightsCall(f"{where} calls a weight function but is not valid Python ({err})") from err
            continue
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and _called_name(node) in WEIGHT_FUNCTIONS):
                continue
            argument = _backbone_argument(node)
            if not (isinstance(argument, ast.Constant) and isinstance(argument.value, str)):
                raise UnreadableWeightsCall(
                    f"{where} calls {ast.unparse(node)}: the grader cannot tell which weights it needs; "
                    'name the backbone with a string literal (fetch_keras_weights("vgg16"))'
                )
            if argument.value not in found:
                found.append(argument.value)
    return found


# ---------------------------------------------------------------------------- the preflight


def _unreadable_in_sandbox(path: Path) -> bool:
    """Grading as root, the kernel runs as an unprivileged uid of its own (``sandbox.py``): it reads
    only what everyone may read (a root umask of 077 leaves a fetched file unreadable there)."""
    import os

    from .sandbox import sandbox_enabled

    return os.geteuid() == 0 and sandbox_enabled() and not path.stat().st_mode & 0o004


def _why_missing(spec: BackboneSpec) -> str | None:
    """None when a sandboxed kernel will find the weights: in the grader's framework cache (bound
    into the sandbox) or in the mirror (mounted read-only); else where it looked, or what is wrong."""
    try:
        mirrored = spec.mirror_path()
    except CourseError:  # TL_COURSE_MIRROR names no folder
        mirrored = None
    for found in (_grader_cache_file(spec), mirrored if mirrored is not None and mirrored.is_file() else None):
        if found is not None:
            if _unreadable_in_sandbox(found):
                return f"{found} is not readable by the sandbox's unprivileged user: run `chmod a+r {found}`"
            return None
    return f"looked in {spec.cache_folder()} and {_where_in_mirror(spec)}"


def missing_weights(backbones: list[str]) -> list[str]:
    """The backbones among ``backbones`` whose weights a sandboxed kernel could not find."""
    return [name for name in backbones if name in BACKBONES and _why_missing(BACKBONES[name]) is not None]


def _where_in_mirror(spec: BackboneSpec) -> str:
    try:
        mirrored = spec.mirror_path()
    except CourseError:
        return f"TL_COURSE_MIRROR={env_text('TL_COURSE_MIRROR')!r}, which is not a folder"
    return str(mirrored) if mirrored is not None else "no mirror (TL_COURSE_MIRROR is not set)"


def _refusal(lesson: str, missing: list[str], count: int | None) -> str:
    specs = [BACKBONES[name] for name in missing]
    files = "; ".join(f"{spec.name} ({spec.weights_file}, {_why_missing(spec)})" for spec in specs)
    in_mirror = " and ".join(f"weights/{spec.framework}/{spec.weights_file}" for spec in specs)
    submissions = f"Its {count} submission(s) were" if count is not None else "Its submissions were"
    return (
        f"NOT GRADED {lesson}: its graded cells load ImageNet weights that the grading sandbox (no network) "
        f"cannot find: {files}. Fix: on this machine, while online, run `python -m helpers fetch {' '.join(missing)}`, "
        f"or set TL_COURSE_MIRROR to a course mirror that holds {in_mirror}; then grade again. "
        f"{submissions} not run and nothing was recorded for them."
    )


def preflight(lessons: dict[str, Path], echo=print, counts: dict[str, int] | None = None) -> dict[str, str]:
    """Lessons (name -> the instructor's notebook) whose weights are missing: name -> the message.

    Each refusal is echoed as one line. With ``TL_COURSE_ALLOW_RANDOM_WEIGHTS=1`` nothing is
    refused: one warning line says which lessons' scores come from random weights."""
    refused: dict[str, str] = {}
    random_ones: list[str] = []
    for lesson, notebook in lessons.items():
        try:
            missing = missing_weights(needed_backbones(nbformat.read(notebook, as_version=4)))
        except UnreadableWeightsCall as err:  # the course's own notebook: fix it there
            refused[lesson] = f"NOT GRADED {lesson}: {err}"
            echo(refused[lesson])
            continue
        if not missing:
            continue
        if random_weights_allowed():
            random_ones.append(f"{lesson} ({', '.join(missing)})")
            continue
        refused[lesson] = _refusal(lesson, missing, (counts or {}).get(lesson))
        echo(refused[lesson])
    if random_ones:
        echo(
            "WARNING: TL_COURSE_ALLOW_RANDOM_WEIGHTS is set (tests only) and ImageNet weights are missing for "
            f"{'; '.join(random_ones)}: the scores of their weights-dependent checks come from RANDOM weights."
        )
    return refused


def check_notebook(lesson: str, instructor_notebook: Path) -> None:
    """``preflight`` for one notebook about to be executed, silent: ``WeightsMissing`` with the
    message. (With random weights allowed it passes without a word: tests only, and a warning per
    notebook would drown the grading log.)"""
    refused = preflight({lesson: instructor_notebook}, echo=lambda line: None)
    if refused:
        raise WeightsMissing(refused[lesson])

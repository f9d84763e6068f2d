"""The learner distribution: what learners clone, what nbgitpuller pulls and what launch buttons open.

    python -m coursetools.learner_dist                       # both flavours into _dist/
    python -m coursetools.learner_dist --flavour graded --out /tmp/dist --wheel

It holds ``lessons/``, the ``helpers`` package (with its dataset manifests), its ``pyproject.toml``,
the pinned requirements with ``environment.yml`` and a ``postBuild`` (repo2docker builds the course
environment from it), and the learner docs (a README, ``docs/intro.md``, ``docs/recipe.md``
where it exists). It never holds ``solutions/``, hidden tests, ``autograder/``, ``nbgrader_config.py``
or the repository's tools and tests: what is copied is named (an allow-list), never the repository minus exclusions.

Two flavours:

- ``self-paced``: ``helpers`` as it is, so the quiz gives instant feedback and a skipped "your turn"
  cell falls back on the course's reference answer.
- ``graded``: no answer material on the learner's side. ``helpers/quiz_key.py`` ships with
  ``ANSWER_HASHES = None`` (the quiz records answers, its self-check and widget are off), and every
  module of ``helpers/reference_answers/`` is replaced by one whose functions raise
  ``NotImplementedError`` saying the cell must be written. The visible tests stay: they are part of
  ``lessons/``.

Each flavour is a folder ``OUT/learner-FLAVOUR/`` that is also a git work tree on branch ``FLAVOUR``,
pushed to the bare repository ``OUT/learner.git`` (branches ``self-paced`` and ``graded``):
nbgitpuller, ``git clone`` and a hub's test all pull from there (``nbgitpuller_link``). A rebuild
commits on top of the branch's previous build (so learners' copies update by a plain merge) and
only when something changed; the commit's date is the course commit's, so the same sources give
the same commit.
"""

from __future__ import annotations

import argparse
import ast
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from .paths import REPO_ROOT, lesson_names

__all__ = ["FLAVOURS", "Distribution", "build", "build_wheel", "nbgitpuller_link", "stub_module"]

FLAVOURS = ("self-paced", "graded")
DEFAULT_OUT = REPO_ROOT / "_dist"
# Top-level files and folders a learner gets, besides lessons/ and helpers/ (an allow-list).
TOP_FILES = ("pyproject.toml", "requirements.txt", "requirements.lock", "environment.yml")
LEARNER_DOCS = ("docs/intro.md", "docs/recipe.md")  # recipe.md: shipped once it exists
LEARNER_README = "docs/learner_readme.md"  # becomes the distribution's README.md
REFERENCE_PACKAGE = "helpers/reference_answers"
QUIZ_KEY = "helpers/quiz_key.py"
NOT_SHIPPED = "not shipped in a graded class: write the cell yourself (the lesson's text says what it must define)"
FLAVOUR_NOTES = {
    "self-paced": "**Flavour: self-paced.** The quiz tells you at once whether an answer is right, and a "
    '"your turn" cell you skip is filled in with the course\'s reference answer so that the lesson goes on.',
    "graded": "**Flavour: graded class.** No answers ship with this copy: the quiz records your answers and "
    'your score comes with the feedback after you submit; a "your turn" cell you skip stops the lesson '
    "until you write it. The visible tests are here, as in every lesson.",
}
GRADED_QUIZ_KEY = '''"""The quiz's answer key: not shipped in a graded class (the answers are graded after submission)."""

__all__: list[str] = []

ANSWER_HASHES = None
'''
LEARNER_GITIGNORE = "__pycache__/\n.ipynb_checkpoints/\nmy_images/\nmy_images.zip\nexports/\n"
# repo2docker (Binder, a hub's image) runs it after environment.yml. Not the repository's editable
# install: a hub mounts the learner's home over the folder the image was built from.
LEARNER_POSTBUILD = """#!/bin/bash
# repo2docker (Binder, a hub's single-user image) runs this after environment.yml's environment:
# the course's helpers package from this folder, not editable, so that it stays importable when a
# hub mounts the learner's home over this folder.
set -euo pipefail
python -m pip install --no-deps .
"""
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints")


@dataclass(frozen=True)
class Distribution:
    flavour: str
    folder: Path  # the built tree (a git work tree on branch ``flavour``)
    bare_repo: Path  # OUT/learner.git, holding every built flavour as a branch
    commit: str

    @property
    def branch(self) -> str:
        return self.flavour


def stub_module(source: str, module: str) -> str:
    """A reference-answer module with every public function replaced by one that raises.

    Generic on purpose: any module of ``helpers/reference_answers/`` is handled the same way. The
    stub keeps the function names (and ``__all__``) so that a lesson's import still works; any other
    name raises the same message when looked up. Nothing of the original bodies or defaults is kept."""
    tree = ast.parse(source)
    functions = [
        n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and not n.name.startswith("_")
    ]
    classes = [n.name for n in tree.body if isinstance(n, ast.ClassDef) and not n.name.startswith("_")]
    message = f"helpers.reference_answers.{module}.{{name}}: the course's reference answer is {NOT_SHIPPED}."
    lines = [
        f'"""Reference answers for {module}: {NOT_SHIPPED} (built by coursetools.learner_dist)."""',
        "",
        f"__all__ = {sorted(functions + classes)!r}",
        f"_MESSAGE = {message!r}",
        "",
        "",
        "def _not_shipped(name):",
        "    def raise_not_shipped(*args, **kwargs):",
        "        raise NotImplementedError(_MESSAGE.format(name=name))",
        "",
        "    raise_not_shipped.__name__ = name",
        "    return raise_not_shipped",
        "",
        "",
    ]
    lines += [f"{name} = _not_shipped({name!r})" for name in sorted(functions + classes)]
    lines += [
        "",
        "",
        "def __getattr__(name):",
        "    if name.startswith('__'):  # the import system's own look-ups (__path__, ...)",
        "        raise AttributeError(name)",
        "    raise NotImplementedError(_MESSAGE.format(name=name))",
        "",
    ]
    return "\n".join(lines)


def _learner_readme(root: Path, flavour: str) -> str:
    text = (root / LEARNER_README).read_text()
    return f"{text.rstrip()}\n\n{FLAVOUR_NOTES[flavour]}\n"


def _copy_tree(root: Path, folder: Path, flavour: str) -> None:
    for name in lesson_names(root, "lessons"):
        (folder / "lessons" / name).mkdir(parents=True)
        shutil.copy2(root / "lessons" / name / f"{name}.ipynb", folder / "lessons" / name / f"{name}.ipynb")
    shutil.copytree(root / "helpers", folder / "helpers", ignore=IGNORED)
    for name in TOP_FILES:
        shutil.copy2(root / name, folder / name)
    for name in LEARNER_DOCS:
        if (root / name).is_file():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / name, folder / name)
    (folder / "README.md").write_text(_learner_readme(root, flavour))
    # what a learner's work leaves beside the lessons: never part of a pull (nbgitpuller merges)
    (folder / ".gitignore").write_text(LEARNER_GITIGNORE)
    (folder / "postBuild").write_text(LEARNER_POSTBUILD)
    (folder / "postBuild").chmod(0o755)
    if flavour == "graded":
        (folder / QUIZ_KEY).write_text(GRADED_QUIZ_KEY)
        package = folder / REFERENCE_PACKAGE
        for path in sorted(package.glob("*.py")) if package.is_dir() else []:
            if path.name != "__init__.py":
                path.write_text(stub_module(path.read_text(), path.stem))
        init = package / "__init__.py"
        if init.is_file():  # its docstring describes the answers' package; the stubs need none of it
            init.write_text(f'"""The course\'s reference answers: {NOT_SHIPPED}."""\n\n__all__: list[str] = []\n')


def _git(args: list[str], cwd: Path, date: str | None = None) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "tl-course learner distribution",
        "GIT_AUTHOR_EMAIL": "course@localhost",
        "GIT_COMMITTER_NAME": "tl-course learner distribution",
        "GIT_COMMITTER_EMAIL": "course@localhost",
        "GIT_CONFIG_GLOBAL": os.devnull,  # a user's hooks, signing or templates play no part
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    if date:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = date
    done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed in {cwd}: {done.stderr.strip() or done.stdout.strip()}")
    return done.stdout.strip()


def _source_commit(root: Path) -> tuple[str, str]:
    """The course commit the distribution is built from (hash, ISO date); uncommitted changes are marked."""
    try:
        head = _git(["rev-parse", "--short", "HEAD"], root)
        date = _git(["log", "-1", "--format=%cI"], root)
        dirty = bool(_git(["status", "--porcelain", "--", "lessons", "helpers", *TOP_FILES, "docs"], root))
    except (RuntimeError, FileNotFoundError):
        return "unknown", "2026-01-01T00:00:00+00:00"
    return head + ("+uncommitted" if dirty else ""), date


def build(flavour: str, out: Path = DEFAULT_OUT, root: Path = REPO_ROOT) -> Distribution:
    """Build one flavour into ``out/learner-FLAVOUR`` (replacing it) and push it to ``out/learner.git``."""
    if flavour not in FLAVOURS:
        raise ValueError(f"Unknown flavour {flavour!r}: choose {' or '.join(FLAVOURS)}.")
    out = Path(out).resolve()
    folder = out / f"learner-{flavour}"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    _copy_tree(root, folder, flavour)
    source, date = _source_commit(root)
    bare = out / "learner.git"
    if not (bare / "HEAD").is_file():
        bare.mkdir(parents=True, exist_ok=True)
        _git(["init", "--quiet", "--bare", "--initial-branch", "self-paced"], bare)
    _git(["init", "--quiet", "--initial-branch", flavour], folder)
    _git(["add", "--all"], folder)
    # A new build goes on top of the branch's last one: nbgitpuller updates a learner's copy with
    # `git merge`, which refuses unrelated histories. Unchanged sources add no commit.
    previous = _git(["ls-remote", "--heads", str(bare), flavour], folder).split()
    if previous:
        _git(["fetch", "--quiet", str(bare), f"refs/heads/{flavour}"], folder)
        _git(["reset", "--quiet", "--soft", "FETCH_HEAD"], folder)
    if not previous or _git(["status", "--porcelain"], folder):
        _git(["commit", "--quiet", "-m", f"Learner distribution ({flavour}) of the course at {source}"], folder, date)
    commit = _git(["rev-parse", "HEAD"], folder)
    _git(["push", "--quiet", str(bare), f"{flavour}:refs/heads/{flavour}"], folder)
    return Distribution(flavour, folder, bare, commit)


def build_wheel(dist: Distribution, outdir: Path | None = None) -> list[Path]:
    """``python -m build`` of the distribution's ``helpers`` (wheel and sdist) into ``outdir``.

    No build isolation: setuptools is pinned in the course's lock, so this works offline."""
    outdir = Path(outdir or dist.folder.parent / "wheels" / dist.flavour)
    if outdir.exists():
        shutil.rmtree(outdir)
    # build from a copy: setuptools writes *.egg-info and build/ beside the sources, not in the git tree
    with_sources = outdir.parent / f".build-{dist.flavour}"
    if with_sources.exists():
        shutil.rmtree(with_sources)
    shutil.copytree(dist.folder, with_sources, ignore=shutil.ignore_patterns(".git"))
    try:
        done = subprocess.run(
            [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(outdir), str(with_sources)],
            capture_output=True,
            text=True,
        )
    finally:
        shutil.rmtree(with_sources, ignore_errors=True)
    if done.returncode != 0:
        raise RuntimeError(f"python -m build failed for {dist.folder}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return sorted(outdir.iterdir())


def nbgitpuller_link(hub_url: str, repo: str | Path, branch: str, path: str, targetpath: str = "transfer-learning-cv") -> str:
    """A hub link that pulls ``branch`` of ``repo`` into the learner's ``targetpath`` and opens ``path``
    (relative to the distribution's root, e.g. ``lessons/05_quiz/05_quiz.ipynb``) in JupyterLab.

    ``repo`` may be a URL or a local bare repository (``OUT/learner.git``), given as ``file://`` so
    that git's shallow clone works on it."""
    repo_text = Path(repo).resolve().as_uri() if isinstance(repo, Path) or str(repo).startswith("/") else str(repo)
    query = urlencode({"repo": repo_text, "branch": branch, "urlpath": f"lab/tree/{targetpath}/{path}", "targetpath": targetpath})
    return f"{hub_url.rstrip('/')}/hub/user-redirect/git-pull?{query}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m coursetools.learner_dist", description=__doc__.split("\n\n")[0])
    parser.add_argument("--flavour", choices=FLAVOURS, action="append", help="default: both")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="default: _dist/ in the repository")
    parser.add_argument("--wheel", action="store_true", help="also build helpers' wheel and sdist (python -m build)")
    args = parser.parse_args(argv)
    for flavour in args.flavour or FLAVOURS:
        dist = build(flavour, args.out)
        files = sum(1 for p in dist.folder.rglob("*") if p.is_file() and ".git" not in p.relative_to(dist.folder).parts)
        print(f"{flavour}: {files} files in {dist.folder}, branch {dist.branch} of {dist.bare_repo} at {dist.commit[:12]}")
        if args.wheel:
            for path in build_wheel(dist):
                print(f"  {path}")
    print(
        f"nbgitpuller: {nbgitpuller_link('http://127.0.0.1:8000', args.out / 'learner.git', 'graded', 'lessons/05_quiz/05_quiz.ipynb')}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

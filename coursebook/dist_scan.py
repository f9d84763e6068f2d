"""The website's leak scan (``coursebook.scan``), run over every file of a learner distribution.

    python -m coursebook.dist_scan _dist/learner-graded --flavour graded

The secrets are the website's (every solution and hidden-test line of ``solutions/`` that no
released lesson contains; for the self-paced flavour, which ships the reference answers by design,
not the lines they hold); for the graded class also the quiz's answer hashes
(``helpers/quiz_key.py``) and every line of the reference answers' function bodies
(``helpers/reference_answers/``), which that flavour must not ship. Every file is searched, whatever
its type, on its text with whitespace collapsed (a notebook on its sources and outputs).
``coursetools.learner_dist`` builds the distribution; ``make learner-dist`` runs both.
"""

from __future__ import annotations

import argparse
import ast
import sys
from dataclasses import dataclass
from pathlib import Path

from coursetools.paths import REPO_ROOT

from .scan import MIN_CHARS, Secret, file_text, normalise, secrets

__all__ = ["GENERIC_LINES", "Leak", "scan", "secret_lines"]

# Solution lines that helpers' own code also contains (any copy of helpers, on Colab too, shows
# them): generic Python, not an answer. Each is listed with where helpers has it, so that a new
# overlap fails the scan until someone reads it.
GENERIC_LINES = {
    "except ValueError:": "helpers/config.py, image_folder.py, near_duplicates.py, quiz.py",
    "loss.backward()": "helpers/training.py (its own training loop)",
    "seen += labels.size(0)": "helpers/training.py (its own training loop)",
    "rng = random.Random(seed)": "helpers/my_images.py (its seeded split)",
}
QUIZ_KEY = "helpers/quiz_key.py"
REFERENCE_PACKAGE = "helpers/reference_answers"


@dataclass(frozen=True)
class Leak:
    path: Path
    what: str


def _answer_hashes(root: Path) -> list[str]:
    """The quiz key's hashes, read from the source (never imported: ``root`` may be another checkout)."""
    for node in ast.parse((root / QUIZ_KEY).read_text()).body:
        target = node.target if isinstance(node, ast.AnnAssign) else (node.targets[0] if isinstance(node, ast.Assign) else None)
        if isinstance(target, ast.Name) and target.id == "ANSWER_HASHES" and node.value is not None:
            return list((ast.literal_eval(node.value) or {}).values())
    raise ValueError(f"{root / QUIZ_KEY} defines no ANSWER_HASHES")


def _reference_lines(root: Path) -> list[Secret]:
    """Every non-trivial line of the reference answers' function bodies that no released lesson
    shows (a your-turn line the walkthrough prints, or an `import torch`, is public already)."""
    public = normalise("\n".join(file_text(nb).text for nb in sorted((root / "lessons").glob("*/*.ipynb"))))
    found = []
    package = root / REFERENCE_PACKAGE
    for path in sorted(package.glob("*.py")) if package.is_dir() else []:
        if path.name == "__init__.py":
            continue
        text = path.read_text()
        for node in ast.parse(text).body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                body = node.body[1:] if ast.get_docstring(node) else node.body
                for statement in body:
                    for line in (ast.get_source_segment(text, statement) or "").splitlines():
                        line = normalise(line)
                        if len(line.replace(" ", "")) >= MIN_CHARS and line not in public:
                            found.append(Secret(f"reference_answers/{path.name}", line))
    return found


def secret_lines(flavour: str, root: Path = REPO_ROOT) -> list[Secret]:
    """What must not be in a flavour of the learner distribution (see the module's docstring)."""
    found = [s for s in secrets(root / "solutions", root / "lessons") if s.line not in GENERIC_LINES]
    if flavour == "self-paced":  # it ships the reference answers by design: a your-turn cell's lines are in them
        package = root / REFERENCE_PACKAGE
        shipped = normalise("\n".join(p.read_text() for p in sorted(package.glob("*.py")))) if package.is_dir() else ""
        found = [s for s in found if s.line not in shipped]
    if flavour == "graded":
        found += [Secret("05_quiz (answer key)", digest) for digest in _answer_hashes(root)]
        found += _reference_lines(root)
    return list(dict.fromkeys(found))


def scan(folder: Path, secret_list: list[Secret]) -> tuple[int, list[Leak]]:
    """Every file of ``folder`` (``.git`` aside) searched for every secret; returns (files scanned, leaks)."""
    folder = Path(folder)
    files, leaks = 0, []
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and ".git" not in p.relative_to(folder).parts):
        files += 1
        text = file_text(path).text if path.suffix == ".ipynb" else normalise(path.read_bytes().decode("utf-8", "replace"))
        leaks += [Leak(path, f"{secret.notebook}: {secret.line!r}") for secret in secret_list if secret.line in text]
    return files, leaks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m coursebook.dist_scan", description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path, nargs="+", help="built distributions (learner-FLAVOUR folders)")
    parser.add_argument("--flavour", choices=("self-paced", "graded"), help="default: from the folder's name")
    args = parser.parse_args(argv)
    status = 0
    for folder in args.folder:
        flavour = args.flavour or ("graded" if folder.name.endswith("graded") else "self-paced")
        hidden = secret_lines(flavour)
        scanned, leaks = scan(folder, hidden)
        print(
            f"{folder} ({flavour}): leak scan: {len(leaks)} of {len(hidden)} solution, hidden-test and answer lines found in {scanned} files"
        )
        for leak in leaks:
            print(f"  LEAK {leak.path.relative_to(folder)}: {leak.what}")
        status = status or (1 if leaks else 0)
    return status


if __name__ == "__main__":
    sys.exit(main())

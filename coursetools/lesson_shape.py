"""The shape of each lesson's walkthrough: words of prose, lines of visible code, cells the learner writes.

The walkthrough is everything before the lesson's "Exercises" heading (``## N. Exercises``; the quiz, which
has none, counts whole). Counted on ``solutions/`` (the same cells as ``lessons/``):

- words: the words of the Markdown cells (a code span counts as one word per token);
- visible code lines: non-blank lines of code cells a reader sees, so not the cells hidden on the website
  (tag ``hide-input``) and collapsed in JupyterLab (``jupyter.source_hidden``);
- learner cells: cells tagged ``your-turn`` (written inside the walkthrough), and the exercises' answer cells.

Issue #28's targets: at most 1,500 words and 180 visible code lines per walkthrough, and at least 3
your-turn cells in lessons 02, 03, 04 and 06. ``python -m coursetools.lesson_shape`` prints the table;
``--readme`` writes it into the README (between the ``shape:start``/``shape:end`` markers);
``tests/test_lesson_shape.py`` holds the lessons to the targets and the README to the table.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from coursetools.paths import REPO_ROOT

__all__ = ["MAX_WORDS", "MAX_CODE_LINES", "MIN_YOUR_TURN", "LessonShape", "lesson_shape", "shape_table", "readme_with_table"]

MAX_WORDS = 1500
MAX_CODE_LINES = 180
MIN_YOUR_TURN = {
    "02_vgg16_feature_extraction": 3,
    "03_resnet50_fine_tuning": 3,
    "04_pytorch_resnet18": 3,
    "06_your_own_images": 3,
}
EXERCISES_HEADING = re.compile(r"^#{1,3} (\d+\. )?Exercises\b", re.M)


@dataclass(frozen=True)
class LessonShape:
    lesson: str
    words: int
    visible_code_lines: int
    hidden_code_lines: int
    your_turn_cells: int
    exercise_cells: int


def _hidden(cell: dict) -> bool:
    metadata = cell.get("metadata", {})
    return "hide-input" in metadata.get("tags", []) or bool(metadata.get("jupyter", {}).get("source_hidden"))


def _answer_cell(cell: dict) -> bool:
    nbgrader = cell.get("metadata", {}).get("nbgrader", {})
    return bool(nbgrader.get("solution"))


def lesson_shape(notebook: Path) -> LessonShape:
    cells = json.loads(notebook.read_text())["cells"]
    source = ["".join(c["source"]) for c in cells]
    end = next(
        (i for i, (c, s) in enumerate(zip(cells, source)) if c["cell_type"] == "markdown" and EXERCISES_HEADING.search(s)),
        len(cells),
    )
    walkthrough = list(zip(cells[:end], source[:end]))
    code = [(c, s) for c, s in walkthrough if c["cell_type"] == "code"]
    lines = lambda s: sum(1 for line in s.splitlines() if line.strip())  # noqa: E731
    your_turn = [c for c, _ in code if "your-turn" in c.get("metadata", {}).get("tags", [])]
    return LessonShape(
        lesson=notebook.stem,
        words=sum(len(s.split()) for c, s in walkthrough if c["cell_type"] == "markdown"),
        visible_code_lines=sum(lines(s) for c, s in code if not _hidden(c)),
        hidden_code_lines=sum(lines(s) for c, s in code if _hidden(c)),
        your_turn_cells=len(your_turn),
        exercise_cells=sum(1 for c in cells[end:] if c["cell_type"] == "code" and _answer_cell(c)),
    )


def shape_table(root: Path = REPO_ROOT) -> str:
    rows = [lesson_shape(p) for p in sorted((root / "solutions").glob("*/*.ipynb"))]
    header = (
        f"| lesson | walkthrough words (target <= {MAX_WORDS:,}) | visible code lines (<= {MAX_CODE_LINES}) "
        "| hidden code lines | your-turn cells | exercise answer cells |\n| --- | --- | --- | --- | --- | --- |"
    )
    body = [
        f"| `{r.lesson}` | {r.words:,} | {r.visible_code_lines} | {r.hidden_code_lines} | {r.your_turn_cells} | {r.exercise_cells} |"
        for r in rows
    ]
    return "\n".join([header, *body])


README_BLOCK = re.compile(r"(<!-- shape:start -->\n).*?(<!-- shape:end -->)", re.S)


def readme_with_table(readme: str, table: str) -> str:
    """``readme`` with its shape block replaced by ``table``."""
    if not README_BLOCK.search(readme):
        raise ValueError("the README has no <!-- shape:start --> ... <!-- shape:end --> block")
    return README_BLOCK.sub(lambda m: m.group(1) + table + "\n" + m.group(2), readme)


if __name__ == "__main__":
    import sys

    table = shape_table()
    if "--readme" in sys.argv[1:]:
        readme = REPO_ROOT / "README.md"
        readme.write_text(readme_with_table(readme.read_text(), table))
        print(f"{readme}: shape table written")
    else:
        print(table)

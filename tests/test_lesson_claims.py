"""Lessons claim only what they measure: no fixed figure in the Markdown of `solutions/`.

A result belongs in a code cell that builds its sentence from the run's variables
(`display(Markdown(f"..."))`), so the sentence changes when the run does. A Markdown cell may
hold a percentage or an "N times" / "Nx" / "N×" figure only when it is a cited external figure,
listed with its source in the reviewed allow-list `tests/cited_figures.txt`.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import REPO_ROOT, lesson_names
from nbgrader_course import read_notebook

ALLOW_LIST = Path(__file__).with_name("cited_figures.txt")

# A number followed by a percent sign or "percent"; by "times"; or directly by x/× ("100x").
# Number words ("twice", "four times") are not scanned: they state facts of arithmetic
# (float32 takes four bytes), never a measured result.
FIGURE = re.compile(
    r"\d+(?:[.,]\d+)?\s*(?:%|percent\b)"
    r"|\d+(?:[.,]\d+)?\s*(?:times\b|×)"
    r"|\d+(?:[.,]\d+)?x(?![A-Za-z0-9])"
)


def cited_figures(path: Path = ALLOW_LIST) -> dict[str, str]:
    """``{figure text: source}`` from the allow-list; every line must name its source."""
    cited = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        figure, sep, source = (part.strip() for part in line.partition("|"))
        if not sep or not figure or not source:
            raise ValueError(f"{path.name}:{number}: write `figure text | source`, got {line!r}")
        cited[figure] = source
    return cited


def uncited_figures(markdown: str, cited: dict[str, str]) -> list[str]:
    """The figures of one Markdown cell that are not part of a cited figure text."""
    text = " ".join(markdown.split())  # a cited phrase may be wrapped over lines
    for figure in sorted(cited, key=len, reverse=True):
        text = text.replace(figure, " ")
    return [match.group(0) for match in FIGURE.finditer(text)]


def markdown_figures(lesson: str, cited: dict[str, str]) -> list[str]:
    notebook = read_notebook(REPO_ROOT / "solutions" / lesson / f"{lesson}.ipynb")
    found = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "markdown":
            found += [f"cell {index}: {figure!r}" for figure in uncited_figures(cell.source, cited)]
    return found


@pytest.mark.parametrize("lesson", lesson_names())
def test_markdown_states_no_figure_the_run_does_not_compute(lesson):
    found = markdown_figures(lesson, cited_figures())
    assert not found, (
        f"{lesson}: fixed figures in Markdown cells: {found}. Print results from a code cell with "
        "display(Markdown(f'...')) built from the run's variables, or, for a cited external figure, "
        "add `figure text | source` to tests/cited_figures.txt."
    )


def test_the_scanner_catches_each_kind_of_figure():
    cell = "Fine-tuning usually buys 3 % more, 2.5 percent here; the cache is 9.7x faster, costs 4 times less, a 10× speedup."
    assert uncited_figures(cell, {}) == ["3 %", "2.5 percent", "9.7x", "4 times", "10×"]


def test_the_scanner_ignores_what_is_not_a_figure():
    cell = "A 3 x 3 kernel, `Dense(1)`, 0x1F, ImageNet-1k, layer4 and conv5_x, twice the cost."
    assert uncited_figures(cell, {}) == []


def test_a_cited_figure_passes_only_as_its_whole_cited_phrase():
    cited = {"10 to 100 times lower than the head's": "keras.io guide"}
    assert uncited_figures("a rate 10 to 100 times lower than the head's;\ntune it", cited) == []
    assert uncited_figures("a rate 100 times lower", cited) == ["100 times"]


def test_every_allow_list_line_names_its_source(tmp_path):
    assert all(cited_figures().values())
    bad = tmp_path / "cited.txt"
    bad.write_text("# comment\n50 % | a source\n42 %\n", encoding="utf-8")
    with pytest.raises(ValueError, match="cited.txt:3"):
        cited_figures(bad)


def test_the_intro_says_what_data_the_numbers_are_computed_on():
    # fresh review 6, C6: lesson 01's main experiments run on scikit-learn's handwritten digits, not on photos
    intro = " ".join((REPO_ROOT / "docs" / "intro.md").read_text().split())
    assert "load_digits" in (REPO_ROOT / "solutions" / "01_concepts" / "01_concepts.ipynb").read_text()
    assert "on real photos" not in intro, "lesson 1 computes most of its numbers on handwritten digits"
    assert "on real data (photos; lesson 1 also uses scikit-learn's handwritten digits)" in intro

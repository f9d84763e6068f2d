"""Prove that the built site leaks nothing: no solution line, no hidden test, no traceback.

The secrets are read from the instructor notebooks (``solutions/``): every non-trivial line
between ``### BEGIN SOLUTION``/``### END SOLUTION`` and ``### BEGIN HIDDEN TESTS``/``### END
HIDDEN TESTS``. A line that a released student notebook (``lessons/``) also contains is
public by construction (a comment, or a walkthrough line that an answer repeats) and is skipped.

Pages are compared on their text content with whitespace collapsed, so syntax-highlighting
spans, HTML escaping and line wrapping cannot hide a match. Output areas are checked
separately for tracebacks and error names.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

REGIONS = (("### BEGIN SOLUTION", "### END SOLUTION"), ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"))
MIN_CHARS = 8  # shorter lines ("pass", "else:", "])") say nothing about an answer...
# ...except a short answer assigned in full (the quiz's `q1 = "b"`, `q7 = 513`)
SHORT_ANSWER = re.compile(r"^[A-Za-z_]\w* = [^\s\[{(]+$")
ERROR_IN_OUTPUT = re.compile(r"Traceback \(most recent call last\)|\b[A-Z]\w*(Error|Exception)\b")
TEXT_SUFFIXES = {".html", ".ipynb", ".js", ".json", ".txt", ".md"}


def normalise(text: str) -> str:
    return " ".join(text.split())


@dataclass(frozen=True)
class Secret:
    notebook: str
    line: str


def region_lines(source: str) -> list[str]:
    """The lines inside solution and hidden-test regions of one cell's source."""
    lines, inside = [], None
    for raw in source.splitlines():
        marker = raw.strip()
        for begin, end in REGIONS:
            if marker == begin:
                inside = end
                break
        else:
            if inside and marker == inside:
                inside = None
            elif inside:
                lines.append(raw)
    return lines


def _cell_sources(path: Path) -> list[str]:
    return ["".join(c["source"]) if isinstance(c["source"], list) else c["source"] for c in json.loads(path.read_text())["cells"]]


def secrets(solutions: Path, lessons: Path) -> list[Secret]:
    """Every non-trivial solution/hidden-test line that the student version does not contain."""
    # Every released notebook is published, so a line any of them contains is no secret
    # (e.g. `optimizer.step()` in one lesson's walkthrough and another lesson's exercise).
    public = normalise("\n".join(s for nb in sorted(lessons.glob("*/*.ipynb")) for s in _cell_sources(nb)))
    found = []
    for notebook in sorted(solutions.glob("*/*.ipynb")):
        for source in _cell_sources(notebook):
            for line in region_lines(source):
                text = normalise(line)
                secret = Secret(notebook.parent.name, text)
                telling = len(text.replace(" ", "")) >= MIN_CHARS or SHORT_ANSWER.match(text)
                if telling and text not in public and secret not in found:
                    found.append(secret)
    return found


class _PageText(HTMLParser):
    """All text of a page, and separately the text inside notebook output areas."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.output_parts: list[str] = []
        self.output_classes: list[str] = []
        self.output_images = 0
        self._stack: list[bool] = []  # per open element: does it start an output area?
        self._depth_in_output = 0

    def handle_starttag(self, tag, attrs):
        classes = dict(attrs).get("class") or ""
        starts = "cell_output" in classes.split() or "output" in classes.split()
        if self._depth_in_output or starts:
            self.output_classes.append(classes)
            self.output_images += tag == "img"
        if tag in ("br", "img", "hr", "input", "meta", "link", "wbr", "source"):
            return  # void elements have no end tag
        self._stack.append(starts)
        self._depth_in_output += starts

    def handle_endtag(self, tag):
        if self._stack:
            self._depth_in_output -= self._stack.pop()

    def handle_data(self, data):
        self.parts.append(data)
        if self._depth_in_output:
            self.output_parts.append(data)


@dataclass
class PageText:
    text: str
    output_text: str
    output_classes: str
    output_images: int = 0


def page_text(html: str) -> PageText:
    parser = _PageText()
    parser.feed(html)
    parser.close()
    return PageText(
        normalise("".join(parser.parts)),
        normalise("".join(parser.output_parts)),
        " ".join(parser.output_classes),
        parser.output_images,
    )


def file_text(path: Path) -> PageText:
    """The comparable text of a built file: HTML by its text content, a notebook by its cells."""
    raw = path.read_text(errors="replace")
    if path.suffix == ".html":
        return page_text(raw)
    if path.suffix == ".ipynb":
        cells = json.loads(raw)["cells"]
        inputs = ["".join(c["source"]) for c in cells]
        outputs = []
        for cell in cells:
            for output in cell.get("outputs", []):
                outputs.append("".join(output.get("text", "")))
                outputs += ["".join(v) if isinstance(v, list) else str(v) for v in output.get("data", {}).values()]
                outputs += output.get("traceback", [])
        return PageText(normalise("\n".join(inputs + outputs)), normalise("\n".join(outputs)), "")
    return PageText(normalise(raw), "", "")


@dataclass
class Leak:
    path: Path
    what: str


def scan_site(html_root: Path, secret_lines: list[Secret]) -> list[Leak]:
    """Every leak in the built site (empty when it is clean)."""
    leaks = []
    for path in sorted(p for p in html_root.rglob("*") if p.suffix in TEXT_SUFFIXES and p.is_file()):
        if path.name in ("searchindex.js",) or "_static" in path.parts:
            continue  # the search index holds single words; _static is the theme's own code
        page = file_text(path)
        for secret in secret_lines:
            if secret.line in page.text:
                leaks.append(Leak(path, f"solution/hidden-test line of {secret.notebook}: {secret.line!r}"))
        match = ERROR_IN_OUTPUT.search(page.output_text)
        if match:
            leaks.append(
                Leak(path, f"error in an output: ...{page.output_text[max(0, match.start() - 60) : match.end() + 60]}...")
            )
        if "traceback" in page.output_classes or "stderr" in page.output_classes:
            leaks.append(Leak(path, "an error or stderr output block"))
    return leaks

"""Student outputs made safe to open: no script runs in the instructor's browser.

The autograded notebook is what formgrader shows inside the instructor's Jupyter session and
what the feedback HTML is made from; a student's cell can put any HTML or JavaScript in its
outputs, and a Markdown answer can hold raw HTML. ``SanitizeOutputs`` (an autograde step in
``nbgrader_config.py``) rewrites them before the autograded notebook is written:

- JavaScript outputs (``application/javascript`` ...) are removed, with a note in their place;
- HTML and Markdown (outputs, Markdown cells, raw cells) keep formatting tags (tables, lists,
  images, links) and lose the rest: ``<script>``, ``<iframe>``, ``<object>``, ``<style>``,
  ``<form>``, every ``on*`` event attribute, ``style``, and any URL that is not http(s), mailto
  or a ``data:image`` picture (``javascript:``). Markdown that could hold any of these (a tag,
  ``script``, an entity, a ``data:`` URL: ``[x](javascript:...)`` needs no tag) is rendered to
  HTML as nbconvert renders it, then cleaned: the cell then holds that HTML, which Markdown shows
  the same way;
- SVG (which can carry scripts) is dropped, with a note;
- pictures must be base64 and their display metadata plain numbers (nbconvert's templates put
  ``width`` into an unquoted attribute: ``"1 onerror=..."`` would become a handler); anything
  else in an output's metadata (``filenames`` ...) is dropped;
- LaTeX's ``\\href``/``\\url`` (MathJax turns them into links) become plain text.

Plain text and images (PNG, JPEG) are inert and stay as they are.
"""

from __future__ import annotations

import re

import bleach
from nbconvert.preprocessors import Preprocessor
from traitlets import Bool

__all__ = ["SanitizeOutputs", "clean_html", "clean_markdown"]

_TAGS = frozenset(
    {
        "a",
        "abbr",
        "b",
        "blockquote",
        "br",
        "caption",
        "code",
        "col",
        "colgroup",
        "dd",
        "del",
        "details",
        "div",
        "dl",
        "dt",
        "em",
        "figcaption",
        "figure",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "i",
        "img",
        "ins",
        "kbd",
        "li",
        "ol",
        "p",
        "pre",
        "q",
        "s",
        "samp",
        "small",
        "span",
        "strong",
        "sub",
        "summary",
        "sup",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
        "u",
        "ul",
        "var",
    }
)
_ATTRIBUTES = {
    "*": ["class", "title", "align"],
    "a": ["href"],
    "img": ["src", "alt", "width", "height"],
    "td": ["colspan", "rowspan"],
    "th": ["colspan", "rowspan"],
    "table": ["border"],
}
_PROTOCOLS = frozenset({"http", "https", "mailto", "data"})
# elements whose content is code or a page of its own, dropped whole (bleach would keep the text)
_DROPPED = re.compile(
    r"<(script|style|iframe|object|embed|template|noscript|frame|frameset|svg|math)\b.*?"
    r"(</\1\s*>|$)",
    re.IGNORECASE | re.DOTALL,
)
_HAS_TAG = re.compile(r"<[A-Za-z!/?]")
# what Markdown needs to carry a script: a tag, a script: URL (even as "java\tscript"), an entity
_SUSPICIOUS_MARKDOWN = re.compile(r"<[A-Za-z!/?]|script|&#|&[a-z]+;|data\s*:", re.IGNORECASE)
_SCRIPT_TYPES = ("javascript", "ecmascript")
_REMOVED = "[removed by the autograder: {} output could run code in the reader's browser]"
_BASE64 = re.compile(r"^[A-Za-z0-9+/=\s]*$")
_LATEX_LINK = re.compile(r"\\+(href|url)\b")
_IMAGE_KEYS = {"width", "height", "unconfined", "needs_background"}


def _safe_metadata(metadata: dict) -> dict:
    """Only numbers for sizes, a bool and light/dark: what the HTML templates use of it."""
    kept = {}
    for mime, entry in metadata.items():
        if not isinstance(entry, dict):
            continue
        clean = {}
        for key, value in entry.items():
            if key in ("width", "height") and isinstance(value, (int, float)) and not isinstance(value, bool):
                clean[key] = value
            elif key == "unconfined" and isinstance(value, bool):
                clean[key] = value
            elif key == "needs_background" and value in ("light", "dark"):
                clean[key] = value
        if clean:
            kept[mime] = clean
    return kept


def _safe_url(tag: str, name: str, value: str) -> bool:
    if name in ("href", "src"):
        value = value.strip().lower()
        if value.startswith("data:"):
            return tag == "img" and value.startswith("data:image/") and not value.startswith("data:image/svg")
    return name in _ATTRIBUTES.get(tag, []) or name in _ATTRIBUTES["*"]


def clean_html(text: str) -> str:
    """``text`` with only formatting left (see the module docstring)."""
    text = _DROPPED.sub("", text)
    attributes = {tag: lambda t, n, v, tag=tag: _safe_url(t, n, v) for tag in _TAGS}
    return bleach.clean(text, tags=_TAGS, attributes=attributes, protocols=_PROTOCOLS, strip=True, strip_comments=True)


def _clean_output(out: dict) -> None:
    if "metadata" in out:
        out["metadata"] = _safe_metadata(out["metadata"] or {})
    data = out.get("data")
    if not data:
        return
    for mime in list(data):
        value = data[mime]
        if (
            any(kind in mime for kind in _SCRIPT_TYPES)
            or mime == "image/svg+xml"
            or (mime.startswith("image/") and not (isinstance(value, str) and _BASE64.match(value)))
        ):
            del data[mime]
            data.setdefault("text/plain", _REMOVED.format(mime))
        elif mime == "text/latex":
            data[mime] = _LATEX_LINK.sub(r"\\text", "".join(value) if isinstance(value, list) else value)
        elif mime in ("text/html", "text/markdown"):
            value = data[mime]
            value = "".join(value) if isinstance(value, list) else value
            data[mime] = clean_markdown(value) if mime == "text/markdown" else clean_html(value)


def clean_markdown(text: str) -> str:
    """Markdown as it is when it cannot carry a script, else rendered to HTML and cleaned."""
    text = _LATEX_LINK.sub(r"\\text", text)
    if not _SUSPICIOUS_MARKDOWN.search(text):
        return text
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    return clean_html(markdown2html_mistune(text))


class SanitizeOutputs(Preprocessor):
    """Neutralise scripts in outputs, Markdown and raw cells (see the module docstring)."""

    enabled = Bool(True).tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "code":
            for out in cell.get("outputs", []):
                _clean_output(out)
        elif cell.cell_type == "markdown":
            cell.source = clean_markdown(cell.source)
        elif cell.cell_type == "raw" and _HAS_TAG.search(cell.source):
            cell.source = clean_html(cell.source)
        return cell, resources

"""Keep the built site light: drop theme files no page needs, and measure what each page weighs.

The theme (pydata-sphinx-theme) loads ``fontawesome.js`` (1.5 MB) on every page to turn icon
tags into inline SVG, although its stylesheet already draws the same icons with the Font
Awesome web fonts it ships (about 150 KB, fetched only when used). Without the script the
icons come from the fonts; nothing else on the site uses it. Source maps serve only a
developer debugging the theme.

A page's weight is what a browser fetches to show it: the HTML, its scripts and stylesheets,
its images and the WOFF2 fonts those stylesheets name (an upper bound: a browser fetches a
font only when a glyph needs it). ``tests/test_book.py`` also measures it in Chromium.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

UNUSED_SCRIPTS = ("fontawesome.js",)
PAGE_BUDGET_BYTES = 2_000_000  # a lesson page with its images (issue 20)


class _Assets(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in ("script", "img") and attrs.get("src"):
            self.urls.append(attrs["src"])
        if tag == "link" and attrs.get("href") and set((attrs.get("rel") or "").split()) & {"stylesheet", "preload"}:
            self.urls.append(attrs["href"])


def _local(page: Path, url: str, html_root: Path) -> Path | None:
    parsed = urlparse(url)
    if parsed.scheme or parsed.netloc or not parsed.path:
        return None
    path = (page.parent / unquote(parsed.path)).resolve()
    return path if path.is_file() and html_root.resolve() in path.parents else None


def drop_unused_assets(html_root: Path) -> int:
    """Remove the unused scripts (file and ``<script>`` tag) and source maps; bytes saved."""
    saved = 0
    for name in UNUSED_SCRIPTS:
        tag = re.compile(r'\s*<script[^>]*\bsrc="[^"]*/' + re.escape(name) + r'(\?[^"]*)?"[^>]*></script>')
        for page in html_root.rglob("*.html"):
            text = page.read_text()
            slim = tag.sub("", text)
            if slim != text:
                page.write_text(slim)
        for path in html_root.rglob(name):
            saved += path.stat().st_size
            path.unlink()
    for path in html_root.rglob("*.map"):
        saved += path.stat().st_size
        path.unlink()
    return saved


def page_weight(page: Path, html_root: Path) -> int:
    """Bytes a browser fetches for ``page``: itself, scripts, stylesheets, images, their WOFF2 fonts."""
    parser = _Assets()
    parser.feed(page.read_text())
    files = {page.resolve()}
    for url in parser.urls:
        path = _local(page, url, html_root)
        if path is None:
            continue
        files.add(path)
        if path.suffix == ".css":
            for font in re.findall(r"url\(['\"]?([^'\")]+\.woff2)", path.read_text(errors="replace")):
                found = _local(path, font, html_root)
                if found is not None:
                    files.add(found)
    return sum(path.stat().st_size for path in files)


def lesson_page_weights(html_root: Path) -> dict[str, int]:
    """``{lesson name: bytes}`` for every page under ``lessons/``."""
    return {page.stem: page_weight(page, html_root) for page in sorted((html_root / "lessons").rglob("*.html"))}

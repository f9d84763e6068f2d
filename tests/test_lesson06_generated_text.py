"""Lesson 06's note on the fallback photos states no result before any training (review B4).

The lesson's own hidden cell ``57f261ac`` runs here: it is printed before the first epoch, whatever the
run later scores, so it may only say what to expect of ImageNet classes, not that the scores are higher.
"""

from __future__ import annotations

from types import SimpleNamespace

import nbformat
from conftest import REPO_ROOT

NOTEBOOK = REPO_ROOT / "solutions" / "06_your_own_images" / "06_your_own_images.ipynb"


def test_the_fallback_note_expects_and_does_not_assert_higher_scores():
    (cell,) = [c for c in nbformat.read(NOTEBOOK, as_version=4).cells if c.get("id") == "57f261ac"]
    shown = []
    source = SimpleNamespace(origin="fallback", description="ants, bees, cats and dogs")
    exec(cell.source, {"source": source, "FALLBACK_PER_CLASS": 10, "Markdown": str, "display": shown.append})  # noqa: S102
    (text,) = shown
    assert "scores are higher" not in text, text
    assert "expect its scores to be higher than what your own photos will reach" in text, text

"""Lesson 06 §5 says which photos its Grad-CAM grid shows: mistakes only when the run made some (review 3, B3).

The lesson's own hidden cell ``cell-35`` runs here on made-up predictions, with stand-ins for the photos, the
heatmaps and the grid: a run with no test mistake must say that the grid shows right answers only.
"""

from __future__ import annotations

import contextlib
import io

import nbformat
import numpy as np
import pytest
from conftest import REPO_ROOT

NOTEBOOK = REPO_ROOT / "solutions" / "06_your_own_images" / "06_your_own_images.ipynb"


def _gradcam_lines(y_pred, y_test) -> tuple[str, list]:
    (cell,) = [c for c in nbformat.read(NOTEBOOK, as_version=4).cells if c.get("id") == "cell-35"]
    y_pred, y_test = np.array(y_pred), np.array(y_test)
    confidence = np.linspace(0.9, 0.5, len(y_test))
    shown = []
    namespace = {
        "np": np,
        "confidence": confidence,
        "y_pred": y_pred,
        "y_test": y_test,
        "wrong": [i for i in np.argsort(-confidence) if y_pred[i] != y_test[i]][:8],  # as the lesson's cell-31
        "test_paths": [f"photo{i}.jpg" for i in range(len(y_test))],
        "classes": ["ants", "bees"],
        "grad_cam": lambda model, photo, target: np.zeros((2, 2)),
        "model": None,
        "preprocess": lambda photo, size, fit: photo,
        "load_rgb": lambda path: path,
        "IMAGE_SIZE": 160,
        "FIT": "crop",
        "show_grid": lambda paths, titles, heatmaps=None, title="": shown.append(titles),
    }
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(cell.source, namespace)  # noqa: S102 - the lesson's own cell
    (titles,) = shown
    return out.getvalue(), titles


def test_no_test_mistake_says_the_grid_shows_right_answers_only():
    text, titles = _gradcam_lines(y_pred=[0, 1, 0, 1, 0, 1], y_test=[0, 1, 0, 1, 0, 1])
    assert all(t.startswith("right: ") for t in titles), titles
    assert "4 confident right answer(s) and 0 mistake(s)" in text, text
    assert "no test mistake, so the grid shows right answers only" in text, text


@pytest.mark.parametrize(("mistakes", "shown"), [(1, 1), (5, 4)])
def test_mistakes_are_counted_as_the_grid_shows_them(mistakes, shown):
    y_test = [0, 1] * 6
    y_pred = [1 - y if i < mistakes else y for i, y in enumerate(y_test)]
    text, titles = _gradcam_lines(y_pred, y_test)
    assert sum(t.startswith("wrong: ") for t in titles) == shown, titles
    assert f"and {shown} mistake(s)" in text and "right answers only" not in text, text

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


def _model_card(tmp_path, weights_source: str, phase2_kept: bool) -> str:
    """The lesson's own card cell (``cell-41``) on made-up results."""
    import numpy as np

    (cell,) = [c for c in nbformat.read(NOTEBOOK, as_version=4).cells if c.get("id") == "cell-41"]
    shown: list = []
    classes = ["ants", "bees"]
    namespace = {
        "BACKBONES": {"mobilenet_v2": SimpleNamespace(licence="BSD-3-Clause")},
        "classes": classes,
        "audit": SimpleNamespace(counts={"ants": 10, "bees": 10}, usable=[None] * 20, skipped={}, notes={}, near_duplicates=[]),
        "splits": SimpleNamespace(train=[(None, 0), (None, 1)] * 6, val=[None] * 4, test=[None] * 4),
        "precision": [0.5, 0.5],
        "recall": [0.5, 0.5],
        "f1": [0.5, 0.5],
        "y_test": np.array([0, 1, 0, 1]),
        "test_accuracy": 0.5,
        "cv_mean": None,
        "cv_scores": [],
        "cv_std": None,
        "weights_source": weights_source,
        "phase2_kept": phase2_kept,
        "IMAGE_SIZE": 224,
        "FIT": "crop",
        "TOP_STAGE": 14,
        "source": SimpleNamespace(description="photos", origin="environment"),
        "majority_baseline": 0.5,
        "majority": 0,
        "tie_note": "",
        "export_dir": tmp_path,
        "Markdown": str,
        "display": shown.append,
        "np": np,
    }
    exec(cell.source, namespace)  # noqa: S102 - the lesson's own cell
    (card,) = shown
    return card.split("**Data.**")[0]


def test_the_model_card_says_frozen_only_for_what_stayed_frozen_and_names_random_weights(tmp_path):
    kept = _model_card(tmp_path, "imagenet", phase2_kept=True)
    assert "ImageNet weights, frozen up to block 13; its top stage (blocks 14 on) fine-tuned" in kept, kept
    assert "ImageNet weights, frozen; a new linear head" in _model_card(tmp_path, "imagenet", phase2_kept=False)
    random = _model_card(tmp_path, "random", phase2_kept=False)
    assert "with random weights (the ImageNet weights were not available" in random, random
    assert "ImageNet weights (random)" not in random and "with ImageNet weights" not in random, random

"""Lesson 06's note on the fallback photos states no result before any training (review B4).

The lesson's own hidden cell ``57f261ac`` runs here: it is printed before the first epoch, whatever the
run later scores, so it may only say what to expect of ImageNet classes, not that the scores are higher.
The phase-2 verdict (``df03b1b0``) says so when no accuracy can clear the bar (phase 1's accuracy plus the spread
at 1 or more), instead of reading "not kept" as a test (review 3, C4); it calls validation saturated only when phase 1
scored 1.000 (fresh review 6, B2).
"""

from __future__ import annotations

from types import SimpleNamespace

import nbformat
import pytest
from conftest import REPO_ROOT

NOTEBOOK = REPO_ROOT / "solutions" / "06_your_own_images" / "06_your_own_images.ipynb"


def _fallback_note(chosen_by: str = "") -> str:
    """The lesson's note on the fallback photos (cell ``57f261ac``), as its own cell writes it."""
    (cell,) = [c for c in nbformat.read(NOTEBOOK, as_version=4).cells if c.get("id") == "57f261ac"]
    shown = []
    source = SimpleNamespace(origin="fallback", description="ants, bees, cats and dogs", chosen_by=chosen_by)
    exec(cell.source, {"source": source, "FALLBACK_PER_CLASS": 10, "Markdown": str, "display": shown.append})  # noqa: S102
    (text,) = shown
    return text


def test_the_fallback_note_expects_and_does_not_assert_higher_scores():
    text = _fallback_note()
    assert "scores are higher" not in text, text
    assert "expect its scores to be higher than what your own photos will reach" in text, text


def test_the_fallback_note_says_what_chose_it_when_the_settings_on_the_page_did_not():
    assert "chosen by" not in _fallback_note(), "USE_FALLBACK = True on the page says it already"
    text = _fallback_note(chosen_by="an environment variable")
    assert "It was chosen by an environment variable, not by the settings above." in text, text


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
        "source": SimpleNamespace(description="photos", origin="environment", chosen_by=""),
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


def _phase2_text(phase1_val: float, phase2_val: float, cv_std: float | None) -> str:
    """The lesson's own verdict cell (``df03b1b0``) on made-up validation accuracies."""
    import torch.nn as nn

    (cell,) = [c for c in nbformat.read(NOTEBOOK, as_version=4).cells if c.get("id") == "df03b1b0"]
    from test_lesson06_training import phase2_decision

    decided = phase2_decision(phase1_val, [phase1_val, phase2_val], cv_std, n_val=40)  # the lesson's rule (cell-24)
    shown: list = []
    namespace = {
        "phase1_val": phase1_val,
        "phase2_val": phase2_val,
        "phase2_kept": decided["phase2_kept"],
        "two_photos": decided["two_photos"],
        "margin": decided["margin"],
        "cv_std": cv_std,
        "phase2_history": [phase1_val, phase2_val],
        "phase2_epoch": 1,
        "run_history": lambda history, kept, start: f"epochs {history}",
        "tuned": SimpleNamespace(top=nn.Linear(2, 2)),
        "fine_tune_seconds": 1.0,
        "smallest_class": 20,
        "FINE_TUNE_MIN_PER_CLASS": 10,
        "val_baseline": 0.5,
        "model": nn.Sequential(),
        "Markdown": str,
        "display": shown.append,
    }
    exec(cell.source, namespace)  # noqa: S102 - the lesson's own cell
    (text,) = shown
    return text


@pytest.mark.parametrize(("phase1_val", "cv_std"), [(1.0, 0.064), (1.0, None)])
def test_a_bar_no_accuracy_can_clear_is_called_saturated_not_a_test(phase1_val, cv_std):
    # review 3, C4: phase 1 at 1.000 plus a spread: no phase-2 score can be kept, whatever it is
    text = _phase2_text(phase1_val, phase2_val=1.0, cv_std=cv_std)
    assert "validation is saturated" in text and "cannot show a gain from phase 2" in text, text
    assert "**Not kept**: it does not" not in text, text


@pytest.mark.parametrize(("phase1_val", "cv_std", "bar"), [(0.95, 0.08, "1.030"), (0.75, 0.25, "1.000")])
def test_a_bar_out_of_reach_below_a_perfect_phase_1_is_not_called_saturated(phase1_val, cv_std, bar):
    # fresh review 6, B2: phase 1 below 1.000 is not saturated; the bar, its score plus the spread, is out of reach
    text = _phase2_text(phase1_val, phase2_val=1.0, cv_std=cv_std)
    assert "saturated" not in text and "**Not kept**: it does not" not in text, text
    assert f"**Not kept**, and it could not be: the bar ({bar}) is at or above 1.000" in text, text
    assert "no phase-2 score could clear it: this validation split is too small to show a gain" in text, text


@pytest.mark.parametrize(("phase2_val", "kept"), [(0.95, True), (0.80, False)])
def test_a_bar_below_one_is_a_test(phase2_val, kept):
    text = _phase2_text(0.80, phase2_val=phase2_val, cv_std=0.05)
    assert "saturated" not in text, text
    assert ("**Kept**: it does." in text) == kept and ("**Not kept**: it does not" in text) == (not kept), text


def test_the_fallback_note_says_where_the_file_name_prefixes_come_from():
    # review 3, C10: a test photo named train_... is not a leak; the prefix is the source dataset's folder
    from helpers.data import dataset_spec
    from helpers.my_images import FALLBACK_CLASSES

    text = _fallback_note()
    assert "file names start with the source dataset's folder" in text and "not with this lesson's split" in text, text
    for dataset in {dataset for dataset, _ in FALLBACK_CLASSES.values()}:
        spec = dataset_spec(dataset)
        for folder in (spec.train_split, spec.val_split):
            assert f"`{folder}_`" in text, (folder, text)


def _phase1_line(history: list[float], kept: int) -> str:
    """The lesson's phase-1 cell (``cell-22``) with its helpers (``a180b927``), on a made-up validation history."""
    import io
    import time
    from contextlib import redirect_stdout

    import torch
    import torch.nn as nn

    cells = {c.get("id"): c.source for c in nbformat.read(NOTEBOOK, as_version=4).cells}
    x, y = torch.zeros(4, 2), torch.tensor([0, 0, 1, 1])
    namespace = {
        "torch": torch,
        "nn": nn,
        "time": time,
        "device": "cpu",
        "preprocessing": SimpleNamespace(mean=[0.5] * 3, std=[0.25] * 3),
        "after_trunk": lambda top, head: head,
        "top": None,
        "activations": {"val": (x, y)},
        "new_head": lambda channels, n: nn.Linear(channels, n),
        "backbone": SimpleNamespace(last_channel=2),
        "classes": ["a", "b"],
        "train": lambda *args, **kwargs: (history, kept),
        "HEAD_LR": 1e-3,
        "HEAD_EPOCHS": len(history) - 1,
        "majority": 0,
    }
    exec(cells["a180b927"], namespace)  # noqa: S102 - the lesson's own helpers: run_history
    printed = io.StringIO()
    with redirect_stdout(printed):
        exec(cells["cell-22"], namespace)  # noqa: S102 - the lesson's own phase-1 cell
    return printed.getvalue()


def test_phase_1_not_beating_the_untrained_head_asserts_no_cause():
    """Fresh review 7, B1: 'that was chance' was asserted, not measured; training may have hurt."""
    text = _phase1_line([0.75, 0.5, 0.625, 0.5], kept=2)
    assert "no trained epoch beat the start's 0.750" in text, text
    assert "that was chance" not in text, text
    assert "check the learning rate, the labels and the curve; the best trained epoch is kept" in text, text


def test_phase_1_beating_the_untrained_head_gives_no_advice():
    text = _phase1_line([0.5, 0.625, 0.875, 0.75], kept=2)
    assert "best trained epoch 2: 0.875" in text, text
    assert "no trained epoch beat" not in text and "check the learning rate" not in text, text

"""Lesson 04 §6's generated BatchNorm verdict names no winner, and no cause, on a difference it calls noise.

The lesson's own hidden cell ``results_text`` runs here on made-up accuracies (no photos, no ResNet). Its rule is
lesson 3's: two validation images or fewer is too small to call. With random weights there are no ImageNet
statistics, so the verdict must not explain the result with them or say whether the card's choice is confirmed.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from coursetools.paths import REPO_ROOT

NOTEBOOK = REPO_ROOT / "solutions" / "04_pytorch_resnet18" / "04_pytorch_resnet18.ipynb"
VAL_IMAGES = 20  # one image is 0.05


def _text(inference: float, training: float, random_weights: bool = False, layer3: float | None = None) -> str:
    (cell,) = [c for c in json.loads(NOTEBOOK.read_text())["cells"] if c.get("id") == "results_text"]
    shown: list = []
    runs = {
        "phase 1: the head": {"val_acc": 0.60},
        "phase 2: layer4": {"val_acc": inference, "start": 0.60},
        "phase 2: layer4, BatchNorm training mode": {"val_acc": training},
    }
    if layer3 is not None:
        runs["phase 2: layer3 + layer4"] = {"val_acc": layer3}
    namespace = {
        "val_idx": np.arange(VAL_IMAGES),
        "runs": runs,
        "random_weights": random_weights,
        "classes": ["ants", "bees"],
        "majority": 0,
        "baseline": {"test": 0.5},
        "chosen": "phase 2: layer4",
        "test_acc": 0.7,
        "y_pred": np.array([0, 1] * 5),  # the chosen model answers both classes
        "train_counts": np.array([16, 16]),
        "RANDOM_NOTE": "",
        "tie_note": "",
        "BATCH_SIZE": 16,
        "Markdown": str,
        "display": shown.append,
    }
    (helpers,) = [c for c in json.loads(NOTEBOOK.read_text())["cells"] if c.get("id") == "run_report"]
    exec("".join(helpers["source"]), namespace)  # noqa: S102 - the lesson's images_apart, defined before phase 2
    exec("".join(cell["source"]), namespace)  # noqa: S102 - the lesson's own cell
    (text,) = shown
    return text


@pytest.mark.parametrize(("inference", "training"), [(0.70, 0.75), (0.75, 0.70), (0.70, 0.80), (0.80, 0.70), (0.7, 0.7)])
def test_two_images_or_fewer_names_no_winner_and_no_cause(inference, training):
    text = _text(np.float32(inference), np.float32(training))
    assert "too close to call" in text, text
    assert "did better" not in text and "images more" not in text and "usable statistics" not in text, text
    assert "statistics of 16 photos are noisy, and" not in text, text


def test_more_than_two_images_names_the_winner():
    assert "training mode scored 3 images more" in _text(0.60, 0.75)
    assert "inference mode scored 4 images more" in _text(0.80, 0.60)


@pytest.mark.parametrize(("inference", "training"), [(0.45, 0.65), (0.80, 0.60), (0.7, 0.7)])
def test_random_weights_give_no_imagenet_explanation_and_no_verdict_on_the_card(inference, training):
    text = _text(inference, training, random_weights=True)
    assert "cannot test the card's choice" in text, text
    assert "ImageNet's" not in text and "usable statistics" not in text and "does not confirm" not in text, text
    assert "as the card expects" not in text, text


def test_the_unfreezing_comparison_uses_the_same_rule():
    # layer3 runs only when layer4 beat phase 1 (0.60) by more than two images: 0.75 is three
    assert "3 images above phase 1, more than two images, so `layer3` was unfrozen" in _text(0.75, 0.75, layer3=0.80)
    assert "within two validation images of the top stage" in _text(0.75, 0.75, layer3=0.80)
    assert "0.900, above the top stage" in _text(0.75, 0.75, layer3=0.90)


@pytest.mark.parametrize(
    ("layer4", "said"), [(0.65, "1 image above"), (0.70, "2 images above"), (0.60, "level with"), (0.45, "3 images below")]
)
def test_a_top_stage_within_two_images_keeps_phase_1_and_says_by_how_many(layer4, said):
    text = _text(np.float32(layer4), 0.60)
    assert f"{said} phase 1, not more than two images above, so the phase-1 weights are kept" in text, text
    assert "`layer3` stayed frozen" in text

"""Lessons 02, 03 and 04 say so when the chosen model answers one class for (nearly) every test photo (review 5, B3).

Each lesson's own hidden results cell runs here on made-up predictions (no photos, no backbone). A model that
answers 'dogs' (or 'bees') for 90% or more of the test photos scores about what always answering that class
scores, so its accuracy next to the majority baseline must come with lesson 06's warning; a model that answers
both classes gets none.
"""

from __future__ import annotations

import contextlib
import io
from types import SimpleNamespace

import nbformat
import numpy as np
import pytest
from conftest import REPO_ROOT

from helpers.results import ONE_CLASS_SHARE

SOLUTIONS = REPO_ROOT / "solutions"
CATS_DOGS = ["cats", "dogs"]
Y_TRUE = np.array([0] * 8 + [1] * 12)  # 20 test photos, 8 cats and 12 dogs
ALL_DOGS = np.ones(20, dtype=int)
NINETY_PERCENT_DOGS = np.array([0] * 2 + [1] * 18)
MIXED = np.array([0] * 6 + [1] * 14)  # 70% dogs: no warning


def _cells(lesson: str) -> dict[str, str]:
    (path,) = (SOLUTIONS / lesson).glob("*.ipynb")
    return {c.get("id"): c.source for c in nbformat.read(path, as_version=4).cells}


def _shown(lesson: str, cell_ids: tuple[str, ...], namespace: dict) -> str:
    shown: list = []
    namespace.update({"np": np, "Markdown": str, "display": shown.append})
    cells = _cells(lesson)
    with contextlib.redirect_stdout(io.StringIO()):
        for cell_id in cell_ids:
            exec(cells[cell_id], namespace)  # noqa: S102 - the lesson's own cells
    return "\n".join(str(text) for text in shown)


def _lesson02(predictions: np.ndarray) -> str:
    return _shown(
        "02_vgg16_feature_extraction",
        ("cell-027",),
        {
            "test_predictions": predictions,
            "y_test": Y_TRUE,
            "x_test": np.zeros((len(Y_TRUE), 1)),
            "show_images": lambda *args, **kwargs: None,
            "splits": SimpleNamespace(classes=CATS_DOGS),
            "test_accuracy": float((predictions == Y_TRUE).mean()),
            "test_baseline": 0.6,
            "weights_source": "random",
        },
    )


def _lesson03(predictions: np.ndarray) -> str:
    return _shown(
        "03_resnet50_fine_tuning",
        ("test-md",),
        {
            "y_true": Y_TRUE,
            "y_pred": predictions,
            "splits": SimpleNamespace(classes=CATS_DOGS),
            "test_accuracy": float((predictions == Y_TRUE).mean()),
            "baseline": {"test": 0.6, "val": 0.5},
            "phase1_seconds": 2.0,
            "phase2_seconds": 1.0,
            "phase2_kept": False,
            "weights_source": "random",
        },
    )


def _lesson04(predictions: np.ndarray) -> str:
    cells = _cells("04_pytorch_resnet18")
    namespace = {
        "val_idx": np.arange(20),
        "runs": {
            "phase 1: the head": {"val_acc": 0.60},
            "phase 2: layer4": {"val_acc": 0.60, "start": 0.60},
            "phase 2: layer4, BatchNorm training mode": {"val_acc": 0.60},
        },
        "random_weights": True,
        "classes": CATS_DOGS,
        "majority": 1,
        "baseline": {"test": 0.6},
        "chosen": "phase 1: the head",
        "test_acc": float((predictions == Y_TRUE).mean()),
        "y_pred": predictions,
        "RANDOM_NOTE": "",
        "tie_note": "",
        "BATCH_SIZE": 16,
    }
    exec(cells["run_report"], namespace)  # noqa: S102 - the lesson's images_apart, defined before phase 2
    return _shown("04_pytorch_resnet18", ("results_text",), namespace)


LESSONS = [_lesson02, _lesson03, _lesson04]


@pytest.mark.parametrize("text_of", LESSONS)
@pytest.mark.parametrize(("predictions", "share"), [(ALL_DOGS, "100%"), (NINETY_PERCENT_DOGS, "90%")])
def test_a_model_that_answers_one_class_is_named_as_such(text_of, predictions, share):
    text = text_of(predictions)
    assert f"the model answers 'dogs' for {share} of the test photos" in text, text


@pytest.mark.parametrize("text_of", LESSONS)
def test_a_model_that_answers_both_classes_gets_no_warning(text_of):
    assert (MIXED == 1).mean() < ONE_CLASS_SHARE
    text = text_of(MIXED)
    assert "Warning" not in text and "the model answers" not in text, text

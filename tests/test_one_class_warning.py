"""Lessons 02, 03, 04 and 06 say so when the chosen model answers one class for (nearly) every test photo (review 5, B3).

Each lesson's own hidden results cell runs here on made-up predictions (no photos, no backbone). A model that
answers 'dogs' (or 'bees') for 90% or more of the test photos scores about what always answering that class
scores, so its accuracy next to the majority baseline must come with a warning; a model that answers both
classes gets none. The warning's explanation follows the training class counts (fresh review 6, B1): it blames
the class sizes only when the training classes are clearly unequal and the answered class is the largest.
"""

from __future__ import annotations

import contextlib
import io
from types import SimpleNamespace

import nbformat
import numpy as np
import pytest
from conftest import REPO_ROOT

from helpers.results import ONE_CLASS_SHARE, one_class_warning

SOLUTIONS = REPO_ROOT / "solutions"
CATS_DOGS = ["cats", "dogs"]
Y_TRUE = np.array([0] * 8 + [1] * 12)  # 20 test photos, 8 cats and 12 dogs
ALL_DOGS = np.ones(20, dtype=int)
NINETY_PERCENT_DOGS = np.array([0] * 2 + [1] * 18)
MIXED = np.array([0] * 6 + [1] * 14)  # 70% dogs: no warning
TIED = np.array([20, 20])  # training photos per class, as in this course's offline runs
SIZES_BLAMED = "learnt the class sizes"


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


def _lesson02(predictions: np.ndarray, train_counts: np.ndarray = TIED) -> str:
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
            "train_counts": train_counts,
        },
    )


def _lesson03(predictions: np.ndarray, train_counts: np.ndarray = TIED) -> str:
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
            "train_counts": train_counts,
        },
    )


def _lesson04(predictions: np.ndarray, train_counts: np.ndarray = TIED) -> str:
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
        "train_counts": train_counts,
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


def _lesson06(predictions: np.ndarray, train_counts: np.ndarray = TIED) -> str:
    """Lesson 06's test-results cell (``cell-28``); its loss is class-weighted and its weights here random."""
    import torch

    labels = np.repeat(np.arange(len(train_counts)), train_counts)
    return _shown(
        "06_your_own_images",
        ("cell-28",),
        {
            "torch": torch,
            "classes": CATS_DOGS,
            "precision": [0.5, 0.5],
            "recall": [0.5, 0.5],
            "f1": [0.5, 0.5],
            "support": [8, 12],
            "weights_source": "random",
            "source": SimpleNamespace(origin="environment"),
            "activations": {"train": (torch.zeros(len(labels), 1), torch.as_tensor(labels))},
            "y_pred": predictions,
            "y_test": Y_TRUE,
            "test_accuracy": float((predictions == Y_TRUE).mean()),
            "cv_mean": None,
            "cv_std": None,
            "majority_baseline": 0.6,
            "majority": 0,
            "tie_note": "",
        },
    )


LESSONS = [_lesson02, _lesson03, _lesson04, _lesson06]


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


@pytest.mark.parametrize("text_of", LESSONS)
def test_balanced_training_classes_are_not_blamed(text_of):
    # fresh review 6, B1: the lessons printed a 20/20 tie just before a warning that blamed the class sizes
    text = text_of(ALL_DOGS)
    assert SIZES_BLAMED not in text, text
    assert "The training classes are equal (cats 20, dogs 20 photos), so the class sizes alone do not explain it" in text
    assert "the features do not separate the classes, or the head did not learn" in text, text
    assert "This run's weights are random, so features that separate nothing are expected." in text, text


@pytest.mark.parametrize("text_of", LESSONS[:3])
def test_unequal_training_classes_answered_by_the_largest_are_blamed(text_of):
    text = text_of(ALL_DOGS, train_counts=np.array([10, 30]))
    assert "It is the largest training class (cats 10, dogs 30 photos): the model has probably learnt the class sizes" in text


def test_a_class_weighted_loss_is_named_when_the_largest_class_is_answered():
    text = _lesson06(ALL_DOGS, train_counts=np.array([10, 30]))
    assert SIZES_BLAMED not in text and "although the loss weighs each class by the inverse of its share" in text, text


@pytest.mark.parametrize(
    ("train_counts", "explained"),
    [
        ([20, 20], "The training classes are equal (cats 20, dogs 20 photos)"),
        ([124, 121], "The training classes are close in size (cats 124, dogs 121 photos)"),
        ([25, 20], "The training classes are close in size (cats 25, dogs 20 photos)"),  # 1.25 times: not clearly
        ([30, 10], "It is not the largest training class (cats 30, dogs 10 photos)"),  # it answers the smaller one
    ],
)
def test_the_class_sizes_are_blamed_only_when_unequal_and_the_answer_is_the_largest(train_counts, explained):
    text = one_class_warning(ALL_DOGS, CATS_DOGS, train_counts)
    assert "the model answers 'dogs' for 100% of the test photos" in text, text
    assert f"{explained}, so the class sizes alone do not explain it" in text and SIZES_BLAMED not in text, text
    assert "weights are random" not in text, "said only when the lesson knows its weights are random"


@pytest.mark.parametrize(("train_counts", "which"), [([10, 13], "the largest"), ([10, 30, 30], "one of the largest")])
def test_unequal_classes_answered_by_a_largest_one_are_blamed(train_counts, which):
    classes = ["cats", "dogs", "foxes"][: len(train_counts)]
    text = one_class_warning(ALL_DOGS, classes, train_counts)
    assert f"It is {which} training class" in text and "probably learnt the class sizes, not the classes" in text, text
    weighted = one_class_warning(ALL_DOGS, classes, train_counts, class_weighted=True)
    assert SIZES_BLAMED not in weighted and "the other classes may have too few photos" in weighted, weighted


def test_no_warning_whatever_the_counts_when_both_classes_are_answered():
    assert one_class_warning(MIXED, CATS_DOGS, [30, 10], random_weights=True) == ""

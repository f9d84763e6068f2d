"""The majority baseline's pick when the training classes tie (card, rule 7): lessons 02, 03, 04 and 06 say
that the pick is arbitrary and what the other constant answer scores, and say nothing when there is
no tie. Each lesson's own hidden cell ``baseline_tie`` runs here on made-up labels."""

from __future__ import annotations

import contextlib
import io

import nbformat
import numpy as np
import pytest
from conftest import REPO_ROOT

CLASSES = ["cats", "dogs"]
LESSONS = ["02_vgg16_feature_extraction", "03_resnet50_fine_tuning", "04_pytorch_resnet18", "06_your_own_images"]


def _cell(lesson: str) -> str:
    notebook = nbformat.read(REPO_ROOT / "solutions" / lesson / f"{lesson}.ipynb", as_version=4)
    (cell,) = [c for c in notebook.cells if c.get("id") == "baseline_tie"]
    return cell.source


def _namespace(lesson: str, train, val, test) -> dict:
    majority = int(np.bincount(train).argmax())
    if lesson == "02_vgg16_feature_extraction":
        return {"y_train": train, "y_val": val, "y_test": test, "majority_class": majority}
    if lesson == "03_resnet50_fine_tuning":
        return {"labels_of": {"train": train, "val": val, "test": test}, "majority_class": majority}
    if lesson == "06_your_own_images":  # splits of (path, label) samples, as split_without_leakage returns them
        samples = {
            name: [(f"{name}/{i}.jpg", int(y)) for i, y in enumerate(labels)]
            for name, labels in (("train", train), ("val", val), ("test", test))
        }
        return {"splits": type("Splits", (), samples), "classes": CLASSES, "majority": majority}
    return {
        "train_counts": np.bincount(train, minlength=len(CLASSES)),
        "majority": majority,
        "classes": CLASSES,
        "NUM_CLASSES": len(CLASSES),
        "labels": {"validation": val, "test": test},
    }


def _printed(lesson: str, train, val, test) -> str:
    namespace = {"np": np, "splits": type("Splits", (), {"classes": CLASSES}), **_namespace(lesson, train, val, test)}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(_cell(lesson), namespace)  # noqa: S102 - the lesson's own cell
    return out.getvalue()


@pytest.mark.parametrize("lesson", LESSONS)
def test_a_tie_is_named_with_what_the_other_answer_scores(lesson):
    train = np.array([0, 0, 1, 1])
    val = np.array([0, 1, 1, 1])  # 'dogs' would score 0.750 on validation
    test = np.array([0, 0, 0, 1, 1])  # and 0.400 on test
    text = _printed(lesson, train, val, test)
    assert "tie (2 photos each of 'cats' and 'dogs')" in text, text
    assert "'cats' is arbitrary" in text
    assert "'dogs' would score 0.750 on validation and 0.400 on test" in text


@pytest.mark.parametrize("lesson", LESSONS)
def test_no_tie_says_nothing(lesson):
    assert _printed(lesson, np.array([0, 1, 1]), np.array([0, 1]), np.array([1, 1])) == ""


def test_lesson_06_names_every_tied_class_once_and_groups_equal_scores(monkeypatch):
    # four balanced classes, as the fallback set: the three other answers score the same
    monkeypatch.setitem(globals(), "CLASSES", ["ants", "bees", "cats", "dogs"])
    labels = np.array([0, 1, 2, 3] * 2)
    text = _printed("06_your_own_images", labels, labels, labels)
    assert "tie (2 photos each of 'ants', 'bees', 'cats' and 'dogs')" in text, text
    assert "'bees' or 'cats' or 'dogs' would score 0.250 on validation and 0.250 on test." in text, text

"""Lesson 03's comparison table (its own hidden cell ``cell-031``) on made-up results (fresh review 4, B1, B2, C6).

The "compare with care" note names every setting in which lesson 02's row differs, the training-set size
included (lesson 02 trains on more photos in cpu mode); a missing row says only what the code knows (no saved
file, and where it looked); each validation accuracy sits beside the validation majority baseline.
"""

from __future__ import annotations


import nbformat
import numpy as np
import pytest
from conftest import REPO_ROOT

NOTEBOOK = REPO_ROOT / "solutions" / "03_resnet50_fine_tuning" / "03_resnet50_fine_tuning.ipynb"


def _comparison(vgg: dict | None, tmp_path, capsys) -> tuple[str, str]:
    cells = {c.get("id"): c.source for c in nbformat.read(NOTEBOOK, as_version=4).cells}
    shown: list = []
    namespace = {
        "phase2_kept": False,
        "phase1_val_accuracy": 0.75,
        "phase2_val_accuracy": 0.8125,
        "test_accuracy": 0.6875,
        "phase1_seconds": 2.0,
        "phase2_seconds": 1.0,
        "train_seconds": 3.0,
        "phase1_trainable": 4098,
        "phase2_trainable": 15_000_000,
        "y_true": np.zeros(16, dtype=int),
        "IMAGE_SIZE": 96,
        "weights_source": "imagenet",
        "mode": lambda: "cpu",
        "baseline": {"val": 0.5625, "test": 0.5},
        "labels_of": {"train": np.zeros(32, dtype=int), "val": np.zeros(16, dtype=int)},
        "load_result": lambda lesson: vgg,
        "results_dir": lambda: tmp_path,
        "photos_apart": lambda a, b: round((a - b) * 16),
        "Markdown": str,
        "display": shown.append,
    }
    exec(cells["cell-031"], namespace)  # noqa: S102 - the lesson's own cell
    (text,) = shown
    return text, capsys.readouterr().out


def _vgg(**changes) -> dict:
    metrics = {
        "test_accuracy": 0.75,
        "test_majority_baseline": 0.5,
        "test_images": 16,
        "image_size": 96,
        "train_size": 32,
        "weights_source": "imagenet",
        "mode": "cpu",
        **changes,
    }
    return {"mode": metrics["mode"], "metrics": metrics}


@pytest.mark.parametrize(("changes", "named"), [({"train_size": 2000}, "training photos"), ({"image_size": 160}, "image size")])
def test_the_care_note_names_what_differs_training_photos_included(changes, named, tmp_path, capsys):
    text, _ = _comparison(_vgg(**changes), tmp_path, capsys)
    assert f"The VGG16 row differs in {named}: compare with even more care." in text, text


def test_no_care_note_when_the_rows_match(tmp_path, capsys):
    text, _ = _comparison(_vgg(), tmp_path, capsys)
    assert "compare with even more care" not in text, text


def test_a_missing_row_says_no_saved_result_was_found_and_where(tmp_path, capsys):
    _, out = _comparison(None, tmp_path, capsys)
    assert f"No saved result of lesson 02 was found in {tmp_path}: run lesson 02 to the end" in out, out
    assert "has not run" not in out, out


def test_validation_accuracies_sit_beside_the_validation_baseline(tmp_path, capsys):
    text, _ = _comparison(_vgg(), tmp_path, capsys)
    header = text.splitlines()[0]
    assert "| validation accuracy | validation majority baseline |" in header, header
    phase1 = next(line for line in text.splitlines() if line.startswith("| ResNet50 phase 1:"))
    assert "| 0.750 | 0.562 |" in phase1 and "| 32 |" in phase1, phase1

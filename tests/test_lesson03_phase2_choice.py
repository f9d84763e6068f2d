"""Lesson 03 keeps phase 2 only when it beats phase 1 by more than two validation photos, and says so.

The lesson's own cells (``photos-apart``, ``cell-020`` and the hidden ``plot-phase2``) run here on made-up
validation accuracies, with a stand-in for the Keras model (no photos, no ResNet50). Two photos or fewer is the
lesson's noise (recipe card, rule 7): a gain that small must bring the phase-1 weights back, and the generated
text must say by how many photos phase 2 was above or below phase 1.
"""

from __future__ import annotations

import time
from pathlib import Path
from types import SimpleNamespace

import nbformat
import numpy as np
import pytest
from conftest import REPO_ROOT

NOTEBOOK = REPO_ROOT / "solutions" / "03_resnet50_fine_tuning" / "03_resnet50_fine_tuning.ipynb"
VAL_PHOTOS = 20  # one photo is 0.05


def _cells(*ids: str) -> list[str]:
    cells = {c.get("id"): c.source for c in nbformat.read(NOTEBOOK, as_version=4).cells}
    return [cells[i] for i in ids]


class _Model:  # what cell-020 calls on the Keras model: fit, load_weights, evaluate
    def __init__(self, phase2_accuracy: float):
        self.phase2_accuracy, self.loaded = phase2_accuracy, []

    def fit(self, *args, **kwargs):
        return SimpleNamespace(epoch=list(range(kwargs["initial_epoch"], kwargs["epochs"])))

    def load_weights(self, path):
        self.loaded.append(Path(path).name)

    def evaluate(self, *args, **kwargs):
        return {"accuracy": self.phase2_accuracy}


def _phase2(phase1: float, phase2: float, weights_source: str = "imagenet"):
    model, shown = _Model(phase2), []
    namespace = {
        "time": time,
        "np": np,
        "model": model,
        "datasets": {"train": None, "val": None},
        "checkpoint_dir": Path("/nonexistent"),
        "phase1_checkpoint": Path("/nonexistent/phase1_best.weights.h5"),
        "history1": SimpleNamespace(epoch=[0, 1]),
        "PHASE2_EPOCHS": 1,
        "training_callbacks": lambda path: [],
        "phase1_val_accuracy": phase1,
        "labels_of": {"val": np.zeros(VAL_PHOTOS, dtype=int)},
        "baseline": {"val": 0.5},
        "RANDOM_NOTE": "" if weights_source == "imagenet" else "  [RANDOM weights]",
        "plot_history": lambda *args, **kwargs: None,
        "from_epoch_0": lambda *histories: {},
        "Markdown": str,
        "display": shown.append,
    }
    for source in _cells("photos-apart", "cell-020", "plot-phase2"):
        exec(source, namespace)  # noqa: S102 - the lesson's own cells
    (text,) = shown
    return namespace["phase2_kept"], model.loaded, text


@pytest.mark.parametrize(("phase2", "photos"), [(0.75, 1), (0.80, 2), (0.70, 0), (0.55, -3)])
def test_two_photos_or_fewer_above_phase_1_brings_the_phase_1_weights_back(phase2, photos):
    kept, loaded, text = _phase2(np.float32(0.70), np.float32(phase2))
    assert not kept, text
    assert loaded == ["phase2_best.weights.h5", "phase1_best.weights.h5"], loaded
    assert "**not kept**: it did not win by more than two photos" in text, text
    assert "what the test split scores" in text
    if photos > 0:
        assert f"{photos} photo{'s' if photos > 1 else ''} above phase 1" in text, text
    elif photos < 0:
        assert f"{-photos} photos below phase 1" in text, text
    else:
        assert "the same number of photos right as phase 1" in text, text


def test_more_than_two_photos_above_keeps_phase_2_and_says_by_how_many():
    kept, loaded, text = _phase2(np.float32(0.60), np.float32(0.75))
    assert kept and loaded == ["phase2_best.weights.h5"], (kept, loaded)
    assert "3 photos above phase 1. Phase 2 is **kept**: it won by more than two photos." in text, text


def test_float32_accuracies_exactly_two_photos_apart_are_not_three():
    # float32(0.6) - float32(0.5) is a little more than 0.1: rounding to whole photos keeps it at two
    kept, _, text = _phase2(np.float32(0.5), np.float32(0.6))
    assert not kept and "2 photos above phase 1" in text, text

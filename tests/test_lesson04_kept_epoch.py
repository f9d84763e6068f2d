"""Lesson 04's runs report their best TRAINED epoch, and the generated text says what the trained runs reached.

The lesson's own cells run here on scripted validation accuracies (no photos, no ResNet): the score before
training (epoch 0) is the start a run is measured against, never its kept epoch, as Keras' ModelCheckpoint in
lesson 03. When no phase-2 epoch beats the start, the text says so instead of reporting the start as a result.
"""

from __future__ import annotations

import copy
import json

import pytest
import torch
import torch.nn as nn

from coursetools.paths import REPO_ROOT

NOTEBOOK = REPO_ROOT / "solutions" / "04_pytorch_resnet18" / "04_pytorch_resnet18.ipynb"


def _cell(cell_id: str) -> str:
    (cell,) = [c for c in json.loads(NOTEBOOK.read_text())["cells"] if c.get("id") == cell_id]
    return "".join(cell["source"])


def train_phase_on(accuracies: list[float]):
    """The lesson's train_phase, with validation scripted: after epoch e the model's weight is e."""
    model = nn.Linear(1, 1, bias=False)
    calls = []

    def run_epoch(model, loader, loss_fn, device, progress=True):  # the validation pass of epoch len(calls)
        with torch.no_grad():
            model.weight.fill_(len(calls))
        calls.append(None)
        return 0.0, accuracies[len(calls) - 1]

    namespace = {
        "copy": copy,
        "nn": nn,
        "run_epoch": run_epoch,
        "device": "cpu",
        "train_mode": lambda m: m.train(),
        "loaders": {"train": [], "val": None},
    }
    exec(_cell("bn_hook"), namespace)  # noqa: S102 - the lesson's own cell
    run = namespace["train_phase"](model, torch.optim.SGD(model.parameters(), lr=0.0), len(accuracies) - 1)
    return run, int(model.weight.item())


@pytest.mark.parametrize(
    ("accuracies", "kept"),
    [
        ([0.60, 0.55, 0.45], 1),  # training never beat the start: the best trained epoch, not the start
        ([0.50, 0.60, 0.70], 2),
        ([0.50, 0.60, 0.60], 1),  # the first of equals
        ([0.90, 0.40], 1),
    ],
)
def test_a_run_keeps_its_best_trained_epoch_never_the_start(accuracies, kept):
    run, weights_of_epoch = train_phase_on(accuracies)
    assert run["epoch"] == kept and weights_of_epoch == kept, (run, weights_of_epoch)
    assert run["val_acc"] == accuracies[kept] and run["start"] == accuracies[0]
    assert run["history"] == accuracies


def _generated_text(runs: dict, chosen: str) -> str:
    shown = []
    namespace = {
        "runs": runs,
        "chosen": chosen,
        "classes": ["ants", "bees"],
        "majority": 0,
        "test_acc": 0.6,
        "y_pred": [0, 1] * 5,  # the chosen model answers both classes
        "train_counts": [16, 16],
        "val_idx": range(20),
        "baseline": {"validation": 0.45, "test": 0.45},
        "BATCH_SIZE": 16,
        "RANDOM_NOTE": "",
        "tie_note": "",
        "random_weights": False,
        "Markdown": lambda text: text,
        "display": shown.append,
    }
    exec(_cell("run_report"), namespace)  # noqa: S102 - the lesson's images_apart, defined before phase 2
    exec(_cell("results_text"), namespace)  # noqa: S102 - the lesson's own cell
    (text,) = shown
    return text


def _run(start, kept_acc, batchnorm="inference"):
    return {"start": start, "val_acc": kept_acc, "epoch": 1, "history": [start, kept_acc], "batchnorm": batchnorm}


def test_no_phase2_gain_is_said_and_a_damaging_batchnorm_run_shows_as_worse():
    runs = {
        "phase 1: the head": _run(0.50, 0.60),
        "phase 2: layer4": _run(0.60, 0.55),
        "phase 2: layer4, BatchNorm training mode": _run(0.60, 0.30, "training"),
    }
    text = _generated_text(runs, "phase 1: the head")
    assert "top stage's best trained epoch reaches 0.550, against 0.600" in text
    assert "1 image below phase 1, not more than two images above, so the phase-1 weights are kept" in text, text
    assert "0.550 on validation in inference mode and 0.300 in training mode: inference mode scored 5 images more" in text
    assert "Neither mode beat the start" in text


def test_a_phase2_gain_unfreezes_the_next_stage():
    runs = {
        "phase 1: the head": _run(0.50, 0.60),
        "phase 2: layer4": _run(0.60, 0.75),  # more than two of 20 images above phase 1
        "phase 2: layer3 + layer4": _run(0.60, 0.70),
        "phase 2: layer4, BatchNorm training mode": _run(0.60, 0.75),
    }
    text = _generated_text(runs, "phase 2: layer4")
    assert "reaches 0.750, against 0.600" in text and "`layer3` was unfrozen too" in text
    assert "too close to call: this run cannot tell them apart" in text and "Both beat the start" in text

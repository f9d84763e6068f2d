"""Lesson 04 unfreezes ``layer3``, and keeps phase 2, only on a win by more than two validation images.

The lesson's own cells (``run_report`` with its helper ``images_apart``, ``fine_tune`` and ``choose``) run here
with scripted validation accuracies in place of training (no photos, no ResNet18). Two images or fewer is the
lesson's noise (lesson 3's rule, recipe card rule 7): a gain that small must neither unfreeze the next stage nor
replace a run that trains less.
"""

from __future__ import annotations

import copy
import json
import time

import numpy as np
import pytest
import torch
import torch.nn as nn

from coursetools.paths import REPO_ROOT

NOTEBOOK = REPO_ROOT / "solutions" / "04_pytorch_resnet18" / "04_pytorch_resnet18.ipynb"
VAL_IMAGES = 20  # one image is 0.05
HEAD = 0.60


def _cell(cell_id: str) -> str:
    (cell,) = [c for c in json.loads(NOTEBOOK.read_text())["cells"] if c.get("id") == cell_id]
    return "".join(cell["source"])


class _Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(1, 1)


def _choose(layer4: float, layer3: float = 0.0):
    """Run the lesson's phase-2 and choice cells; layer4 / layer3 are the runs' kept validation accuracies."""
    scripted = {("layer4",): layer4, ("layer3", "layer4"): layer3}

    def train_phase(model, optimizer, epochs, batchnorm="inference"):
        acc = np.float32(optimizer)  # phase2_optimizer below hands the run's scripted accuracy through
        return {"history": [np.float32(HEAD), acc], "start": np.float32(HEAD), "epoch": 1, "val_acc": acc}

    namespace = {
        "copy": copy, "time": time, "torch": torch, "np": np,
        "model": _Net(), "val_idx": list(range(VAL_IMAGES)), "baseline": {"validation": 0.5}, "RANDOM_NOTE": "",
        "loaders": {"train": type("L", (), {"generator": torch.Generator()})(), "test": None}, "device": "cpu",
        "train_phase": train_phase, "phase2_optimizer": lambda model, stages: scripted[tuple(stages)],
        "FINE_TUNE_EPOCHS": 1, "predict": lambda model, loader, device: (np.zeros(4), np.zeros(4)),
    }
    namespace["phase1_state"] = copy.deepcopy(namespace["model"].state_dict())
    namespace["head_run"] = {"history": [0.5, np.float32(HEAD)], "start": 0.5, "epoch": 1, "val_acc": np.float32(HEAD),
                             "batchnorm": "inference", "seconds": 1.0, "trainable": 2,
                             "state": namespace["phase1_state"]}
    for cell_id in ("run_report", "fine_tune", "choose"):
        exec(_cell(cell_id), namespace)  # noqa: S102 - the lesson's own cells
    return list(namespace["runs"]), namespace["chosen"], namespace["kept_phase1"]


@pytest.mark.parametrize("layer4", [0.65, 0.70, 0.60, 0.40])  # 1 and 2 images above, level, 4 below
def test_layer4_within_two_images_keeps_phase_1_and_leaves_layer3_frozen(layer4):
    runs, chosen, kept_phase1 = _choose(layer4)
    assert "phase 2: layer3 + layer4" not in runs, runs
    assert chosen == "phase 1: the head" and kept_phase1


def test_layer4_more_than_two_images_above_unfreezes_layer3_and_is_kept():
    runs, chosen, kept_phase1 = _choose(0.75, layer3=0.80)  # layer3 + layer4 only one image above layer4
    assert "phase 2: layer3 + layer4" in runs
    assert chosen == "phase 2: layer4" and not kept_phase1


def test_layer3_replaces_layer4_only_by_more_than_two_images():
    assert _choose(0.75, layer3=0.90)[1] == "phase 2: layer3 + layer4"
    assert _choose(0.75, layer3=0.85)[1] == "phase 2: layer4"  # two images: noise

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
from unittest import mock

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402

from coursetools.paths import REPO_ROOT  # noqa: E402

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


def _choose(layer4: float, layer3: float = 0.0, decision_text: bool = False):
    """Run the lesson's phase-2 and choice cells; layer4 / layer3 are the runs' kept validation accuracies."""
    scripted = {("layer4",): layer4, ("layer3", "layer4"): layer3}

    def train_phase(model, optimizer, epochs, batchnorm="inference"):
        acc = np.float32(optimizer)  # phase2_optimizer below hands the run's scripted accuracy through
        return {"history": [np.float32(HEAD), acc], "start": np.float32(HEAD), "epoch": 1, "val_acc": acc}

    namespace = {
        "copy": copy,
        "time": time,
        "torch": torch,
        "np": np,
        "model": _Net(),
        "val_idx": list(range(VAL_IMAGES)),
        "baseline": {"validation": 0.5},
        "RANDOM_NOTE": "",
        "loaders": {"train": type("L", (), {"generator": torch.Generator()})(), "test": None},
        "device": "cpu",
        "train_phase": train_phase,
        "phase2_optimizer": lambda model, stages: scripted[tuple(stages)],
        "FINE_TUNE_EPOCHS": 1,
        "predict": lambda model, loader, device: (np.zeros(4), np.zeros(4)),
        "weights_source": "imagenet",
        "test_idx": list(range(4)),
        "classes": ["ants", "bees"],
        "NUM_CLASSES": 2,
        "majority": 0,
        "tie_note": "",
        "show_images": lambda *args, **kwargs: None,
    }
    namespace["phase1_state"] = copy.deepcopy(namespace["model"].state_dict())
    namespace["head_run"] = {
        "history": [0.5, np.float32(HEAD)],
        "start": 0.5,
        "epoch": 1,
        "val_acc": np.float32(HEAD),
        "batchnorm": "inference",
        "seconds": 1.0,
        "trainable": 2,
        "state": namespace["phase1_state"],
    }
    namespace["baseline"]["test"] = 0.5
    for cell_id in ("run_report", "fine_tune", "choose"):
        exec(_cell(cell_id), namespace)  # noqa: S102 - the lesson's own cells
    if decision_text:  # the hidden results cell: its Markdown (a 1-pixel "photo" and a linear model stand in)
        shown = []
        namespace.update(
            model=nn.Sequential(nn.Flatten(), nn.Linear(3, 2)),
            loaders={"test": [(torch.zeros(4, 3, 1, 1), torch.zeros(4, dtype=torch.long))]},
        )
        for run in namespace["runs"].values():
            run.setdefault("seconds", 1.0)
            run.setdefault("trainable", 2)
        with mock.patch("IPython.display.display", shown.append), mock.patch("IPython.display.Markdown", str):
            exec(_cell("results"), namespace)  # noqa: S102 - the lesson's own cell (it imports display itself)
        plt.close("all")
        return shown[0]
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


@pytest.mark.parametrize(("layer4", "said"), [(0.65, "1 image above"), (0.70, "2 images above"), (0.55, "1 image below")])
def test_the_results_say_by_how_many_images_phase_1_was_kept(layer4, said):
    text = _choose(layer4, decision_text=True)
    assert (
        f"The top stage was {said} phase 1 on validation, not more than two images above, so the phase-1 weights are kept" in text
    ), text
    assert "phase 2 is kept" not in text


@pytest.mark.parametrize(("layer4", "layer3", "images"), [(0.75, 0.80, 3), (0.75, 0.95, 7)])
def test_the_results_say_by_how_many_images_phase_2_won(layer4, layer3, images):
    text = _choose(layer4, layer3, decision_text=True)
    assert f"It beat phase 1 on validation by {images} images, more than two, so phase 2 is kept" in text, text

"""Lesson 06's training loop and phase-2 sentence, run from the notebook's own cells: a run's score comes from
its trained epochs (epoch 0, the start, is printed but never kept), and the generated phase-2 sentence compares
phase 2's trained result with phase 1's, so phase 2 can show as worse (fresh review s4, A1/B1 and A6)."""

from __future__ import annotations

import copy
import json
from collections import OrderedDict

import pytest
import torch
import torch.nn as nn

from coursetools.paths import REPO_ROOT

NOTEBOOK = REPO_ROOT / "solutions" / "06_your_own_images" / "06_your_own_images.ipynb"
HELPERS_CELL, TRAIN_CELL, PHASE2_TEXT_CELL = "a180b927", "cell-20", "df03b1b0"


def _source(cell_id: str) -> str:
    (cell,) = [c for c in json.loads(NOTEBOOK.read_text())["cells"] if c.get("id") == cell_id]
    return "".join(cell["source"])


def _lesson(**names) -> dict:
    """The lesson's helper and training cells, executed with what they use from earlier cells."""
    namespace = {
        "copy": copy,
        "torch": torch,
        "nn": nn,
        "OrderedDict": OrderedDict,
        "device": "cpu",
        "classes": ["a", "b"],
        "keep_batchnorm_in_eval": lambda net: None,
        **names,
    }
    for cell_id in (HELPERS_CELL, TRAIN_CELL):
        exec(_source(cell_id), namespace)  # noqa: S102 - the lesson's own cells
    return namespace


def _perfect_start_then_trained_on_flipped_labels():
    """A head that is right on every validation point before training; the training labels are flipped, so
    every trained epoch is worse on validation than the start."""
    torch.manual_seed(0)
    x = torch.cat([torch.randn(16, 2) + 3, torch.randn(16, 2) - 3])
    y = torch.cat([torch.zeros(16, dtype=torch.long), torch.ones(16, dtype=torch.long)])
    net = nn.Linear(2, 2)
    with torch.no_grad():
        net.weight.copy_(torch.tensor([[1.0, 1.0], [-1.0, -1.0]]))
        net.bias.zero_()
    return net, {"train": (x, 1 - y), "val": (x, y)}


def _val_accuracy(net, data):
    with torch.no_grad():
        return float((net(data["val"][0]).argmax(1) == data["val"][1]).float().mean())


def test_the_start_is_recorded_as_epoch_0_but_never_kept():
    lesson = _lesson()
    net, data = _perfect_start_then_trained_on_flipped_labels()
    history, kept = lesson["train"](net, data, torch.optim.SGD(net.parameters(), lr=1.0), epochs=3)
    assert len(history) == 4 and history[0] == 1.0, history
    assert max(history[1:]) < history[0], f"the flipped labels should make every trained epoch worse: {history}"
    assert kept >= 1 and history[kept] == max(history[1:]), (history, kept)
    assert _val_accuracy(net, data) == history[kept], "net must hold the kept epoch's weights"
    line = lesson["run_history"](history, kept, "the untrained head")
    assert "no trained epoch beat the start's 1.000" in line, line


def test_cross_validation_keeps_the_last_epoch():
    lesson = _lesson()
    net, data = _perfect_start_then_trained_on_flipped_labels()
    history, kept = lesson["train"](net, data, torch.optim.SGD(net.parameters(), lr=0.05), epochs=4, keep_best=False)
    assert kept == 4 and _val_accuracy(net, data) == history[-1], (history, kept)


PHASE2_CELL = "cell-24"


def phase2_decision(phase1_val, phase2_history, cv_std, n_val=12) -> dict:
    """The lesson's own phase-2 cell (``cell-24``) with a stand-in ``train`` that returns ``phase2_history``, so the
    keep rule (its bar and comparison) is the lesson's, on made-up accuracies and ``n_val`` validation photos."""
    from types import SimpleNamespace

    phase2_epoch = 1 + max(range(len(phase2_history) - 1), key=lambda i: phase2_history[1 + i])
    namespace = {
        "copy": copy,
        "torch": torch,
        "nn": nn,
        "OrderedDict": OrderedDict,
        "time": __import__("time"),
        "device": "cpu",
        "classes": ["a", "b"],
        "activations": {"train": (torch.zeros(20, 3), torch.tensor([0, 1] * 10))},
        "FINE_TUNE_MIN_PER_CLASS": 5,
        "FINE_TUNE_EPOCHS": len(phase2_history) - 1,
        "splits": SimpleNamespace(val=[None] * n_val),
        "cv_std": cv_std,
        "phase1_val": phase1_val,
        "top": nn.Linear(3, 3),
        "head": nn.Linear(3, 2),
        "classifier": nn.Sequential(OrderedDict(head=nn.Linear(3, 2))),
        "after_trunk": lambda top, head: nn.Sequential(OrderedDict(top=top, head=head)),
        "phase2_optimizer": lambda top, head: None,
        "train": lambda net, data, optimizer, epochs: (list(phase2_history), phase2_epoch),
        "ImageNetNormalise": nn.Identity,
        "trunk": nn.Identity(),
    }
    exec(_source(PHASE2_CELL), namespace)  # noqa: S102 - the lesson's own cell
    return namespace


def _phase2_sentence(phase1_val, phase2_history, cv_std, n_val=12) -> str:
    lesson = _lesson()
    decided = phase2_decision(phase1_val, phase2_history, cv_std, n_val)
    shown = []
    lesson.update(
        {name: decided[name] for name in ("phase2_val", "phase2_epoch", "phase2_kept", "margin", "two_photos", "tuned")},
        phase1_val=phase1_val,
        phase2_history=phase2_history,
        cv_std=cv_std,
        fine_tune_seconds=1.0,
        val_baseline=0.5,
        model=nn.Sequential(OrderedDict(head=nn.Linear(1, 1))),
        smallest_class=10,
        FINE_TUNE_MIN_PER_CLASS=5,
        Markdown=str,
        display=shown.append,
    )
    exec(_source(PHASE2_TEXT_CELL), lesson)  # noqa: S102 - the lesson's own cell
    return shown[0]


def test_phase2_worse_than_phase1_says_so():
    text = _phase2_sentence(1.0, [1.0, 0.917], cv_std=0.064)
    assert "**lower than** phase 1's 1.000" in text and "(-0.083)" in text, text
    assert "no trained epoch beat the start's 1.000" in text and "best trained epoch 1: 0.917" in text, text
    assert "the cross-validation spread (0.064)" in text and "**Not kept**" in text, text


@pytest.mark.parametrize(("phase2_history", "kept"), [([0.5, 0.55, 0.59], False), ([0.5, 0.51, 0.6], False), ([0.5, 0.61], True)])
def test_phase2_without_cross_validation_must_win_by_more_than_two_validation_photos(phase2_history, kept):
    # fresh review 4, A2: without cross-validation a one-photo gain is noise in lessons 02-04; so it is here
    text = _phase2_sentence(0.5, phase2_history, cv_std=None, n_val=20)
    assert "plus two validation photos (0.100; cross-validation did not run)" in text, text
    assert "any gain counts" not in text and "**higher than** phase 1's 0.500" in text, text
    assert ("**Kept**: it does." in text) is kept and ("**Not kept**: it does not" in text) is (not kept), text


@pytest.mark.parametrize(("cv_std", "n_val", "kept"), [(0.1, 40, False), (0.01, 40, True), (0.01, 20, False)])
def test_phase2_gain_against_the_spread_and_two_photos(cv_std, n_val, kept):
    # the bar is the larger of the spread and two validation photos (0.05 of 40, 0.10 of 20); the gain is 0.08
    text = _phase2_sentence(0.8, [0.8, 0.88], cv_std=cv_std, n_val=n_val)
    assert "**higher than**" in text and f"spread ({cv_std:.3f})" in text, text
    assert f"two validation photos ({2 / n_val:.3f})" in text and f"plus {max(cv_std, 2 / n_val):.3f}" in text, text
    assert ("**Kept**" in text) is kept and ("**Not kept**" in text) is (not kept), text

"""Lesson 06's your-turn checks, run as the notebook runs them: right answers in several forms pass,
the usual mistakes get their one-line message (and the reference answer goes on)."""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn as nn
import torchvision

from coursetools.paths import REPO_ROOT
import helpers.reference_answers.lesson06 as reference
from helpers.your_turn import check, expect

NOTEBOOK = REPO_ROOT / "solutions" / "06_your_own_images" / "06_your_own_images.ipynb"
HEAD_LR = 1e-3
PRETRAINED_LR = HEAD_LR / 10


def _check_source(name: str) -> str:
    cells = json.loads(NOTEBOOK.read_text())["cells"]
    (cell,) = [c for c in cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == f"check_your_turn_{name}"]
    return "".join(cell["source"])


def run_check(name: str, answer, capsys) -> tuple[object, str, str]:
    """The lesson's check cell for ``name`` with ``answer`` defined; (what it leaves in ``name``, stdout, stderr)."""
    namespace = {
        "torch": torch,
        "nn": nn,
        "torchvision": torchvision,
        "check": check,
        "expect": expect,
        "reference": reference,
        "weights": None,  # the lesson's weights cell without ImageNet weights (the check then skips that test)
        "HEAD_LR": HEAD_LR,
        "PRETRAINED_LR": PRETRAINED_LR,
        name: answer,
    }
    exec(_check_source(name), namespace)  # noqa: S102 - the lesson's own cell
    out, err = capsys.readouterr()
    return namespace[name], out, err


def _frozen(net):
    return net.requires_grad_(False)


@pytest.mark.parametrize(
    "answer",
    [
        lambda: _frozen(torchvision.models.mobilenet_v2(weights=None)),
        lambda: _frozen(torchvision.models.mobilenet_v2(weights=None).eval()),
    ],
)
def test_backbone_right_answers_pass(answer, capsys):
    _, out, err = run_check("backbone", answer(), capsys)
    assert out.startswith("✓") and err == ""


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (lambda: None, "not written yet"),
        (lambda: torchvision.models.mobilenet_v2(weights=None), "still train"),
        (lambda: _frozen(torchvision.models.resnet18(weights=None)), "not a MobileNetV2"),
    ],
)
def test_backbone_wrong_answers_say_what_is_wrong(answer, message, capsys):
    result, out, err = run_check("backbone", answer(), capsys)
    assert out == "" and message in err and err.count("\n") == 1
    assert isinstance(result, torchvision.models.MobileNetV2) and not any(p.requires_grad for p in result.parameters())


@pytest.mark.parametrize(
    "answer",
    [
        lambda features, k: nn.Linear(features, k),
        lambda features, k: nn.Sequential(nn.Dropout(0.2), nn.Linear(features, k)),  # MobileNetV2's own head shape
    ],
)
def test_head_right_answers_pass(answer, capsys):
    _, out, err = run_check("new_head", answer, capsys)
    assert out.startswith("✓") and err == ""


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (lambda features, k: nn.Sequential(nn.Linear(features, k), nn.Softmax(dim=1)), "logits"),
        (lambda features, k: nn.Linear(features, 2), "num_classes outputs"),
        (lambda features, k: nn.Linear(features, k).requires_grad_(False), "must train"),
        (nn.Linear(1280, 3), "must return a layer"),  # a layer, not a function that makes one
    ],
)
def test_head_wrong_answers_say_what_is_wrong(answer, message, capsys):
    result, out, err = run_check("new_head", answer, capsys)
    assert out == "" and message in err
    assert result is reference.new_head


def _bn_eval_by_type(net):
    for module in net.modules():
        if type(module).__name__.startswith("BatchNorm"):
            module.eval()


def _everything_eval(net):
    net.eval()


def _bn_frozen(net):
    for module in net.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.eval()
            module.requires_grad_(False)


@pytest.mark.parametrize("answer", [reference.keep_batchnorm_in_eval, _bn_eval_by_type])
def test_batchnorm_right_answers_pass(answer, capsys):
    _, out, err = run_check("keep_batchnorm_in_eval", answer, capsys)
    assert out.startswith("✓") and err == ""


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (lambda net: None, "still in training mode"),
        (_everything_eval, "other layers"),
        (_bn_frozen, "leave requires_grad alone"),
    ],
)
def test_batchnorm_wrong_answers_say_what_is_wrong(answer, message, capsys):
    result, out, err = run_check("keep_batchnorm_in_eval", answer, capsys)
    assert out == "" and message in err and result is reference.keep_batchnorm_in_eval


def _sgd_groups(top, head):
    top.requires_grad_(True)
    return torch.optim.SGD([{"params": head.parameters(), "lr": HEAD_LR}, {"params": top.parameters()}], lr=PRETRAINED_LR)


def _one_rate(top, head):
    top.requires_grad_(True)
    return torch.optim.Adam(list(top.parameters()) + list(head.parameters()), lr=HEAD_LR)


def _still_frozen(top, head):
    return torch.optim.Adam([{"params": top.parameters(), "lr": PRETRAINED_LR}, {"params": head.parameters(), "lr": HEAD_LR}])


@pytest.mark.parametrize("answer", [lambda top, head: reference.phase2_optimizer(top, head, HEAD_LR, PRETRAINED_LR), _sgd_groups])
def test_phase2_right_answers_pass(answer, capsys):
    _, out, err = run_check("phase2_optimizer", answer, capsys)
    assert out.startswith("✓") and err == ""


@pytest.mark.parametrize(
    ("answer", "message"),
    [(_one_rate, "lr=PRETRAINED_LR"), (_still_frozen, "still frozen"), (lambda top, head: None, "must return an optimizer")],
)
def test_phase2_wrong_answers_say_what_is_wrong(answer, message, capsys):
    result, out, err = run_check("phase2_optimizer", answer, capsys)
    assert out == "" and message in err
    top, head = nn.Sequential(nn.Conv2d(3, 4, 3)).requires_grad_(False), nn.Linear(4, 2)
    groups = result(top, head).param_groups
    assert sorted(g["lr"] for g in groups) == [PRETRAINED_LR, HEAD_LR], "the reference answer goes on"

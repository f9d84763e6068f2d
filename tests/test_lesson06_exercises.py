"""Lesson 06's autograded transfer exercises (1: a split by burst, 4: the recipe on another backbone), run as
nbgrader runs their test cells: the solution and other right answers pass the visible and hidden tests, the
usual mistakes fail, and the visible test alone catches the main one with a message that says what is wrong."""

from __future__ import annotations

import json
import random
from collections import OrderedDict

import numpy as np
import pytest
import torch
import torch.nn as nn
import torchvision

import helpers.reference_answers.lesson06 as reference
from coursetools.paths import REPO_ROOT

NOTEBOOK = REPO_ROOT / "solutions" / "06_your_own_images" / "06_your_own_images.ipynb"
HIDDEN = "### BEGIN HIDDEN TESTS"


def _source(grade_id: str) -> str:
    cells = json.loads(NOTEBOOK.read_text())["cells"]
    (cell,) = [c for c in cells if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id]
    return "".join(cell["source"])


def _solution(grade_id: str) -> str:
    lines = _source(grade_id).splitlines()
    return "\n".join(line for line in lines if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION")) + "\n"


def run_test_cell(answer: str, test_id: str, hidden: bool) -> None:
    """The answer cell, then the test cell (its visible part, or all of it as when graded), in the names
    the lesson's locked cells define (your turn 3's check leaves ``keep_batchnorm_in_eval`` defined)."""
    namespace = {
        "random": random,
        "np": np,
        "torch": torch,
        "nn": nn,
        "torchvision": torchvision,
        "OrderedDict": OrderedDict,
        "keep_batchnorm_in_eval": reference.keep_batchnorm_in_eval,
    }
    exec(answer, namespace)  # noqa: S102 - the lesson's own cells
    test = _source(test_id)
    assert HIDDEN in test
    exec(test if hidden else test.split(HIDDEN)[0], namespace)  # noqa: S102


# --- exercise 1: burst_split ---------------------------------------------------------------------

SPLIT = _solution("ex1_burst_split")
PHOTO_LEVEL = """
def burst_split(samples, times, test_fraction, gap=2.0, seed=0):
    rng = random.Random(seed)
    train, test = [], []
    for label in sorted({label for _, label in samples}, key=str):
        photos = [s for s in samples if s[1] == label]
        rng.shuffle(photos)
        k = max(1, round(test_fraction * len(photos)))
        test += photos[:k]
        train += photos[k:]
    return train, test
"""
ACROSS_LABELS = """
def burst_split(samples, times, test_fraction, gap=2.0, seed=0):
    rng = random.Random(seed)
    bursts = []
    for i in sorted(range(len(samples)), key=lambda i: times[i]):
        if bursts and times[i] - times[bursts[-1][-1]] <= gap:
            bursts[-1].append(i)
        else:
            bursts.append([i])
    rng.shuffle(bursts)
    target, train, test = max(1, round(test_fraction * len(samples))), [], []
    for burst in bursts:
        (test if len(test) < target else train).extend(samples[i] for i in burst)
    return train, test
"""


@pytest.mark.parametrize(
    "answer",
    [
        SPLIT,
        SPLIT.replace("rng.shuffle(bursts)", "bursts.reverse()"),  # no randomness (the latest bursts to test): allowed
    ],
    ids=["solution", "latest_bursts_to_test"],
)
def test_burst_split_right_answers_pass_every_test(answer):
    run_test_cell(answer, "ex1_test", hidden=True)


@pytest.mark.parametrize(
    ("answer", "visible_message"),
    [
        (PHOTO_LEVEL, "on both sides: leakage"),  # the main mistake: photos split, not bursts
        (SPLIT.replace("times[bursts[-1][-1]]", "times[bursts[-1][0]]"), "on both sides"),  # gap from the burst's first photo
        (SPLIT.replace(", key=lambda i: times[i])", ")"), "on both sides"),  # not in time order
        (SPLIT.replace("<= gap", "< gap"), None),  # exactly `gap` apart: the text says one burst (hidden)
        (ACROSS_LABELS, None),  # a burst across labels (hidden)
    ],
    ids=["photo_level", "gap_from_first_photo", "unsorted", "strict_gap", "across_labels"],
)
def test_burst_split_mistakes_fail(answer, visible_message):
    if visible_message:
        with pytest.raises(AssertionError, match=visible_message):
            run_test_cell(answer, "ex1_test", hidden=False)
    with pytest.raises(AssertionError):
        run_test_cell(answer, "ex1_test", hidden=True)


# --- exercise 4: transfer_head -------------------------------------------------------------------

TRANSFER = _solution("ex4_transfer_head")
HARDCODED = """
def transfer_head(model, num_classes):
    for parameter in model.parameters():
        parameter.requires_grad = False
    model.classifier[1] = nn.Linear(model.classifier[1].in_features, num_classes)
    keep_batchnorm_in_eval(model)
    return model
"""
APPENDED = """
def transfer_head(model, num_classes):
    model.requires_grad_(False)
    keep_batchnorm_in_eval(model)
    return nn.Sequential(model, nn.Linear(1000, num_classes))
"""


@pytest.mark.parametrize(
    "answer",
    [
        TRANSFER,
        TRANSFER.replace("keep_batchnorm_in_eval(model)", "model.eval()"),  # the whole model in eval: allowed
        TRANSFER.replace(
            "    for parameter in model.parameters():",
            "    import copy\n    model = copy.deepcopy(model)\n    for parameter in model.parameters():",
            1,
        ),  # a copy, the caller's model untouched
    ],
    ids=["solution", "model_eval", "deepcopy"],
)
def test_transfer_head_right_answers_pass_every_test(answer):
    run_test_cell(answer, "ex4_test", hidden=True)


@pytest.mark.parametrize(
    ("answer", "visible_message", "error"),
    [
        (HARDCODED, "in_features", AttributeError),  # MobileNetV2's name, on MobileNetV3
        (TRANSFER.replace("linears[-1]", "linears[0]"), "the last nn.Linear, must be a new nn.Linear", AssertionError),
        (
            TRANSFER.replace("    return model", "    model.requires_grad_(False)\n    return model"),
            "only the new classifier.3 must train",
            AssertionError,
        ),  # froze after replacing: nothing trains
        (TRANSFER.replace("parameter.requires_grad = False", "pass"), "only the new classifier.3 must train", AssertionError),
        (TRANSFER.replace("    keep_batchnorm_in_eval(model)\n", ""), "BatchNorm layer is in training mode", AssertionError),
        (APPENDED, "the returned model has no classifier.3", AssertionError),
        (TRANSFER.replace("raise ValueError", "raise IndexError"), "no nn.Linear", IndexError),
        (TRANSFER.replace("raise ValueError", "return model  #"), "must raise a ValueError", AssertionError),
        (TRANSFER.replace("return model", "return None"), "return the model, not NoneType", AssertionError),
    ],
    ids=[
        "hardcoded_name",
        "first_linear",
        "frozen_after",
        "not_frozen",
        "batchnorm_training",
        "appended",
        "other_error",
        "no_error",
        "returns_none",
    ],
)
def test_transfer_head_mistakes_fail_the_visible_test(answer, visible_message, error):
    with pytest.raises(error, match=visible_message):
        run_test_cell(answer, "ex4_test", hidden=False)


def test_transfer_head_hidden_tests_catch_a_name_that_fits_only_the_visible_model():
    only_v3 = TRANSFER.replace(
        "    linears = [name for name, module in model.named_modules() if isinstance(module, nn.Linear)]",
        '    linears = ["classifier.3"] if any(isinstance(m, nn.Linear) for m in model.modules()) else []',
    )
    run_test_cell(only_v3, "ex4_test", hidden=False)
    with pytest.raises((AssertionError, AttributeError, ValueError)):
        run_test_cell(only_v3, "ex4_test", hidden=True)

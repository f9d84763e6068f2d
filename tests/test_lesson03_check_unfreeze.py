"""Lesson 03's check of Your turn 3 tells a learner who has not written the cell so (review C2).

The lesson's own hidden check cell ``check-unfreeze`` runs here on stand-in layers (no ResNet50): a base
whose layers are all still frozen (phase 1's state, the cell above untouched) gets "not written yet",
not a detail of a mistake the learner has not made; a half-done answer keeps its precise message.
"""

from __future__ import annotations

import contextlib
import io
from types import SimpleNamespace

import nbformat
from conftest import REPO_ROOT

from helpers.your_turn import check, expect

NOTEBOOK = REPO_ROOT / "solutions" / "03_resnet50_fine_tuning" / "03_resnet50_fine_tuning.ipynb"


def _layer(name: str, trainable: bool) -> SimpleNamespace:
    return SimpleNamespace(name=name, trainable=trainable, weights=["kernel"])


def _stderr_of(base: SimpleNamespace) -> str:
    (cell,) = [c for c in nbformat.read(NOTEBOOK, as_version=4).cells if c.get("id") == "check-unfreeze"]
    reference = SimpleNamespace(layers=[], trainable=True)
    namespace = {
        "base": base,
        "check": check,
        "expect": expect,
        "unfreeze_top_stage": lambda *args: reference,
        "model": None,
        "PRETRAINED_LR": 1e-4,
        "HEAD_LR": 1e-3,
        "count_parameters": lambda model: 0,
    }
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        exec(cell.source.split("FINE_TUNE_LAYERS")[0], namespace)  # noqa: S102 - the lesson's own check
    return err.getvalue()


def test_an_untouched_cell_is_not_written_yet():
    base = SimpleNamespace(trainable=False, layers=[_layer("conv4_block6_out", False), _layer("conv5_block1_1_conv", False)])
    assert "not written yet" in _stderr_of(base)


def test_a_half_done_answer_keeps_its_precise_message():
    base = SimpleNamespace(trainable=True, layers=[_layer("conv4_block6_out", True), _layer("conv5_block1_1_conv", False)])
    text = _stderr_of(base)
    assert "not written yet" not in text and "a conv5 layer is still frozen" in text, text

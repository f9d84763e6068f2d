"""Quick mode, seeding and devices."""
from __future__ import annotations

import random

import numpy as np
import pytest

from helpers import runtime


@pytest.mark.parametrize(
    ("env", "expected"),
    [({}, "full"), ({"TL_COURSE_QUICK": "1"}, "quick"), ({"TL_COURSE_QUICK": "0"}, "full"),
     ({"NBGRADER_EXECUTION": "autograde"}, "grading"), ({"NBGRADER_EXECUTION": "validate", "TL_COURSE_QUICK": "0"}, "grading")],
)
def test_mode_follows_environment(monkeypatch, env, expected):
    monkeypatch.delenv("TL_COURSE_QUICK", raising=False)
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert runtime.mode() == expected
    assert runtime.is_quick() == (expected != "full")
    assert runtime.pick(full="F", quick="Q", grading="G") == expected[0].upper()
    assert runtime.pick(full="F", quick="Q") == ("F" if expected == "full" else "Q")


def test_seed_everything_makes_runs_repeatable():
    import torch

    def draw():
        runtime.seed_everything(7)
        return random.random(), np.random.rand(), torch.rand(1).item()

    assert draw() == draw()


def test_torch_device_respects_override(monkeypatch):
    monkeypatch.setenv("TL_COURSE_DEVICE", "cpu")
    assert runtime.torch_device().type == "cpu"
    monkeypatch.delenv("TL_COURSE_DEVICE")
    assert runtime.torch_device().type in {"cpu", "cuda", "mps"}


def test_environment_report_lists_versions_and_cache(capsys):
    report = runtime.environment_report(("torch",))
    out = capsys.readouterr().out
    for key in ("python", "torch", "torch_device", "cache", "mode", "cached"):
        assert key in report and key in out
    assert runtime.peak_rss_mb() > 10

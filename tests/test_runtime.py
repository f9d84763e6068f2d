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


@pytest.mark.parametrize(("raw", "expected"), [("1", True), ("True", True), (" yes ", True), ("ON", True),
                                                ("0", False), ("False", False), ("no", False), ("", False)])
def test_env_flag_reads_every_yes_no_spelling(monkeypatch, raw, expected):
    monkeypatch.setenv("TL_TEST_SOME_FLAG", raw)
    assert runtime.env_flag("TL_TEST_SOME_FLAG") is expected


def test_env_flag_refuses_a_value_it_cannot_read(monkeypatch):
    monkeypatch.delenv("TL_TEST_SOME_FLAG", raising=False)
    assert runtime.env_flag("TL_TEST_SOME_FLAG") is False and runtime.env_flag("TL_TEST_SOME_FLAG", True) is True
    monkeypatch.setenv("TL_TEST_SOME_FLAG", "maybe")
    with pytest.raises(ValueError, match="TL_TEST_SOME_FLAG='maybe'.*1 \\(yes\\) or 0 \\(no\\)"):
        runtime.env_flag("TL_TEST_SOME_FLAG")


def test_every_yes_no_variable_is_read_by_env_flag(monkeypatch):
    """TL_COURSE_OFFLINE=True used to be ignored, TL_COURSE_ALLOW_RANDOM_WEIGHTS=0 recorded as true."""
    from helpers import downloads, models

    monkeypatch.setenv("TL_COURSE_OFFLINE", "True")
    assert downloads.network_reachable("https://example.invalid/") is False
    monkeypatch.setenv("TL_COURSE_ALLOW_RANDOM_WEIGHTS", "0")
    assert models.random_weights_allowed() is False
    monkeypatch.setenv("TL_COURSE_QUICK", "FALSE")
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    assert runtime.mode() == "full"

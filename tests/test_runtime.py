"""Quick mode, seeding and devices."""

from __future__ import annotations

import random

import numpy as np
import pytest

from helpers import config, runtime


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "cpu"),
        ({"TL_COURSE_QUICK": "1"}, "quick"),
        ({"TL_COURSE_QUICK": "0"}, "cpu"),
        ({"TL_COURSE_MODE": "full"}, "full"),
        ({"TL_COURSE_MODE": " CPU "}, "cpu"),
        ({"TL_COURSE_MODE": "quick"}, "quick"),
        ({"TL_COURSE_MODE": "full", "TL_COURSE_QUICK": "1"}, "quick"),
        ({"NBGRADER_EXECUTION": "autograde"}, "grading"),
        ({"NBGRADER_EXECUTION": "validate", "TL_COURSE_MODE": "full"}, "grading"),
    ],
)
def test_mode_follows_environment(monkeypatch, env, expected):
    """Here (no GPU) a plain run is the CPU budget; the variables choose another mode."""
    for name in ("TL_COURSE_QUICK", "TL_COURSE_MODE", "NBGRADER_EXECUTION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(runtime, "_nvidia_gpu_present", lambda: False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    runtime.decide_run_settings()
    assert runtime.mode() == expected
    assert runtime.is_quick() == (expected in ("quick", "grading"))
    assert runtime.pick(full="F", quick="Q", grading="G", cpu="C") == expected[0].upper()
    assert runtime.pick(full="F", quick="Q") == {"full": "F", "cpu": "F"}.get(expected, "Q")
    assert expected.split()[0] in runtime.mode_reason()


def test_a_gpu_runs_the_full_recipe_and_a_typo_is_an_error(monkeypatch):
    for name in ("TL_COURSE_QUICK", "TL_COURSE_MODE", "NBGRADER_EXECUTION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(runtime, "_nvidia_gpu_present", lambda: True)
    assert runtime.decide_run_settings().mode == "full" and "GPU was found" in runtime.mode_reason()
    monkeypatch.setenv("TL_COURSE_MODE", "cpu")
    runtime.decide_run_settings()
    assert runtime.mode() == "cpu" and runtime.pick(full=1, quick=2, cpu=3) == 3
    monkeypatch.setenv("TL_COURSE_MODE", "fast")
    with pytest.raises(ValueError, match="TL_COURSE_MODE='fast' is not one of quick, cpu, full: use one of them, or unset"):
        runtime.decide_run_settings()


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


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", True), ("True", True), (" yes ", True), ("ON", True), ("0", False), ("False", False), ("no", False), ("", False)],
)
def test_env_flag_reads_every_yes_no_spelling(monkeypatch, raw, expected):
    monkeypatch.setenv("TL_COURSE_OFFLINE", raw)
    assert config.env_flag("TL_COURSE_OFFLINE") is expected


def test_env_flag_refuses_a_value_it_cannot_read(monkeypatch):
    monkeypatch.delenv("TL_COURSE_OFFLINE", raising=False)
    assert config.env_flag("TL_COURSE_OFFLINE") is False and config.env_flag("TL_COURSE_OFFLINE", True) is True
    monkeypatch.setenv("TL_COURSE_OFFLINE", "maybe")
    with pytest.raises(ValueError, match="TL_COURSE_OFFLINE='maybe'.*1 \\(yes\\) or 0 \\(no\\)"):
        config.env_flag("TL_COURSE_OFFLINE")


def test_a_variable_the_course_does_not_declare_is_an_error():
    """A typo in the code would otherwise read as "unset", silently."""
    typo = "TL_COURSE" + "_OFLINE"  # split, so that the README's table check does not take it for a variable
    with pytest.raises(KeyError, match=f"{typo} is not a course setting"):
        config.env_flag(typo)


def test_whole_numbers_and_choices_name_the_variable(monkeypatch):
    monkeypatch.setenv("TL_COURSE_GRADING_JOBS", "0")
    with pytest.raises(ValueError, match="TL_COURSE_GRADING_JOBS='0' is not a whole number >= 1"):
        config.env_int("TL_COURSE_GRADING_JOBS", 2)
    monkeypatch.setenv("TL_COURSE_GRADING_JOBS", " 3 ")
    assert config.env_int("TL_COURSE_GRADING_JOBS", 2) == 3
    monkeypatch.setenv("TL_COURSE_MODE", " Full ")
    assert config.env_choice("TL_COURSE_MODE", ("quick", "cpu", "full")) == "full"


def test_every_yes_no_variable_is_read_by_env_flag(monkeypatch):
    """TL_COURSE_OFFLINE=True used to be ignored, TL_COURSE_ALLOW_RANDOM_WEIGHTS=0 recorded as true."""
    from helpers import downloads, models

    monkeypatch.setenv("TL_COURSE_OFFLINE", "True")
    assert downloads.network_reachable("https://example.invalid/") is False
    monkeypatch.setenv("TL_COURSE_ALLOW_RANDOM_WEIGHTS", "0")
    assert models.random_weights_allowed() is False
    monkeypatch.setenv("TL_COURSE_QUICK", "FALSE")
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    monkeypatch.delenv("TL_COURSE_MODE", raising=False)
    runtime.decide_run_settings()
    assert not runtime.is_quick()


def test_quiet_native_startup_drops_only_what_native_code_writes_inside(capfd):
    import os

    os.write(2, b"before\n")
    with runtime.quiet_native_startup():
        os.write(2, b"oneDNN custom operations are on\n")  # what TensorFlow's C++ writes on import
    os.write(2, b"after\n")
    assert capfd.readouterr().err == "before\nafter\n"
    with pytest.raises(ModuleNotFoundError):  # a failing import still says so
        with runtime.quiet_native_startup():
            import no_such_framework  # noqa: F401
    os.write(2, b"restored\n")
    assert capfd.readouterr().err == "restored\n"

"""Run settings are decided once per lesson: the first cell's sentence is what every pick() does.

Each test builds a machine out of fake frameworks (``torch`` and ``tensorflow`` as modules that
answer the probes), runs the lesson's first cell (``show_lesson_cost``), then imports the other
framework and asks ``pick()``: before the settings were kept, the mode followed whichever
framework was imported at that moment (code-review.md 1.5).
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import sys
from types import SimpleNamespace

import pytest

from helpers import runtime
from helpers.costs import show_lesson_cost


def fake_torch(cuda: bool = False, mps: bool = False):
    return SimpleNamespace(
        cuda=SimpleNamespace(is_available=lambda: cuda), backends=SimpleNamespace(mps=SimpleNamespace(is_available=lambda: mps))
    )


def fake_tensorflow(gpu: bool = False):
    devices = {"GPU": ["/physical_device:GPU:0"] if gpu else [], "CPU": ["/physical_device:CPU:0"]}
    return SimpleNamespace(config=SimpleNamespace(list_physical_devices=lambda kind: devices[kind]))


# name: (torch, tensorflow, an NVIDIA driver is installed)
MACHINES = {
    "nvidia_with_tensorflow_cpu": (fake_torch(cuda=True), fake_tensorflow(gpu=False), True),
    "apple_mps": (fake_torch(mps=True), fake_tensorflow(gpu=False), False),
    "cuda_in_both": (fake_torch(cuda=True), fake_tensorflow(gpu=True), True),
    "cpu_only": (fake_torch(), fake_tensorflow(), False),
}
# (machine, the lesson's frameworks): the mode, and words its first-cell sentence must hold
EXPECTED = {
    ("nvidia_with_tensorflow_cpu", ("keras",)): ("cpu", ["TensorFlow sees no GPU", "tensorflow[and-cuda]"]),
    ("nvidia_with_tensorflow_cpu", ("torch",)): ("full", ["PyTorch uses cuda"]),
    ("nvidia_with_tensorflow_cpu", ("torch", "keras")): ("cpu", ["TensorFlow sees no GPU", "PyTorch uses cuda"]),
    ("apple_mps", ("torch",)): ("full", ["PyTorch uses mps"]),
    ("apple_mps", ("keras",)): ("cpu", ["no GPU was found"]),
    ("cuda_in_both", ("keras",)): ("full", ["TensorFlow uses GPU"]),
    ("cuda_in_both", ("torch",)): ("full", ["PyTorch uses cuda"]),
    ("cuda_in_both", ("torch", "keras")): ("full", ["PyTorch uses cuda", "TensorFlow uses GPU"]),
    ("cpu_only", ("keras",)): ("cpu", ["no GPU was found"]),
    ("cpu_only", ("torch",)): ("cpu", ["no GPU was found"]),
    ("cpu_only", ()): ("cpu", ["no GPU was found"]),
    ("cuda_in_both", ()): ("full", ["a GPU was found"]),
}


class _Installed:
    """A meta-path finder that serves fake frameworks: installed, and imported only when asked."""

    def __init__(self, modules):
        self.modules = modules

    def find_spec(self, name, path=None, target=None):
        return importlib.util.spec_from_loader(name, self) if name in self.modules else None

    def create_module(self, spec):
        return self.modules[spec.name]

    def exec_module(self, module):
        pass


@pytest.fixture
def machine(monkeypatch):
    """Install a simulated machine: its frameworks installed but not imported, no mode chosen by
    the environment. Returns a function that imports a framework, as a lesson's cell would."""
    for name in ("TL_COURSE_QUICK", "TL_COURSE_MODE", "NBGRADER_EXECUTION"):
        monkeypatch.delenv(name, raising=False)
    saved = {name: sys.modules.pop(name, None) for name in ("torch", "tensorflow")}

    def install(name: str):
        torch, tensorflow, nvidia = MACHINES[name]
        monkeypatch.setattr(sys, "meta_path", [_Installed({"torch": torch, "tensorflow": tensorflow}), *sys.meta_path])
        monkeypatch.setattr(runtime, "_nvidia_gpu_present", lambda: nvidia)
        return importlib.import_module

    yield install
    for name, module in saved.items():  # the real frameworks back, for the tests that follow
        sys.modules.pop(name, None)
        if module is not None:
            sys.modules[name] = module


def first_cell(capsys, frameworks) -> str:
    show_lesson_cost("02_vgg16_feature_extraction", frameworks=frameworks)
    line = [line for line in capsys.readouterr().out.splitlines() if line.startswith("This run: ")]
    assert len(line) == 1
    return line[0]


@pytest.mark.parametrize(("name", "frameworks"), list(EXPECTED))
def test_the_first_cells_sentence_is_what_every_pick_does(machine, capsys, name, frameworks):
    import_framework = machine(name)
    mode, words = EXPECTED[(name, frameworks)]
    sentence = first_cell(capsys, frameworks)
    said = re.match(r"This run: (\w+) mode", sentence).group(1)
    assert said == mode, sentence
    for word in words:
        assert word in sentence
    # the lesson's setup cell imports its frameworks, and other cells may import the other one
    for framework in ("tensorflow", "torch"):
        import_framework(framework)
        assert runtime.mode() == said
        assert runtime.pick(full="full", quick="quick", cpu="cpu") == said
        assert runtime.mode_reason() == sentence.removeprefix("This run: ")


def test_settings_are_decided_once_even_without_the_first_cell(machine):
    """A cell run out of order decides the settings at its first pick(), from what is imported then,
    and later imports do not change them."""
    import_framework = machine("nvidia_with_tensorflow_cpu")
    import_framework("tensorflow")  # a Keras lesson: TensorFlow (CPU build) is all it imported
    assert runtime.pick(full="full", quick="quick", cpu="cpu") == "cpu"
    import_framework("torch")  # torch sees CUDA: before, the next pick() said full
    assert runtime.pick(full="full", quick="quick", cpu="cpu") == "cpu"
    assert runtime.run_settings().frameworks == ("tensorflow",)


def test_frameworks_are_asked_once_and_only_when_the_machine_decides(machine, monkeypatch):
    machine("cuda_in_both")
    asked = []
    monkeypatch.setitem(runtime._PROBES, "torch", lambda: asked.append("torch") or "cuda")
    runtime.decide_run_settings(("torch",))
    for _ in range(3):
        runtime.pick(full=1, quick=2)
    assert asked == ["torch"]
    monkeypatch.setenv("TL_COURSE_QUICK", "1")
    assert runtime.decide_run_settings(("torch",)).mode == "quick" and asked == ["torch"]


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"TL_COURSE_QUICK": "1"}, "quick"),
        ({"TL_COURSE_MODE": "full"}, "full"),
        ({"TL_COURSE_MODE": "cpu"}, "cpu"),
        ({"NBGRADER_EXECUTION": "autograde", "TL_COURSE_MODE": "full"}, "grading"),
    ],
)
def test_the_environment_chooses_before_the_machine(machine, monkeypatch, capsys, env, expected):
    machine("cuda_in_both")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert first_cell(capsys, ("torch",)).startswith(f"This run: {expected} mode")
    assert runtime.mode() == expected


def test_an_unknown_framework_is_an_error_that_lists_the_names():
    with pytest.raises(ValueError, match="Unknown framework 'jax'.*keras.*torch"):
        runtime.decide_run_settings(("jax",))

"""Runtime settings shared by every lesson: run mode, seeding, device choice, environment report.

Run modes (``mode()``):

- ``full``: the lesson's whole recipe. The default on a machine with a GPU.
- ``cpu``: the default on a machine without one: the same steps on a budget measured to fit a
  laptop CPU (each lesson says what it changes and why), so the lesson's conclusions still
  come from real runs. ``TL_COURSE_MODE=full`` asks for the full recipe on a CPU anyway.
- ``quick``: tiny data, about a minute per lesson, for CI and a first look
  (``TL_COURSE_QUICK=1`` or ``TL_COURSE_MODE=quick``).
- ``grading``: while nbgrader executes a notebook (it sets ``NBGRADER_EXECUTION``); quick settings.

The mode is decided once per lesson (``decide_run_settings``, called by the lesson's first cell):
the environment variables, then every framework the lesson uses is asked for a GPU, and the result
is kept in one ``RunSettings``, so the sentence the first cell prints is what every later ``pick()``
does, whatever the lesson imports in between.
"""

from __future__ import annotations

import contextlib
import os
import platform
import random
import shutil
import sys
from dataclasses import dataclass, field
from typing import Any, TypeVar

from .config import env_choice, env_flag, env_text

__all__ = [
    "describe_device",
    "environment_report",
    "mode",
    "pick",
    "quiet_native_startup",
    "seed_everything",
    "torch_device",
]

T = TypeVar("T")

MODE_VARIABLE = "TL_COURSE_MODE"
CHOSEN_MODES = ("quick", "cpu", "full")
# What a lesson may name in ``frameworks``: Keras runs on TensorFlow, so it asks TensorFlow.
_FRAMEWORKS = {"torch": "torch", "pytorch": "torch", "tensorflow": "tensorflow", "keras": "tensorflow"}
_NAMES = {"torch": "PyTorch", "tensorflow": "TensorFlow"}


@dataclass(frozen=True)
class RunSettings:
    """What this lesson does, decided once: its run mode, the one sentence that says why, and the
    accelerator each framework it uses reported (``{"torch": "cuda" | "mps" | None,
    "tensorflow": "GPU" | None}``). ``pick()`` reads ``mode``; the first cell prints ``reason``."""

    mode: str
    reason: str
    frameworks: tuple[str, ...] = ()
    accelerators: dict[str, str | None] = field(default_factory=dict)


_current: RunSettings | None = None


def _torch_accelerator() -> str | None:
    import torch

    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    return "mps" if mps is not None and mps.is_available() else None


def _tensorflow_accelerator() -> str | None:
    import tensorflow as tf

    return "GPU" if tf.config.list_physical_devices("GPU") else None


_PROBES = {"torch": _torch_accelerator, "tensorflow": _tensorflow_accelerator}


def _nvidia_gpu_present() -> bool:
    """An NVIDIA driver with a GPU (Linux), or ``nvidia-smi`` on the PATH (Windows): no framework asked."""
    gpus = "/proc/driver/nvidia/gpus"
    if os.path.isdir(gpus):
        return bool(os.listdir(gpus))
    return sys.platform == "win32" and shutil.which("nvidia-smi") is not None


def _frameworks(frameworks) -> tuple[str, ...]:
    found = []
    for name in frameworks:
        key = _FRAMEWORKS.get(str(name).lower())
        if key is None:
            raise ValueError(f"Unknown framework {name!r}: name the ones the lesson uses, from {', '.join(sorted(_FRAMEWORKS))}.")
        if key not in found:
            found.append(key)
    return tuple(found)


def _environment_settings(frameworks: tuple[str, ...]) -> RunSettings | None:
    """The settings the environment imposes (nbgrader, ``TL_COURSE_QUICK``, ``TL_COURSE_MODE``),
    else None: then the machine decides."""
    if env_text("NBGRADER_EXECUTION"):
        return RunSettings(
            "grading", "grading mode: nbgrader is executing this notebook, so the walkthrough runs on tiny data.", frameworks
        )
    chosen = env_choice(MODE_VARIABLE, CHOSEN_MODES, "unset it (full with a GPU, cpu without)")
    if env_flag("TL_COURSE_QUICK") or chosen == "quick":
        return RunSettings(
            "quick",
            "quick mode (TL_COURSE_QUICK=1 or TL_COURSE_MODE=quick): tiny data, a first "
            "look; its numbers are not the lesson's results.",
            frameworks,
        )
    if chosen:
        return RunSettings(chosen, f"{chosen} mode, because {MODE_VARIABLE}={chosen} was asked for.", frameworks)
    return None


def _machine_settings(frameworks: tuple[str, ...], accelerators: dict[str, str | None], nvidia: bool) -> RunSettings:
    """Full mode when every framework the lesson uses has a GPU, else the CPU budget, with the
    reason (pure logic, so that tests can give it any machine)."""

    def settings(mode: str, reason: str) -> RunSettings:
        return RunSettings(mode, reason, frameworks, dict(accelerators))

    found = {name: device for name, device in accelerators.items() if device}
    missing = [name for name in frameworks if not accelerators.get(name)]
    if frameworks and not missing:
        devices = ", ".join(f"{_NAMES[name]} uses {device}" for name, device in found.items())
        return settings("full", f"full mode: a GPU was found ({devices}), so the lesson runs its whole recipe.")
    if not frameworks and nvidia:
        return settings("full", "full mode: a GPU was found, so the lesson runs its whole recipe.")
    budget = (
        "so a lesson that would take too long on a CPU runs smaller settings, measured to fit a laptop "
        f"(its settings cell says which; most lessons run in full). {MODE_VARIABLE}=full runs the whole "
        "recipe here."
    )
    if found or nvidia:  # a GPU is there, but not for every framework this lesson uses
        lacking = " and ".join(_NAMES[name] for name in missing)
        seen = "; ".join(f"{_NAMES[name]} uses {device}" for name, device in found.items()) or "an NVIDIA GPU is installed"
        fix = ""
        if "tensorflow" in missing and (nvidia or "cuda" in found.values()):
            fix = (
                " To use the GPU, install TensorFlow with GPU support (`make setup GPU=1`, or "
                "`pip install tensorflow[and-cuda]` on Linux) and restart the kernel."
            )
        return settings("cpu", f"cpu mode: {lacking} sees no GPU here ({seen}), {budget}{fix}")
    return settings("cpu", f"cpu mode: no GPU was found, {budget}")


def decide_run_settings(frameworks=()) -> RunSettings:
    """Decide this lesson's run settings once and keep them: ``pick()``, ``mode()`` and
    ``mode_reason()`` read them until the kernel restarts or this is called again.

    ``frameworks`` are the ones the lesson uses (``("torch",)``, ``("keras",)``): unless the
    environment chooses the mode, each is asked once for a GPU, and the lesson runs in full only
    when all of them have one. With none named, an NVIDIA driver counts as a GPU. A lesson's first
    cell calls it through ``show_lesson_cost``.
    """
    global _current
    names = _frameworks(frameworks)
    settings = _environment_settings(names)
    if settings is None:
        with quiet_native_startup():  # TensorFlow's C++ start-up notices would show as an error block
            accelerators = {name: _PROBES[name]() for name in names}
        settings = _machine_settings(names, accelerators, _nvidia_gpu_present())
    _current = settings
    return settings


def run_settings() -> RunSettings:
    """This lesson's settings. When the first cell has not decided them (a cell run out of order, a
    script), they are decided now, once, asking the frameworks already imported."""
    if _current is None:
        return decide_run_settings(name for name in ("torch", "tensorflow") if name in sys.modules)
    return _current


def mode() -> str:
    """The run mode: ``"grading"``, ``"quick"``, ``"cpu"`` or ``"full"`` (see the module's docstring)."""
    return run_settings().mode


def is_quick() -> bool:
    """True when lessons run their small, fast version (CI, grading, a quick look)."""
    return mode() in ("quick", "grading")


def mode_reason() -> str:
    """One sentence: which mode this run uses and why, and how to choose another."""
    return run_settings().reason


def pick(full: T, quick: T, grading: T | None = None, cpu: T | None = None) -> T:
    """Choose a setting by run mode, e.g. ``EPOCHS = pick(full=5, quick=1, cpu=3)``.

    ``cpu`` (defaults to ``full``) is the budget on a machine without a GPU; ``grading``
    (defaults to ``quick``) applies while nbgrader executes the notebook, where only the
    exercises matter and the walkthrough should cost as little as possible.
    """
    current = mode()
    if current == "grading" and grading is not None:
        return grading
    if current in ("grading", "quick"):
        return quick
    if current == "cpu" and cpu is not None:
        return cpu
    return full


@contextlib.contextmanager
def quiet_native_startup():
    """Send what C++ libraries print while they load (TensorFlow's oneDNN and CUDA notices) nowhere.

    Wrap the framework imports of a setup cell in it. TensorFlow prints its oneDNN notice
    straight to the process's stderr, before its own log level applies, and Jupyter shows that
    as an error-coloured block. Python's exceptions are not affected: an import that fails
    still raises its error here.
    """
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no file descriptor 2 (some embedded interpreters): nothing to silence
        yield
        return
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def seed_everything(seed: int = 42) -> int:
    """Seed Python, NumPy and every deep-learning framework already imported.

    Call it after your imports. Frameworks that are not imported yet are left alone so that a
    PyTorch lesson does not pay for importing TensorFlow (and vice versa).
    """
    random.seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    try:
        import numpy as np

        np.random.seed(seed)
    except ImportError:  # pragma: no cover - numpy ships with the course
        pass
    if "torch" in sys.modules:
        import torch

        torch.manual_seed(seed)
        if torch.cuda.is_available():
            torch.cuda.manual_seed_all(seed)
    if "keras" in sys.modules or "tensorflow" in sys.modules:
        import keras

        keras.utils.set_random_seed(seed)
    return seed


def torch_device(prefer: str | None = None):
    """The best torch device here: CUDA, then Apple MPS, then CPU.

    ``prefer`` (or ``TL_COURSE_DEVICE``) forces one, e.g. ``"cpu"`` to compare timings.
    """
    import torch

    choice = prefer or env_text("TL_COURSE_DEVICE")
    if choice:
        return torch.device(choice)
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def tf_device() -> str:
    """``"GPU"`` if TensorFlow sees a GPU, else ``"CPU"`` (Keras places ops by itself)."""
    import tensorflow as tf

    return "GPU" if tf.config.list_physical_devices("GPU") else "CPU"


def describe_device(framework: str = "torch") -> str:
    """A short, human name of the device a framework will use, for result tables."""
    if framework == "torch":
        import torch

        device = torch_device()
        if device.type == "cuda":
            return f"cuda ({torch.cuda.get_device_name(device)})"
        return device.type
    return tf_device().lower()


def cpu_threads() -> int:
    """Threads available to this process."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB."""
    try:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024
    except ImportError:  # Windows
        import psutil

        return psutil.Process().memory_info().peak_wset / 2**20


def environment_report(frameworks: tuple[str, ...] = ("torch",)) -> dict[str, Any]:
    """Print and return what a helper needs to know when something looks wrong.

    Versions, device, threads, run mode, cache and mirror locations, and what is cached.
    Only the frameworks named are imported.
    """
    from . import storage
    from .downloads import cached_items

    report: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "mode": mode(),
        "cpu_threads": cpu_threads(),
        "cache": str(storage.cache_dir()),
        "mirror": str(storage.mirror_dir() or "(none)"),
    }
    if "torch" in frameworks:
        import torch
        import torchvision

        report["torch"] = torch.__version__
        report["torchvision"] = torchvision.__version__
        report["torch_device"] = describe_device("torch")
        report["torch_hub"] = torch.hub.get_dir()
    if "keras" in frameworks:
        import keras
        import tensorflow as tf

        report["tensorflow"] = tf.__version__
        report["keras"] = keras.__version__
        report["tf_device"] = tf_device()
        report["keras_home"] = str(storage.keras_home())
    report["cached"] = ", ".join(cached_items()) or "(nothing yet)"
    width = max(len(key) for key in report)
    for key, value in report.items():
        print(f"{key:<{width}}  {value}")
    return report

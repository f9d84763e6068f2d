"""Runtime settings shared by every lesson: run mode, seeding, device choice, environment report.

Run modes (``mode()``):

- ``full``: the lesson's whole recipe. The default on a machine with a GPU.
- ``cpu``: the default on a machine without one: the same steps on a budget measured to fit a
  laptop CPU (each lesson says what it changes and why), so the lesson's conclusions still
  come from real runs. ``TL_COURSE_MODE=full`` asks for the full recipe on a CPU anyway.
- ``quick``: tiny data, about a minute per lesson, for CI and a first look
  (``TL_COURSE_QUICK=1`` or ``TL_COURSE_MODE=quick``).
- ``grading``: while nbgrader executes a notebook (it sets ``NBGRADER_EXECUTION``); quick settings.
"""
from __future__ import annotations

import contextlib
import os
import platform
import random
import sys
from typing import Any, TypeVar

from .flags import env_flag

__all__ = [
    "env_flag", "is_grading", "is_quick", "has_accelerator", "mode", "mode_reason", "pick", "quiet_native_startup", "seed_everything", "torch_device", "tf_device",
    "describe_device", "cpu_threads", "peak_rss_mb", "environment_report",
]

T = TypeVar("T")


def is_grading() -> bool:
    """True while nbgrader validates or autogrades a notebook."""
    return bool(os.environ.get("NBGRADER_EXECUTION"))


MODE_VARIABLE = "TL_COURSE_MODE"
CHOSEN_MODES = ("quick", "cpu", "full")


def _chosen_mode() -> str | None:
    """``TL_COURSE_MODE`` when set (``quick``, ``cpu`` or ``full``), else None."""
    raw = os.environ.get(MODE_VARIABLE, "").strip().lower()
    if not raw:
        return None
    if raw not in CHOSEN_MODES:
        raise ValueError(f"{MODE_VARIABLE}={os.environ[MODE_VARIABLE]!r} is not a run mode: use "
                         f"{', '.join(CHOSEN_MODES)}, or unset it (full with a GPU, cpu without).")
    return raw


def is_quick() -> bool:
    """True when lessons should run their small, fast version (CI, grading, a quick look)."""
    return is_grading() or env_flag("TL_COURSE_QUICK") or _chosen_mode() == "quick"


def has_accelerator() -> bool:
    """True when a GPU (CUDA, or Apple's MPS) is there for the lesson's framework.

    Asks the framework the lesson already imported (TensorFlow or torch), so that a Keras lesson
    does not import torch to find out; with neither imported, looks for an NVIDIA driver.
    """
    if "torch" in sys.modules:
        import torch

        mps = getattr(torch.backends, "mps", None)
        return torch.cuda.is_available() or bool(mps is not None and mps.is_available())
    if "tensorflow" in sys.modules:
        import tensorflow as tf

        return bool(tf.config.list_physical_devices("GPU"))
    gpus = "/proc/driver/nvidia/gpus"
    return os.path.isdir(gpus) and bool(os.listdir(gpus))


def mode() -> str:
    """The run mode: ``"grading"``, ``"quick"``, ``"cpu"`` or ``"full"`` (see the module's docstring)."""
    if is_grading():
        return "grading"
    if is_quick():
        return "quick"
    chosen = _chosen_mode()
    if chosen:
        return chosen
    return "full" if has_accelerator() else "cpu"


def mode_reason() -> str:
    """One sentence: which mode this run uses and why, and how to choose another."""
    from .audience import for_readers

    current = mode()
    if for_readers():  # the website: no variables or machine state
        return (f"this page was executed in {current} mode"
                + (" (small data: its numbers are not the lesson's results)." if current == "quick" else "."))
    if current == "grading":
        return "grading mode: nbgrader is executing this notebook, so the walkthrough runs on tiny data."
    if is_quick():
        return ("quick mode (TL_COURSE_QUICK=1 or TL_COURSE_MODE=quick): tiny data, a first look; "
                "its numbers are not the lesson's results.")
    if _chosen_mode():
        return f"{current} mode, because {MODE_VARIABLE}={current} was asked for."
    if current == "full":
        return "full mode: a GPU was found, so the lesson runs its whole recipe."
    return ("cpu mode: no GPU was found, so a lesson that would take too long on a CPU runs smaller settings, "
            "measured to fit a laptop (its settings cell says which; most lessons run in full). "
            f"{MODE_VARIABLE}=full runs the whole recipe here.")


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

    choice = prefer or os.environ.get("TL_COURSE_DEVICE")
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
    from .audience import for_readers
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
    shown = {key: value for key, value in report.items() if key not in _MACHINE_STATE} if for_readers() else report
    width = max(len(key) for key in shown)
    for key, value in shown.items():
        print(f"{key:<{width}}  {value}")
    return report


# Where this machine keeps things and what it has: the website shows the versions and device only.
_MACHINE_STATE = ("platform", "cache", "mirror", "torch_hub", "keras_home", "cached")

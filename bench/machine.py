"""Which machine the benchmark ran on: a description for tables and a name for its results file.

The description must not contain the words "gpu" or "cuda" on a CPU-only machine: the course
book (``coursebook/costs.py``) files a machine under the GPU column when they appear.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess


def cpu_model() -> str:
    """The CPU's marketing name (``/proc/cpuinfo``, ``sysctl`` on macOS), else the architecture."""
    try:
        with open("/proc/cpuinfo") as file:
            for line in file:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    if platform.system() == "Darwin":
        try:
            return subprocess.run(
                ["sysctl", "-n", "machdep.cpu.brand_string"], capture_output=True, text=True, check=True
            ).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            pass
    return platform.processor() or platform.machine()


def cpu_cores() -> int:
    """Cores this process may use (its affinity), which is what PyTorch and TensorFlow use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def memory_gib() -> float | None:
    try:
        import psutil

        return round(psutil.virtual_memory().total / 2**30, 1)
    except ImportError:
        return None


def gpu_name() -> str | None:
    """The first NVIDIA GPU's name from ``nvidia-smi`` (no framework import), or None."""
    if not shutil.which("nvidia-smi"):
        return None
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"], capture_output=True, text=True, timeout=30, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    names = [line.strip() for line in out.splitlines() if line.strip()]
    return names[0] if names else None


def describe_machine() -> dict:
    """The ``machine`` record of a results file."""
    cpu, cores, memory, gpu = cpu_model(), cpu_cores(), memory_gib(), gpu_name()
    parts = [cpu, f"{cores} cores"]
    if memory:
        parts.append(f"{memory:.0f} GiB RAM")
    parts.append(gpu if gpu else "CPU only")
    return {
        "description": ", ".join(parts),
        "cpu": cpu,
        "cores": cores,
        "memory_gib": memory,
        "gpu": gpu,  # None on a CPU-only machine (coursebook/costs.py reads a truthy value as a GPU)
        "platform": platform.platform(terse=True),
        "python": platform.python_version(),
    }


def machine_slug(machine: dict) -> str:
    """A file name for the machine's results: ``amd-epyc-2c`` or ``...-nvidia-h100-...``."""
    text = f"{machine['cpu']} {machine['cores']}c"
    if machine.get("gpu"):
        text += f" {machine['gpu']}"
    text = re.sub(r"\((r|tm)\)|cpu @.*?(?= \d+c)|processor", " ", text.lower())
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:80] or "machine"

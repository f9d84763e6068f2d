"""The one notebook runner: execute a notebook in a fresh kernel and say what it cost.

``run_notebook(path, mode, cache, allow_errors)`` returns the executed notebook, its wall time,
the kernel's peak memory and the first error as one plain line. ``make course``, the benchmark,
the website build and the tests all run notebooks through it, so they set the run mode and
silence the frameworks' start-up noise in one place (``kernel_env``).

Kernels talk to this process over local IPC sockets, not TCP: over TCP ipykernel warns
"Kernel is running over TCP without encryption" for every notebook. (Windows has no IPC
sockets; there the kernel keeps TCP.)
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["MODES", "QUIET_ENV", "NotebookRun", "kernel_env", "quiet_frameworks", "first_error_line", "run_notebook"]

# quick: the small run (TL_COURSE_QUICK=1); default: what a learner gets opening the notebook (no
# variable set: full with a GPU, cpu without); cpu: the CPU budget and full: the whole recipe,
# forced (TL_COURSE_MODE) whatever the machine has and even where TL_COURSE_QUICK=1 is exported.
MODES = ("quick", "default", "cpu", "full")
# TensorFlow's C++ start-up lines (oneDNN notice, CUDA probing) in every kernel and in this process.
# oneDNN itself stays on (TensorFlow's default): switching it off to silence its notice made VGG16's
# forward pass about 1.5x slower on the 2-core benchmark machine (0.15 vs 0.22 s per 160-px photo,
# one side-by-side measurement while another job shared the CPU). The Keras lessons silence the
# notice with helpers.runtime.quiet_native_startup instead.
QUIET_ENV = {"TF_CPP_MIN_LOG_LEVEL": "2"}
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@dataclass
class NotebookRun:
    """One execution: the executed notebook, wall seconds, the kernel's peak memory (MiB, None
    where the OS does not say) and the first error as one plain line ("" when it ran through).
    ``stopped``: execution ended before the last cell (an error without ``allow_errors``, a cell
    timeout, a dead kernel)."""

    notebook: Any
    seconds: float
    peak_rss_mb: float | None
    error: str = ""
    stopped: bool = False

    @property
    def ok(self) -> bool:
        return not self.error


def quiet_frameworks() -> None:
    """Silence framework start-up noise in this process and every kernel it starts."""
    for key, value in QUIET_ENV.items():
        os.environ.setdefault(key, value)


def kernel_env(mode: str = "quick", cache: Path | None = None, extra: dict[str, str | None] | None = None) -> dict[str, str]:
    """The kernel's environment: this process's, with the run mode, quiet frameworks, the cache.

    ``extra`` adds variables; a value of None removes one.
    """
    if mode not in MODES:
        raise ValueError(f"Unknown run mode {mode!r}: choose one of {', '.join(MODES)}.")
    env = {**QUIET_ENV, **os.environ}
    env.pop("TL_COURSE_QUICK", None)
    env.pop("TL_COURSE_MODE", None)
    if mode != "default":
        env["TL_COURSE_MODE"] = mode
    if cache is not None:
        env["TL_COURSE_CACHE"] = str(cache)
        env.setdefault("TL_COURSE_EXPORTS", str(Path(cache) / "exports"))  # lesson 06's exports stay out of the repo
    # headless runs have no learner to hand over photos: lesson 06 uses its fallback set unless told otherwise
    env.setdefault("TL_COURSE_MY_IMAGES", "fallback")
    for key, value in (extra or {}).items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def first_error_line(err: BaseException | str) -> str:
    """The last non-empty line of an error (the exception itself), without terminal colours."""
    text = _ANSI.sub("", str(err))
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    name = type(err).__name__ if isinstance(err, BaseException) else "error"
    return (lines[-1] if lines else name)[:300]


def _error_output_line(output) -> str:
    """ "ValueError: what went wrong" from a cell's error output (first line of the message)."""
    message = next((line for line in _ANSI.sub("", str(output.get("evalue", ""))).splitlines() if line.strip()), "")
    return f"{output.get('ename', 'Error')}: {message}".strip().rstrip(":")[:300]


def _peak_mb(pid: int | None) -> float | None:
    """A process's peak resident memory (Linux: VmHWM), else its current one (psutil)."""
    if pid is None:
        return None
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    try:
        import psutil

        return psutil.Process(pid).memory_info().rss / 2**20
    except Exception:  # the kernel is gone, or psutil cannot see it
        return None


def run_notebook(
    path: Path,
    mode: str = "quick",
    cache: Path | None = None,
    allow_errors: bool = False,
    *,
    timeout: int = 1800,
    cwd: Path | None = None,
    env: dict[str, str | None] | None = None,
    output: Path | None = None,
) -> NotebookRun:
    """Execute ``path`` top to bottom in a fresh ``python3`` kernel, in ``cwd`` (default: its folder).

    With ``allow_errors`` every cell runs and errors stay in the outputs (the first one is still
    reported); without, execution stops at the first error. Never raises for a failing cell.
    ``output`` receives the executed notebook.
    """
    import nbformat
    from nbclient import NotebookClient
    from traitlets.config import Config

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    config = Config()
    ipc_dir = None
    if sys.platform != "win32":
        ipc_dir = tempfile.mkdtemp(prefix="tl-kernel-")
        config.KernelManager.transport = "ipc"
        config.KernelManager.ip = os.path.join(ipc_dir, "k")
    peak: list[float] = []
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        allow_errors=allow_errors,
        config=config,
        resources={"metadata": {"path": str(cwd or path.parent)}},
    )

    def sample(**_) -> None:  # after every cell, while the kernel lives
        value = _peak_mb(getattr(getattr(client.km, "provisioner", None), "pid", None))
        if value is not None:
            peak.append(value)

    client.on_cell_executed = sample
    failure = ""
    start = time.perf_counter()
    try:
        client.execute(env=kernel_env(mode, cache, env))
    except Exception as err:  # a failing notebook is reported, never raised: callers go on
        failure = first_error_line(err)  # a timeout or a dead kernel leaves no error output
    finally:
        seconds = time.perf_counter() - start
        if ipc_dir:
            shutil.rmtree(ipc_dir, ignore_errors=True)
    error = next(
        (_error_output_line(o) for cell in nb.cells for o in cell.get("outputs", []) if o.get("output_type") == "error"), failure
    )
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, output)
    return NotebookRun(nb, seconds, round(max(peak), 1) if peak else None, error, stopped=bool(failure))

"""Run the whole course headless: execute every lesson, time it, and summarise the results.

Used by ``make course [MODE=quick|default|cpu|full]`` (learners check their setup in one command).
Without a mode, a machine with a GPU runs the lessons as a learner opens them (``default``,
which is ``full`` there) and a machine without one runs ``quick`` mode, and the run says which
and why. On a CPU, ``MODE=default`` is the lessons' ``cpu`` budget (``helpers.runtime``).
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .paths import REPO_ROOT, lesson_names, lesson_path
from .runner import MODES, run_notebook

__all__ = ["LessonRun", "has_gpu", "choose_mode", "run_course", "summary_table", "NEXT_STEP"]

NEXT_STEP = "Next: `make lab` opens the lessons in JupyterLab (they start in lessons/)."


@dataclass
class LessonRun:
    lesson: str
    seconds: float
    ok: bool
    error: str = ""
    device: str = ""
    key_metric: str = ""


def has_gpu() -> bool:
    """Whether a CUDA GPU is usable: torch says so, else ``nvidia-smi`` lists one."""
    try:
        import torch

        return bool(torch.cuda.is_available())
    except ImportError:
        pass
    smi = shutil.which("nvidia-smi")
    if not smi:
        return False
    try:
        return "GPU" in subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return False


def choose_mode(requested: str | None, gpu: bool | None = None) -> tuple[str, str]:
    """(mode, why): the requested one, else ``default`` on a GPU and ``quick`` without one."""
    if requested:
        if requested not in MODES:
            raise ValueError(f"MODE={requested!r} is not a run mode: use MODE=quick, MODE=default, MODE=cpu or MODE=full.")
        return requested, f"MODE={requested} was asked for"
    if gpu if gpu is not None else has_gpu():
        return "default", "a GPU was found (MODE=quick for a short check)"
    return "quick", (
        "no GPU was found, so every lesson runs its small version (MODE=default runs them as a "
        "learner does, on the lessons' CPU budget: see the README's cost table)"
    )


def run_course(
    mode: str, source: str = "solutions", out_dir: Path | None = None, names: list[str] | None = None, echo=print
) -> list[LessonRun]:
    """Execute lessons in one mode, collecting wall time and each lesson's saved key metric."""
    from helpers.results import load_result

    out_dir = out_dir or REPO_ROOT / "_build" / "course"
    runs = []
    for name in names or lesson_names(source=source):
        echo(f"[course] running {name} ({mode} mode) ...", flush=True)
        done = run_notebook(lesson_path(name, source), mode, output=out_dir / f"{name}.ipynb")
        run = LessonRun(name, done.seconds, done.ok, done.error)
        result = load_result(name)
        if result and run.ok:
            metrics = result.get("metrics", {})
            run.device = str(metrics.get("device", ""))
            key = result.get("key_metric")
            if key and key in metrics:
                value = metrics[key]
                shown = f"{value:.3f}" if isinstance(value, float) else str(value)
                weights = metrics.get("weights_source")
                run.key_metric = f"{key} = {shown}" + (" (RANDOM weights)" if weights == "random" else "")
        runs.append(run)
    return runs


def summary_table(runs: list[LessonRun], mode: str, why: str = "") -> str:
    """A Markdown table: lesson, seconds, device, key metric (or the error, as plain text)."""
    lines = [
        f"Mode: {mode}" + (f" ({why})" if why else ""),
        "",
        "| lesson | seconds | device | key metric |",
        "| --- | ---: | --- | --- |",
    ]
    for run in runs:
        metric = run.key_metric if run.ok else f"FAILED: {run.error}"
        lines.append(f"| {run.lesson} | {run.seconds:.0f} | {run.device or '-'} | {(metric or '-').replace('|', '/')} |")
    return "\n".join(lines)

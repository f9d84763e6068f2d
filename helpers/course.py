"""Run the whole course headless: execute every lesson, time it, and summarise the results.

Used by ``make course`` (learners check their setup in one command) and by the benchmark.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def lesson_names(root: Path = REPO_ROOT, source: str = "solutions") -> list[str]:
    """Lesson folders (``source/NAME/NAME.ipynb``) in course order (their names sort)."""
    folder = root / source
    return sorted(p.name for p in folder.iterdir() if (p / f"{p.name}.ipynb").is_file())


@dataclass
class LessonRun:
    lesson: str
    seconds: float
    ok: bool
    error: str = ""
    device: str = ""
    key_metric: str = ""


def execute_lesson(path: Path, output: Path | None = None, timeout: int = 1800) -> None:
    """Execute a notebook top to bottom in its own folder; raises on the first error."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}})
    try:
        client.execute()
    finally:
        if output is not None:
            output.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, output)


def run_course(source: str = "solutions", out_dir: Path | None = None, names: list[str] | None = None) -> list[LessonRun]:
    """Execute lessons, collecting wall time and each lesson's saved key metric."""
    from .results import load_result

    out_dir = out_dir or REPO_ROOT / "_build" / "course"
    runs = []
    for name in names or lesson_names(source=source):
        path = REPO_ROOT / source / name / f"{name}.ipynb"
        print(f"[course] running {name} ...", flush=True)
        start = time.perf_counter()
        run = LessonRun(name, 0.0, True)
        try:
            execute_lesson(path, out_dir / f"{name}.ipynb")
        except Exception as err:  # report and go on: one broken lesson must not hide the rest
            run.ok = False
            run.error = _first_line(err)
        run.seconds = time.perf_counter() - start
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


def _first_line(err: Exception) -> str:
    text = str(err).strip().splitlines()
    lines = [line for line in text if line.strip()]
    return (lines[-1] if lines else type(err).__name__)[:160]


def summary_table(runs: list[LessonRun]) -> str:
    """A markdown table: lesson, seconds, device, key metric (or the error)."""
    from .runtime import mode

    lines = [
        f"Mode: {mode()}",
        "",
        "| lesson | seconds | device | key metric |",
        "| --- | ---: | --- | --- |",
    ]
    for run in runs:
        metric = run.key_metric if run.ok else f"FAILED: {run.error}"
        lines.append(f"| {run.lesson} | {run.seconds:.0f} | {run.device or '-'} | {metric or '-'} |")
    return "\n".join(lines)


def quiet_frameworks() -> None:
    """Silence TensorFlow's start-up noise for kernels started from here."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

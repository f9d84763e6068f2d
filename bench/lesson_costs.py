"""What each lesson costs: wall time of executing it top to bottom, and the kernel's peak memory.

A run is what a learner's first run is: a fresh kernel, a fresh course cache (features are
extracted, not reused), data and weights from the offline mirror or the local caches (no
downloads are timed). The peak memory is the *kernel's* (measured by ``coursetools.runner``),
not this process's. Each round runs every selected lesson once in course
order with one fresh cache, as ``make course`` does, so a lesson that reads an earlier
lesson's saved results finds them.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from pathlib import Path

from coursetools.paths import REPO_ROOT

from .measure import load_1m, summarize


def run_lesson_once(
    name: str,
    run_mode: str,
    workdir: Path,
    source: str = "solutions",
    timeout: int = 3600,
    executed_dir: Path | None = None,
    path: Path | None = None,
) -> dict:
    """Execute one lesson once; returns seconds, kernel peak RSS, load and what it saved.

    ``path`` overrides ``source/name/name.ipynb`` (the smoke test times a tiny notebook)."""
    import nbformat

    from coursetools.paths import lesson_path
    from coursetools.runner import run_notebook

    # what this run executes, hashed before it starts (a tiny notebook given by ``path`` has none)
    record = {"ok": True, "load_1m": [load_1m(), None], "code_sha256": None if path else code_digest(name, source=source)}
    path = path or lesson_path(name, source, REPO_ROOT)
    # the mode is forced (quick, cpu or full), whatever this machine would choose by itself
    done = run_notebook(
        path,
        run_mode,
        workdir / "cache",
        timeout=timeout,
        env={"TORCH_HOME": str(workdir / "torch"), "KERAS_HOME": str(workdir / "keras"), "MPLBACKEND": "Agg"},
    )
    record["load_1m"][1] = load_1m()
    record.update(seconds=round(done.seconds, 2), peak_rss_mb=done.peak_rss_mb)
    if not done.ok:  # a failing lesson is recorded, never timed as a success
        record.update(ok=False, error=done.error)
    saved = workdir / "cache" / "results" / f"{name}.json"
    if saved.is_file():
        metrics = json.loads(saved.read_text()).get("metrics", {})
        record["weights_source"] = metrics.get("weights_source")
        record["device"] = metrics.get("device")
    if executed_dir is not None:
        executed_dir.mkdir(parents=True, exist_ok=True)
        nbformat.write(done.notebook, executed_dir / f"{name}.{run_mode}.ipynb")
    return record


def measure_lessons(
    lessons: list[str],
    modes: list[str],
    runs: int,
    tmp_root: Path | None = None,
    echo=print,
    on_record=None,
    paths: dict[str, Path] | None = None,
) -> dict:
    """``{lesson: {mode: stats}}`` over ``runs`` rounds; failed runs are kept but not timed.

    ``on_record(lesson, mode, records)`` is called after every run so partial results can be
    saved (a long benchmark that is stopped keeps what it measured).
    """
    records: dict[str, dict[str, list[dict]]] = {name: {m: [] for m in modes} for name in lessons}
    for round_index in range(runs):
        for run_mode in modes:
            workdir = Path(tempfile.mkdtemp(prefix=f"tl-bench-{run_mode}-", dir=tmp_root))
            try:
                for name in lessons:
                    echo(f"[bench] lesson {name}, {run_mode} mode, run {round_index + 1}/{runs} ...")
                    record = run_lesson_once(name, run_mode, workdir, path=(paths or {}).get(name))
                    records[name][run_mode].append(record)
                    status = (
                        f"{record['seconds']:.1f} s, peak {record['peak_rss_mb']} MB"
                        if record["ok"]
                        else f"FAILED: {record['error']}"
                    )
                    echo(f"[bench]   {status} (load {record['load_1m']})")
                    if on_record:
                        on_record(lesson_stats(records))
            finally:
                shutil.rmtree(workdir, ignore_errors=True)
    return lesson_stats(records)


def code_files(name: str, root: Path = REPO_ROOT, source: str = "solutions") -> list[str]:
    """What a lesson run executes, relative to ``root``: its notebook, the ``helpers`` package and
    the runner that sets the kernel's environment. Runs pool only when all of it is the same."""
    helpers = sorted(str(p.relative_to(root)) for p in (root / "helpers").rglob("*.py"))
    return [f"{source}/{name}/{name}.ipynb", *helpers, "coursetools/runner.py"]


def code_digest(name: str, read=None, root: Path = REPO_ROOT, source: str = "solutions") -> str:
    """SHA-256 of ``code_files`` (each path and content); ``read(path) -> bytes`` defaults to the checkout."""
    read = read or (lambda path: (root / path).read_bytes())
    digest = hashlib.sha256()
    for path in code_files(name, root, source):
        digest.update(path.encode() + b"\0" + read(path) + b"\0")
    return digest.hexdigest()


def pooled_stamps(entry: dict) -> list[str]:
    """When the runs of an entry were measured (one stamp per ``make bench`` call pooled into it)."""
    return entry.get("pooled") or [entry.get("measured_at", "?")]


def merge_entry(old: dict | None, new: dict) -> dict:
    """What a results merge keeps for one lesson and mode: the runs of both when the code is the same
    and ``new`` is not already in ``old`` (merging a file twice counts its runs once), else ``new``."""
    if not isinstance(old, dict) or not old.get("code_sha256") or old.get("code_sha256") != new.get("code_sha256"):
        return new
    if new.get("measured_at") in pooled_stamps(old):
        return old
    return pool_entries(old, new)


def pool_entries(old: dict, new: dict) -> dict:
    """One entry from two measurements of the same code (same ``code_sha256``): every run of both."""
    if not old.get("code_sha256") or old.get("code_sha256") != new.get("code_sha256"):
        raise ValueError("only runs of the same code (code_sha256) can be pooled")
    entry = {**new}
    for key in ("seconds", "peak_rss_mb_each", "load_1m"):
        entry[key] = list(old.get(key, [])) + list(new.get(key, []))
    for key in ("weights_source", "device"):
        entry[key] = sorted(set(old.get(key, [])) | set(new.get(key, [])))
    entry["runs"] = len(entry["seconds"])
    entry.update(_timing(entry["seconds"], entry["peak_rss_mb_each"]))
    entry["measured_at"] = max(old.get("measured_at", ""), new.get("measured_at", ""))
    entry["pooled"] = sorted({*pooled_stamps(old), new.get("measured_at", "?")})
    notes = [n for n in (old.get("note"), new.get("note")) if n]
    if notes:
        entry["note"] = "; ".join(dict.fromkeys(notes))
    return entry


def _timing(seconds: list[float], peak_rss_mb_each: list) -> dict:
    """The fields ``helpers.costs`` reads: median/min/max seconds and the highest peak memory."""
    stats = summarize(seconds, 1)
    rss = [v for v in peak_rss_mb_each if v is not None]
    return {"median_s": stats["median"], "min_s": stats["min"], "max_s": stats["max"], "peak_rss_mb": max(rss) if rss else None}


def _one(values: set):
    """The value all runs share, else None (runs of different code are never pooled later)."""
    return next(iter(values)) if len(values) == 1 else None


def lesson_stats(records: dict) -> dict:
    """Results-file entries: the ``median_s``/``min_s``/``max_s``/``runs``/``peak_rss_mb`` that
    ``helpers.costs`` reads, plus every run's seconds, memory and load."""
    out: dict = {}
    for name, by_mode in records.items():
        for run_mode, runs in by_mode.items():
            if not runs:
                continue
            good = [r for r in runs if r["ok"]]
            entry: dict = {
                "runs": len(good),
                "seconds": [r["seconds"] for r in good],
                "peak_rss_mb_each": [r["peak_rss_mb"] for r in good],
                "load_1m": [r["load_1m"] for r in runs],
                "weights_source": sorted({str(r.get("weights_source")) for r in good}),
                "device": sorted({str(r.get("device")) for r in good}),
                "code_sha256": _one({r.get("code_sha256") for r in good}),
            }
            if good:
                entry.update(_timing(entry["seconds"], entry["peak_rss_mb_each"]))
            failures = [r["error"] for r in runs if not r["ok"]]
            if failures:
                entry["failures"] = failures
            out.setdefault(name, {})[run_mode] = entry
    return out

"""What installing the course costs: a fresh ``make setup`` (the first step of ``make course``)
in a temporary clone of this repository, timed end to end.

The clone has the *committed* files (not uncommitted edits) and its own fresh ``.venv``; pip's
download cache is whatever this machine has (a warm cache skips downloads, so the figure is
the install time, not the download time: the result says how big the cache was). Each run
needs several GB of disk (the CUDA build of torch) and a few minutes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from coursetools.paths import REPO_ROOT

from .measure import load_1m, summarize


def _pip_cache() -> dict:
    folder = Path(os.environ.get("PIP_CACHE_DIR") or Path.home() / ".cache" / "pip")
    if not folder.is_dir():
        return {"path": str(folder), "mb": 0, "state": "cold (no pip cache)"}
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    return {"path": str(folder), "mb": round(size / 2**20), "state": "warm" if size > 100 * 2**20 else "cold"}


def _clean_env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONHOME", "PYTHONPATH")}
    venv_bin = str(Path(os.environ.get("VIRTUAL_ENV", "/nonexistent")) / "bin")
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p != venv_bin)
    return env


def run_install_cost(runs: int = 1, smoke: bool = False, tmp_root: Path | None = None) -> dict:
    if not shutil.which("git") or not shutil.which("make"):
        raise RuntimeError("The install section needs git and make on PATH.")
    if not (REPO_ROOT / ".git").exists():
        raise RuntimeError(f"{REPO_ROOT} is not a git checkout: the install section clones it (skip it with --sections ...).")
    commit = subprocess.run(["git", "-C", str(REPO_ROOT), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    target = ["make", "-n", "setup"] if smoke else ["make", "setup"]  # smoke: a dry run checks the target, installs nothing
    cache = _pip_cache()
    sources = subprocess.run(["python3", "-m", "pip", "config", "list"], capture_output=True, text=True).stdout
    # where pip takes packages from (an index, local wheel folders): it decides what "fresh" costs
    pip_sources = "; ".join(line for line in sources.splitlines() if "index-url" in line or "find-links" in line)
    per_run = []
    for index in range(runs):
        workdir = Path(tempfile.mkdtemp(prefix="tl-bench-install-", dir=tmp_root))
        clone = workdir / "course"
        try:
            subprocess.run(["git", "clone", "-q", str(REPO_ROOT), str(clone)], check=True)
            print(f"[bench] `{' '.join(target)}` in a fresh clone, run {index + 1}/{runs} ...", flush=True)
            start_load, start = load_1m(), time.perf_counter()
            done = subprocess.run(target, cwd=clone, env=_clean_env(), capture_output=True, text=True)
            seconds = time.perf_counter() - start
            record = {"seconds": round(seconds, 1), "ok": done.returncode == 0, "load_1m": [start_load, load_1m()]}
            if done.returncode:
                record["error"] = (done.stderr or done.stdout)[-600:]
            elif not smoke:
                record["venv_mb"] = round(sum(p.stat().st_size for p in (clone / ".venv").rglob("*") if p.is_file()) / 2**20)
            print(f"[bench]   {record}", flush=True)
            per_run.append(record)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    ok = [r["seconds"] for r in per_run if r["ok"]]
    return {
        "command": " ".join(target) + " (fresh clone, fresh .venv)",
        "commit": commit,
        "pip_cache": cache,
        "pip_sources": pip_sources or "pip defaults (PyPI)",
        "seconds": summarize(ok, 1),
        "per_run": per_run,
    }

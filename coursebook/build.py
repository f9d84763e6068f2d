"""Stage the site sources, execute the lessons, then build the HTML with Jupyter Book 1.x.

Jupyter Book reads a staging copy (``_build/site_src``), never the repository itself: the
lesson notebooks there are the executed, cleaned student versions, and the intro page gets
its generated cost table. Executed notebooks are cached between local builds, keyed by the
content of the notebook, of ``helpers/`` and of the environment that shapes the outputs;
CI (``CI`` set) never uses the cache, so what it checks is always a fresh execution.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from coursetools.paths import REPO_ROOT

from . import assets, costs, notebooks, reader

# Everything the site is made of, relative to the repository root (the lessons are added).
SITE_FILES = ("_config.yml", "_toc.yml")
SITE_FOLDERS = ("docs",)
COST_MARKER = "<!-- lesson-costs -->"
PLACEHOLDER_HUB = "https://jupyterhub.example.org"  # _config.yml's default: no real hub behind it


class BookBuildError(RuntimeError):
    """The site cannot be built; the message says why and what to do."""


def lesson_notebooks(root: Path = REPO_ROOT) -> list[Path]:
    """The student notebooks, ``lessons/NAME/NAME.ipynb``, in course order."""
    folder = root / "lessons"
    if not folder.is_dir():
        raise BookBuildError(f"{folder} does not exist: run `make lessons` to generate the student versions.")
    found = sorted(p / f"{p.name}.ipynb" for p in folder.iterdir() if (p / f"{p.name}.ipynb").is_file())
    if not found:
        raise BookBuildError(f"No lessons in {folder}: run `make lessons`.")
    return found


def stage_sources(root: Path, staging: Path) -> None:
    """A fresh copy of the site's own files (config, toc, docs pages) in ``staging``."""
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir(parents=True)
    for name in SITE_FILES:
        shutil.copy2(root / name, staging / name)
    for name in SITE_FOLDERS:
        if (root / name).is_dir():
            shutil.copytree(root / name, staging / name, ignore=shutil.ignore_patterns(".*", "__pycache__"))


def set_jupyterhub_url(config: Path, url: str | None, log=print) -> None:
    """Point the staged config's JupyterHub launch button at ``url`` (``make book JUPYTERHUB_URL=...``).

    Without one the committed placeholder stays, and the build says so: that button leads nowhere."""
    text = config.read_text()
    if url:
        if not url.startswith(("https://", "http://")):
            raise BookBuildError(f"JupyterHub address {url!r} is not a URL: give e.g. https://hub.example.edu")
        if PLACEHOLDER_HUB not in text:
            raise BookBuildError(f"{config} has no jupyterhub_url: {PLACEHOLDER_HUB} line to replace.")
        config.write_text(text.replace(PLACEHOLDER_HUB, url.rstrip("/")))
    elif PLACEHOLDER_HUB in text:
        log(
            f"[book] note: the JupyterHub launch button points at the placeholder {PLACEHOLDER_HUB}; "
            "build with `make book JUPYTERHUB_URL=https://your.hub` before publishing the site"
        )


def insert_cost_table(page: Path, lessons: list[str], results_dir: Path) -> None:
    """Replace the marker line of the intro page with the measured-cost table."""
    text = page.read_text()
    if COST_MARKER not in text:
        raise BookBuildError(f"{page} has no {COST_MARKER} line where the lesson table goes.")
    page.write_text(text.replace(COST_MARKER, costs.lesson_table(lessons, results_dir)))


def shaping_sources(root: Path = REPO_ROOT) -> list[Path]:
    """The code that shapes a lesson's outputs: the helpers lessons import (and the measured costs
    their cost cells print) and this package's cleaning."""
    return (
        sorted((root / "helpers").glob("*.py"))
        + sorted((root / "helpers").glob("*.json"))
        + sorted(Path(__file__).parent.glob("*.py"))
    )


def execute_lessons(root: Path, staging: Path, cache: Path | None, log=print, executed: Path | None = None) -> None:
    """Executed, cleaned copies of every lesson in ``staging`` (from the cache when it matches).

    ``executed``: a folder of runs made earlier (``notebooks.save_run``, in ``lessons/NAME/`` as here),
    published instead of executing again; the tests build the site from the runs they checked."""
    helpers_sources = shaping_sources(root)
    for source in lesson_notebooks(root):
        relative = source.relative_to(root)
        target = staging / relative
        key = notebooks.cache_key(source, helpers_sources)
        if executed is not None:  # laid out as staging is, so a reader sees the same neutral paths
            folder = executed / relative.parent
            nb, record = notebooks.load_run(source, folder, key)
            notebooks.publish(nb, record["stopped"], record["error"], source, target, executed)
            log(f"[book] {relative}: the run in {folder} ({record['seconds']:.0f} s)")
            continue
        cached = cache / f"{source.stem}-{key}.ipynb" if cache else None
        if cached is not None and cached.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(cached, target)
            log(f"[book] {relative}: executed copy from the cache ({cached.name})")
            continue
        start = time.perf_counter()
        notebooks.execute_for_site(source, target, staging=staging)
        log(f"[book] {relative}: executed in {time.perf_counter() - start:.0f} s")
        if cached is not None:
            cache.mkdir(parents=True, exist_ok=True)
            for stale in cache.glob(f"{source.stem}-*.ipynb"):
                stale.unlink()
            shutil.copy2(target, cached)


def jupyter_book(staging: Path, output: Path) -> None:
    """``jupyter-book build`` of the staged sources into ``output/_build/html``; warnings fail it."""
    executable = Path(sys.executable).with_name("jupyter-book")
    command = [
        str(executable if executable.exists() else "jupyter-book"),
        "build",
        str(staging),
        "--path-output",
        str(output),
        "-W",
        "-n",
        "--keep-going",
    ]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-40:])
        raise BookBuildError(f"jupyter-book build failed (warnings count as errors):\n{tail}")


def build(
    output: Path | None = None,
    use_cache: bool | None = None,
    root: Path = REPO_ROOT,
    log=print,
    jupyterhub_url: str | None = None,
    executed: Path | None = None,
) -> Path:
    """Build the whole site; returns the folder of the HTML (``output/_build/html``).
    ``executed``: publish the runs kept there instead of executing the lessons (``execute_lessons``)."""
    output = (output or root).resolve()
    staging = output / "_build" / "site_src"
    if use_cache is None:
        use_cache = not os.environ.get("CI")
    cache = output / "_build" / "site_cache" if use_cache else None
    start = time.perf_counter()
    stage_sources(root, staging)
    set_jupyterhub_url(staging / "_config.yml", jupyterhub_url, log)
    insert_cost_table(staging / "docs" / "intro.md", [p.stem for p in lesson_notebooks(root)], root / "bench" / "results")
    execute_lessons(root, staging, cache, log, executed)
    executed = time.perf_counter()
    html = output / "_build" / "html"
    if html.exists():
        shutil.rmtree(html)  # a page removed from the toc must not linger
    jupyter_book(staging, output)
    assets.drop_unused_assets(html)
    summarise(staging, html, log)
    log(
        f"[book] executing {executed - start:.0f} s, jupyter-book {time.perf_counter() - executed:.0f} s; "
        f"open {html / 'index.html'}"
    )
    return html


def summarise(staging: Path, html: Path, log=print) -> None:
    """Say what a reader will see that the build machine decided: random weights, missing alt
    text, and what each lesson page weighs."""
    import nbformat

    random, no_alt = [], []
    for notebook in sorted((staging / "lessons").glob("*/*.ipynb")):
        notes = reader.build_notes(nbformat.read(notebook, as_version=4))
        if notes.get("random_weights"):
            random.append(f"{notebook.stem} ({', '.join(notes['random_weights'])})")
        if notes.get("figures_without_alt"):
            no_alt.append(f"{notebook.stem} ({len(notes['figures_without_alt'])})")
    if random:
        log(
            f"[book] RANDOM WEIGHTS: no ImageNet weights here for {'; '.join(random)}: those pages open "
            "with a notice and their numbers mean nothing. Fetch the weights (`python -m helpers fetch`) "
            "before publishing the site."
        )
    else:
        log("[book] every lesson ran with its ImageNet weights")
    if no_alt:
        log(f"[book] figures without alt text (cell metadata mystnb.image.alt): {'; '.join(no_alt)}")
    weights = assets.lesson_page_weights(html)
    log("[book] page weight with images: " + ", ".join(f"{name} {size / 1e6:.2f} MB" for name, size in weights.items()))
    heavy = [name for name, size in weights.items() if size > assets.PAGE_BUDGET_BYTES]
    if heavy:
        log(f"[book] over the {assets.PAGE_BUDGET_BYTES / 1e6:.0f} MB page budget: {', '.join(heavy)}")

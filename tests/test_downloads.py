"""A learner sees what a lesson downloads before anything runs, and the fix when offline."""

from __future__ import annotations

import ast
import re
import shutil

import pytest
from conftest import REPO_ROOT, lesson_names

from helpers.data import DATASETS
from helpers.downloads import plan_downloads, show_downloads
from helpers.errors import CourseError, DatasetUnavailableError
from helpers.models import BACKBONES
from nbgrader_course import read_notebook


def test_mirror_items_are_ready(mirror, isolated_cache, monkeypatch, capsys):
    monkeypatch.setenv("TL_COURSE_MIRROR", str(mirror))
    needs = {need.name: need for need in plan_downloads(["hymenoptera_data"], ["mobilenet_v2", "resnet18"])}
    assert needs["hymenoptera_data"].source == "offline mirror"
    assert needs["mobilenet_v2"].source == "offline mirror"
    assert needs["resnet18"].source == "download"  # not in the mirror: no ImageNet ResNet18 offline
    assert needs["resnet18"].size_mb == BACKBONES["resnet18"].weights_mb


def test_cached_dataset_is_ready(mirror, isolated_cache):
    target = isolated_cache / "cache" / "datasets" / "hymenoptera_data"
    shutil.copytree(mirror / "datasets" / "hymenoptera_data", target)
    (need,) = plan_downloads(["hymenoptera_data"])
    assert need.source == "course cache" and need.download_seconds == 0


def test_offline_prints_sizes_times_and_the_fix(isolated_cache, monkeypatch, capsys):
    monkeypatch.setenv("TL_COURSE_OFFLINE", "1")  # as if the network were down
    result = show_downloads(datasets=["cats_and_dogs_filtered"], backbones=["vgg16"])
    out = capsys.readouterr().out
    assert result is None  # a notebook cell ending with it shows only the text
    total = DATASETS["cats_and_dogs_filtered"].download_mb + BACKBONES["vgg16"].weights_mb
    assert f"{DATASETS['cats_and_dogs_filtered'].download_mb:.0f} MB" in out
    assert f"{total:.0f} MB in all" in out
    assert re.search(r"about \d+ s at", out)
    assert "NO NETWORK" in out and "python -m helpers fetch" in out and "TL_COURSE_MIRROR" in out


def test_nothing_to_download(capsys):
    show_downloads()
    assert "downloads nothing" in capsys.readouterr().out


def test_course_errors_render_without_a_stack_trace():
    err = DatasetUnavailableError("no data here. Run `python -m helpers fetch`.")
    (line,) = err._render_traceback_()
    assert "DatasetUnavailableError" in line and "python -m helpers fetch" in line
    assert issubclass(DatasetUnavailableError, CourseError)


def _calls(source: str, function: str) -> list[ast.Call]:
    tree = ast.parse("\n".join(line for line in source.splitlines() if not line.lstrip().startswith("%")))
    return [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == function
    ]


@pytest.mark.parametrize("lesson", lesson_names())
def test_first_cells_install_helpers_then_say_what_downloads(lesson):
    notebook = read_notebook(REPO_ROOT / "lessons" / lesson / f"{lesson}.ipynb")
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    install, cost = code[0], code[1]
    assert 'find_spec("helpers") is None' in install.source and "%pip install" in install.source
    assert install.metadata.nbgrader["locked"] and cost.metadata.nbgrader["locked"]
    assert _calls(cost.source, "show_lesson_cost")
    if lesson == "05_quiz":
        return
    (announce,) = _calls(cost.source, "show_downloads")
    announced = {kw.arg: {elt.value for elt in kw.value.elts} for kw in announce.keywords}
    # what the lesson really loads must be what its first cells announce
    source = "\n".join(cell.source for cell in code[2:])
    used_datasets = set(re.findall(r'(?:load_splits|fetch_dataset)\("([^"]+)"', source))
    if "choose_image_folder(" in source:  # the capstone's fallback set is built from course datasets
        from helpers.my_images import FALLBACK_CLASSES

        used_datasets |= {dataset for dataset, _ in FALLBACK_CLASSES.values()}
    used_backbones = set(
        re.findall(r'(?:load_(?:torch|keras)_backbone|fetch_(?:keras|torch)_weights)\("([^"]+)"(?![^)]*pretrained=False)', source)
    )
    assert announced["datasets"] == used_datasets
    assert announced["backbones"] == used_backbones


@pytest.mark.parametrize("lesson", [name for name in lesson_names() if name != "05_quiz"])
def test_a_fresh_offline_kernel_sees_sizes_times_then_the_fix_not_a_stack_trace(lesson, isolated_cache, monkeypatch):
    """A learner's first run with no data, no weights and no network, in a real kernel: the first
    cells say what will be downloaded (size, time) and that the network is down; the first cell
    that needs the data stops with one line that names the fix."""
    from coursetools.runner import run_notebook

    monkeypatch.setenv("TL_COURSE_OFFLINE", "1")  # CI has no network either; this makes it certain
    run = run_notebook(REPO_ROOT / "lessons" / lesson / f"{lesson}.ipynb", "quick", timeout=600)
    assert run.stopped and run.error  # stops at the first cell that needs what is missing
    notebook = run.notebook
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    cost = "".join(out.get("text", "") for out in code[1].outputs)
    assert re.search(r"download \d+ MB, about \d+ s", cost) and "NO NETWORK" in cost, cost
    failed = next(cell for cell in code if any(out.output_type == "error" for out in cell.outputs))
    error = next(out for out in failed.outputs if out.output_type == "error")
    shown = "\n".join(error.traceback)
    assert error.ename in ("DatasetUnavailableError", "WeightsUnavailableError"), (error.ename, shown)
    assert "Traceback" not in shown and len(error.traceback) == 1, shown
    assert "python -m helpers fetch" in shown or "TL_COURSE_MIRROR" in shown, shown

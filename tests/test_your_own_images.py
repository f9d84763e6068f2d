"""Lesson 06 end to end: headless on a messy folder (then the shipped model in a fresh Python, and
a re-run that must not delete the export), Run All stopping until photos are given, and the
default run on the built-in fallback set with the real MobileNetV2 weights.

Each run gets its own course cache and export folder, so its saved result and export are its own.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO_ROOT
from messy_folder import BLUE, EXPECTED_SKIPS, NEAR_DUPLICATE_GROUPS, RED, build_messy_folder

from coursetools.runner import run_notebook

LESSON = "06_your_own_images"
NOTEBOOK = REPO_ROOT / "solutions" / LESSON / f"{LESSON}.ipynb"
# what the lesson says predict.py imports: torch, torchvision (with Pillow and NumPy) and, for HEIC only, pillow_heif
SHIPPED_IMPORTS = {"json", "sys", "warnings", "pathlib", "__future__", "numpy", "PIL", "torch", "torchvision", "pillow_heif"}


def _run_lesson(tmp_path, mode: str, cache_name: str = "cache") -> dict:
    start = time.perf_counter()
    run = run_notebook(NOTEBOOK, mode, cache=tmp_path / cache_name, output=tmp_path / f"{cache_name}.ipynb", timeout=900)
    assert run.ok, run.error
    record = json.loads((tmp_path / cache_name / "results" / f"{LESSON}.json").read_text())
    record["wall_seconds"] = time.perf_counter() - start
    return record


def test_shipped_predict_py_needs_only_torch_and_torchvision():
    tree = ast.parse((REPO_ROOT / "helpers" / "standalone_predict.py").read_text())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert imported <= SHIPPED_IMPORTS, imported - SHIPPED_IMPORTS


@pytest.mark.usefixtures("mirror")
def test_headless_run_on_a_messy_folder_ships_a_model_that_reloads_in_a_fresh_process(tmp_path, monkeypatch):
    photos = build_messy_folder(tmp_path / "my photos")
    monkeypatch.setenv("TL_COURSE_MY_IMAGES", str(photos))
    monkeypatch.setenv("TL_COURSE_EXPORTS", str(tmp_path / "exports"))
    record = _run_lesson(tmp_path, "quick")
    metrics = record["metrics"]
    assert record["mode"] == "quick"
    assert metrics["source"] == "environment" and metrics["classes"] == ["blue", "red"]
    assert metrics["usable"] == RED + BLUE
    assert metrics["skipped"] == len(EXPECTED_SKIPS) + 2  # every rare/ photo is skipped
    assert all(reason for reason in metrics["skipped_reasons"]), "every skipped file has its reason"
    assert metrics["near_duplicate_groups"] == len(NEAR_DUPLICATE_GROUPS)
    assert metrics["near_duplicates_across_splits"] == 0
    assert sum(metrics["train_val_test"]) == RED + BLUE
    assert metrics["weights_source"] == "imagenet"
    assert 0.0 <= metrics["test_accuracy"] <= 1.0
    assert 0.6 <= metrics["majority_baseline"] <= 0.8, "the test split is about 6 red for 3 blue"
    assert metrics["cv_accuracy_mean"] is not None and len(metrics["cv_fold_accuracies"]) >= 2, "small validation split: CV runs"

    export = Path(metrics["export_dir"])
    assert export.parent == tmp_path / "exports" and export.name.startswith("my_photo_classifier-")
    assert {p.name for p in export.iterdir()} == {"model.pt2", "labels.json", "predict.py", "model_card.md"}
    card = (export / "model_card.md").read_text()
    for needle in ("blue", "red", "majority baseline", "Limitations", "Licences", "BSD-3-Clause"):
        assert needle in card, needle

    # a fresh Python, isolated from the course (-I: no PYTHONPATH, no user site), in another folder
    odd = [
        "red/rotated.jpg",
        "red/cmyk.jpg",
        "red/animated.gif",
        "red/sixteen_bit.png",
        "red/huge.jpg",
        "blue/blue_00.png",
        "red/IMG_0100.HEIC",
        "blue/IMG_0200.heic",
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TL_COURSE_", "PYTHON"))}
    fresh = subprocess.run(
        [sys.executable, "-I", str(export / "predict.py"), *[str(photos / p) for p in odd]],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=600,
    )
    assert fresh.returncode == 0, fresh.stderr[-3000:]
    answers = [json.loads(line) for line in fresh.stdout.splitlines()]
    assert [a["path"] for a in answers] == [str(photos / p) for p in odd]

    import torch

    from helpers.standalone_predict import load_model, load_rgb, preprocess

    program, settings = load_model(export)
    assert settings["classes"] == ["blue", "red"]
    for name, answer in zip(odd, answers):
        assert answer["class"] in ("blue", "red") and 0.5 <= answer["probability"] <= 1.0
        with torch.no_grad():
            logits = program(preprocess(load_rgb(photos / name), settings["image_size"]).unsqueeze(0))
        probability = torch.softmax(logits, 1)[0]
        assert settings["classes"][int(probability.argmax())] == answer["class"], name
        assert abs(float(probability.max()) - answer["probability"]) < 1e-5, name

    # a re-run (here on the fallback set) makes a new export and leaves the learner's model alone
    before = {p.name: p.read_bytes() for p in export.iterdir()}
    monkeypatch.setenv("TL_COURSE_MY_IMAGES", "fallback")
    again = _run_lesson(tmp_path, "quick", cache_name="cache-rerun")["metrics"]
    assert again["source"] == "fallback" and Path(again["export_dir"]) != export
    assert {p.name: p.read_bytes() for p in export.iterdir()} == before, "the earlier export survives a re-run"


@pytest.mark.usefixtures("mirror")
def test_run_all_stops_at_the_folder_choice_until_photos_or_the_fallback_are_given(tmp_path):
    run = run_notebook(
        NOTEBOOK,
        "quick",
        cache=tmp_path / "cache",
        timeout=600,
        env={"TL_COURSE_MY_IMAGES": None, "TL_COURSE_EXPORTS": str(tmp_path / "exports")},
    )
    assert not run.ok and "No photos were given" in run.error and "USE_FALLBACK = True" in run.error, run.error
    assert not (tmp_path / "exports").exists() and not (tmp_path / "cache" / "features").exists(), "nothing trained"


@pytest.mark.usefixtures("mirror")
def test_default_run_on_the_fallback_set_beats_090_with_real_weights(tmp_path, monkeypatch):
    """The learner's default run (full mode, no folder given): real MobileNetV2 ImageNet weights."""
    monkeypatch.setenv("TL_COURSE_MY_IMAGES", "fallback")  # the learner chose it (USE_FALLBACK = True)
    monkeypatch.setenv("TL_COURSE_EXPORTS", str(tmp_path / "exports"))
    monkeypatch.delenv("TL_COURSE_ALLOW_RANDOM_WEIGHTS", raising=False)
    record = _run_lesson(tmp_path, "full")
    metrics = record["metrics"]
    print(
        json.dumps(
            {
                k: metrics[k]
                for k in (
                    "test_accuracy",
                    "majority_baseline",
                    "per_class_f1",
                    "train_val_test",
                    "phase1_val_accuracy",
                    "phase2_val_accuracy",
                    "phase2_kept",
                    "cv_accuracy_mean",
                    "cv_accuracy_std",
                    "portraits",
                    "crop_cut_mean",
                    "audit_seconds",
                    "extract_seconds",
                    "head_seconds",
                    "fine_tune_seconds",
                )
            },
            indent=1,
        ),
        f"\nwall {record['wall_seconds']:.0f} s",
    )
    assert record["mode"] == "full" and metrics["source"] == "fallback"
    assert metrics["classes"] == ["ants", "bees", "cats", "dogs"] and metrics["weights_source"] == "imagenet"
    assert metrics["image_size"] == 224
    assert metrics["test_accuracy"] >= 0.90, metrics
    assert metrics["test_accuracy"] > metrics["majority_baseline"] + 0.5

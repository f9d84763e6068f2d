"""Dataset registry, integrity checks, mirror use, offline errors and messy real-world files."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
import requests
from PIL import Image

from helpers import data
from helpers.errors import DatasetIntegrityError, DatasetUnavailableError, MirrorNotFoundError, UnknownNameError


def test_registry_has_the_course_datasets():
    assert set(data.DATASETS) == {"hymenoptera_data", "cats_and_dogs_filtered"}
    for spec in data.DATASETS.values():
        assert spec.url.startswith("https://") and spec.url.endswith(".zip")
        assert sum(spec.file_counts.values()) > 0
        assert spec.name in spec.describe_download() and "MB" in spec.describe_download()
    with pytest.raises(UnknownNameError, match="hymenoptera_data"):
        data.dataset_spec("imagenet")


def test_mirror_datasets_pass_the_integrity_check(mirror):
    for name, spec in data.DATASETS.items():
        assert data.verify_dataset(spec, mirror / "datasets" / spec.folder)
        assert data.locate_dataset(name) == spec.mirror_path() == (mirror / "datasets" / spec.folder).resolve()


def test_a_mirror_reached_through_a_symlink_works(mirror, tmp_path, monkeypatch):
    (tmp_path / "link").symlink_to(mirror.resolve(), target_is_directory=True)
    monkeypatch.setenv("TL_COURSE_MIRROR", str(tmp_path / "link"))
    from helpers.downloads import plan_downloads

    spec = data.DATASETS["hymenoptera_data"]
    assert data.locate_dataset(spec.name) == spec.mirror_path()
    assert plan_downloads(datasets=[spec.name])[0].source == "offline mirror"


def test_each_dataset_ships_a_manifest_of_every_file(mirror):
    for spec in data.DATASETS.values():
        manifest = spec.manifest()
        assert len(manifest) == sum(spec.file_counts.values())
        assert all(len(digest) == 64 for digest in manifest.values())


def test_a_truncated_or_altered_photo_in_the_cache_is_found_and_fetched_again(mirror, isolated_cache, monkeypatch, tmp_path):
    """Same file count, one photo cut short and one altered in place (same size): the per-file
    SHA-256 finds both, the copy is not used, and fetching replaces it with a sound one."""
    import zipfile

    import pooch

    spec = data.DATASETS["hymenoptera_data"]
    source = mirror / "datasets" / spec.folder
    cached = spec.cache_path()
    shutil.copytree(source, cached)
    truncated, altered = cached / "train/ants/0013035.jpg", cached / "val/bees/10870992_eebeeb3a12.jpg"
    truncated.write_bytes(truncated.read_bytes()[:1000])
    photo = bytearray(altered.read_bytes())
    photo[5000] ^= 0xFF
    altered.write_bytes(bytes(photo))
    problems = data.integrity_problems(spec, cached)
    assert [p.split(":")[0] for p in problems] == ["train/ants/0013035.jpg", "val/bees/10870992_eebeeb3a12.jpg"], problems
    with pytest.raises(DatasetIntegrityError, match="0013035.jpg: damaged"):
        data.verify_dataset(spec, cached)
    assert data.locate_dataset(spec.name) is None, "a damaged cached copy must not be used"
    archive = tmp_path / spec.archive
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zf:
        for path in sorted(source.rglob("*")):
            if path.is_file():
                zf.write(path, f"{spec.folder}/{path.relative_to(source)}")
    monkeypatch.setattr(pooch, "retrieve", lambda url, **kw: str(archive))
    assert data.fetch_dataset(spec.name, progress=False) == cached
    assert truncated.read_bytes() == (source / "train/ants/0013035.jpg").read_bytes()
    assert not data.integrity_problems(spec, cached) and data.locate_dataset(spec.name) == cached
    assert not list(cached.parent.glob(".unpack-*"))


def test_integrity_check_names_missing_files_and_the_fix(mirror, tmp_path):
    spec = data.DATASETS["hymenoptera_data"]
    copy = tmp_path / spec.folder
    shutil.copytree(mirror / "datasets" / spec.folder, copy)
    next((copy / "val" / "bees").iterdir()).unlink()
    with pytest.raises(DatasetIntegrityError, match=r"val/bees: expected 83 files, found 82.*fetch again"):
        data.verify_dataset(spec, copy)


def test_offline_without_data_gives_an_actionable_error(isolated_cache, monkeypatch):
    import pooch

    def no_network(*args, **kwargs):
        raise requests.ConnectionError("Name or service not known")

    monkeypatch.setattr(pooch, "retrieve", no_network)
    with pytest.raises(DatasetUnavailableError) as info:
        data.fetch_dataset("hymenoptera_data", progress=False)
    message = str(info.value)
    assert "internet connection" in message and "TL_COURSE_MIRROR" in message
    assert not (isolated_cache / "cache" / "datasets" / "hymenoptera_data").exists()


def test_a_wrong_mirror_path_is_reported(monkeypatch):
    monkeypatch.setenv("TL_COURSE_MIRROR", "/nonexistent/mirror")
    with pytest.raises(MirrorNotFoundError, match="unset TL_COURSE_MIRROR"):
        data.locate_dataset("hymenoptera_data")


def test_download_is_unpacked_atomically_and_verified(isolated_cache, monkeypatch, tmp_path):
    """A real zip served through the same code path: fetched, unpacked, checked, cached."""
    import zipfile

    import pooch

    spec = data.DatasetSpec(
        name="tiny",
        url="https://example.invalid/tiny.zip",
        archive="tiny.zip",
        folder="tiny",
        train_split="train",
        val_split="val",
        classes=("a", "b"),
        file_counts={"train/a": 1, "train/b": 1, "val/a": 1, "val/b": 1},
    )
    archive = tmp_path / "tiny.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for rel in spec.file_counts:
            zf.writestr(f"tiny/{rel}/x.jpg", _jpeg_bytes())
    monkeypatch.setitem(data.DATASETS, "tiny", spec)
    calls = []
    monkeypatch.setattr(pooch, "retrieve", lambda url, **kw: calls.append(url) or str(archive))
    root = data.fetch_dataset("tiny", progress=False)
    assert root == isolated_cache / "cache" / "datasets" / "tiny"
    assert data.fetch_dataset("tiny") == root and len(calls) == 1, "second call uses the cache"
    assert not list(root.parent.glob(".unpack-*")), "no staging folder left behind"


def _jpeg_bytes() -> bytes:
    import io

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 10, 10)).save(buffer, format="JPEG")
    return buffer.getvalue()


@pytest.fixture
def messy_folder(tmp_path) -> Path:
    """Like the real data: a .jpeg, a name with a space, a GIF placeholder, a corrupt file."""
    for cls, colour in (("ants", (200, 0, 0)), ("bees", (0, 0, 200))):
        folder = tmp_path / cls
        folder.mkdir()
        for i in range(3):
            Image.new("RGB", (20, 16), colour).save(folder / f"{cls} photo {i}.jpg")
    Image.new("RGB", (20, 16), (0, 200, 0)).save(tmp_path / "ants" / "formica.jpeg")
    Image.new("P", (20, 16)).save(tmp_path / "ants" / "imageNotFound.gif")
    (tmp_path / "bees" / "corrupt.jpg").write_bytes(b"this is not an image")
    (tmp_path / "bees" / "notes.txt").write_text("not an image")
    return tmp_path


def test_scan_skips_non_photos_with_a_warning(messy_folder):
    with pytest.warns(UserWarning, match="Skipped 3 file"):
        samples, skipped = data.scan_images(messy_folder, ("ants", "bees"))
    assert len(samples) == 7
    assert {p.name for p in skipped} == {"imageNotFound.gif", "corrupt.jpg", "notes.txt"}
    assert any(" " in p.name for p, _ in samples) and any(p.suffix == ".jpeg" for p, _ in samples)


def test_an_image_that_breaks_mid_epoch_is_dropped_not_fatal(messy_folder):
    import torch
    from torchvision import transforms

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        samples, _ = data.scan_images(messy_folder, ("ants", "bees"))
    broken = samples[0][0]
    broken.write_bytes(broken.read_bytes()[:40])  # truncated after the scan
    splits = data.Splits("messy", ("ants", "bees"), samples, samples, samples, [])
    tf = transforms.Compose([transforms.Resize((8, 8)), transforms.ToTensor()])
    loaders = data.torch_loaders(splits, tf, tf, batch_size=4)
    with pytest.warns(UserWarning, match="Skipping unreadable image"):
        seen = sum(len(batch[1]) for batch in loaders["val"] if batch is not None)
    assert seen == len(samples) - 1
    x, y = data.load_arrays(samples, 8)
    assert x.shape == (len(samples) - 1, 8, 8, 3) and x.dtype == np.uint8 and len(y) == len(x)
    assert isinstance(next(iter(loaders["train"]))[0], torch.Tensor)


def test_splits_are_deterministic_stratified_and_disjoint(mirror):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        first = data.load_splits("hymenoptera_data")
        again = data.load_splits("hymenoptera_data")
        quick = data.load_splits("hymenoptera_data", per_class=5, eval_per_class=3)
    assert first.train == again.train and first.val == again.val and first.test == again.test
    assert len(first.train) == 244, "the GIF placeholder is skipped"
    val_paths = {p for p, _ in first.val}
    test_paths = {p for p, _ in first.test}
    assert not val_paths & test_paths and len(val_paths | test_paths) == 153
    for part in (first.val, first.test):
        counts = np.bincount([y for _, y in part])
        assert abs(int(counts[0]) - 35) <= 1 and abs(int(counts[1]) - 41.5) <= 1
    assert [len(quick.train), len(quick.val), len(quick.test)] == [10, 6, 6]
    assert {p for p, _ in quick.test} <= test_paths


def test_keras_datasets_yield_float_images_and_labels(mirror):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        splits = data.load_splits("cats_and_dogs_filtered", per_class=3, eval_per_class=2)
    datasets = data.keras_datasets(splits, image_size=32, batch_size=4)
    images, labels = next(iter(datasets["train"]))
    assert tuple(images.shape) == (4, 32, 32, 3) and images.dtype.name == "float32"
    assert float(images.numpy().max()) > 1.0, "0-255 pixels: preprocessing belongs to the model"
    assert sum(int(b[1].shape[0]) for b in datasets["test"]) == 4


def _lesson_pick_arguments(lesson: str, name: str) -> dict:
    """The keyword arguments of ``NAME = pick(...)`` in a lesson's solution notebook (read, not retyped)."""
    import ast
    import json

    from coursetools.paths import REPO_ROOT

    cells = json.loads((REPO_ROOT / "solutions" / lesson / f"{lesson}.ipynb").read_text())["cells"]
    for cell in cells:
        source = "".join(cell["source"])
        if cell["cell_type"] != "code" or not source.lstrip().startswith(("IMAGE_SIZE", "TRAIN_PER_CLASS", "EVAL")):
            continue
        for node in ast.parse(source).body:
            if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == name:
                assert isinstance(node.value, ast.Call) and getattr(node.value.func, "id", "") == "pick", name
                return {k.arg: ast.literal_eval(k.value) for k in node.value.keywords}
    raise AssertionError(f"{lesson} sets no {name} = pick(...)")


def _per_mode(arguments: dict, mode: str):
    """What ``helpers.runtime.pick(**arguments)`` gives in ``mode`` (the same rules, for a mode we are not in)."""
    from unittest import mock

    from helpers import runtime

    with mock.patch.object(runtime, "mode", return_value=mode):
        return runtime.pick(**arguments)


@pytest.mark.parametrize("mode", ["quick", "grading", "cpu", "full"])
def test_the_vgg16_and_resnet50_lessons_test_on_the_same_photos_in_every_mode(mirror, mode):
    """Lesson-review-2 K4: one shared random stream gave lessons 02 and 03 120 of 250 test photos in common in cpu mode."""
    arguments = {
        lesson: {
            "per_class": _per_mode(_lesson_pick_arguments(lesson, "TRAIN_PER_CLASS"), mode),
            "eval_per_class": _per_mode(_lesson_pick_arguments(lesson, "EVAL_PER_CLASS"), mode),
        }
        for lesson in ("02_vgg16_feature_extraction", "03_resnet50_fine_tuning")
    }
    vgg16, resnet50 = arguments.values()
    assert vgg16["eval_per_class"] == resnet50["eval_per_class"], f"the lessons validate and test on different numbers: {arguments}"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        splits = {lesson: data.load_splits("cats_and_dogs_filtered", **kwargs) for lesson, kwargs in arguments.items()}
    first, second = splits.values()
    assert first.test == second.test and first.val == second.val, (
        f"{mode} mode: {len(set(first.test) & set(second.test))} of {len(first.test)} test photos in common ({arguments})"
    )
    if vgg16["per_class"] != resnet50["per_class"]:
        assert first.train != second.train  # the training subsets do differ: the test is not vacuous


def test_keras_datasets_decode_and_resize_like_the_vgg16_lesson(mirror):
    """Lesson-review-2 K10: the same file gives the same tensor in lessons 02 and 03 (02 decodes it in its own cell)."""
    import tensorflow as tf

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        splits = data.load_splits("cats_and_dogs_filtered", per_class=1, eval_per_class=1)
    one = data.Splits(splits.name, splits.classes, splits.train[:1], splits.train[:1], splits.train[:1], [])
    images, _ = next(iter(data.keras_datasets(one, image_size=96, batch_size=1)["test"]))

    # lesson 02's load_photos (solutions/02_vgg16_feature_extraction, section 1), as written there
    image = tf.io.decode_image(tf.io.read_file(str(one.test[0][0])), channels=3, expand_animations=False)
    image = tf.image.resize(image, (96, 96))  # float32, still 0-255
    lesson02 = tf.cast(tf.cast(tf.round(image), tf.uint8), tf.float32)  # lesson 02 keeps uint8; 03 feeds float32

    assert images.shape == (1, 96, 96, 3)
    np.testing.assert_array_equal(images.numpy()[0], lesson02.numpy())
    pil = data.load_arrays(one.test, 96)[0][0].astype("float32")  # the old PIL decoder (bicubic): other pixels
    assert not np.array_equal(pil, lesson02.numpy())

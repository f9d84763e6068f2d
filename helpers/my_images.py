"""Where the capstone lesson's photos come from, and how they are split without leakage.

``choose_image_folder`` picks, in this order: a path typed in the lesson, ``TL_COURSE_MY_IMAGES``
(headless runs), a zip uploaded with the lesson's ``FileUpload`` widget, else a built-in
fallback of four classes made from the course's own datasets (ants and bees from
``hymenoptera_data``, cats and dogs from ``cats_and_dogs_filtered``).

``split_without_leakage`` cuts an audited folder (``helpers.image_folder``) into train,
validation and test, stratified by class, keeping every group of identical files in one split.
"""
from __future__ import annotations

import io
import os
import random
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from .config import env_text
from .data import Splits, dataset_spec, fetch_dataset
from .image_folder import FolderAudit, ImageFolderError
from .storage import cache_dir

__all__ = ["choose_image_folder", "split_without_leakage"]

ENV_VARIABLE = "TL_COURSE_MY_IMAGES"
# class name -> (dataset, class folder inside each of its splits)
FALLBACK_CLASSES = {
    "ants": ("hymenoptera_data", "ants"),
    "bees": ("hymenoptera_data", "bees"),
    "cats": ("cats_and_dogs_filtered", "cats"),
    "dogs": ("cats_and_dogs_filtered", "dogs"),
}


@dataclass(frozen=True)
class ImageSource:
    root: Path
    origin: str  # "path", "environment", "upload" or "fallback"
    description: str


def choose_image_folder(path: str | os.PathLike | None = None, upload=None, fallback_per_class: int | None = None
                        ) -> ImageSource:
    """The folder to train on (see the module docstring for the order)."""
    if path:
        return ImageSource(_existing(Path(path), "the path you typed"), "path", f"your folder {path}")
    env = env_text(ENV_VARIABLE) or ""
    if env:
        return ImageSource(_existing(Path(env), ENV_VARIABLE), "environment", f"{ENV_VARIABLE}={env}")
    files = _uploaded_files(upload)
    if files:
        name, content = files[0]
        root = unpack_upload(name, content, cache_dir() / "uploads" / Path(name).stem)
        return ImageSource(root, "upload", f"your upload {name}")
    root = fallback_image_folder(fallback_per_class)
    return ImageSource(root, "fallback", "the built-in fallback: " + ", ".join(FALLBACK_CLASSES)
                       + " from the course's own datasets")


def _existing(path: Path, where: str) -> Path:
    path = path.expanduser()
    if not path.is_dir():
        raise ImageFolderError(f"{path} (from {where}) is not a folder. Give the folder that holds one "
                               "subfolder per class, e.g. /home/me/photos with photos/cats/ and photos/dogs/.")
    return path


def _uploaded_files(upload) -> list[tuple[str, bytes]]:
    """(name, bytes) of what a ``FileUpload`` widget holds (ipywidgets 8 or 7), or of its value."""
    value = getattr(upload, "value", upload)
    if not value:
        return []
    if isinstance(value, dict):  # ipywidgets 7: {name: {"content": bytes, ...}}
        return [(name, bytes(item["content"])) for name, item in value.items()]
    return [(item["name"], bytes(item["content"])) for item in value]  # ipywidgets 8: tuple of dicts


def unpack_upload(name: str, content: bytes, target: Path) -> Path:
    """Unpack an uploaded zip of a photo folder; return the folder that holds the class folders."""
    if not name.lower().endswith(".zip"):
        raise ImageFolderError(f"{name} is not a .zip file. Zip the folder that holds one subfolder per class "
                               "(right-click > Compress on most systems) and upload the zip.")
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except zipfile.BadZipFile as err:
        raise ImageFolderError(f"{name} is not a valid zip file ({err}): zip the folder again and re-upload.") from err
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for member in archive.infolist():
        destination = (target / member.filename).resolve()
        if target.resolve() not in destination.parents and destination != target.resolve():
            raise ImageFolderError(f"{name} holds a path outside its folder ({member.filename}): not unpacked.")
    archive.extractall(target)
    entries = [p for p in target.iterdir() if p.name != "__MACOSX" and not p.name.startswith(".")]
    if len(entries) == 1 and entries[0].is_dir():  # a zip of the folder itself, not of its contents
        return entries[0]
    return target


def fallback_image_folder(per_class: int | None = None, seed: int = 0) -> Path:
    """A folder ``ants/ bees/ cats/ dogs/`` of links to (or copies of) the course's photos.

    ``per_class`` photos per class (all of hymenoptera's and 500 of cats/dogs when None), drawn
    from every split of the original dataset, always the same ones. Built once in the cache.
    """
    limit = per_class or 500
    target = cache_dir() / "my_images_fallback" / f"{limit}_per_class_seed{seed}"
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".building-", dir=target.parent))
    try:
        for cls, (dataset, folder) in FALLBACK_CLASSES.items():
            spec = dataset_spec(dataset)
            root = fetch_dataset(dataset)
            photos = sorted(p for split in (spec.train_split, spec.val_split)
                            for p in (root / split / folder).iterdir() if p.is_file())
            random.Random(f"{seed}-{cls}").shuffle(photos)
            (staging / cls).mkdir()
            for photo in sorted(photos[:limit]):
                split_name = photo.relative_to(root).parts[0]  # train/val: keeps names unique
                _link_or_copy(photo, staging / cls / f"{split_name}_{photo.name}")
        staging.chmod(0o755)  # mkdtemp makes it private
        os.replace(staging, target)  # atomic: never a half-built folder
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _link_or_copy(source: Path, link: Path) -> None:
    try:
        link.symlink_to(source.resolve())
    except OSError:  # Windows without developer mode cannot make symlinks
        shutil.copy2(source, link)


def split_without_leakage(audit: FolderAudit, val_fraction: float = 0.2, test_fraction: float = 0.2,
                          seed: int = 0) -> Splits:
    """Train / validation / test samples ``(path, label)``, stratified by class.

    Each class gets about ``test_fraction`` and ``val_fraction`` of its photos (at least one
    each) for testing and validation, the rest for training. Byte-identical files are one
    unit: they land in the same split, so the test set never holds a training photo.
    """
    if not 0 < val_fraction + test_fraction < 1:
        raise ValueError(f"val_fraction + test_fraction must be between 0 and 1, got {val_fraction + test_fraction}")
    audit.check_trainable()
    unit_of = {path: min(group) for group in audit.duplicates for path in group}
    rng = random.Random(seed)
    parts: dict[str, list] = {"train": [], "val": [], "test": []}
    for label, cls in enumerate(audit.classes):
        units: dict[Path, list[Path]] = {}
        for path, owner in audit.usable:
            if owner == cls:
                units.setdefault(unit_of.get(path, path), []).append(path)
        order = sorted(units)
        rng.shuffle(order)
        total = sum(len(files) for files in units.values())
        wanted = {"test": max(1, round(total * test_fraction)), "val": max(1, round(total * val_fraction))}
        taken = {"test": 0, "val": 0, "train": 0}
        for unit in order:
            split = next((s for s in ("test", "val") if taken[s] < wanted[s]), "train")
            parts[split].extend((path, label) for path in units[unit])
            taken[split] += len(units[unit])
    return Splits(
        name=audit.root.name,
        classes=tuple(audit.classes),
        train=sorted(parts["train"]),
        val=sorted(parts["val"]),
        test=sorted(parts["test"]),
        skipped=list(audit.skipped),
    )

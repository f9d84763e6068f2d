"""Course datasets: registry, download and caching, integrity checks, splits and loaders.

A dataset is looked for in this order: the offline mirror (``TL_COURSE_MIRROR``), the course
cache (``TL_COURSE_CACHE``), then its canonical URL, downloaded with pooch (progress bar,
atomic write) and unpacked atomically. Neither dataset has a published checksum, so integrity
is checked by the expected file counts and, per file, against the SHA-256 manifest shipped in
``helpers/manifests/`` (made from the mirror's copy of each archive: see its README). A damaged
copy in the course cache (a truncated or altered photo) is fetched again, never used.

Real image folders are messy; loaders skip files that are not photos (with a warning that
names them) and a file that fails to decode mid-epoch is dropped from its batch, never
crashing the epoch.
"""

from __future__ import annotations

import os
import random
import shutil
import tempfile
import warnings
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from .errors import DatasetIntegrityError, DatasetUnavailableError, UnknownNameError
from .image_folder import audit_image_folder  # lessons import the audit from helpers.data
from .storage import cache_dir, mirror_dir

__all__ = [
    "audit_image_folder",
    "fetch_dataset",
    "keras_datasets",
    "load_arrays_tf",
    "load_splits",
]

PHOTO_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
ASSUMED_DOWNLOAD_MBPS = 5.0  # a modest home connection, for the time estimate only
MANIFESTS = Path(__file__).with_name("manifests")


@dataclass(frozen=True)
class DatasetSpec:
    """One course dataset: where it comes from and what a complete copy contains."""

    name: str
    url: str
    archive: str
    folder: str  # top-level folder inside the archive
    train_split: str
    val_split: str  # split in two below: validation and held-out test
    classes: tuple[str, ...]
    file_counts: dict[str, int] = field(hash=False)  # "split/class" -> files in the original
    download_mb: float = 0.0
    source: str = ""

    def manifest(self) -> dict[str, str]:
        """``{relative path: sha256}`` of every file of the published dataset ({} when none is shipped)."""
        path = MANIFESTS / f"{self.name}.sha256"
        if not path.is_file():
            return {}
        pairs = (line.split("  ", 1) for line in path.read_text().splitlines() if line.strip())
        return {rel: digest for digest, rel in pairs}

    def mirror_path(self) -> Path | None:
        """Its folder in the offline mirror (``datasets/FOLDER``), None without a mirror."""
        mirror = mirror_dir()
        return mirror / "datasets" / self.folder if mirror is not None else None

    def cache_path(self) -> Path:
        """Its folder in the course cache (``datasets/FOLDER``)."""
        return cache_dir() / "datasets" / self.folder

    def describe_download(self) -> str:
        seconds = self.download_mb / ASSUMED_DOWNLOAD_MBPS
        return (
            f"{self.name}: about {self.download_mb:.0f} MB from {self.url} "
            f"(about {seconds:.0f} s at {ASSUMED_DOWNLOAD_MBPS:.0f} MB/s)"
        )


DATASETS: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in (
        DatasetSpec(
            name="hymenoptera_data",
            url="https://download.pytorch.org/tutorial/hymenoptera_data.zip",
            archive="hymenoptera_data.zip",
            folder="hymenoptera_data",
            train_split="train",
            val_split="val",
            classes=("ants", "bees"),
            # counts of the original archive, including its placeholder imageNotFound.gif
            file_counts={"train/ants": 124, "train/bees": 121, "val/ants": 70, "val/bees": 83},
            download_mb=47,
            source="PyTorch transfer-learning tutorial (a small ImageNet subset)",
        ),
        DatasetSpec(
            name="cats_and_dogs_filtered",
            url="https://storage.googleapis.com/mledu-datasets/cats_and_dogs_filtered.zip",
            archive="cats_and_dogs_filtered.zip",
            folder="cats_and_dogs_filtered",
            train_split="train",
            val_split="validation",
            classes=("cats", "dogs"),
            file_counts={
                "train/cats": 1000,
                "train/dogs": 1000,
                "validation/cats": 500,
                "validation/dogs": 500,
            },
            download_mb=69,
            source="TensorFlow transfer-learning tutorial subset of Kaggle Dogs vs. Cats",
        ),
    )
}


def dataset_spec(name: str) -> DatasetSpec:
    try:
        return DATASETS[name]
    except KeyError:
        raise UnknownNameError(f"Unknown dataset {name!r}. The course datasets are: {', '.join(DATASETS)}.") from None


# --------------------------------------------------------------------------- fetching


def integrity_problems(spec: DatasetSpec, root: Path) -> list[str]:
    """What is wrong with the copy at ``root``: wrong file counts, then every file that is
    missing or whose SHA-256 differs from the shipped manifest (truncated, altered). [] if sound."""
    problems = []
    for rel, expected in spec.file_counts.items():
        folder = root / rel
        found = sum(1 for p in folder.iterdir() if p.is_file()) if folder.is_dir() else 0
        if found != expected:
            problems.append(f"{rel}: expected {expected} files, found {found}")
    manifest = spec.manifest()
    with ThreadPoolExecutor(max_workers=4) as pool:  # hashlib releases the GIL: reading and hashing overlap
        digests = dict(zip(manifest, pool.map(lambda rel: _sha256_or_none(root / rel), manifest)))
    for rel, expected in manifest.items():
        if digests[rel] is None:
            problems.append(f"{rel}: missing")
        elif digests[rel] != expected:
            problems.append(f"{rel}: damaged (truncated or altered: its SHA-256 differs from the original)")
    return problems


def _sha256_or_none(path: Path) -> str | None:
    import hashlib

    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def verify_dataset(spec: DatasetSpec, root: Path) -> Path:
    """Check that ``root`` holds the complete, unaltered dataset; raise a DatasetIntegrityError if not."""
    problems = integrity_problems(spec, root)
    if problems:
        shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        raise DatasetIntegrityError(
            f"The {spec.name} folder at {root} is incomplete or modified "
            f"({shown}). If it is in the course cache, delete it and fetch again "
            f"(`rm -rf '{root}'` then `python -m helpers fetch {spec.name}`); if it is in the "
            "mirror, restore the mirror's copy."
        )
    return root


def locate_dataset(name: str) -> Path | None:
    """The dataset's folder if a sound copy is available without a download, else None.

    A damaged mirror is an error (it is read-only: restore it); a damaged cached copy is None
    (``fetch_dataset`` replaces it)."""
    spec = dataset_spec(name)
    mirror = spec.mirror_path()
    if mirror is not None and mirror.is_dir():
        return verify_dataset(spec, mirror)
    cached = spec.cache_path()
    if cached.is_dir() and not integrity_problems(spec, cached):
        return cached
    return None


def fetch_dataset(name: str, progress: bool = True) -> Path:
    """Return the folder of a course dataset, downloading it once if needed (and again if the
    cached copy was damaged)."""
    spec = dataset_spec(name)
    found = locate_dataset(name)
    if found is not None:
        return found
    if spec.cache_path().is_dir():
        problems = integrity_problems(spec, spec.cache_path())
        print(f"The cached copy of {name} is damaged ({len(problems)} problem(s), e.g. {problems[0]}): fetching it again.")
    print(f"Downloading {spec.describe_download()}; it is cached for next time.")
    archive = _download(spec, progress)
    return _unpack(spec, archive)


def _download(spec: DatasetSpec, progress: bool) -> Path:
    import pooch
    import requests

    downloads = cache_dir() / "downloads"
    try:
        # known_hash=None: neither archive has a published checksum; the unpacked
        # structure is verified instead (verify_dataset).
        path = pooch.retrieve(spec.url, known_hash=None, fname=spec.archive, path=downloads, progressbar=progress)
    except (requests.RequestException, OSError) as err:
        raise DatasetUnavailableError(
            f"Could not download {spec.name} from {spec.url} ({type(err).__name__}: {err}). "
            "Check your internet connection and run the cell again. Offline? Copy the "
            f"unpacked folder to {spec.cache_path()}, or set "
            "TL_COURSE_MIRROR to a course mirror that holds datasets/" + spec.folder + "."
        ) from err
    return Path(path)


def _unpack(spec: DatasetSpec, archive: Path) -> Path:
    target = spec.cache_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".unpack-", dir=target.parent))
    try:
        try:
            with zipfile.ZipFile(archive) as zf:
                zf.extractall(staging)
        except zipfile.BadZipFile as err:
            archive.unlink(missing_ok=True)
            raise DatasetIntegrityError(
                f"The downloaded {archive.name} is not a valid zip file (interrupted download?). "
                "It has been deleted: run the cell again to download it afresh."
            ) from err
        try:
            verify_dataset(spec, staging / spec.folder)
        except DatasetIntegrityError:
            archive.unlink(missing_ok=True)  # a damaged archive would be unpacked again and again
            raise
        if target.exists():  # a damaged copy: set it aside, then swap in the sound one
            os.replace(target, staging / "damaged")
        os.replace(staging / spec.folder, target)  # atomic: never a half-unpacked dataset
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


# --------------------------------------------------------------------------- samples and splits

Sample = tuple[Path, int]


@dataclass
class Splits:
    """Train, validation and held-out test samples of one dataset: lists of (path, label)."""

    name: str
    classes: tuple[str, ...]
    train: list[Sample]
    val: list[Sample]
    test: list[Sample]
    skipped: list[Path]

    def summary(self) -> str:
        def counts(samples):
            return ", ".join(f"{c} {sum(1 for _, y in samples if y == i)}" for i, c in enumerate(self.classes))

        return (
            f"{self.name}: train {len(self.train)} ({counts(self.train)}), "
            f"val {len(self.val)} ({counts(self.val)}), test {len(self.test)} ({counts(self.test)})"
        )


def scan_images(folder: Path, classes: Sequence[str]) -> tuple[list[Sample], list[Path]]:
    """List the photos of ``folder/<class>/``; return (samples, skipped files).

    Files that are not photos (by extension) or cannot be opened are skipped with a warning.
    Paths may contain spaces; order is sorted, so it is the same on every machine.
    """
    from PIL import Image, UnidentifiedImageError

    samples: list[Sample] = []
    skipped: list[Path] = []
    for label, cls in enumerate(classes):
        class_dir = Path(folder) / cls
        if not class_dir.is_dir():
            raise DatasetIntegrityError(
                f"Expected a folder {class_dir} with the {cls!r} images. Check the path, or "
                "delete the dataset from the cache and fetch it again."
            )
        for path in sorted(class_dir.iterdir()):
            if not path.is_file():
                continue
            if path.suffix.lower() not in PHOTO_EXTENSIONS:
                skipped.append(path)
                continue
            try:
                with Image.open(path) as img:
                    img.verify()
            except (UnidentifiedImageError, OSError, SyntaxError):
                skipped.append(path)
                continue
            samples.append((path, label))
    if skipped:
        names = ", ".join(str(p.relative_to(folder)) for p in skipped[:5])
        more = f" and {len(skipped) - 5} more" if len(skipped) > 5 else ""
        warnings.warn(
            f"Skipped {len(skipped)} file(s) that are not readable photos: {names}{more}.",
            stacklevel=2,
        )
    return samples, skipped


def _per_class_subset(samples: list[Sample], n: int | None, rng: random.Random) -> list[Sample]:
    if n is None:
        return list(samples)
    by_class: dict[int, list[Sample]] = {}
    for sample in samples:
        by_class.setdefault(sample[1], []).append(sample)
    subset = []
    for label in sorted(by_class):
        group = list(by_class[label])
        rng.shuffle(group)
        subset.extend(sorted(group[:n]))
    return subset


def load_splits(
    name: str,
    per_class: int | None = None,
    eval_per_class: int | None = None,
    split_seed: int = 0,
) -> Splits:
    """Deterministic train / validation / held-out test splits of a course dataset.

    The dataset's own validation folder is split in two, stratified by class: half for
    validation (model selection) and half for a held-out test set that is touched once.
    ``per_class`` / ``eval_per_class`` keep that many images per class (quick mode).

    Each draw has its own random stream, seeded by ``split_seed`` and its name, so a subset
    depends only on its own arguments: two lessons with the same ``eval_per_class`` test on
    the same photos whatever their ``per_class`` (one shared stream made the test subset
    depend on how many shuffles the training subset had used; lesson-review-2 K4).
    """
    spec = dataset_spec(name)
    root = fetch_dataset(name)
    train, skipped_train = scan_images(root / spec.train_split, spec.classes)
    pool, skipped_val = scan_images(root / spec.val_split, spec.classes)
    halves = _stream(split_seed, "val-test halves")
    val, test = [], []
    for label in range(len(spec.classes)):
        group = [s for s in pool if s[1] == label]
        halves.shuffle(group)
        half = len(group) // 2
        val.extend(sorted(group[:half]))
        test.extend(sorted(group[half:]))
    eval_n = eval_per_class if eval_per_class is not None else per_class
    return Splits(
        name=name,
        classes=spec.classes,
        train=_per_class_subset(train, per_class, _stream(split_seed, "train")),
        val=_per_class_subset(val, eval_n, _stream(split_seed, "val")),
        test=_per_class_subset(test, eval_n, _stream(split_seed, "test")),
        skipped=skipped_train + skipped_val,
    )


def _stream(split_seed: int, draw: str) -> random.Random:
    """The random stream of one draw (str seeds are hashed with SHA-512: the same on every platform and run)."""
    return random.Random(f"{split_seed}-{draw}")


# --------------------------------------------------------------------------- decoding


def open_rgb(path: Path):
    """Open an image as RGB, or return None (with a warning) if it cannot be decoded."""
    from PIL import Image

    try:
        with Image.open(path) as img:
            return img.convert("RGB")
    except (OSError, ValueError, SyntaxError) as err:
        warnings.warn(f"Skipping unreadable image {path}: {err}", stacklevel=2)
        return None


def load_image_array(path: Path, size: int):
    """One image as a ``(size, size, 3)`` uint8 array, or None if it cannot be decoded."""
    import numpy as np

    img = open_rgb(path)
    if img is None:
        return None
    return np.asarray(img.resize((size, size)), dtype=np.uint8)


def load_arrays(samples: Sequence[Sample], size: int, workers: int = 4):
    """Decode samples into ``(x uint8 [N, size, size, 3], y int64 [N])``; unreadable ones dropped."""
    import numpy as np

    with ThreadPoolExecutor(max_workers=workers) as pool:
        arrays = list(pool.map(lambda s: load_image_array(s[0], size), samples))
    kept = [(a, y) for a, (_, y) in zip(arrays, samples) if a is not None]
    if not kept:
        return np.zeros((0, size, size, 3), np.uint8), np.zeros((0,), np.int64)
    x = np.stack([a for a, _ in kept])
    y = np.asarray([label for _, label in kept], dtype=np.int64)
    return x, y


# --------------------------------------------------------------------------- PyTorch


class ImageSampleDataset:
    """A torch Dataset over (path, label) samples, like ``ImageFolder`` over a file list.

    An image that fails to decode yields None; ``skip_unreadable_collate`` drops it.
    """

    def __init__(self, samples: Sequence[Sample], classes: Sequence[str], transform: Callable | None = None):
        self.samples = list(samples)
        self.classes = list(classes)
        self.targets = [label for _, label in self.samples]
        self.transform = transform

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int):
        path, label = self.samples[index]
        img = open_rgb(path)
        if img is None:
            return None
        return (self.transform(img) if self.transform else img), label


def skip_unreadable_collate(batch):
    """``default_collate`` that drops samples that failed to decode (None)."""
    from torch.utils.data import default_collate

    kept = [item for item in batch if item is not None]
    if not kept:
        return None
    return default_collate(kept)


def torch_loaders(
    splits: Splits,
    train_transform: Callable,
    eval_transform: Callable,
    batch_size: int = 16,
    num_workers: int = 0,
    seed: int = 0,
) -> dict:
    """DataLoaders ``{"train", "val", "test"}``; only train is shuffled (seeded)."""
    import torch
    from torch.utils.data import DataLoader

    loaders = {}
    for part in ("train", "val", "test"):
        dataset = ImageSampleDataset(
            getattr(splits, part), splits.classes, train_transform if part == "train" else eval_transform
        )
        loaders[part] = DataLoader(
            dataset,
            batch_size=batch_size,
            shuffle=part == "train",
            num_workers=num_workers,
            collate_fn=skip_unreadable_collate,
            generator=torch.Generator().manual_seed(seed) if part == "train" else None,
        )
    return loaders


# --------------------------------------------------------------------------- Keras / tf.data


def keras_datasets(splits: Splits, image_size: int, batch_size: int = 32, seed: int = 0) -> dict:
    """``tf.data`` datasets ``{"train", "val", "test"}`` of (float32 image 0-255, int label).

    Each photo is decoded and resized once, as the VGG16 lesson's own pipeline does it
    (:func:`decode_photo`: TensorFlow's decoder, bilinear ``tf.image.resize``, rounded to
    uint8), so the two lessons score the same pixels (lesson-review-2 K10); unreadable files
    are dropped with a warning. Preprocessing is left to the model, as in Keras's own tutorials.
    The images are held as uint8 and cast to float32 one batch at a time.
    """
    import tensorflow as tf

    datasets = {}
    for part in ("train", "val", "test"):
        x, y = load_arrays_tf(getattr(splits, part), image_size)
        ds = tf.data.Dataset.from_tensor_slices((x, y))
        if part == "train":
            ds = ds.shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
        ds = ds.batch(batch_size).map(lambda a, b: (tf.cast(a, tf.float32), b))
        datasets[part] = ds.prefetch(tf.data.AUTOTUNE)
    return datasets


def decode_photo(path, image_size: int):
    """One photo as the VGG16 lesson decodes it: ``tf.io.decode_image``, bilinear resize, rounded to uint8."""
    import tensorflow as tf

    image = tf.io.decode_image(tf.io.read_file(str(path)), channels=3, expand_animations=False)
    image = tf.image.resize(image, (image_size, image_size))  # bilinear, float32, still 0-255
    return tf.cast(tf.round(image), tf.uint8)


def load_arrays_tf(samples: Sequence[Sample], size: int, workers: int = 4):
    """Like :func:`load_arrays`, decoded by :func:`decode_photo`: ``(x uint8 [N, size, size, 3], y int64 [N])``."""
    import numpy as np
    import tensorflow as tf

    def decode(sample):
        try:
            return decode_photo(sample[0], size).numpy()
        except (tf.errors.InvalidArgumentError, tf.errors.NotFoundError) as err:
            message = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            warnings.warn(f"Skipping unreadable image {sample[0]}: {message}", stacklevel=3)
            return None

    with ThreadPoolExecutor(max_workers=workers) as pool:
        arrays = list(pool.map(decode, samples))
    kept = [(a, label) for a, (_, label) in zip(arrays, samples) if a is not None]
    if not kept:
        return np.zeros((0, size, size, 3), np.uint8), np.zeros((0,), np.int64)
    return np.stack([a for a, _ in kept]), np.asarray([label for _, label in kept], dtype=np.int64)

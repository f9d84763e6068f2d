"""A disk cache for extracted features: compute a frozen backbone's outputs once, reuse them.

Feature extraction runs every image through a frozen network once; training a small head on
the saved arrays is then cheap. The lesson writes the extraction itself; this module only
remembers its result, keyed by everything the result depends on:

- the backbone's name, the image size and the preprocessing;
- the images: sorted file paths with their sizes and modification times (and labels);
- where the weights came from (``weights_source``) and, optionally, a digest of the weights
  themselves, so a re-initialised or fine-tuned backbone never reuses stale features.

Change any of these and the key changes, so the features are computed again. Entries live in
``helpers.storage.cache_dir()/features/<sha256>.npz`` and are written atomically (a killed
write never looks complete). Delete them with :func:`clear_feature_cache`.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from .storage import cache_dir

__all__ = ["cached_features", "feature_key"]

FEATURES_FOLDER = "features"


@dataclass
class CachedFeatures:
    """Features and labels from the cache, and how they got there.

    Unpacks like a pair: ``x, y = cached_features(key, compute)``.
    """

    x: Any  # np.ndarray, features
    y: Any  # np.ndarray, labels
    hit: bool  # True: loaded from disk; False: computed in this call
    compute_seconds: float  # time ``compute`` took when the entry was made (this run or earlier)
    path: Path
    key: dict = field(repr=False, default_factory=dict)

    def __iter__(self) -> Iterator:
        return iter((self.x, self.y))


def features_dir() -> Path:
    """The folder that holds cached feature arrays (created on first use)."""
    path = cache_dir() / FEATURES_FOLDER
    path.mkdir(parents=True, exist_ok=True)
    return path


def file_fingerprint(samples: Iterable) -> list[list]:
    """``[[path, size, mtime_ns(, label)], ...]`` sorted by path, for a cache key.

    ``samples`` holds paths or ``(path, label)`` pairs (as in ``helpers.data.Splits``). A
    file that is edited, replaced, added or removed changes the fingerprint.
    """
    rows = []
    for sample in samples:
        path, label = (sample[0], sample[1]) if isinstance(sample, (tuple, list)) else (sample, None)
        stat = Path(path).stat()
        row = [str(Path(path).resolve()), stat.st_size, stat.st_mtime_ns]
        if label is not None:
            row.append(int(label))
        rows.append(row)
    return sorted(rows)


def weights_digest(model) -> str:
    """SHA-256 of a model's weights (Keras ``get_weights()`` or a torch ``state_dict()``)."""
    import numpy as np

    digest = hashlib.sha256()
    if hasattr(model, "get_weights"):
        arrays = model.get_weights()
    else:
        arrays = [t.detach().cpu().numpy() for t in model.state_dict().values()]
    for array in arrays:
        array = np.ascontiguousarray(array)
        digest.update(f"{array.dtype}{array.shape}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def feature_key(
    backbone: str,
    image_size: int,
    samples: Iterable,
    weights_source: str,
    model=None,
    **extra: Any,
) -> dict:
    """The cache key of one set of features, as a JSON-serialisable dict.

    ``samples``: the images (paths or ``(path, label)`` pairs); ``model``: the backbone, whose
    weights are then digested into the key; ``extra``: anything else the features depend on
    (``preprocessing="vgg16"``, ``split="train"``...). Values must be JSON-serialisable.
    """
    key = {
        "backbone": backbone,
        "image_size": int(image_size),
        "weights_source": weights_source,
        "files": file_fingerprint(samples),
    }
    if model is not None:
        key["weights_sha256"] = weights_digest(model)
    key.update(extra)
    return key


def key_digest(key: dict) -> str:
    """SHA-256 of a key's canonical JSON (sorted keys): the cache file's name."""
    return hashlib.sha256(_canonical(key).encode()).hexdigest()


def _canonical(key: dict) -> str:
    return json.dumps(key, sort_keys=True, separators=(",", ":"), default=str)


def _describe(key: dict) -> str:
    parts = [f"{name}={key[name]}" for name in ("split", "backbone", "image_size", "weights_source") if name in key]
    if "files" in key:
        parts.append(f"{len(key['files'])} files")
    return ", ".join(parts)


def _load(path: Path, key: dict):
    """``(x, y, compute_seconds)`` from a cache file, or None if it is unusable."""
    import numpy as np

    try:
        with np.load(path, allow_pickle=False) as data:
            if str(data["key"]) != _canonical(key):
                return None  # a hash collision or a foreign file: never trust it
            return data["x"], data["y"], float(data["compute_seconds"])
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None


def _save(path: Path, key: dict, x, y, seconds: float) -> None:
    import numpy as np

    handle, partial = tempfile.mkstemp(dir=path.parent, prefix=path.stem, suffix=".npz.partial")
    try:
        with os.fdopen(handle, "wb") as file:
            np.savez(file, x=x, y=y, key=np.array(_canonical(key)), compute_seconds=np.array(seconds))
        os.replace(partial, path)  # atomic on one file system
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise


def cached_features(
    key: dict,
    compute: Callable[[], tuple],
    verbose: bool = True,
) -> CachedFeatures:
    """Features for ``key``: loaded from the cache, or ``compute()``-d once and saved.

    ``compute`` returns ``(x, y)`` NumPy arrays. The key is hashed (SHA-256 of its canonical
    JSON); the stored key is compared in full on load, and an unreadable or mismatched file is
    recomputed. Prints whether it was a hit or a computation unless ``verbose=False``.
    """
    import numpy as np

    path = features_dir() / f"{key_digest(key)}.npz"
    label = _describe(key)
    if path.exists():
        loaded = _load(path, key)
        if loaded is not None:
            x, y, seconds = loaded
            if verbose:
                print(
                    f"feature cache HIT ({label}): loaded x{tuple(x.shape)} from {path.name}; "
                    f"computing them took {seconds:.1f} s when they were cached"
                )
            return CachedFeatures(x, y, True, seconds, path, key)
        if verbose:
            print(f"feature cache: {path.name} is unreadable or stale, computing again")
    start = time.perf_counter()
    x, y = compute()
    seconds = time.perf_counter() - start
    x, y = np.asarray(x), np.asarray(y)
    if len(x) != len(y):
        raise ValueError(f"compute() returned {len(x)} features but {len(y)} labels; they must match.")
    _save(path, key, x, y, seconds)
    if verbose:
        print(f"feature cache MISS ({label}): computed x{tuple(x.shape)} in {seconds:.1f} s, saved to {path}")
    return CachedFeatures(x, y, False, seconds, path, key)


def clear_feature_cache() -> int:
    """Delete every cached feature file; return how many were removed."""
    removed = 0
    for path in features_dir().glob("*.npz*"):
        path.unlink(missing_ok=True)
        removed += 1
    return removed

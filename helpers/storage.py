"""Where the course keeps things: the cache, the read-only offline mirror, framework caches.

- ``TL_COURSE_CACHE``: datasets, downloads and lesson results (default: the user cache dir).
- ``TL_COURSE_MIRROR``: a read-only folder laid out like ``datasets/NAME/`` and
  ``weights/{torch,keras}/FILE`` that is used before any download (classrooms, offline CI).
- Pretrained weights live in the frameworks' own caches (torch hub, ``~/.keras/models``),
  so they are shared with every other project on the machine.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from .errors import MirrorNotFoundError

APP_NAME = "tl-course"


def cache_dir() -> Path:
    """The course cache, created on first use."""
    env = os.environ.get("TL_COURSE_CACHE")
    if env:
        path = Path(env).expanduser()
    else:
        import platformdirs

        path = Path(platformdirs.user_cache_dir(APP_NAME))
    path.mkdir(parents=True, exist_ok=True)
    return path


def mirror_dir() -> Path | None:
    """The offline mirror named by ``TL_COURSE_MIRROR``, or None when it is not set."""
    env = os.environ.get("TL_COURSE_MIRROR")
    if not env:
        return None
    path = Path(env).expanduser().resolve()
    if not path.is_dir():
        raise MirrorNotFoundError(
            f"TL_COURSE_MIRROR={env!r} is not a folder. Point it at the course mirror "
            "(a folder holding datasets/ and weights/), or unset it to download instead: "
            "`unset TL_COURSE_MIRROR`."
        )
    return path


def torch_checkpoints_dir() -> Path:
    """torch hub's checkpoint folder (``$TORCH_HOME/hub/checkpoints``).

    Asks torch when it is already imported (it honours ``torch.hub.set_dir``); otherwise
    computes torch's default the same way, because importing torch costs seconds (a Keras
    lesson would pay them in its setup cell just to list what is cached).
    """
    import sys

    if "torch" in sys.modules:
        return Path(sys.modules["torch"].hub.get_dir()) / "checkpoints"
    torch_home = os.environ.get("TORCH_HOME") or os.path.join(os.environ.get("XDG_CACHE_HOME") or "~/.cache", "torch")
    return Path(os.path.expanduser(torch_home)) / "hub" / "checkpoints"


def keras_home() -> Path:
    """Keras's cache root: ``$KERAS_HOME`` or ``~/.keras``."""
    return Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras")


def keras_models_dir() -> Path:
    return keras_home() / "models"


def seed_from_mirror(kind: str, filename: str, target_dir: Path) -> Path | None:
    """Copy ``weights/<kind>/<filename>`` from the mirror into a framework cache.

    Returns the cached path, or None when the mirror does not have the file. A copy (not a
    link) keeps the mirror read-only whatever the framework later does to its cache.
    """
    target = target_dir / filename
    if target.exists():
        return target
    mirror = mirror_dir()
    if mirror is None:
        return None
    source = mirror / "weights" / kind / filename
    if not source.is_file():
        return None
    target_dir.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    shutil.copyfile(source, partial)
    os.replace(partial, target)  # atomic: a killed copy never looks complete
    return target


def cached_items() -> list[str]:
    """Names of datasets and weights that are available without a download."""
    from .data import DATASETS
    from .models import BACKBONES

    items = []
    for name, spec in DATASETS.items():
        if (cache_dir() / "datasets" / spec.folder).is_dir():
            items.append(f"{name} (cache)")
        elif _in_mirror("datasets", spec.folder):
            items.append(f"{name} (mirror)")
    for name, spec in BACKBONES.items():
        folder = torch_checkpoints_dir if spec.framework == "torch" else keras_models_dir
        try:
            cached = (folder() / spec.weights_file).is_file()
        except ImportError:
            cached = False
        if cached:
            items.append(f"{name} weights (cache)")
        elif _in_mirror("weights", spec.framework, spec.weights_file):
            items.append(f"{name} weights (mirror)")
    return items


def _in_mirror(*parts: str) -> bool:
    mirror = mirror_dir()
    return bool(mirror) and mirror.joinpath(*parts).exists()

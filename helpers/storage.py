"""Where the course keeps things: the folders of the cache, the read-only offline mirror and the
framework caches. What lives inside them is known by the registry entry that owns each file
(``DatasetSpec`` and ``BackboneSpec``), so this module imports no registry.

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

from .config import env_text
from .errors import MirrorNotFoundError

__all__ = ["cache_dir"]

APP_NAME = "tl-course"


def cache_dir() -> Path:
    """The course cache, created on first use."""
    env = env_text("TL_COURSE_CACHE")
    if env:
        path = Path(env).expanduser()
    else:
        import platformdirs

        path = Path(platformdirs.user_cache_dir(APP_NAME))
    path.mkdir(parents=True, exist_ok=True)
    return path


def mirror_dir() -> Path | None:
    """The offline mirror named by ``TL_COURSE_MIRROR``, or None when it is not set."""
    env = env_text("TL_COURSE_MIRROR")
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


def copy_atomically(source: Path, target: Path) -> Path:
    """Copy ``source`` to ``target`` so that a killed copy never looks complete.

    A copy, not a link: the mirror stays read-only whatever a framework later does to its cache.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    shutil.copyfile(source, partial)
    os.replace(partial, target)
    return target

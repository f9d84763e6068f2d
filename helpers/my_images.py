"""Where the capstone lesson's photos come from, where its exports go, and how it splits without leakage.

``choose_image_folder`` picks, in this order:

1. a path typed in the lesson (a folder, or a ``.zip`` of one);
2. ``TL_COURSE_MY_IMAGES`` (headless runs): a path, or ``fallback`` to choose the fallback set;
3. a ``FileUpload`` widget's value, when one is passed (a value cut short is an error);
4. ``my_images/`` beside the notebook, or ``my_images.zip`` there (unpacked into ``my_images/``);
5. the built-in fallback set, only when asked for (``use_fallback=True``, ``TL_COURSE_MY_IMAGES=fallback``)
   or while nbgrader grades (the walkthrough is skipped then).

Otherwise it raises ``ImageFolderError`` saying how to hand the photos over: Run All stops there
instead of training on photos the learner did not choose. The fallback has four classes made
from the course's own datasets (ants and bees from ``hymenoptera_data``, cats and dogs from
``cats_and_dogs_filtered``).

``export_folder`` makes a new ``exports/NAME-TIMESTAMP/`` beside the notebook for each run: the
learner sees it, and a re-run never deletes an earlier one.

``split_without_leakage`` cuts an audited folder (``helpers.image_folder``) into train,
validation and test, stratified by class, keeping every group of near-duplicates (identical
bytes, look-alike copies, bursts) in one split.
"""

from __future__ import annotations

import io
import os
import random
import re
import shutil
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from .config import env_text
from .data import Splits, dataset_spec, fetch_dataset
from .image_folder import FolderAudit, ImageFolderError
from .storage import cache_dir

__all__ = ["choose_image_folder", "export_folder", "split_without_leakage"]

ENV_VARIABLE = "TL_COURSE_MY_IMAGES"
EXPORTS_VARIABLE = "TL_COURSE_EXPORTS"  # where exports go instead of exports/ beside the notebook (tests)
FOLDER_NAME = "my_images"
FALLBACK_WORD = "fallback"
# class name -> (dataset, class folder inside each of its splits)
FALLBACK_CLASSES = {
    "ants": ("hymenoptera_data", "ants"),
    "bees": ("hymenoptera_data", "bees"),
    "cats": ("cats_and_dogs_filtered", "cats"),
    "dogs": ("cats_and_dogs_filtered", "dogs"),
}
HOW_TO_GIVE_PHOTOS = (
    "Put your photos in a folder named my_images beside this notebook ({here}), one subfolder per class "
    "(my_images/robin/, my_images/wren/, ...), then run this cell again. Ways to get them there:\n"
    "- JupyterLab: zip the folder on your computer, name the zip my_images.zip and drag it onto the file browser "
    "on the left (or use its Upload button); large files are sent in chunks. The lesson unpacks it.\n"
    '- On your own machine: type the folder\'s path in MY_IMAGES, e.g. MY_IMAGES = r"C:\\Users\\me\\photos" '
    '(r before the quotes on Windows) or "C:/Users/me/photos", or "/home/me/photos".\n'
    "- Colab: from google.colab import files; files.upload() (choose my_images.zip), or mount Drive "
    "(from google.colab import drive; drive.mount('/content/drive')) and type the folder's path in MY_IMAGES.\n"
    "- Headless: set TL_COURSE_MY_IMAGES=/path/to/photos.\n"
    "No photos yet? Set USE_FALLBACK = True (or TL_COURSE_MY_IMAGES=fallback) to train on the built-in "
    "fallback set of ants, bees, cats and dogs."
)


@dataclass(frozen=True)
class ImageSource:
    root: Path
    origin: str  # "path", "environment", "upload", "folder" (my_images/ beside the notebook) or "fallback"
    description: str
    chosen_by: str = ""  # what chose this source, when it is not the notebook's own settings (MY_IMAGES, USE_FALLBACK)


def choose_image_folder(
    path: str | os.PathLike | None = None,
    upload=None,
    fallback_per_class: int | None = None,
    use_fallback: bool = False,
    here: str | os.PathLike | None = None,
) -> ImageSource:
    """The folder to train on (see the module docstring for the order); ``here`` is the notebook's folder."""
    here = Path(here or Path.cwd())
    if path:
        return _given(str(path), "the path you typed (MY_IMAGES)", "path")
    env = env_text(ENV_VARIABLE) or ""
    if env and env.lower() != FALLBACK_WORD:
        return _given(env, ENV_VARIABLE, "environment", chosen_by=f"the environment variable {ENV_VARIABLE}")
    files = _uploaded_files(upload)
    if files:
        name, content = files[0]
        root = unpack_upload(name, content, cache_dir() / "uploads" / Path(name).stem)
        return ImageSource(root, "upload", f"your upload {name}")
    folder, archive = here / FOLDER_NAME, here / f"{FOLDER_NAME}.zip"
    if folder.is_dir() and any(folder.iterdir()):
        return ImageSource(_class_root(folder), "folder", f"your folder {folder}")
    if archive.is_file():
        return ImageSource(unpack_zip(archive, folder), "folder", f"your zip {archive.name}, unpacked into {folder}")
    if use_fallback or env.lower() == FALLBACK_WORD or env_text("NBGRADER_EXECUTION"):
        root = fallback_image_folder(fallback_per_class)
        description = "the built-in fallback: " + ", ".join(FALLBACK_CLASSES) + " from the course's own datasets"
        return ImageSource(root, "fallback", description, chosen_by=_fallback_chosen_by(use_fallback, env))
    raise ImageFolderError(
        "No photos were given, so the lesson stops here: put them in my_images/ beside this "
        "notebook, or set USE_FALLBACK = True to use the built-in fallback set.\n" + HOW_TO_GIVE_PHOTOS.format(here=here)
    )


def _fallback_chosen_by(use_fallback: bool, env: str) -> str:
    """Why the fallback set is used; empty when the notebook's own USE_FALLBACK = True chose it."""
    if use_fallback:
        return ""
    if env.lower() == FALLBACK_WORD:
        # named without the variable: the course website's run is chosen this way, and its readers set nothing
        return "an environment variable set outside the notebook, as headless runs such as the course website's do"
    return "nbgrader, which grades every submission on the fallback set"


def _given(text: str, where: str, origin: str, chosen_by: str = "") -> ImageSource:
    path = _as_path(text, where)
    if path.is_file() and path.suffix.lower() == ".zip":
        root = unpack_zip(path, cache_dir() / "uploads" / path.stem)
        return ImageSource(root, origin, f"your zip {text}", chosen_by)
    if not path.is_dir():
        raise ImageFolderError(
            f"{path} (from {where}) is not a folder. Give the folder that holds one "
            "subfolder per class, e.g. /home/me/photos with photos/cats/ and photos/dogs/"
            " (or a .zip of it)."
        )
    return ImageSource(path, origin, f"your folder {text}", chosen_by)


_ESCAPES = re.compile(r"[\t\n\r\a\b\f\v]")


def _as_path(text: str, where: str) -> Path:
    """A typed path; Windows paths written with backslashes in a plain string get a hint."""
    if _ESCAPES.search(text):
        # "C:\temp\new" typed without r: Python read \t and \n as a tab and a new line
        raise ImageFolderError(
            f"The path from {where} holds a tab or line break ({text!r}): on Windows, Python reads \\t, \\n, "
            '\\a, \\b, \\f, \\v and \\r in a normal string as special characters. Write r"C:\\Users\\me\\photos" '
            '(r before the quotes) or use forward slashes: "C:/Users/me/photos".'
        )
    if os.name != "nt" and re.match(r"^[A-Za-z]:[\\/]", text):
        raise ImageFolderError(
            f"{text!r} (from {where}) is a Windows path, but this Python runs on "
            f"{'Colab or ' if 'COLAB_RELEASE_TAG' in os.environ else ''}Linux or macOS: give "
            "the folder's path on this machine (upload it first if it is on your own computer)."
        )
    return Path(text).expanduser()


def _uploaded_files(upload) -> list[tuple[str, bytes]]:
    """(name, bytes) of what a ``FileUpload`` widget holds (ipywidgets 8 or 7), or of its value.

    A value cut short (fewer bytes than its ``size``, which the browser reported) raises: the
    server or Colab dropped part of the upload, and training on the fallback instead would hide it.
    """
    value = getattr(upload, "value", upload)
    if not value:
        return []
    if isinstance(value, dict):  # ipywidgets 7: {name: {"content": bytes, "metadata": {"size": ...}}}
        items = [{"name": name, **item, "size": item.get("metadata", {}).get("size")} for name, item in value.items()]
    else:  # ipywidgets 8: tuple of {"name", "size", "content", ...}
        items = list(value)
    files = []
    for item in items:
        content = bytes(item.get("content") or b"")
        size = item.get("size")
        if not content or (size is not None and len(content) < size):
            raise ImageFolderError(
                f"The upload of {item.get('name')!r} arrived cut short ({len(content):,} of {size or '?'} bytes): "
                "the widget sends files over the notebook's connection, which drops large ones (about 10 MB in "
                "JupyterLab, 1 MB on Colab). Use the file browser instead: drag my_images.zip onto it."
            )
        files.append((item["name"], content))
    return files


def unpack_upload(name: str, content: bytes, target: Path) -> Path:
    """Unpack an uploaded zip of a photo folder; return the folder that holds the class folders."""
    if not name.lower().endswith(".zip"):
        raise ImageFolderError(
            f"{name} is not a .zip file. Zip the folder that holds one subfolder per class "
            "(right-click > Compress on most systems) and upload the zip."
        )
    return _unpack(io.BytesIO(content), name, target)


def unpack_zip(archive: Path, target: Path) -> Path:
    """Unpack a zip of a photo folder from disk into ``target`` (read from disk, not into memory)."""
    with open(archive, "rb") as handle:
        return _unpack(handle, archive.name, target)


def _unpack(stream, name: str, target: Path) -> Path:
    try:
        archive = zipfile.ZipFile(stream)
    except zipfile.BadZipFile as err:
        raise ImageFolderError(
            f"{name} is not a valid zip file ({err}): zip the folder again and re-upload "
            "(an upload that did not finish leaves a broken zip)."
        ) from err
    for member in archive.infolist():
        destination = (target / member.filename).resolve()
        if target.resolve() not in destination.parents and destination != target.resolve():
            raise ImageFolderError(f"{name} holds a path outside its folder ({member.filename}): not unpacked.")
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    archive.extractall(target)
    return _class_root(target)


def _class_root(folder: Path) -> Path:
    """The folder itself, or its only subfolder when a zip held the folder rather than its contents."""
    entries = [p for p in folder.iterdir() if p.name.lower() != "__macosx" and not p.name.startswith(".")]
    if len(entries) == 1 and entries[0].is_dir():
        return entries[0]
    return folder


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
            photos = sorted(
                p for split in (spec.train_split, spec.val_split) for p in (root / split / folder).iterdir() if p.is_file()
            )
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


def export_folder(name: str, here: str | os.PathLike | None = None) -> Path:
    """A new, empty ``exports/NAME-YYYYMMDD-HHMMSS/`` beside the notebook (or under ``TL_COURSE_EXPORTS``).

    Never reuses or deletes a folder: a re-run (on the fallback, say) leaves the learner's earlier
    model where it was.
    """
    base = Path(env_text(EXPORTS_VARIABLE) or Path(here or Path.cwd()) / "exports")
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_") or "model"
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for attempt in range(1, 1000):
        folder = base / (f"{safe}-{stamp}" if attempt == 1 else f"{safe}-{stamp}-{attempt}")
        try:
            folder.mkdir(parents=True)  # fails if it exists: never overwrite an export
            return folder
        except FileExistsError:
            continue
    raise ImageFolderError(f"Could not make a new export folder in {base}: remove old exports you no longer need.")


def split_without_leakage(audit: FolderAudit, val_fraction: float = 0.2, test_fraction: float = 0.2, seed: int = 0) -> Splits:
    """Train / validation / test samples ``(path, label)``, stratified by class.

    Each class gets about ``test_fraction`` and ``val_fraction`` of its photos (at least one
    each) for testing and validation, the rest for training. Each group of near-duplicates
    (identical bytes, look-alike copies, bursts: ``audit.near_duplicates``) is one unit: it lands
    in one split, so the test set never holds a copy of a training photo.
    """
    if not 0 < val_fraction + test_fraction < 1:
        raise ValueError(f"val_fraction + test_fraction must be between 0 and 1, got {val_fraction + test_fraction}")
    audit.check_trainable()
    groups = [list(g.paths) for g in audit.near_duplicates] + audit.duplicates
    unit_of = {path: min(group) for group in groups for path in group}
    rng = random.Random(seed)
    parts: dict[str, list] = {"train": [], "val": [], "test": []}
    for label, cls in enumerate(audit.classes):
        units: dict[Path, list[Path]] = {}
        for path, owner in audit.usable:
            if owner == cls:
                units.setdefault(unit_of.get(path, path), []).append(path)
        if len(units) < 3:  # one unit each for training, validation and test at the very least
            raise ImageFolderError(
                f"Class {cls!r}: its {sum(len(f) for f in units.values())} photos form only {len(units)} group(s) of "
                "the same scene (copies, look-alikes, or bursts shot within seconds of each other), so they cannot "
                "be split into training, validation and test without leakage. Add photos of other scenes, taken "
                "at other times, to its folder."
            )
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

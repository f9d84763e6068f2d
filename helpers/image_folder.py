"""Audit a folder of your own photos before training on it: what is usable, what is not, and why.

The folder holds one subfolder per class (``birds/robin/...``, ``birds/wren/...``); photos may
sit in deeper subfolders of their class. ``audit_image_folder(root)`` opens every file once and
reports:

- ``usable``: (path, class) pairs that decode as images, in any format Pillow reads (JPEG,
  PNG, BMP, WebP, GIF (first frame), TIFF) and HEIC/HEIF (iPhone photos, with ``pillow-heif``),
  with upper- or lower-case extensions;
- ``skipped``: path -> the reason, for empty, truncated or corrupt files, files that are not
  images (``notes.txt``, ``.DS_Store``, ``Thumbs.db``), RAW photos, files outside a class
  folder, photos found in two classes, and every photo of a class too small to train on;
- ``notes``: path -> what loading fixes silently (EXIF rotation, CMYK / 16-bit / palette /
  transparency converted to RGB, animated files cut to their first frame, huge photos
  downscaled);
- ``duplicates``: groups of byte-identical files of one class;
- ``near_duplicates``: groups of photos of one class that are the same scene: identical bytes, a
  perceptual hash within ``HASH_THRESHOLD`` bits (resized, re-encoded, lightly cropped copies) or
  an EXIF capture time within ``BURST_SECONDS`` (bursts) (``helpers.near_duplicates``). A
  leakage-free split keeps each group in one split (``helpers.my_images.split_without_leakage``);
- per-class counts, the imbalance between classes and the majority baseline (the accuracy of
  always answering the largest class).

Loading itself is ``helpers.standalone_predict.load_rgb``: the same code reads the photos
for training and after the model is shipped.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .errors import CourseError
from .near_duplicates import Fingerprint, NearDuplicateGroup, capture_time, fingerprint, group_near_duplicates
from .standalone_predict import HEIF_EXTENSIONS, MAX_SIDE, heif_support, load_rgb

__all__: list[str] = []  # nothing here is for lessons (see the package docstring)

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".jpe", ".png", ".bmp", ".webp", ".gif", ".tif", ".tiff") + HEIF_EXTENSIONS
SYSTEM_FILES = {".ds_store", "thumbs.db", "desktop.ini", "icon\r"}
SYSTEM_FOLDERS = {"__macosx", ".ipynb_checkpoints", ".git", ".thumbnails", "@eadir"}
NEEDS_CONVERSION = {
    ".avif": "AVIF",
    ".dng": "RAW",
    ".cr2": "RAW",
    ".nef": "RAW",
    ".arw": "RAW",
}
# 10 photos give 2 for validation, 2 for testing and 6 for training with the default fractions
MIN_IMAGES_PER_CLASS = 10
IMBALANCE_WARNING_RATIO = 2.0  # largest class / smallest class

REASON_EMPTY = "empty file (0 bytes)"
REASON_SYSTEM = "system file, not a photo"
REASON_SYSTEM_FOLDER = "inside a hidden or system folder"
REASON_NOT_IMAGE = "not an image file"
REASON_UNREADABLE = "truncated or corrupt image"
REASON_TOO_LARGE = "too large to decode safely"
REASON_NO_CLASS = "not inside a class folder"
REASON_CONFLICT = "the same photo is in several classes"
REASON_TOO_FEW = "its class has too few photos"


class ImageFolderError(CourseError):
    """The folder cannot be trained on as it is; the message says what to change."""


@dataclass
class FolderAudit:
    """What ``audit_image_folder`` found. Display it in a notebook to see the tables."""

    root: Path
    classes: list[str]  # the classes that can be trained on, sorted
    usable: list[tuple[Path, str]]  # (path, class) of every photo kept
    skipped: dict[Path, str]  # path -> why it is not used
    duplicates: list[list[Path]]  # groups of byte-identical usable files (one class each)
    notes: dict[Path, str] = field(default_factory=dict)  # path -> what loading fixes
    digests: dict[Path, str] = field(default_factory=dict, repr=False)  # path -> sha256
    near_duplicates: list[NearDuplicateGroup] = field(default_factory=list)  # same scene, one class each
    fingerprints: dict[Path, Fingerprint] = field(default_factory=dict, repr=False)
    sizes: dict[Path, tuple[int, int]] = field(default_factory=dict, repr=False)  # upright (width, height) as loaded
    too_few: dict[str, int] = field(default_factory=dict)  # class -> usable photos, below the minimum
    min_per_class: int = MIN_IMAGES_PER_CLASS

    @property
    def counts(self) -> dict[str, int]:
        found = Counter(cls for _, cls in self.usable)
        return {cls: found[cls] for cls in self.classes}

    @property
    def majority_class(self) -> str:
        counts = self.counts
        return max(counts, key=counts.get)

    @property
    def majority_baseline(self) -> float:
        """Accuracy of always answering the largest class: the score any model must beat."""
        return self.counts[self.majority_class] / max(len(self.usable), 1)

    @property
    def imbalance_ratio(self) -> float:
        counts = self.counts
        return max(counts.values()) / max(min(counts.values()), 1)

    def problems(self) -> list[str]:
        """Sentences about what needs the learner's attention (empty when all is well)."""
        lines = []
        for cls, count in self.too_few.items():
            lines.append(
                f"Class {cls!r} has {count} usable photo(s); at least {self.min_per_class} are needed "
                "(some for validation, some for testing, the rest for training). It is left out: add "
                "photos to its folder, or remove the folder."
            )
        if len(self.classes) >= 2 and self.imbalance_ratio >= IMBALANCE_WARNING_RATIO:
            counts = self.counts
            smallest = min(counts, key=counts.get)
            lines.append(
                f"Classes are imbalanced: {self.majority_class!r} has {counts[self.majority_class]} photos, "
                f"{smallest!r} {counts[smallest]} ({self.imbalance_ratio:.1f} to 1). Always answering "
                f"{self.majority_class!r} scores {self.majority_baseline:.3f}: compare accuracy with that, "
                "and read the per-class recall."
            )
        if self.duplicates:
            copies = sum(len(group) for group in self.duplicates)
            lines.append(
                f"{copies} files are exact copies ({len(self.duplicates)} group(s)); each group is kept in "
                "one split so that a test photo is never also a training photo."
            )
        near = [g for g in self.near_duplicates if g.why != "identical bytes"]
        if near:
            lines.append(
                f"{sum(len(g.paths) for g in near)} photos are near-duplicates ({len(near)} group(s): resized, "
                "re-saved or cropped copies, or bursts shot seconds apart). Each group is kept in one split; "
                "the model still sees fewer really different photos than the count suggests."
            )
        return lines

    def check_trainable(self) -> None:
        """Raise an ``ImageFolderError`` naming the fix when fewer than two classes are usable."""
        if len(self.classes) >= 2:
            return
        found = ", ".join(f"{cls} ({n})" for cls, n in {**self.counts, **self.too_few}.items()) or "none"
        raise ImageFolderError(
            f"{self.root} has {len(self.classes)} class(es) with at least {self.min_per_class} usable "
            f"photos (classes found, with usable photos: {found}). A classifier needs two or more: "
            "put one subfolder per class in the folder, each with at least "
            f"{self.min_per_class} photos, and run the audit again."
        )

    def _largest_share(self) -> str:
        """The folder's largest class and its share; on a tie every tied class, never an arbitrary one (review 5, B4)."""
        counts, share = self.counts, self.majority_baseline
        largest = [cls for cls, n in counts.items() if n == counts[self.majority_class]]
        if len(largest) == len(counts):
            said = f"the classes are balanced ({counts[largest[0]]} photos each, {share:.3f} of the folder each)"
        elif len(largest) > 1:
            names = ", ".join(repr(cls) for cls in largest[:-1]) + f" and {largest[-1]!r}"
            said = f"the largest classes, {names}, hold {share:.3f} of the folder each"
        else:
            said = f"the largest class, {largest[0]!r}, holds {share:.3f} of the folder"
        return said + " (the majority baseline comes later, from the training labels)."

    def summary_markdown(self, max_rows: int = 15) -> str:
        """The audit as Markdown tables: classes, skipped files, fixed files, problems."""
        counts = self.counts
        dup_by_class = Counter(self._class_of(group[0]) for group in self.duplicates)
        near_by_class = Counter(self._class_of(group.paths[0]) for group in self.near_duplicates)
        lines = ["| class | usable photos | groups of exact copies | groups of near-duplicates |", "|---|---:|---:|---:|"]
        lines += [f"| {cls} | {counts[cls]} | {dup_by_class.get(cls, 0)} | {near_by_class.get(cls, 0)} |" for cls in self.classes]
        lines += [f"| {cls} (left out) | {n} | - | - |" for cls, n in self.too_few.items()]
        text = "\n".join(lines)
        if self.classes:
            text += f"\n\n{len(self.usable)} usable photos in {len(self.classes)} classes; " + self._largest_share()
        for title, table in (("Skipped", self.skipped), ("Fixed while loading", self.notes)):
            if table:
                text += f"\n\n**{title}: {len(table)} file(s)**\n\n| file | why |\n|---|---|\n"
                rows = sorted(table.items())
                text += "\n".join(f"| `{self._relative(p)}` | {why} |" for p, why in rows[:max_rows])
                if len(rows) > max_rows:
                    text += f"\n| ... | and {len(rows) - max_rows} more |"
        if self.near_duplicates:
            text += (
                f"\n\n**Same scene: {len(self.near_duplicates)} group(s)**, each kept in one split\n\n"
                "| photos | why |\n|---|---|\n"
            )
            text += "\n".join(
                f"| {', '.join(f'`{self._relative(p)}`' for p in g.paths[:4])}{' ...' if len(g.paths) > 4 else ''} | {g.why} |"
                for g in self.near_duplicates[:max_rows]
            )
            if len(self.near_duplicates) > max_rows:
                text += f"\n| ... | and {len(self.near_duplicates) - max_rows} more groups |"
        for line in self.problems():
            text += f"\n\n**Note.** {line}"
        return text

    def _repr_markdown_(self) -> str:
        return self.summary_markdown()

    def _relative(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root)).replace("|", "\\|")
        except ValueError:
            return str(path)

    def _class_of(self, path: Path) -> str:
        return Path(path).relative_to(self.root).parts[0]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def inspect_photo(path: Path, max_side: int = MAX_SIDE) -> tuple[str | None, str]:
    """``(skip reason or None, note)`` for one file: decodes it fully, as training will."""
    reason, note, _, _ = _inspect(path, max_side)
    return reason, note


def _inspect(path: Path, max_side: int = MAX_SIDE):
    """``inspect_photo`` plus the photo's fingerprint (perceptual hash, capture time) and upright size, from one
    decode: ``(reason, note, fingerprint, size)``."""
    from PIL import Image

    name = path.name.lower()
    suffix = path.suffix.lower()
    if name in SYSTEM_FILES or name.startswith("._") or name.startswith("."):
        return REASON_SYSTEM, "", None, None
    if suffix in NEEDS_CONVERSION:
        kind = NEEDS_CONVERSION[suffix]
        return f"{REASON_NOT_IMAGE}: {kind} photos need an extra package; export them as JPEG", "", None, None
    if suffix not in IMAGE_EXTENSIONS:
        return f"{REASON_NOT_IMAGE} ({suffix or 'no extension'})", "", None, None
    if suffix in HEIF_EXTENSIONS and not heif_support():
        return f"{REASON_NOT_IMAGE}: HEIC photos need pillow-heif (pip install pillow-heif==1.9.0)", "", None, None
    if path.stat().st_size == 0:
        return REASON_EMPTY, "", None, None
    notes = []
    try:
        with Image.open(path) as img:
            mode, size, frames = img.mode, img.size, getattr(img, "n_frames", 1)
            orientation = img.getexif().get(0x0112, 1)  # EXIF Orientation
            taken, camera = capture_time(img)
        loaded = load_rgb(path, max_side)
    except Image.DecompressionBombError as err:
        return f"{REASON_TOO_LARGE} ({err})", "", None, None
    except (OSError, ValueError, SyntaxError, EOFError) as err:
        return f"{REASON_UNREADABLE} ({type(err).__name__}: {str(err)[:80]})", "", None, None
    if orientation not in (1, None):
        notes.append(f"rotated upright (EXIF orientation {orientation})")
    if mode != "RGB":
        notes.append(f"{mode} converted to RGB")
    if frames > 1:
        notes.append(f"first of {frames} frames")
    if max(size) > max_side:
        notes.append(f"downscaled from {size[0]}x{size[1]} to {loaded.size[0]}x{loaded.size[1]}")
    return None, "; ".join(notes), fingerprint(loaded, taken, camera), loaded.size


def audit_image_folder(root, min_per_class: int = MIN_IMAGES_PER_CLASS) -> FolderAudit:
    """Audit a folder with one subfolder per class (see the module docstring)."""
    root = Path(root).expanduser()
    if not root.is_dir():
        raise ImageFolderError(
            f"{root} is not a folder. Give the path of a folder that holds one subfolder per class "
            "(e.g. photos/cats/, photos/dogs/)."
        )
    candidates: list[tuple[Path, str]] = []
    skipped: dict[Path, str] = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        parts = path.relative_to(root).parts
        if any(part.lower() in SYSTEM_FOLDERS or part.startswith(".") for part in parts[:-1]):
            skipped[path] = REASON_SYSTEM_FOLDER
        elif len(parts) == 1:
            skipped[path] = REASON_NO_CLASS
        else:
            candidates.append((path, parts[0]))

    usable: list[tuple[Path, str]] = []
    notes: dict[Path, str] = {}
    fingerprints: dict[Path, Fingerprint] = {}
    sizes: dict[Path, tuple[int, int]] = {}
    for path, cls in candidates:
        reason, note, print_, size = _inspect(path)
        if reason:
            skipped[path] = reason
            continue
        usable.append((path, cls))
        fingerprints[path], sizes[path] = print_, size
        if note:
            notes[path] = note

    digests = {path: _sha256(path) for path, _ in usable}
    by_digest: dict[str, list[tuple[Path, str]]] = {}
    for path, cls in usable:
        by_digest.setdefault(digests[path], []).append((path, cls))
    duplicates = []
    for group in by_digest.values():
        classes = sorted({cls for _, cls in group})
        if len(classes) > 1:  # the label is unknown: never train or test on it
            for path, _ in group:
                skipped[path] = f"{REASON_CONFLICT} ({', '.join(classes)})"
        elif len(group) > 1:
            duplicates.append(sorted(path for path, _ in group))
    usable = [(p, c) for p, c in usable if p not in skipped]

    counts = Counter(cls for _, cls in usable)
    class_folders = {
        p.name for p in root.iterdir() if p.is_dir() and p.name.lower() not in SYSTEM_FOLDERS and not p.name.startswith(".")
    }
    too_few = {cls: counts[cls] for cls in sorted(class_folders | set(counts)) if counts[cls] < min_per_class}
    for path, cls in usable:
        if cls in too_few:
            skipped[path] = f"{REASON_TOO_FEW}: {too_few[cls]} usable, at least {min_per_class} needed"
    usable = [(p, c) for p, c in usable if c not in too_few]
    duplicates = [group for group in duplicates if group[0] not in skipped]
    kept = {p: c for p, c in usable}
    fingerprints = {p: f for p, f in fingerprints.items() if p in kept}
    near_duplicates = group_near_duplicates(fingerprints, kept, digests)
    return FolderAudit(
        root=root,
        classes=sorted(counts.keys() - too_few.keys()),
        usable=usable,
        skipped=dict(sorted(skipped.items())),
        duplicates=sorted(duplicates),
        notes={p: n for p, n in notes.items() if p not in skipped},
        digests={p: d for p, d in digests.items() if p not in skipped},
        near_duplicates=near_duplicates,
        fingerprints=fingerprints,
        sizes={p: sizes[p] for p in fingerprints},
        too_few=too_few,
        min_per_class=min_per_class,
    )

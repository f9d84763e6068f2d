"""Near-duplicate photos: the same scene saved twice, resized, re-encoded, lightly cropped, or shot in a burst.

Phone folders leak through near-duplicates far more than through byte-identical copies: a photo
and its resized copy, or three shots of one burst, are different files. If one lands in training
and another in the test set, the test measures memory. Two signals group them, within a class:

- a **perceptual hash** (``imagehash.phash``: 64 bits from the low frequencies of the photo's DCT)
  of the upright photo; two photos whose hashes differ in at most ``HASH_THRESHOLD`` bits look
  alike. The threshold is measured (``measure_threshold``, figures beside ``HASH_THRESHOLD``);
- the **capture time** (EXIF ``DateTimeOriginal``): photos taken within ``BURST_SECONDS`` of each
  other by the same camera are a burst, however different they look.

``group_near_duplicates`` joins photos linked by either signal (or by identical bytes) into
groups; ``helpers.my_images.split_without_leakage`` keeps each group in one split.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

__all__: list[str] = []  # used by helpers.my_images and helpers.data, not by the lessons directly

# Measured with ``tests/capstone_measurements.py`` (2026-12-06, 794 fallback photos, 60 originals
# altered 5 ways): at 12 bits every copy resized to 50 %, re-encoded at JPEG quality 40, brightened 20 %
# or cropped 3 % per side is grouped with its original (60/60 each), and 34/60 of those cropped 6 % per
# side; 0 of the 78,421 pairs of different photos of one class are merged (false-merge rate 0, no photo
# merged). At 14 bits 4 pairs (1 % of the photos) merge; at 18 bits 23 % of the photos would.
HASH_THRESHOLD = 12
BURST_SECONDS = 2.0  # phones shoot bursts at 3-10 frames per second; 2 s keeps a burst together


@dataclass(frozen=True)
class Fingerprint:
    phash: object  # imagehash.ImageHash
    taken: datetime | None  # EXIF DateTimeOriginal, when the photo has one
    camera: str  # EXIF make and model ("" when absent): bursts come from one camera


@dataclass(frozen=True)
class NearDuplicateGroup:
    paths: tuple[Path, ...]
    why: str  # "identical bytes", "look alike (hash distance <= N)", "burst (taken within N s)", or several


def capture_time(image) -> tuple[datetime | None, str]:
    """(EXIF capture time, camera) of an opened Pillow image; (None, "") when it has none."""
    try:
        exif = image.getexif()
    except Exception:  # a broken EXIF block must not stop the audit
        return None, ""
    camera = " ".join(str(exif.get(tag, "")).strip("\x00 ") for tag in (0x010F, 0x0110)).strip()  # Make, Model
    raw = exif.get_ifd(0x8769).get(0x9003) or exif.get(0x0132)  # DateTimeOriginal, else DateTime
    if not raw:
        return None, camera
    try:
        return datetime.strptime(str(raw).strip("\x00 ")[:19], "%Y:%m:%d %H:%M:%S"), camera
    except ValueError:
        return None, camera


def fingerprint(upright_rgb, taken: datetime | None = None, camera: str = "") -> Fingerprint:
    """The perceptual hash of an upright RGB photo (as ``load_rgb`` returns it), with its capture time."""
    import imagehash

    return Fingerprint(imagehash.phash(upright_rgb), taken, camera)


def hash_distance(a: Fingerprint, b: Fingerprint) -> int:
    return int(a.phash - b.phash)  # Hamming distance of the 64-bit hashes


def group_near_duplicates(
    fingerprints: dict[Path, Fingerprint],
    classes: dict[Path, str],
    digests: dict[Path, str] | None = None,
    threshold: int = HASH_THRESHOLD,
    burst_seconds: float = BURST_SECONDS,
) -> list[NearDuplicateGroup]:
    """Groups (two or more photos, one class each) linked by identical bytes, look or capture time."""
    parent = {path: path for path in fingerprints}
    reasons: dict[Path, set[str]] = {}

    def root(path):
        while parent[path] != path:
            parent[path] = parent[parent[path]]
            path = parent[path]
        return path

    def join(a, b, why):
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
            reasons.setdefault(min(ra, rb), set()).update(reasons.pop(max(ra, rb), set()))
        reasons.setdefault(root(a), set()).add(why)

    by_class: dict[str, list[Path]] = {}
    for path in sorted(fingerprints):
        by_class.setdefault(classes[path], []).append(path)
    for paths in by_class.values():
        # all pairs: a few hundred photos per class are a few tens of thousands of 64-bit XORs
        for a, b in itertools.combinations(paths, 2):
            fa, fb = fingerprints[a], fingerprints[b]
            if digests and digests.get(a) is not None and digests.get(a) == digests.get(b):
                join(a, b, "identical bytes")
            elif hash_distance(fa, fb) <= threshold:
                join(a, b, f"look alike (hash distance <= {threshold})")
            elif fa.taken and fb.taken and fa.camera == fb.camera and abs((fa.taken - fb.taken).total_seconds()) <= burst_seconds:
                join(a, b, f"burst (taken within {burst_seconds:g} s)")
    groups: dict[Path, list[Path]] = {}
    for path in fingerprints:
        groups.setdefault(root(path), []).append(path)
    return sorted(
        (
            NearDuplicateGroup(tuple(sorted(members)), ", ".join(sorted(reasons.get(key, ()))))
            for key, members in groups.items()
            if len(members) > 1
        ),
        key=lambda g: g.paths,
    )


def altered_copies(image):
    """What a phone folder does to a photo: (name, altered copy) pairs, for the measurement."""
    import io

    from PIL import Image, ImageEnhance

    width, height = image.size
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=40)

    def crop(share):
        cut_w, cut_h = round(width * share), round(height * share)
        return image.crop((cut_w, cut_h, width - cut_w, height - cut_h))

    return [
        ("resized to 50 %", image.resize((max(1, width // 2), max(1, height // 2)))),
        ("re-encoded, JPEG quality 40", Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")),
        ("brightened 20 %", ImageEnhance.Brightness(image).enhance(1.2)),
        ("cropped 3 % per side", crop(0.03)),
        ("cropped 6 % per side", crop(0.06)),
    ]


def measure_threshold(fallback_root: Path, originals: int = 60, seed: int = 0) -> dict:
    """Hash distances of altered copies (must group) and of different photos (must not), on real photos.

    Returns the largest copy distance per alteration, and for each threshold from 0 to 20 the share of
    copies grouped and the false-merge rate: the share of pairs of different photos of one class of the
    fallback set that the threshold would group (and the share of photos merged with at least one other).
    """
    import random

    from .standalone_predict import load_rgb

    photos = sorted(p for p in Path(fallback_root).rglob("*") if p.is_file())
    images = {p: load_rgb(p) for p in photos}
    hashes = {p: fingerprint(img) for p, img in images.items()}
    chosen = random.Random(seed).sample(photos, min(originals, len(photos)))
    copy_distances: dict[str, list[int]] = {}
    for path in chosen:
        for name, copy in altered_copies(images[path]):
            copy_distances.setdefault(name, []).append(hash_distance(hashes[path], fingerprint(copy)))
    pair_distances, nearest = [], {}
    for a, b in itertools.combinations(photos, 2):
        if a.parent == b.parent:  # same class: where the split would merge them
            d = hash_distance(hashes[a], hashes[b])
            pair_distances.append(d)
            nearest[a] = min(nearest.get(a, 64), d)
            nearest[b] = min(nearest.get(b, 64), d)
    every_copy = [d for ds in copy_distances.values() for d in ds]
    table = {
        t: {
            "copies_grouped": sum(d <= t for d in every_copy) / len(every_copy),
            **{f"grouped: {name}": sum(d <= t for d in ds) / len(ds) for name, ds in copy_distances.items()},
            "false_merge_pairs": sum(d <= t for d in pair_distances) / len(pair_distances),
            "photos_merged": sum(d <= t for d in nearest.values()) / len(nearest),
        }
        for t in range(0, 21)
    }
    return {
        "photos": len(photos),
        "pairs": len(pair_distances),
        "originals": len(chosen),
        "max_copy_distance": {name: max(ds) for name, ds in copy_distances.items()},
        "by_threshold": table,
    }

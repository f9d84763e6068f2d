"""A photo folder as messy as a real one, built from synthetic images, with what the audit must say.

Two trainable classes, ``red`` (many photos) and ``blue`` (fewer: imbalance), whose
photos are noisy blobs of their colour, plus one file or folder for every problem the audit
handles: real HEIC photos (written by pillow-heif, one rotated by EXIF), near-duplicates (a
scene resized, re-encoded and cropped) and a burst (three shots one second apart, by EXIF).
``EXPECTED_SKIPS`` maps each bad file to a fragment of the reason it must get;
``EXPECTED_NOTES`` each fixed file to a fragment of its note; ``NEAR_DUPLICATE_GROUPS`` the
groups the audit must find.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
from PIL import Image

RED, BLUE = 32, 13  # usable photos per class, counting the copies below

EXPECTED_SKIPS = {
    "red/notes.txt": "not an image file (.txt)",
    "red/.DS_Store": "system file",
    "blue/Thumbs.db": "system file",
    "red/empty.jpg": "empty file (0 bytes)",
    "red/truncated.jpg": "truncated or corrupt",
    "red/IMG_0042.HEIC": "truncated or corrupt",  # a HEIC header and nothing else
    "red/readme.md": "not an image file (.md)",
    "red/__MACOSX/._photo.jpg": "hidden or system folder",
    "labels.csv": "not inside a class folder",
    "red/in_both_classes.jpg": "the same photo is in several classes (blue, red)",
    "blue/in_both_classes_copy.jpg": "the same photo is in several classes (blue, red)",
    "rare/rare_0.jpg": "too few photos: 3 usable, at least 10 needed",
}
EXPECTED_NOTES = {
    "red/rgba.png": "RGBA converted to RGB",
    "red/la.png": "LA converted to RGB",
    "red/palette.png": "P converted to RGB",
    "red/cmyk.jpg": "CMYK converted to RGB",
    "red/sixteen_bit.png": "converted to RGB",  # Pillow names the mode I;16 or I
    "red/grey.jpg": "L converted to RGB",
    "red/animated.gif": "first of 2 frames",
    "red/rotated.jpg": "rotated upright (EXIF orientation 6)",
    "red/huge.jpg": "downscaled from 4800x3600",
}
DUPLICATE_GROUP = ["red/nested/deeper/copy_a.jpg", "red/photo_00.jpg"]
NEAR_DUPLICATE_GROUPS = {
    "identical bytes": DUPLICATE_GROUP,
    "look alike": ["red/scene.jpg", "red/scene_cropped.jpg", "red/scene_q30.jpg", "red/scene_small.jpg"],
    "converted copy": ["red/la.png", "red/rgba.png"],  # one picture, saved grey and with transparency
    "burst": ["red/burst_1.jpg", "red/burst_2.jpg", "red/burst_3.jpg"],
}
HEIC_FILES = ["red/IMG_0100.HEIC", "blue/IMG_0200.heic"]  # IMG_0100 is 160x80 stored, 80x160 upright


def blob(colour: str, seed: int, size=(64, 48)) -> np.ndarray:
    """A noisy image dominated by one colour channel: easy to classify, never byte-identical."""
    rng = np.random.default_rng(seed)
    array = rng.integers(0, 90, (size[1], size[0], 3), dtype=np.uint8)
    channel = {"red": 0, "blue": 2}[colour]
    array[..., channel] = rng.integers(150, 256, (size[1], size[0]), dtype=np.uint8)
    return array


def scene(colour: str, seed: int, size=(240, 180)) -> np.ndarray:
    """A smooth random picture (a few soft blobs) of one colour: a photo has structure, not only noise."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(0, 256, (5, 6, 3)).astype(np.uint8)
    coarse[..., {"red": 0, "blue": 2}[colour]] = rng.integers(160, 256, (5, 6))
    smooth = np.asarray(Image.fromarray(coarse).resize(size, Image.Resampling.BICUBIC))
    return np.clip(smooth.astype(int) + rng.integers(-8, 9, smooth.shape), 0, 255).astype(np.uint8)


def _exif(taken: str | None = None, orientation: int | None = None) -> bytes:
    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Apple", "iPhone 13"  # Make, Model
    if orientation:
        exif[0x0112] = orientation
    if taken:
        exif.get_ifd(0x8769)[0x9003] = taken  # DateTimeOriginal
    return exif.tobytes()


def _save_heic(array, path: Path, **kwargs) -> Path:
    import pillow_heif

    pillow_heif.register_heif_opener()
    return _save(array, path, quality=85, **kwargs)


def _save(array, path: Path, **kwargs) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path, **kwargs)
    return path


def build_messy_folder(root: Path) -> Path:
    root = Path(root)
    red, blue = root / "red", root / "blue"
    # plain photos (upper-case extensions and a nested subfolder among them)
    for i in range(10):
        _save(blob("red", i), red / f"photo_{i:02d}.jpg")
    _save(blob("red", 100), red / "IMG_0001.JPG")
    _save(blob("red", 101), red / "nested" / "deeper" / "IMG_0002.JPEG")
    shutil.copy(red / "photo_00.jpg", red / "nested" / "deeper" / "copy_a.jpg")  # exact duplicate
    _save(blob("red", 102), red / "bitmap.bmp")
    _save(blob("red", 103), red / "web.webp")
    # modes that must be converted to RGB
    rgb = blob("red", 104)
    alpha = np.full(rgb.shape[:2] + (1,), 128, np.uint8)
    _save(np.concatenate([rgb, alpha], axis=2), red / "rgba.png")
    Image.fromarray(rgb).convert("LA").save(red / "la.png")
    palette = Image.fromarray(blob("red", 105)).convert("P", palette=Image.Palette.ADAPTIVE)
    palette.save(red / "palette.png", transparency=0)
    Image.fromarray(blob("red", 106)).convert("CMYK").save(red / "cmyk.jpg")
    sixteen = blob("red", 107)[..., 0].astype(np.uint16) * 257
    Image.fromarray(sixteen).save(red / "sixteen_bit.png")
    Image.fromarray(blob("red", 108)).convert("L").save(red / "grey.jpg")
    frames = [Image.fromarray(blob("red", 109)), Image.fromarray(blob("blue", 110))]
    frames[0].save(red / "animated.gif", save_all=True, append_images=frames[1:], duration=100)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    _save(blob("red", 111, size=(80, 40)), red / "rotated.jpg", exif=exif)
    _save(np.asarray(Image.fromarray(blob("red", 112)).resize((4800, 3600))), red / "huge.jpg", quality=70)
    # near-duplicates: one scene saved four ways, and a burst of three different shots 1 s apart
    original = Image.fromarray(scene("red", 500))
    original.save(red / "scene.jpg", quality=92)
    original.resize((120, 90)).save(red / "scene_small.jpg", quality=92)
    original.save(red / "scene_q30.jpg", quality=30)
    original.crop((7, 5, 233, 175)).save(red / "scene_cropped.jpg", quality=92)  # 3 % off each side
    for i in range(1, 4):
        _save(scene("red", 600 + i), red / f"burst_{i}.jpg", exif=_exif(f"2024:05:01 10:00:0{i}"))
    # an iPhone photo stored sideways (EXIF orientation 6), and a plain one in the other class
    _save_heic(scene("red", 700, size=(160, 80)), red / "IMG_0100.HEIC", exif=_exif("2024:05:01 11:00:00", 6))
    assert len([p for p in red.rglob("*") if p.is_file()]) == RED

    for i in range(BLUE - 1):
        _save(blob("blue", 200 + i), blue / f"blue_{i:02d}.png")
    _save_heic(scene("blue", 800), blue / "IMG_0200.heic", exif=_exif("2024:05:02 09:00:00"))
    # bad files
    (red / "notes.txt").write_text("photos from my phone")
    (root / "labels.csv").write_text("file,label\n")
    (red / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (blue / "Thumbs.db").write_bytes(b"\xd0\xcf\x11\xe0")
    (red / "empty.jpg").write_bytes(b"")
    whole = (red / "photo_01.jpg").read_bytes()
    (red / "truncated.jpg").write_bytes(whole[: len(whole) // 2])
    (red / "IMG_0042.HEIC").write_bytes(b"\x00\x00\x00\x18ftypheic" + bytes(64))
    (red / "readme.md").write_text("# my photos")
    _save(blob("red", 113), red / "__MACOSX" / "._photo.jpg")
    _save(blob("red", 114), red / "in_both_classes.jpg")
    shutil.copy(red / "in_both_classes.jpg", blue / "in_both_classes_copy.jpg")
    for i in range(3):
        _save(blob("blue", 300 + i), root / "rare" / f"rare_{i}.jpg")
    return root

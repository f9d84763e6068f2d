"""A photo folder as messy as a real one, built from synthetic images, with what the audit must say.

Two trainable classes, ``red`` (many photos) and ``blue`` (half as many: imbalance), whose
photos are noisy blobs of their colour, plus one file or folder for every problem the audit
handles. ``EXPECTED_SKIPS`` maps each bad file to a fragment of the reason it must get;
``EXPECTED_NOTES`` each fixed file to a fragment of its note.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
from PIL import Image

RED, BLUE = 24, 12  # usable photos per class, counting the copies below

EXPECTED_SKIPS = {
    "red/notes.txt": "not an image file (.txt)",
    "red/.DS_Store": "system file",
    "blue/Thumbs.db": "system file",
    "red/empty.jpg": "empty file (0 bytes)",
    "red/truncated.jpg": "truncated or corrupt",
    "red/IMG_0042.HEIC": "HEIC photos need an extra package",
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


def blob(colour: str, seed: int, size=(64, 48)) -> np.ndarray:
    """A noisy image dominated by one colour channel: easy to classify, never byte-identical."""
    rng = np.random.default_rng(seed)
    array = rng.integers(0, 90, (size[1], size[0], 3), dtype=np.uint8)
    channel = {"red": 0, "blue": 2}[colour]
    array[..., channel] = rng.integers(150, 256, (size[1], size[0]), dtype=np.uint8)
    return array


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
    sixteen = (blob("red", 107)[..., 0].astype(np.uint16) * 257)
    Image.fromarray(sixteen).save(red / "sixteen_bit.png")
    Image.fromarray(blob("red", 108)).convert("L").save(red / "grey.jpg")
    frames = [Image.fromarray(blob("red", 109)), Image.fromarray(blob("blue", 110))]
    frames[0].save(red / "animated.gif", save_all=True, append_images=frames[1:], duration=100)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    _save(blob("red", 111, size=(80, 40)), red / "rotated.jpg", exif=exif)
    _save(np.asarray(Image.fromarray(blob("red", 112)).resize((4800, 3600))), red / "huge.jpg", quality=70)
    assert len([p for p in red.rglob("*") if p.is_file()]) == RED

    for i in range(BLUE):
        _save(blob("blue", 200 + i), blue / f"blue_{i:02d}.png")
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

"""Predict with an exported course model: ``predict(path) -> (class, probability)``.

This file is shipped as ``predict.py`` beside an exported model (``model.pt2``, written by
``torch.export``) and its ``labels.json``, so it must run in a fresh Python that has only
torch and torchvision (and Pillow, which torchvision brings): it imports nothing from the
course. iPhone photos (HEIC/HEIF) also need ``pillow-heif``, imported only if installed. The
course's folder audit uses the same ``load_rgb``, so a photo is read the same way in training
and after shipping.

Command line: ``python predict.py photo.jpg [more.png ...]`` prints one JSON line per photo.
"""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

__all__ = ["crop_box", "load_model", "load_rgb", "predict", "preprocess"]

MAX_SIDE = 1024  # huge photos are decoded and kept at most this big: the model sees 224 px anyway
BACKGROUND = (255, 255, 255)  # transparent pixels become white, as most viewers show them
_HERE = Path(__file__).resolve().parent
_LOADED: dict = {}  # folder -> (model, settings): load once per folder
HEIF_EXTENSIONS = (".heic", ".heif", ".hif")
PAD_COLOUR = (124, 116, 104)  # ImageNet's mean colour: padding becomes 0 after normalisation


_HEIF: list = []  # [True/False] once known


def heif_support() -> bool:
    """Teach Pillow to open HEIC/HEIF (iPhone) photos when ``pillow-heif`` is installed (once)."""
    if not _HEIF:
        try:
            import pillow_heif

            pillow_heif.register_heif_opener()
            _HEIF.append(True)
        except ImportError:
            _HEIF.append(False)
    return _HEIF[0]


def to_rgb(img):
    """Any Pillow image as 8-bit RGB: palette, transparency, CMYK, 16-bit and greyscale too."""
    from PIL import Image

    if img.mode == "RGB":
        return img
    if img.mode in ("I", "I;16", "I;16L", "I;16B", "I;16N", "F"):
        import numpy as np

        # 16-bit (or float) greyscale: Pillow's own convert("L") clips at 255, so scale instead
        array = np.asarray(img, dtype=np.float64)
        top = 65535.0 if img.mode != "F" else max(float(array.max()), 1e-12)
        grey = np.clip(array / top * 255.0, 0, 255).astype(np.uint8)
        return Image.fromarray(grey, mode="L").convert("RGB")
    if img.mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, BACKGROUND + (255,))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return img.convert("RGB")  # L, 1, P, CMYK, YCbCr, LAB, HSV


def load_rgb(path, max_side: int = MAX_SIDE):
    """A photo as an RGB Pillow image, upright and at most ``max_side`` pixels on its long side.

    First frame of an animated GIF/WebP; EXIF rotation applied (phones store portraits as
    rotated landscapes); JPEGs are decoded at reduced scale when huge. Raises ``OSError``
    (or Pillow's ``DecompressionBombError``) when the file cannot be decoded.
    """
    from PIL import Image, ImageOps

    # registered for every file: a HEIC photo renamed .jpg by a transfer tool still opens
    if not heif_support() and str(path).lower().endswith(HEIF_EXTENSIONS):
        raise OSError(f"{path} is a HEIC/HEIF photo: install pillow-heif (pip install pillow-heif) to read it")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        with Image.open(path) as img:
            img.seek(0)
            if img.format == "JPEG":
                img.draft("RGB", (max_side, max_side))  # decode at 1/2, 1/4 or 1/8 scale
            upright = ImageOps.exif_transpose(img)  # a decoded copy, rotated if EXIF says so
    upright = to_rgb(upright)
    upright.thumbnail((max_side, max_side))
    return upright


def load_model(folder=_HERE):
    """The exported model and its settings (``labels.json``) from ``folder``."""
    import torch

    folder = Path(folder)
    settings = json.loads((folder / "labels.json").read_text())
    program = torch.export.load(str(folder / settings["model_file"]))
    return program.module(), settings


def _crop_resize(image_size: int) -> int:
    """The short side before the centre crop: ImageNet's evaluation crop (256 for 224), a margin around the square."""
    return round(image_size * 256 / 224)


def crop_box(width: int, height: int, image_size: int) -> tuple[float, float, float]:
    """What ``preprocess(fit="crop")`` keeps of a ``width`` x ``height`` photo: ``(left, top, side)`` in its pixels.

    The short side is resized to ``_crop_resize(image_size)`` and the centre ``image_size`` square kept, so the
    kept square's side is that fraction of the short side: even a square photo loses its border.
    """
    side = min(width, height) * image_size / _crop_resize(image_size)
    return (width - side) / 2, (height - side) / 2, side


def preprocess(img, image_size: int, fit: str = "crop"):
    """The square the model sees, scaled to [0, 1]: what it was trained on.

    ``fit="crop"``: resize the short side to 256/224 of ``image_size``, centre-crop a square of
    ``image_size`` (ImageNet's evaluation crop; a portrait loses its top and bottom, every photo a
    border: ``crop_box``). ``fit="pad"``: resize the long side, pad to a square with ImageNet's mean
    colour (the whole photo stays). ImageNet normalisation is inside the exported model.
    """
    from torchvision import transforms

    if fit == "pad":
        from PIL import Image

        scale = image_size / max(img.size)
        resized = img.resize((max(1, round(img.width * scale)), max(1, round(img.height * scale))), Image.Resampling.BILINEAR)
        square = Image.new("RGB", (image_size, image_size), PAD_COLOUR)
        square.paste(resized, ((image_size - resized.width) // 2, (image_size - resized.height) // 2))
        return transforms.ToTensor()(square)
    if fit != "crop":
        raise ValueError(f"fit must be 'crop' or 'pad', got {fit!r}")
    return transforms.Compose(
        [
            transforms.Resize(_crop_resize(image_size)),
            transforms.CenterCrop(image_size),
            transforms.ToTensor(),
        ]
    )(img)


def predict(path, folder=None):
    """``(class name, probability)`` for one photo, with the model exported beside this file."""
    import torch

    folder = str(Path(folder or _HERE).resolve())
    if folder not in _LOADED:
        _LOADED[folder] = load_model(folder)
    model, settings = _LOADED[folder]
    batch = preprocess(load_rgb(path), settings["image_size"], settings.get("fit", "crop")).unsqueeze(0)
    with torch.no_grad():
        probabilities = torch.softmax(model(batch), dim=1)[0]
    index = int(probabilities.argmax())
    return settings["classes"][index], float(probabilities[index])


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python predict.py PHOTO [PHOTO ...]", file=sys.stderr)
        return 2
    for path in argv:
        label, probability = predict(path)
        print(json.dumps({"path": path, "class": label, "probability": probability}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

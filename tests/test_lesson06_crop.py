"""Lesson 06 §2 measures and draws what ``FIT = "crop"`` really removes: ``preprocess``'s resize and centre crop.

``preprocess(fit="crop")`` resizes the short side to 256/224 of the input size and keeps the centre square, so
even a square photo loses a border. ``crop_box`` must describe that crop, and the lesson's own hidden cell
(``d73b388b``, run here on made-up photo sizes) must report and draw it, not the whole centre square.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

from types import SimpleNamespace  # noqa: E402

import matplotlib.patches as patches  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from conftest import REPO_ROOT  # noqa: E402
from PIL import Image  # noqa: E402

from helpers.standalone_predict import crop_box, preprocess  # noqa: E402

NOTEBOOK = REPO_ROOT / "solutions" / "06_your_own_images" / "06_your_own_images.ipynb"
IMAGE_SIZE = 224


@pytest.mark.parametrize(("width", "height"), [(448, 448), (600, 900), (1000, 400)])
def test_crop_box_is_the_square_preprocess_keeps(width, height):
    # each pixel's red value is its column and green its row (scaled to 0..255), so the crop's edges can be read
    xs = np.broadcast_to(np.linspace(0, 255, width), (height, width))
    ys = np.broadcast_to(np.linspace(0, 255, height)[:, None], (height, width))
    photo = Image.fromarray(np.stack([xs, ys, np.zeros_like(xs)], -1).round().astype(np.uint8))
    seen = preprocess(photo, IMAGE_SIZE, "crop").numpy() * 255
    left, top, side = crop_box(width, height, IMAGE_SIZE)
    step_x, step_y = 255 / (width - 1), 255 / (height - 1)
    assert seen[0, :, 0].mean() == pytest.approx(left * step_x, abs=3 * step_x + 2)
    assert seen[0, :, -1].mean() == pytest.approx((left + side) * step_x, abs=3 * step_x + 2)
    assert seen[1, 0, :].mean() == pytest.approx(top * step_y, abs=3 * step_y + 2)
    assert seen[1, -1, :].mean() == pytest.approx((top + side) * step_y, abs=3 * step_y + 2)


def test_the_lesson_reports_and_draws_preprocess_crop(capsys):
    (cell,) = [c for c in nbformat.read(NOTEBOOK, as_version=4).cells if c.get("id") == "d73b388b"]
    sizes = {REPO_ROOT / "square.jpg": (400, 400), REPO_ROOT / "portrait.jpg": (300, 400)}
    namespace = {
        "audit": SimpleNamespace(sizes=sizes),
        "IMAGE_SIZE": IMAGE_SIZE,
        "crop_box": crop_box,
        "np": np,
        "plt": plt,
        "patches": patches,
        "load_rgb": lambda path, side: Image.new("RGB", sizes[path]),
    }
    exec(cell.source, namespace)  # noqa: S102 - the lesson's own cell
    kept = (IMAGE_SIZE / round(IMAGE_SIZE * 256 / 224)) ** 2  # of a square photo
    expected = np.mean([1 - kept, 1 - kept * 300 / 400])
    assert f"removes {expected:.0%} of a photo on average, at most {1 - kept * 300 / 400:.0%}" in capsys.readouterr().out
    drawn = {ax.get_title().split("\n")[0]: ax.patches[0] for ax in namespace["fig"].axes}
    plt.close("all")
    assert drawn["portrait.jpg"].get_width() == pytest.approx(300 * IMAGE_SIZE / 256)
    assert drawn["portrait.jpg"].get_xy() == pytest.approx(((300 - 300 * IMAGE_SIZE / 256) / 2, (400 - 262.5) / 2))


@pytest.mark.parametrize("image_size", [160, 224])  # quick and full mode
def test_the_crop_text_does_not_call_the_border_thin(image_size):
    # review 3, B2: the cell below the text measures the border of a square photo at about a quarter of its area
    (cell,) = [c for c in nbformat.read(NOTEBOOK, as_version=4).cells if c.get("id") == "d9e33e43"]
    border = 1 - (crop_box(image_size, image_size, image_size)[2] / image_size) ** 2
    assert border > 0.2, border
    assert "thin" not in cell.source and "every photo a border" in cell.source, cell.source

"""Make an executed lesson read like a textbook page, not like the machine that built it.

The lessons run as a learner runs them; the build rewrites the executed notebook:

- what the helpers print about this machine (run mode, downloads, environment report) is
  reworded for a reader (``coursebook.wording``);
- folders of this machine that a lesson prints (the course cache, the mirror, the staging
  folder, home, the temporary folder) become neutral names such as ``<course cache>``;
- a model that ran with random weights (its RANDOM-weights banner, ``helpers.models``)
  becomes ONE styled notice under the page title, and the notebook's metadata records it for
  the build summary;
- photographic figures (image grids) are stored as JPEG, which is several times smaller than
  PNG for photos; plots with few colours stay PNG (sharp lines and text).
"""

from __future__ import annotations

import base64
import io
import re
import tempfile
from pathlib import Path

from coursetools.paths import REPO_ROOT

from . import wording

METADATA_KEY = "tl_course"  # notebook metadata the build summary reads
TEXT_MIMES = ("text/plain", "text/html", "text/markdown", "text/latex")
PHOTO_MIN_COLOURS = 4096  # more distinct colours than a plot has: a photo, better as JPEG
JPEG_QUALITY = 85
# The end of a path: what may follow a folder name without making it another folder's name.
_PATH_END = r"(?=$|[/\\\s'\"`),;:\]>])"


def machine_places(staging: Path) -> list[tuple[str, str]]:
    """(folder of this machine, what a reader sees instead), longest folder first."""
    from helpers import storage

    places: dict[str, str] = {}

    def add(path, name: str) -> None:
        if path:
            for form in {str(path), str(Path(path).resolve())}:
                if form not in ("/", "") and form not in places:
                    places[form] = name

    add(storage.cache_dir(), "<course cache>")
    add(storage.mirror_dir(), "<course mirror>")
    add(storage.torch_checkpoints_dir().parent.parent, "<torch cache>")
    add(storage.keras_home(), "<keras cache>")
    add(staging, "<course folder>")
    add(REPO_ROOT, "<course folder>")
    add(Path.home(), "~")
    add(tempfile.gettempdir(), "<temporary folder>")
    return sorted(places.items(), key=lambda item: len(item[0]), reverse=True)


def neutral_paths(text: str, places: list[tuple[str, str]]) -> str:
    """``text`` with every folder of ``places`` replaced by its neutral name."""
    if not places:
        return text
    names = dict(places)
    pattern = re.compile("(?:" + "|".join(re.escape(folder) for folder, _ in places) + ")" + _PATH_END)
    return pattern.sub(lambda match: names[match.group(0)], text)


def _rewrite_text(output, rewrite) -> None:
    if "text" in output:
        output["text"] = rewrite("".join(output["text"]))
    for mime in TEXT_MIMES:
        value = output.get("data", {}).get(mime)
        if value is not None:
            output["data"][mime] = rewrite("".join(value) if isinstance(value, list) else value)


def random_weights_models(nb) -> list[str]:
    """Remove the random-weights banners from the outputs; return the models they name, in order."""
    models: list[str] = []
    for cell in nb.cells:
        if cell.cell_type == "code":
            models += [model for model in wording.random_weights_banners(cell) if model not in models]
    return models


def random_weights_notice(models: list[str]) -> str:
    """The MyST admonition that opens a page whose models ran with random weights."""
    names = ", ".join(f"`{name}`" for name in models)
    return (
        "```{admonition} This page was built with random weights\n"
        ":class: warning\n\n"
        f"No ImageNet weights for {names} were available where this page was built, so "
        f"{'that model' if len(models) == 1 else 'those models'} ran with random weights. The "
        "numbers and figures that come from it show that the code runs, not what transfer "
        "learning achieves. Run the notebook yourself (launch buttons above) to get the "
        "pretrained results.\n```\n"
    )


def open_with_notice(nb, notice: str) -> None:
    """Put ``notice`` right under the page's title (or first, if the page has no ``# title``)."""
    import nbformat

    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        lines = cell.source.split("\n")
        for index, line in enumerate(lines):
            if line.startswith("# "):
                cell.source = "\n".join(lines[: index + 1] + ["", notice] + lines[index + 1 :])
                return
    nb.cells.insert(0, nbformat.v4.new_markdown_cell(notice))


def compact_image(png_b64: str) -> str | None:
    """A JPEG (base64) of a photographic PNG when it is smaller; None for plots and small gains."""
    from PIL import Image

    png = base64.b64decode(png_b64)
    image = Image.open(io.BytesIO(png))
    if image.convert("RGB").getcolors(PHOTO_MIN_COLOURS) is not None:
        return None  # few colours: a plot, sharper and often smaller as PNG
    flat = Image.new("RGB", image.size, "white")
    flat.paste(image.convert("RGBA"), mask=image.convert("RGBA").getchannel("A"))
    buffer = io.BytesIO()
    flat.save(buffer, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return base64.b64encode(buffer.getvalue()).decode() if buffer.tell() < len(png) / 2 else None


def compact_images(nb) -> int:
    """Store photographic PNG outputs as JPEG; return how many were converted."""
    converted = 0
    for cell in nb.cells:
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            data = output.get("data", {})
            png = data.get("image/png")
            jpeg = compact_image("".join(png) if isinstance(png, list) else png) if png else None
            if jpeg is None:
                continue
            data["image/jpeg"] = jpeg
            del data["image/png"]
            metadata = output.get("metadata", {})
            if "image/png" in metadata:
                metadata["image/jpeg"] = metadata.pop("image/png")
            converted += 1
    return converted


def figures_without_alt(nb) -> list[str]:
    """Ids of code cells with an image output but no ``mystnb.image.alt`` metadata (TEAM.md)."""
    missing = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        has_image = any(mime.startswith("image/") for o in cell.get("outputs", []) for mime in o.get("data", {}))
        alt = cell.get("metadata", {}).get("mystnb", {}).get("image", {}).get("alt", "")
        if has_image and not str(alt).strip():
            missing.append(cell.get("id", "?"))
    return missing


def make_reader_facing(nb, staging: Path) -> None:
    """Apply everything above to an executed, cleaned lesson (in place)."""
    places = machine_places(staging)

    def rewrite(text: str) -> str:
        return neutral_paths(wording.drop_machine_state(wording.reader_run_line(text)), places)

    for cell in nb.cells:
        if cell.cell_type == "code":
            wording.reader_downloads(cell)
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            wording.reader_your_turn(output)
            _rewrite_text(output, rewrite)
    models = random_weights_models(nb)
    if models:
        open_with_notice(nb, random_weights_notice(models))
    compact_images(nb)
    nb.metadata[METADATA_KEY] = {"random_weights": models, "figures_without_alt": figures_without_alt(nb)}


def build_notes(nb) -> dict:
    """What ``make_reader_facing`` recorded about a staged lesson (empty for an old cache entry)."""
    return dict(nb.metadata.get(METADATA_KEY, {}))

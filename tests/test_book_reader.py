"""The website reads like a textbook: no trace of the build machine, one notice for random weights.

Unit tests cover each piece (``coursebook.wording`` on the helpers' learner outputs,
``coursebook.reader`` / ``coursebook.assets``); one end-to-end test builds a two-page fixture
book through the real pipeline (kernels run as a learner's, cleaning, rewording, Jupyter
Book): a page whose model fell back to random weights opens with one styled notice, a page with
real weights has none, figures get their alt text from cell metadata, photos become JPEG and
no machine path reaches the HTML. The full site is checked in Chromium by ``test_book.py``.
"""

from __future__ import annotations

import base64
import io
import os
import re
import shutil
import sys
import warnings
from pathlib import Path

import nbformat
import pytest
from conftest import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT))  # coursebook/ is a build tool at the root

from coursebook import assets, build, reader, scan, wording  # noqa: E402
from helpers import runtime  # noqa: E402
from helpers.downloads import show_downloads  # noqa: E402

MACHINE_STATE = re.compile(r"/tmp|NO NETWORK|TL_COURSE_|Errno|urlopen|Traceback")


def _cell(source: str, stdout: str = "", stderr: str = ""):
    """A code cell as an executed lesson holds it: the learner's outputs."""
    outputs = [
        nbformat.v4.new_output("stream", name=name, text=text) for name, text in (("stdout", stdout), ("stderr", stderr)) if text
    ]
    return nbformat.v4.new_code_cell(source, outputs=outputs)


# --------------------------------------------------------------------------- learner outputs, reworded


def test_helpers_know_nothing_of_the_website():
    """The website's wording lives in coursebook; helpers has no audience switch."""
    for path in (REPO_ROOT / "helpers").glob("*.py"):
        assert not re.search(r"TL_COURSE" r"_AUDIENCE|for_readers|website build", path.read_text()), path.name


def test_the_run_line_says_how_the_page_was_made(monkeypatch, capsys):
    from helpers.costs import show_lesson_cost

    monkeypatch.setenv("TL_COURSE_QUICK", "1")
    show_lesson_cost("02_vgg16_feature_extraction", frameworks=("keras",))
    learner = capsys.readouterr().out
    assert "This run: quick mode (TL_COURSE_QUICK=1" in learner
    page = wording.reader_run_line(learner)
    assert "This page was executed in quick mode (small data: its numbers are not the lesson's results)." in page
    assert "This run" not in page and not MACHINE_STATE.search(page.split("This page")[1])


def test_downloads_for_readers_name_sizes_not_this_machine(isolated_cache, monkeypatch, capsys):
    monkeypatch.setenv("TL_COURSE_OFFLINE", "1")
    monkeypatch.setenv("TL_COURSE_ALLOW_RANDOM_WEIGHTS", "1")
    print("Measured cost of 02 ...")  # what the cell printed before: kept
    show_downloads(datasets=["cats_and_dogs_filtered"], backbones=["vgg16"])
    learner = capsys.readouterr().out
    assert "NO NETWORK" in learner and "TL_COURSE_ALLOW_RANDOM_WEIGHTS" in learner, "learners get the full message"
    cell = _cell('show_lesson_cost("02")\nshow_downloads(datasets=["cats_and_dogs_filtered"], backbones=["vgg16"])', learner)
    wording.reader_downloads(cell)
    out = cell.outputs[0]["text"]
    assert out.startswith("Measured cost of 02 ...\n")
    assert "cats_and_dogs_filtered" in out and "vgg16" in out and re.search(r"\d+ MB", out)
    assert not MACHINE_STATE.search(out), out
    assert str(isolated_cache) not in out


def test_environment_report_for_readers_shows_versions_not_folders(capsys):
    report = runtime.environment_report(())
    out = wording.drop_machine_state(capsys.readouterr().out)
    assert "python" in out and "mode" in out
    assert "cache" in report and str(report["cache"]) not in out and "cached" not in out and "platform" not in out
    assert wording.drop_machine_state("cache  is a word here\n") == "cache  is a word here\n", "other outputs stay"


def test_random_weights_banner_becomes_the_pages_notice(monkeypatch, capsys):
    from helpers import models

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        models._random_fallback(models.backbone_spec("resnet18"), OSError("<urlopen error [Errno -2]>"))
    stderr = "".join(warnings.formatwarning(w.message, w.category, w.filename, w.lineno) for w in caught)
    cell = _cell("load()", "before\n" + capsys.readouterr().out + "after\n", stderr)
    assert wording.random_weights_banners(cell) == ["resnet18"]
    assert [o["text"] for o in cell.outputs] == ["before\nafter\n"], "banner and warning are gone, the rest stays"


# --------------------------------------------------------------------------- coursebook.reader


def test_machine_paths_become_neutral_names(tmp_path):
    places = [(str(tmp_path / "cache"), "<course cache>"), (str(tmp_path), "<course folder>"), ("/root", "~")]
    places.sort(key=lambda item: len(item[0]), reverse=True)
    text = f"saved to {tmp_path}/cache/results/x.json; home /root/.keras, not /rootless or {tmp_path}x"
    assert reader.neutral_paths(text, places) == (
        f"saved to <course cache>/results/x.json; home ~/.keras, not /rootless or {tmp_path}x"
    )
    assert dict(reader.machine_places(tmp_path))[str(tmp_path)] == "<course folder>"


def _png(colours: int) -> str:
    """A base64 PNG: random noise (a photo's statistics) or a few flat colours (a plot's)."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (120, 160, 3), dtype=np.uint8)
    if colours < 256:
        pixels = (pixels // (256 // colours)) * (256 // colours)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def _figure_cell(png: str, alt: str | None):
    cell = nbformat.v4.new_code_cell("plot()", outputs=[nbformat.v4.new_output("display_data", data={"image/png": png})])
    if alt is not None:
        cell.metadata["mystnb"] = {"image": {"alt": alt}}
    return cell


def test_reader_facing_notebook_with_and_without_random_weights(tmp_path):
    banner = "!" * 78 + "\nvgg16 is running with RANDOM weights, not ImageNet weights (x).\n" + "!" * 78 + "\n"
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Title\n\nIntro."),
        _cell("load()", banner + f"saved to {tmp_path}/x.json\n"),
        _figure_cell(_png(256), "Photos of cats"),
        _figure_cell(_png(4), None),
    ]
    reader.make_reader_facing(nb, tmp_path)
    assert nb.cells[0].source.startswith("# Title\n\n```{admonition} This page was built with random weights")
    assert nb.cells[0].source.count("{admonition}") == 1 and "`vgg16`" in nb.cells[0].source
    assert nb.cells[1].outputs[0]["text"] == "saved to <course folder>/x.json\n", "the banner itself is removed"
    assert "image/jpeg" in nb.cells[2].outputs[0]["data"] and "image/png" not in nb.cells[2].outputs[0]["data"]
    assert "image/png" in nb.cells[3].outputs[0]["data"], "a plot stays PNG"
    assert reader.build_notes(nb) == {"random_weights": ["vgg16"], "figures_without_alt": [nb.cells[3].id]}

    clean = nbformat.v4.new_notebook()
    clean.cells = [nbformat.v4.new_markdown_cell("# Title"), _figure_cell(_png(4), "A line")]
    reader.make_reader_facing(clean, tmp_path)
    assert clean.cells[0].source == "# Title" and reader.build_notes(clean)["random_weights"] == []


def test_unused_theme_script_and_source_maps_are_dropped(tmp_path):
    (tmp_path / "_static" / "scripts").mkdir(parents=True)
    (tmp_path / "_static" / "scripts" / "fontawesome.js").write_text("x" * 1000)
    (tmp_path / "_static" / "scripts" / "bootstrap.js").write_text("y" * 100)
    (tmp_path / "_static" / "scripts" / "bootstrap.js.map").write_text("z" * 10)
    page = tmp_path / "page.html"
    page.write_text(
        '<head><script defer src="_static/scripts/fontawesome.js?digest=1"></script>\n'
        '<script defer src="_static/scripts/bootstrap.js?digest=1"></script></head>'
    )
    assert assets.page_weight(page, tmp_path) == page.stat().st_size + 1100
    assert assets.drop_unused_assets(tmp_path) == 1010
    assert "fontawesome" not in page.read_text() and "bootstrap.js" in page.read_text()
    assert assets.page_weight(page, tmp_path) == page.stat().st_size + 100


# --------------------------------------------------------------------------- a fixture book, end to end


def _lesson(folder: Path, name: str, random_weights: bool) -> None:
    cells = [
        nbformat.v4.new_markdown_cell(f"# Fixture {name}\n\nWhat this page is about."),
        nbformat.v4.new_code_cell(
            'from helpers.downloads import show_downloads\nshow_downloads(datasets=["hymenoptera_data"], backbones=["resnet18"])'
        ),
    ]
    if random_weights:  # the real fallback path, with the raw exception a failed download gives
        cells.append(
            nbformat.v4.new_code_cell(
                "from helpers import models\n"
                "models._random_fallback(models.backbone_spec('resnet18'), "
                "OSError('<urlopen error [Errno -2] Name or service not known>'))"
            )
        )
    cells.append(
        nbformat.v4.new_code_cell("from helpers.storage import cache_dir\nprint(f'results saved to {cache_dir() / \"results\"}')")
    )
    plot = nbformat.v4.new_code_cell("import matplotlib.pyplot as plt\nplt.plot([0, 1, 4], marker='o')\nplt.show()")
    plot.metadata["mystnb"] = {"image": {"alt": f"A rising line of three points on page {name}"}}
    photo = nbformat.v4.new_code_cell(  # smooth colours plus grain: a photo's statistics
        "import numpy as np\ny, x = np.mgrid[0:1:160j, 0:1:240j]\n"
        "grain = np.random.default_rng(0).normal(0, 0.05, (160, 240, 3))\n"
        "plt.imshow(np.clip(np.dstack([x, y, np.sqrt(x * y)]) + grain, 0, 1))\nplt.axis('off')\nplt.show()"
    )
    photo.metadata["mystnb"] = {"image": {"alt": "A grainy colour gradient standing in for photos"}}
    nb = nbformat.v4.new_notebook(cells=cells + [plot, photo])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    (folder / "lessons" / name).mkdir(parents=True)
    nbformat.write(nb, folder / "lessons" / name / f"{name}.ipynb")


@pytest.fixture(scope="module")
def fixture_book(tmp_path_factory):
    root = tmp_path_factory.mktemp("fixture_root")
    shutil.copy2(REPO_ROOT / "_config.yml", root / "_config.yml")
    (root / "docs").mkdir()
    (root / "docs" / "intro.md").write_text(f"# Fixture course\n\n{build.COST_MARKER}\n")
    (root / "_toc.yml").write_text(
        "format: jb-book\nroot: docs/intro\nchapters:\n"
        "  - file: lessons/a_random/a_random\n  - file: lessons/b_pretrained/b_pretrained\n"
    )
    _lesson(root, "a_random", random_weights=True)
    _lesson(root, "b_pretrained", random_weights=False)
    said: list[str] = []
    with pytest.MonkeyPatch.context() as patch:  # kernels import this checkout's helpers, offline
        patch.setenv("PYTHONPATH", os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep))
        patch.setenv("TL_COURSE_OFFLINE", "1")
        html = build.build(tmp_path_factory.mktemp("fixture_out"), use_cache=False, root=root, log=said.append)
    return html, said


def test_fixture_book_notice_only_where_weights_were_random(fixture_book):
    html, said = fixture_book
    pages = {name: (html / "lessons" / name / f"{name}.html").read_text() for name in ("a_random", "b_pretrained")}
    notice = re.compile(
        r'<div class="(?:admonition warning|warning admonition)">\s*<p class="admonition-title">This page was built with random weights'
    )
    assert len(notice.findall(pages["a_random"])) == 1
    assert not notice.search(pages["b_pretrained"]) and "random weights" not in pages["b_pretrained"]
    first_cell = pages["a_random"].index('class="cell')
    assert pages["a_random"].index("<h1>") < notice.search(pages["a_random"]).start() < first_cell, (
        "the notice opens the page, under its title"
    )
    summary = "\n".join(said)
    assert "RANDOM WEIGHTS" in summary and "a_random (resnet18)" in summary and "b_pretrained (" not in summary
    assert "page weight with images: a_random" in summary


def test_fixture_book_has_no_machine_state_and_alt_text_from_metadata(fixture_book):
    html, _ = fixture_book
    for name in ("a_random", "b_pretrained"):
        page = (html / "lessons" / name / f"{name}.html").read_text()
        output = scan.page_text(page).output_text
        assert "resnet18" in output and "MB" in output, "what the page downloads is still said"
        assert not MACHINE_STATE.search(output), (name, MACHINE_STATE.search(output), output[:2000])
        assert "results saved to <course cache>/results" in output
        alts = re.findall(r'<img alt="([^"]*)" src="([^"]*_images/[^"]*)"', page)  # the figures, not button logos
        assert sorted(alt for alt, _ in alts) == sorted(
            [f"A rising line of three points on page {name}", "A grainy colour gradient standing in for photos"]
        )
        assert sorted(Path(src).suffix for _, src in alts) == [".jpg", ".png"], "the photo is JPEG, the plot PNG"
    assert not list(html.rglob("fontawesome.js")) and "fontawesome.js" not in (html / "docs" / "intro.html").read_text()

"""Lesson 06's intake in the real JupyterLab: a learner's 50+ MB zip of photos reaches the lesson.

The lesson tells a learner to zip their folder, name it ``my_images.zip`` and drop it onto
JupyterLab's file browser beside the notebook (or use the file browser's Upload button): the
browser sends big files in chunks over HTTP, not over the kernel's websocket, whose ~10 MB
message limit silently emptied the old upload widget. Here headless Chromium does exactly that
with a zip of more than 50 MB, through the file browser's Upload button, into a scratch copy of
the lesson's folder; then the lesson's own cells run in that notebook's kernel, unpack the zip
and audit it. The intake time (upload, then unpack and audit) is printed.
"""

from __future__ import annotations

import json
import shutil
import time
import uuid
import zipfile
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO_ROOT
from lab_server import KernelConnection, start_lab_server
from PIL import Image

import nbformat

LESSON = "06_your_own_images"
MIN_BYTES = 50 * 10**6
PER_CLASS = 22  # two classes of 22 photos of about 1.25 MB: a 55 MB zip
# the lesson's cells that run before the audit and the audit itself (settings, folder choice)
CELLS = ("cell-04", "cell-06", "cell-08", "cell-09", "cell-11")


def build_zip(folder: Path) -> Path:
    """``my_images.zip`` of ``photos/red`` and ``photos/blue``: noisy 1600x1200 JPEGs (noise does not compress)."""
    archive = folder / "my_images.zip"
    rng = np.random.default_rng(0)
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_STORED) as out:
        for cls, channel in (("red", 0), ("blue", 2)):
            for i in range(PER_CLASS):
                pixels = rng.integers(0, 120, (1200, 1600, 3), dtype=np.uint8)
                pixels[..., channel] = rng.integers(130, 256, (1200, 1600), dtype=np.uint8)
                photo = folder / f"{cls}_{i:02d}.jpg"
                Image.fromarray(pixels).save(photo, quality=90)
                out.write(photo, f"photos/{cls}/IMG_{i:04d}.JPG")
                photo.unlink()
    return archive


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    server = start_lab_server(tmp_path_factory.mktemp("jupyterlab-intake"))
    try:
        yield server
    finally:
        server.stop()


def test_a_50_mb_zip_dropped_in_the_file_browser_is_read_by_the_lesson(lab, tmp_path):
    from browser import artifacts_dir, chromium_page
    from playwright.sync_api import expect

    archive = build_zip(tmp_path)
    size = archive.stat().st_size
    assert size >= MIN_BYTES, size
    shots = artifacts_dir("capstone-intake")
    # a scratch copy of the lesson under the server's root (artifacts/ is ignored by git), so that
    # the committed lesson folder never receives a learner's photos
    scratch = REPO_ROOT / "artifacts" / "capstone-intake-lesson"
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    notebook = REPO_ROOT / "lessons" / LESSON / f"{LESSON}.ipynb"
    shutil.copy(notebook, scratch / notebook.name)
    relative = scratch.relative_to(REPO_ROOT).as_posix()
    try:
        with chromium_page(viewport=(1400, 900)) as page:
            try:
                page.goto(f"{lab.url}/lab/tree/{relative}?token={lab.token}&reset", wait_until="domcontentloaded")
                listing = page.locator(".jp-DirListing-content .jp-DirListing-itemText")
                expect(listing.get_by_text(notebook.name, exact=True)).to_be_visible(timeout=90_000)
                # the file browser's Upload button opens the system's file chooser
                started = time.perf_counter()
                with page.expect_file_chooser(timeout=30_000) as chooser:
                    page.locator(".jp-FileBrowser-toolbar").get_by_title("Upload Files").click()
                chooser.value.set_files(str(archive))
                # JupyterLab asks before uploading a file above 15 MB; the learner confirms
                dialog = page.locator(".jp-Dialog")
                expect(dialog).to_contain_text("Large file size warning", timeout=30_000)
                dialog.get_by_role("button", name="Upload").click()
                expect(listing.get_by_text("my_images.zip", exact=True)).to_be_visible(timeout=300_000)
                while True:  # chunks land one by one: done when the whole zip is on the server
                    model = lab.get_json(f"/api/contents/{relative}/my_images.zip", content=0)
                    if model.get("size") == size:
                        break
                    assert time.perf_counter() - started < 300, f"upload stalled at {model.get('size')} of {size} bytes"
                    time.sleep(0.2)
                upload_seconds = time.perf_counter() - started
                page.screenshot(path=str(shots / "uploaded.png"))
            except Exception:
                page.screenshot(path=str(shots / "failure.png"))
                raise
        assert (scratch / "my_images.zip").read_bytes() == archive.read_bytes(), "the zip arrived whole"

        # the lesson's own cells, in the notebook's kernel (its working folder is the scratch folder)
        cells = {c.get("id"): c for c in nbformat.read(scratch / notebook.name, as_version=4).cells}
        response = lab.request(
            "POST",
            "/api/sessions",
            json={
                "path": f"{relative}/{notebook.name}",
                "name": notebook.name,
                "type": "notebook",
                "kernel": {"name": "python3"},
            },
        )
        assert response.status_code == 201, response.text
        session = response.json()
        connection = KernelConnection(lab, session["kernel"]["id"], uuid.uuid4().hex)
        try:
            outputs = {}
            for cell_id in CELLS:
                started = time.perf_counter()
                result = connection.execute(cells[cell_id].source, timeout=600)
                assert result.status == "ok" and not result.errors, f"cell {cell_id}: {result.errors}"
                outputs[cell_id] = (result.stdout, time.perf_counter() - started)
            facts = connection.execute(
                "import json\nprint(json.dumps({'origin': source.origin, 'root': str(source.root), "
                "'description': source.description, 'usable': len(audit.usable), "
                "'classes': audit.classes, 'skipped': len(audit.skipped)}))"
            )
        finally:
            connection.close()
            lab.request("DELETE", f"/api/sessions/{session['id']}")
        read_seconds = outputs["cell-09"][1] + outputs["cell-11"][1]
        found = json.loads(facts.stdout.strip().splitlines()[-1])
        assert found["origin"] == "folder" and "unpacked into" in found["description"], found
        assert Path(found["root"]) == scratch / "my_images" / "photos", found
        assert found["usable"] == 2 * PER_CLASS and found["classes"] == ["blue", "red"] and not found["skipped"], found
        print(
            f"\nintake of a {size / 1e6:.0f} MB zip ({2 * PER_CLASS} photos): upload through the file browser "
            f"{upload_seconds:.1f} s; the lesson unpacked and audited it in {read_seconds:.1f} s"
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

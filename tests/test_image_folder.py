"""The folder audit on a folder as messy as a real one, the leakage-free split, the upload and
the fallback set of the capstone lesson, and the standalone loader it shares with the export."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
from messy_folder import (
    BLUE,
    DUPLICATE_GROUP,
    EXPECTED_NOTES,
    EXPECTED_SKIPS,
    HEIC_FILES,
    NEAR_DUPLICATE_GROUPS,
    RED,
    build_messy_folder,
)

from helpers.data import audit_image_folder
from helpers.image_folder import MIN_IMAGES_PER_CLASS, ImageFolderError
from helpers.my_images import choose_image_folder, export_folder, fallback_image_folder, split_without_leakage, unpack_upload
from helpers.standalone_predict import load_rgb


@pytest.fixture(scope="module")
def messy(tmp_path_factory):
    root = build_messy_folder(tmp_path_factory.mktemp("messy") / "my photos")
    return root, audit_image_folder(root)


def test_every_bad_file_is_skipped_with_its_reason(messy):
    root, audit = messy
    for name, reason in EXPECTED_SKIPS.items():
        assert reason in audit.skipped.get(root / name, "(not skipped)"), (name, audit.skipped.get(root / name))
    rare = [p for p in audit.skipped if p.parent.name == "rare"]
    assert len(rare) == 3 and audit.too_few == {"rare": 3}
    assert set(audit.skipped) == {root / n for n in EXPECTED_SKIPS} | set(rare)


def test_fixed_files_are_usable_and_say_what_was_fixed(messy):
    root, audit = messy
    usable = dict(audit.usable)
    for name, note in EXPECTED_NOTES.items():
        assert usable.get(root / name) == "red", name
        assert note in audit.notes[root / name], (name, audit.notes[root / name])


def test_classes_counts_nesting_extensions_and_baseline(messy):
    root, audit = messy
    assert audit.classes == ["blue", "red"]
    assert audit.counts == {"blue": BLUE, "red": RED}
    usable = dict(audit.usable)
    for name in ("red/IMG_0001.JPG", "red/nested/deeper/IMG_0002.JPEG", "red/bitmap.bmp", "red/web.webp"):
        assert usable[root / name] == "red", name
    assert audit.majority_class == "red"
    assert audit.majority_baseline == pytest.approx(RED / (RED + BLUE))
    assert audit.imbalance_ratio == pytest.approx(RED / BLUE)
    problems = " ".join(audit.problems())
    assert "imbalanced" in problems and f"{audit.majority_baseline:.3f}" in problems
    assert f"at least {MIN_IMAGES_PER_CLASS}" in problems and "'rare'" in problems
    table = audit.summary_markdown(max_rows=100)
    assert f"| red | {RED} | 1 | 4 |" in table and "rare (left out)" in table and "`red/empty.jpg`" in table
    # the folder's share, not "the majority baseline": the card takes that from the training labels (rule 7)
    assert f"'red', holds {audit.majority_baseline:.3f} of the folder" in table and "majority baseline 0" not in table


def test_exact_duplicates_are_grouped(messy):
    root, audit = messy
    assert audit.duplicates == [sorted(root / name for name in DUPLICATE_GROUP)]


def test_near_duplicates_and_bursts_are_grouped_with_their_reason(messy):
    root, audit = messy
    found = {g.paths: g.why for g in audit.near_duplicates}
    expected_why = {
        "identical bytes": "identical bytes",
        "look alike": "look alike",
        "converted copy": "look alike",
        "burst": "burst",
    }
    assert set(found) == {tuple(root / n for n in sorted(names)) for names in NEAR_DUPLICATE_GROUPS.values()}
    for kind, names in NEAR_DUPLICATE_GROUPS.items():
        assert expected_why[kind] in found[tuple(root / n for n in sorted(names))], kind
    assert "near-duplicates (3 group(s)" in " ".join(audit.problems())
    assert "Same scene: 4 group(s)" in audit.summary_markdown()


def test_heic_photos_are_read_upright(messy):
    root, audit = messy
    usable = dict(audit.usable)
    for name in HEIC_FILES:
        assert usable.get(root / name) == name.split("/")[0], (name, audit.skipped.get(root / name))
    upright = load_rgb(root / HEIC_FILES[0])
    assert upright.size == (80, 160), "stored 160x80 with EXIF orientation 6: upright it is 80 wide"
    assert audit.sizes[root / HEIC_FILES[0]] == (80, 160), "the audit records the upright size"
    assert audit.fingerprints[root / HEIC_FILES[0]].taken.year == 2024, "EXIF capture time read from HEIC"


def test_loading_applies_exif_first_frame_and_conversions(messy):
    root, _ = messy
    rotated = load_rgb(root / "red" / "rotated.jpg")
    assert rotated.size == (40, 80), "EXIF orientation 6 turns an 80x40 landscape upright"
    assert max(load_rgb(root / "red" / "huge.jpg").size) == 1024
    for name in ("animated.gif", "rgba.png", "cmyk.jpg", "palette.png"):
        image = load_rgb(root / "red" / name)
        assert image.mode == "RGB"
        channels = np.asarray(image, dtype=float).mean(axis=(0, 1))
        assert channels[0] > channels[2], f"{name}: the red first frame / red pixels must stay red"
    sixteen = np.asarray(load_rgb(root / "red" / "sixteen_bit.png"))
    assert 100 < sixteen.mean() < 230, "16-bit greyscale is scaled to 8 bits, not clipped to white"
    grey = np.asarray(load_rgb(root / "red" / "la.png"))
    assert grey.shape[2] == 3 and (grey[..., 0] == grey[..., 2]).all()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_split_keeps_duplicates_together_and_is_stratified(messy, seed):
    root, audit = messy
    splits = split_without_leakage(audit, val_fraction=0.2, test_fraction=0.2, seed=seed)
    parts = {"train": splits.train, "val": splits.val, "test": splits.test}
    every = [path for samples in parts.values() for path, _ in samples]
    assert sorted(every) == sorted(path for path, _ in audit.usable), "each usable photo exactly once"
    for path, label in splits.train + splits.val + splits.test:
        assert splits.classes[label] == dict(audit.usable)[path]
    digests = {name: {audit.digests[p] for p, _ in samples} for name, samples in parts.items()}
    assert not digests["train"] & digests["test"] and not digests["train"] & digests["val"]
    assert not digests["val"] & digests["test"]
    split_of = {path: name for name, samples in parts.items() for path, _ in samples}
    for group in audit.near_duplicates:
        assert len({split_of[p] for p in group.paths}) == 1, f"near-duplicates across splits: {group}"
    for label in range(2):
        assert sum(1 for _, y in splits.test if y == label) >= 1
        assert sum(1 for _, y in splits.val if y == label) >= 1
    assert split_without_leakage(audit, seed=seed) == splits, "deterministic"


def test_a_class_that_is_one_long_burst_cannot_be_split_and_says_why(tmp_path):
    from messy_folder import _exif, _save, blob

    for cls in ("red", "blue"):
        for i in range(12):  # red: one shot per second, a chain of bursts; blue: an hour apart
            taken = f"2024:05:01 10:00:{i:02d}" if cls == "red" else f"2024:05:01 {i:02d}:00:00"
            _save(blob(cls, 900 + i + (100 if cls == "blue" else 0)), tmp_path / "p" / cls / f"{i}.jpg", exif=_exif(taken))
    audit = audit_image_folder(tmp_path / "p")
    assert [len(g.paths) for g in audit.near_duplicates] == [12]
    with pytest.raises(ImageFolderError, match="'red'.*1 group.*other times"):
        split_without_leakage(audit)


def test_a_folder_with_one_trainable_class_says_what_to_do(tmp_path):
    build_messy_folder(tmp_path / "photos")
    for path in (tmp_path / "photos" / "blue").iterdir():
        path.unlink()
    audit = audit_image_folder(tmp_path / "photos")
    assert audit.classes == ["red"] and audit.too_few["blue"] == 0
    with pytest.raises(ImageFolderError, match="subfolder per class"):
        split_without_leakage(audit)
    with pytest.raises(ImageFolderError, match="not a folder"):
        audit_image_folder(tmp_path / "nowhere")


@pytest.mark.parametrize(
    ("sizes", "said"),
    [
        ({"red": 6, "blue": 6, "green": 6}, "the classes are balanced (6 photos each, 0.333 of the folder each)"),
        ({"red": 6, "blue": 6, "green": 4}, "the largest classes, 'blue' and 'red', hold 0.375 of the folder each"),
        ({"red": 6, "blue": 5, "green": 5}, "the largest class, 'red', holds 0.375 of the folder"),
    ],
)
def test_tied_class_counts_name_no_arbitrary_largest_class(tmp_path, sizes, said):
    # review 5, B4: four classes of 16 photos read "the largest class, 'ants', holds 0.250 of the folder"
    from messy_folder import _save, blob

    for c, (cls, n) in enumerate(sizes.items()):
        for i in range(n):
            _save(blob("red" if c % 2 else "blue", 700 + 20 * c + i), tmp_path / "p" / cls / f"{i}.jpg")
    audit = audit_image_folder(tmp_path / "p", min_per_class=4)
    assert audit.counts == dict(sorted(sizes.items())), audit.counts
    summary = audit.summary_markdown()
    assert said in summary, summary
    assert ("largest" in summary) == (len(set(sizes.values())) > 1), summary


def test_folder_choice_order_and_zip_upload(tmp_path, monkeypatch):
    photos = build_messy_folder(tmp_path / "photos")
    monkeypatch.setenv("TL_COURSE_MY_IMAGES", str(photos))
    assert choose_image_folder().origin == "environment"
    assert choose_image_folder(str(photos)).origin == "path"
    with pytest.raises(ImageFolderError, match="not a folder"):
        choose_image_folder(str(tmp_path / "typo"))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in photos.rglob("*"):
            if path.is_file():
                archive.write(path, f"photos/{path.relative_to(photos)}")
    monkeypatch.delenv("TL_COURSE_MY_IMAGES")
    upload = ({"name": "photos.zip", "size": len(buffer.getvalue()), "content": memoryview(buffer.getvalue())},)
    source = choose_image_folder(upload=upload, here=tmp_path)
    assert source.origin == "upload" and sorted(p.name for p in source.root.iterdir())[:2] == ["blue", "labels.csv"]
    assert audit_image_folder(source.root).counts == {"blue": BLUE, "red": RED}
    with pytest.raises(ImageFolderError, match="not a .zip"):
        unpack_upload("photo.jpg", b"", tmp_path / "x")
    evil = io.BytesIO()
    with zipfile.ZipFile(evil, "w") as archive:
        archive.writestr("../outside.txt", "no")
    with pytest.raises(ImageFolderError, match="outside"):
        unpack_upload("evil.zip", evil.getvalue(), tmp_path / "evil")

    # my_images.zip dropped beside the notebook: unpacked into my_images/, then read from there
    notebook_dir = tmp_path / "lesson"
    notebook_dir.mkdir()
    (notebook_dir / "my_images.zip").write_bytes(buffer.getvalue())
    source = choose_image_folder(here=notebook_dir)
    assert source.origin == "folder" and source.root == notebook_dir / "my_images" / "photos"
    assert choose_image_folder(here=notebook_dir).root == source.root, "the unpacked folder is used next time"
    # a zip typed as a path
    assert choose_image_folder(str(notebook_dir / "my_images.zip"), here=tmp_path).origin == "path"


def test_run_all_stops_until_photos_are_given_or_the_fallback_is_chosen(tmp_path, monkeypatch):
    monkeypatch.delenv("TL_COURSE_MY_IMAGES", raising=False)
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    with pytest.raises(ImageFolderError, match="(?s)No photos were given.*my_images.*USE_FALLBACK = True"):
        choose_image_folder(here=tmp_path)
    (tmp_path / "my_images").mkdir()  # an empty folder is not a choice either
    with pytest.raises(ImageFolderError, match="No photos were given"):
        choose_image_folder(here=tmp_path)


def test_an_empty_or_cut_short_upload_is_an_error_never_the_fallback(tmp_path):
    for value in (
        ({"name": "p.zip", "size": 50_000_000, "content": memoryview(b"")},),
        ({"name": "p.zip", "size": 50_000_000, "content": memoryview(b"PK\x03\x04" + bytes(100))},),
        {"p.zip": {"content": b"", "metadata": {"size": 9}}},
    ):
        with pytest.raises(ImageFolderError, match="cut short.*file browser"):
            choose_image_folder(upload=value, use_fallback=True, here=tmp_path)


@pytest.mark.parametrize("typed", ["C:\\temp\\new photos", "C:\tmp\nov"])
def test_windows_paths_typed_without_r_say_how_to_write_them(typed, tmp_path):
    with pytest.raises(ImageFolderError, match=r'r"C:.*forward slashes|Windows path'):
        choose_image_folder(typed, here=tmp_path)


def test_exports_get_a_new_visible_folder_each_run(tmp_path, monkeypatch):
    monkeypatch.delenv("TL_COURSE_EXPORTS", raising=False)
    first = export_folder("my photo classifier", here=tmp_path)
    (first / "model.pt2").write_bytes(b"model")
    second = export_folder("my photo classifier", here=tmp_path)
    assert first != second and first.parent == second.parent == tmp_path / "exports"
    assert first.name.startswith("my_photo_classifier-") and (first / "model.pt2").read_bytes() == b"model"


@pytest.mark.usefixtures("mirror")
def test_fallback_has_four_classes_from_the_course_data():
    root = fallback_image_folder(per_class=12)
    audit = audit_image_folder(root)
    assert audit.classes == ["ants", "bees", "cats", "dogs"]
    assert all(11 <= n <= 12 for n in audit.counts.values()), audit.counts  # a placeholder may be dropped
    assert fallback_image_folder(per_class=12) == root, "built once"


@pytest.mark.usefixtures("mirror")
@pytest.mark.parametrize(
    "use_fallback, variable, grading, said",
    [
        (True, None, None, ""),  # the notebook's own setting: the page shows it, nothing to add
        (False, "fallback", None, "environment variable"),
        (False, None, "1", "nbgrader"),
    ],
)
def test_the_fallback_says_what_chose_it_when_the_notebook_did_not(monkeypatch, tmp_path, use_fallback, variable, grading, said):
    for name, value in (("TL_COURSE_MY_IMAGES", variable), ("NBGRADER_EXECUTION", grading)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    source = choose_image_folder(use_fallback=use_fallback, fallback_per_class=4, here=tmp_path)
    assert source.origin == "fallback"
    assert (said in source.chosen_by) if said else source.chosen_by == "", source.chosen_by


def test_a_folder_from_the_environment_says_so(monkeypatch, tmp_path):
    photos = build_messy_folder(tmp_path / "photos")
    monkeypatch.setenv("TL_COURSE_MY_IMAGES", str(photos))
    assert "TL_COURSE_MY_IMAGES" in choose_image_folder(here=tmp_path).chosen_by
    assert choose_image_folder(str(photos), here=tmp_path).chosen_by == "", "a typed path is on the page"

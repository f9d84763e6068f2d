"""Grading and the lessons' ImageNet weights (autograder/weights.py).

Graded kernels run in a sandbox with no network and HOME=/tmp: they must see the weights the
grader fetched (read-only), and a lesson whose weights are missing must not be graded at all
(every weights-dependent check would silently score 0 for every student).
"""

from __future__ import annotations

import csv
import hashlib
import shutil
from pathlib import Path

import nbformat
import pytest
from conftest import REPO_ROOT

from autograder import sandbox, weights
from autograder.grading import Status, grade
from helpers.models import BACKBONES

needs_bwrap = pytest.mark.skipif(
    shutil.which("bwrap") is None and not __import__("os").environ.get("CI"),
    reason="bubblewrap is not installed (make sandbox); CI installs it",
)

# What each lesson's graded cells load: lesson 01 loads its MobileNetV2 and lesson 02 its
# EfficientNetB0 only in walkthrough cells, which grading skips.
GRADED_BACKBONES = {
    "01_concepts": [],
    "02_vgg16_feature_extraction": ["vgg16"],
    "03_resnet50_fine_tuning": ["resnet50"],
    "04_pytorch_resnet18": ["resnet18"],
    "05_quiz": [],
    "06_your_own_images": ["mobilenet_v2"],
}


def _solution(lesson: str) -> Path:
    return REPO_ROOT / "solutions" / lesson / f"{lesson}.ipynb"


def test_the_scan_finds_each_lessons_backbones_in_its_graded_cells():
    found = {
        path.parent.name: weights.needed_backbones(nbformat.read(path, as_version=4))
        for path in sorted(REPO_ROOT.glob("solutions/*/*.ipynb"))
    }
    assert found == GRADED_BACKBONES


def _code(source: str, grade_id: str | None = "cell") -> nbformat.NotebookNode:
    meta = {"nbgrader": {"grade_id": grade_id, "locked": True, "solution": False, "grade": False}} if grade_id else {}
    return nbformat.v4.new_code_cell(source, metadata=meta)


def test_the_scan_reads_calls_not_words():
    nb = nbformat.v4.new_notebook(
        cells=[
            _code('import helpers.models as m\nsource = m.fetch_keras_weights(name="resnet50")', "a"),
            _code('%matplotlib inline\nnet = load_torch_backbone("resnet18", allow_random=False)', "b"),
            _code('# fetch_keras_weights("vgg16") in a comment\nprint("load_keras_backbone(\'vgg16\')")', "c"),
            _code('fetch_torch_weights("mobilenet_v2")', None),  # a walkthrough cell: not run while grading
            _code('fetch_keras_weights("resnet50")', "d"),  # twice: listed once
        ]
    )
    assert weights.needed_backbones(nb) == ["resnet50", "resnet18"]


def test_a_name_the_scan_cannot_read_is_said(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[_code("NAME = pick()\nfetch_keras_weights(NAME)", "a")])
    with pytest.raises(weights.UnreadableWeightsCall, match=r"cell a calls fetch_keras_weights\(NAME\).*string literal"):
        weights.needed_backbones(nb)


@pytest.fixture
def no_weights(tmp_path, monkeypatch) -> Path:
    """Empty framework caches and an empty mirror; random weights not allowed."""
    for name in ("TORCH_HOME", "KERAS_HOME", "TL_COURSE_MIRROR"):
        (tmp_path / name).mkdir()
        monkeypatch.setenv(name, str(tmp_path / name))
    monkeypatch.delenv("TL_COURSE_ALLOW_RANDOM_WEIGHTS", raising=False)
    return tmp_path


def test_preflight_names_the_missing_weights_and_the_fix(no_weights):
    lines: list[str] = []
    blocked = weights.preflight({"02_vgg16_feature_extraction": _solution("02_vgg16_feature_extraction")}, echo=lines.append)
    assert set(blocked) == {"02_vgg16_feature_extraction"}
    assert len(lines) == 1, lines
    message = lines[0]
    for part in (
        "02_vgg16_feature_extraction",
        "vgg16",
        BACKBONES["vgg16"].weights_file,
        "python -m helpers fetch vgg16",
        "TL_COURSE_MIRROR",
    ):
        assert part in message, (part, message)


def test_preflight_takes_the_grader_cache_or_the_mirror(no_weights):
    spec = BACKBONES["vgg16"]
    cached = no_weights / "KERAS_HOME" / "models" / spec.weights_file
    cached.parent.mkdir()
    cached.write_bytes(b"weights")
    assert weights.missing_weights(["vgg16"]) == []
    cached.unlink()
    mirrored = no_weights / "TL_COURSE_MIRROR" / "weights" / "keras" / spec.weights_file
    mirrored.parent.mkdir(parents=True)
    mirrored.write_bytes(b"weights")
    assert weights.missing_weights(["vgg16"]) == []
    assert weights.missing_weights(["vgg16", "resnet18"]) == ["resnet18"]


def test_with_random_weights_allowed_preflight_warns_once_and_blocks_nothing(no_weights, monkeypatch):
    monkeypatch.setenv("TL_COURSE_ALLOW_RANDOM_WEIGHTS", "1")
    lines: list[str] = []
    lessons = {name: _solution(name) for name in ("02_vgg16_feature_extraction", "04_pytorch_resnet18", "05_quiz")}
    assert weights.preflight(lessons, echo=lines.append) == {}
    assert len(lines) == 1 and lines[0].startswith("WARNING") and "RANDOM" in lines[0], lines
    assert "vgg16" in lines[0] and "resnet18" in lines[0] and "05_quiz" not in lines[0]


def _digests(folder: Path) -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_grade_refuses_a_lesson_without_its_weights_and_grades_the_quiz_beside_it(no_weights, tmp_path):
    """Nothing of the refused lesson runs or is written; the quiz (no weights) is graded."""
    submissions = tmp_path / "subs"
    for lesson in ("02_vgg16_feature_extraction", "05_quiz"):
        folder = submissions / "ann" / lesson
        folder.mkdir(parents=True)
        shutil.copy(_solution(lesson), folder)
    before = _digests(submissions)
    lines: list[str] = []
    workspace = tmp_path / "grading"
    run = grade(submissions, workspace, ["02_vgg16_feature_extraction", "05_quiz"], echo=lines.append, jobs=1)
    by_lesson = {o.assignment: o for o in run.outcomes}
    assert by_lesson["02_vgg16_feature_extraction"].status == Status.HELD
    assert by_lesson["02_vgg16_feature_extraction"].score is None
    assert by_lesson["05_quiz"].status == Status.GRADED and by_lesson["05_quiz"].score == by_lesson["05_quiz"].max_score > 0
    refusals = [line for line in lines if line.startswith("NOT GRADED")]
    assert len(refusals) == 1 and "python -m helpers fetch vgg16" in refusals[0], lines
    assert _digests(submissions) == before, "a submission file was touched"
    nbgrader = workspace / "nbgrader"
    assert not (nbgrader / "submitted" / "ann" / "02_vgg16_feature_extraction").exists()
    assert not (nbgrader / "autograded" / "ann" / "02_vgg16_feature_extraction").exists()
    with (workspace / "grades.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [(row["student"], row["assignment"]) for row in rows] == [("ann", "05_quiz")]
    # once the weights are there, the held submission is graded on the next run (nothing was recorded for it)
    state = (workspace / "grading_state.json").read_text()
    assert "02_vgg16_feature_extraction" not in state.split('"submissions"')[1]


def _run_sandboxed(folder: Path, source: str) -> str:
    """The printed output of one graded cell run by the autograder's executor (sandboxed)."""
    from autograder.execute import GradedCellsExecute

    folder.mkdir()
    nb = nbformat.v4.new_notebook(cells=[_code(source, "probe")])
    GradedCellsExecute(timeout=120).preprocess(nb, {"metadata": {"path": str(folder)}})
    errors = [f"{out.get('ename')}: {out.get('evalue')}" for out in nb.cells[0].outputs if out.get("output_type") == "error"]
    assert not errors, errors
    return "".join(out.get("text", "") for out in nb.cells[0].outputs)


@needs_bwrap
def test_a_sandboxed_kernel_reads_the_graders_weights_and_cannot_write_them(tmp_path, monkeypatch):
    """The grader's cached weight files are read-only in the kernel's own caches, where torch's hub
    and Keras's get_file find them without a download; the grader's other cached files stay out."""
    import torch

    monkeypatch.delenv(sandbox.SWITCH_VARIABLE, raising=False)
    keras_file = tmp_path / "keras" / "models" / BACKBONES["vgg16"].weights_file
    torch_file = tmp_path / "torch" / "hub" / "checkpoints" / BACKBONES["mobilenet_v2"].weights_file
    keras_file.parent.mkdir(parents=True)
    torch_file.parent.mkdir(parents=True)
    keras_file.write_text("the grader's vgg16 weights")
    (keras_file.parent / "someone_elses_model.h5").write_text("private")
    torch.save({"marker": torch.tensor([7.0])}, torch_file)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    mirrored = tmp_path / "mirror" / "weights" / "torch" / BACKBONES["resnet18"].weights_file
    mirrored.parent.mkdir(parents=True)
    torch.save({"marker": torch.tensor([8.0])}, mirrored)
    monkeypatch.setenv("TL_COURSE_MIRROR", str(tmp_path / "mirror"))
    before = _digests(tmp_path)
    # two kernels: torch and TensorFlow in one exceed the sandbox's address-space limit
    torch_text = _run_sandboxed(
        tmp_path / "nb-torch",
        "from torchvision.models import MobileNet_V2_Weights\n"
        "print('torch', float(MobileNet_V2_Weights.IMAGENET1K_V1.get_state_dict(progress=False)['marker'][0]))\n"
        "from helpers.models import fetch_torch_weights\n"
        "print('seeded', fetch_torch_weights('resnet18'))\n",  # the mirror's copy goes into the kernel's cache
    )
    assert "torch 7.0" in torch_text and "seeded imagenet" in torch_text, torch_text
    keras_text = _run_sandboxed(
        tmp_path / "nb-keras",
        "import os\n"
        "import keras\n"
        "from helpers.models import BACKBONES\n"
        "spec = BACKBONES['vgg16']\n"
        "path = keras.utils.get_file(spec.weights_file, spec.weights_url, cache_subdir='models')\n"
        "print('keras', open(path).read())\n"
        "print('listing', sorted(os.listdir(os.path.dirname(path))))\n"
        "for attempt in (lambda: open(path, 'a').write('x'), lambda: os.remove(path), lambda: os.rename(path, path + '.x')):\n"
        "    try:\n"
        "        attempt()\n"
        "        print('CHANGED the weights')\n"
        "    except OSError as err:\n"
        "        print('refused', err.errno)\n",
    )
    assert "keras the grader's vgg16 weights" in keras_text, keras_text
    assert f"listing ['{BACKBONES['vgg16'].weights_file}']" in keras_text, keras_text  # not the grader's other files
    assert "CHANGED" not in keras_text and keras_text.count("refused") == 3, keras_text
    assert _digests(tmp_path) == before  # nothing of the grader's changed, and nothing new beside it


def test_nbgrader_autograde_fails_a_submission_without_its_weights_before_any_cell_runs(no_weights, tmp_path):
    """formgrader and `nbgrader autograde` go through the executor, not grade(): it refuses there."""
    from autograder.execute import GradedCellsExecute

    lesson = "02_vgg16_feature_extraction"
    source = tmp_path / "source"
    (source / lesson).mkdir(parents=True)
    shutil.copy(_solution(lesson), source / lesson)
    nb = nbformat.read(_solution(lesson), as_version=4)
    executor = GradedCellsExecute(timeout=60, source_root=str(source))
    resources = {"metadata": {"path": str(tmp_path)}, "nbgrader": {"assignment": lesson, "notebook": lesson}}
    with pytest.raises(weights.WeightsMissing, match=r"NOT GRADED 02_vgg16.*python -m helpers fetch vgg16"):
        executor.preprocess(nb, resources)
    assert not any(cell.get("outputs") for cell in nb.cells if cell.cell_type == "code"), "a cell ran"


def test_the_grading_command_exits_1_when_a_lesson_was_held_back(no_weights, tmp_path, capsys):
    """`make grade` / `python -m autograder`: a script or CI job must notice a lesson left ungraded."""
    from autograder.cli import main

    lesson = "04_pytorch_resnet18"
    folder = tmp_path / "subs" / "ann" / lesson
    folder.mkdir(parents=True)
    shutil.copy(_solution(lesson), folder)
    assert main([str(tmp_path / "subs"), "--grading-dir", str(tmp_path / "grading"), "--lessons", lesson, "--jobs", "1"]) == 1
    out = capsys.readouterr().out
    assert "NOT GRADED 04_pytorch_resnet18" in out and "python -m helpers fetch resnet18" in out, out
    assert "held" in out and "1 NOT graded, weights missing for 04_pytorch_resnet18" in out, out


def test_grading_as_root_a_weights_file_only_root_can_read_is_missing_for_the_sandbox(no_weights):
    """As root the kernel drops to an unprivileged uid: a file fetched under umask 077 is unreadable there."""
    import os

    if os.geteuid() != 0:
        pytest.skip("the kernel changes uid only when grading runs as root")
    cached = no_weights / "TORCH_HOME" / "hub" / "checkpoints" / BACKBONES["resnet18"].weights_file
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"weights")
    cached.chmod(0o600)
    lines: list[str] = []
    assert set(weights.preflight({"04_pytorch_resnet18": _solution("04_pytorch_resnet18")}, echo=lines.append)) == {
        "04_pytorch_resnet18"
    }
    assert f"chmod a+r {cached}" in lines[0], lines
    cached.chmod(0o644)
    assert weights.missing_weights(["resnet18"]) == []

"""Lesson 02's generated sentences are true for any numbers: the race note (§5) and the finding on the heads (§6).

The lesson's own hidden cells run here on made-up numbers (no photos, no VGG16). ``race_table``: the note
that the extraction time comes from the run that filled the cache appears only when that time is used
(quick and cpu mode race on a subset whose extraction is timed in this run). ``head_table``: two heads
that fit their training photos equally (both 1.000 is likely in full mode) are said to, not that the
first one fits less well; the less-fitting head is named whichever it is; a tie of the gaps keeps the
fitting clause. ``choice_text``, ``rescale_sentence`` and ``swap_table``: a difference of validation accuracies is
given in validation photos, with what one photo is worth, and two photos or fewer is called too small to call
(review 3, C3).
"""

from __future__ import annotations

import contextlib
import io
from types import SimpleNamespace

import nbformat
import numpy as np
import pytest
from conftest import REPO_ROOT

NOTEBOOK = REPO_ROOT / "solutions" / "02_vgg16_feature_extraction" / "02_vgg16_feature_extraction.ipynb"
TRAIN_PHOTOS = 40  # one photo is 0.025


def _cell(cell_id: str) -> str:
    (cell,) = [c for c in nbformat.read(NOTEBOOK, as_version=4).cells if c.get("id") == cell_id]
    return cell.source


def _race_lines(race_photos: int, cache_hit: bool) -> str:
    features = SimpleNamespace(compute_seconds=2.5, hit=cache_hit)
    history = SimpleNamespace(history={"val_accuracy": [0.5, 0.6]})
    namespace = {
        "train_features": features,
        "val_features": features,
        "y_train": np.zeros(TRAIN_PHOTOS, dtype=int),
        "y_val": np.zeros(10, dtype=int),
        "x_train": np.zeros((TRAIN_PHOTOS, 2)),
        "x_val": np.zeros((10, 2)),
        "race_train": np.arange(race_photos),
        "race_val": np.arange(min(race_photos, 10)),
        "vgg16_features": lambda photos: photos,
        "time": __import__("time"),
        "naive_seconds": 9.0,
        "cached_head_seconds": 1.0,
        "naive_history": history,
        "cached_history": history,
        "val_baseline": 0.5,
        "race_val_baseline": 0.4,
        "RANDOM_NOTE": "",
        "EPOCHS": 3,
    }
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(_cell("race_table"), namespace)  # noqa: S102 - the lesson's own cell
    return out.getvalue()


@pytest.mark.parametrize("cache_hit", [True, False])
def test_a_race_on_a_subset_never_claims_the_cache_fill_time(cache_hit):
    text = _race_lines(race_photos=20, cache_hit=cache_hit)
    assert "loaded from the cache" not in text, text


@pytest.mark.parametrize("cache_hit", [True, False])
def test_a_race_on_the_whole_splits_says_where_its_extraction_time_comes_from(cache_hit):
    text = _race_lines(race_photos=TRAIN_PHOTOS, cache_hit=cache_hit)
    assert ("extraction time is the one measured when it was filled" in text) == cache_hit, text
    assert "extraction 5.0 s" in text, text


def _finding(train: dict, val: dict) -> str:
    shown = []
    namespace = {
        "heads": {"flatten": "flatten head", "gap": "gap head"},
        "curves": {p: {"accuracy": [0.5, train[p]], "val_accuracy": [0.5, val[p]]} for p in ("flatten", "gap")},
        "seconds": {"flatten": 2.0, "gap": 1.0},
        "count_parameters": len,
        "val_baseline": 0.5,
        "weights_source": "imagenet",
        "y_train": np.zeros(TRAIN_PHOTOS, dtype=int),
        "Markdown": str,
        "display": shown.append,
    }
    exec(_cell("head_table"), namespace)  # noqa: S102 - the lesson's own cell
    (text,) = shown
    return text.split("\n\n")[1]  # the sentence under the table


def test_equal_training_accuracies_fit_equally_well():
    text = _finding(train={"flatten": 1.0, "gap": 1.0}, val={"flatten": 0.90, "gap": 0.95})
    assert "less well" not in text, text
    assert "both heads fit their training photos equally well (train accuracy 1.000)" in text, text
    assert "the **flatten** head has the larger *train - val* gap (+0.100 vs +0.050)" in text, text


@pytest.mark.parametrize(("flatten", "gap", "less_fit"), [(0.95, 0.80, "gap"), (0.80, 0.95, "flatten")])
def test_the_less_fitting_head_is_named_whichever_it_is(flatten, gap, less_fit):
    text = _finding(train={"flatten": flatten, "gap": gap}, val={"flatten": 0.7, "gap": 0.7})
    low, high = sorted((flatten, gap))
    assert f"the **{less_fit}** head fits its training photos less well (train accuracy {low:.3f} vs {high:.3f})" in text


def test_equal_gaps_keep_the_fitting_clause():
    text = _finding(train={"flatten": 0.9, "gap": 0.8}, val={"flatten": 0.8, "gap": 0.7})
    assert "both heads have the same *train - val* gap" in text, text
    assert "the **gap** head fits its training photos less well" in text, text


VAL_PHOTOS = 16  # one validation photo is 0.0625


class _Head:
    """A stand-in for a trained Keras head: its parameter count and its validation accuracy."""

    def __init__(self, parameters: int, accuracy: float):
        self.parameters, self.accuracy = parameters, accuracy

    def evaluate(self, features, labels, verbose=0):
        return [0.0, self.accuracy]


def _yardstick_namespace(val_scores: dict, shown: list) -> dict:
    """The lesson's choice (``cell-024``) and its reading (``choice_text``) on made-up validation accuracies;
    ``flatten`` is the bigger head, as in the lesson."""
    namespace = {
        "heads": {"flatten": _Head(4_000_000, val_scores["flatten"]), "gap": _Head(500, val_scores["gap"])},
        "count_parameters": lambda head: head.parameters,
        "f_val": None,
        "y_val": np.zeros(VAL_PHOTOS, dtype=int),
        "val_baseline": 0.5,
        "RANDOM_NOTE": "",
        "Markdown": str,
        "display": shown.append,
    }
    exec(_cell("cell-024"), namespace)  # noqa: S102 - the lesson's own cells
    exec(_cell("choice_text"), namespace)  # noqa: S102
    return namespace


@pytest.mark.parametrize(
    ("flatten", "gap", "chosen"),
    [(0.625, 0.5, "gap"), (0.6875, 0.5, "flatten"), (0.5, 0.5, "gap"), (0.5, 0.625, "gap"), (0.5, 0.75, "gap")],
)
def test_the_bigger_head_is_chosen_only_when_it_wins_by_more_than_two_photos(flatten, gap, chosen):
    # card, rule 7: a change that trains more is kept only when it wins by more than the noise
    assert _yardstick_namespace({"flatten": flatten, "gap": gap}, [])["chosen"] == chosen


def test_a_head_chosen_by_two_validation_photos_is_not_called_better():
    # review 3, C3: this run's case, 0.625 against 0.500 on 16 validation photos
    shown: list = []
    _yardstick_namespace({"flatten": 0.625, "gap": 0.5}, shown)
    (text,) = shown
    assert "The **gap** head against the flatten head on validation: -0.125, 2 validation photos" in text, text
    assert "one photo is 0.062: within two photos, too small to call" in text, text
    assert "the smaller head, gap, is kept" in text and "does not show that one head is better" in text, text
    assert "better one" not in text, text


def test_a_head_chosen_by_more_than_two_photos_is_called_better_on_validation():
    shown: list = []
    _yardstick_namespace({"flatten": 0.5, "gap": 0.75}, shown)
    (text,) = shown
    assert "The **gap** head against the flatten head on validation: +0.250, 4 validation photos" in text, text
    assert "too small" not in text and "the gap head is the better one on validation" in text, text


def test_the_preprocessing_comparisons_give_their_differences_in_validation_photos():
    shown: list = []
    namespace = _yardstick_namespace({"flatten": 0.5, "gap": 0.5}, shown)
    runs = {
        ("VGG16", "vgg16.preprocess_input"): 0.75,
        ("VGG16", "rescale=1./255"): 0.6875,
        ("EfficientNetB0", "none (built into the model)"): 0.75,
        ("EfficientNetB0", "vgg16.preprocess_input"): 0.5,
    }
    namespace.update({"preprocessing_runs": runs, "val_baseline": 0.5, "weights_source": "imagenet", "effnet_source": "imagenet"})
    exec(_cell("rescale_sentence"), namespace)  # noqa: S102 - the lesson's own cell
    exec(_cell("swap_table"), namespace)  # noqa: S102 - the lesson's own cell
    _, rescale, swap = shown
    assert "(-0.062, 1 validation photo; one photo is 0.062: within two photos, too small to call)" in rescale, rescale
    assert "VGG16: the wrong preprocessing changes validation accuracy by -0.062, 1 validation photo;" in swap, swap
    assert (
        "EfficientNetB0: the wrong preprocessing changes validation accuracy by -0.250, 4 validation photos; one photo is 0.062."
        in swap
    ), swap


def test_the_race_prints_its_accuracies_as_a_sanity_check_of_two_differently_started_heads():
    # review 5, C3: the naive and the cached head share an architecture, not their initial weights
    text = _race_lines(race_photos=20, cache_hit=False)
    assert "a sanity check only: the two heads start from separately drawn random weights" in text, text


def test_the_race_baseline_is_the_one_of_the_race_s_own_validation_photos():
    # review 5, C9: the race scores a subset of the validation split; its baseline must be that subset's
    namespace = {
        "y_train": np.array([0] * 6 + [1] * 4),  # majority class 0
        "y_val": np.array([0, 1, 1, 1, 0, 0, 0, 0]),  # the first photo of each class: half zeros; all: 5/8 zeros
        "x_train": np.zeros((10, 2)),
        "y_test": np.zeros(4, dtype=int),
        "np": np,
        "majority_class": 0,
        "RACE_PER_CLASS": 2,
        "COMPARE_PER_CLASS": None,
        "IMAGE_SIZE": 32,
        "HEAD_EPOCHS": 2,
        "EPOCHS": 2,
        "splits": SimpleNamespace(classes=["cats", "dogs"]),
        "show_images": lambda *args, **kwargs: None,
        "Markdown": str,
        "display": lambda *args: None,
    }
    exec(_cell("run_sizes"), namespace)  # noqa: S102 - the lesson's own cell
    assert namespace["race_val_baseline"] == 0.5
    assert "(majority baseline 0.400;" in _race_lines(race_photos=20, cache_hit=False)


def test_the_note_on_the_misclassified_photos_reads_and_appears_only_when_there_are_some():
    # fresh review 6, C7: "is this run's answer" could not be parsed; with no mistake there is nothing to look at
    from test_one_class_warning import Y_TRUE, _lesson02

    note = "Whatever the misclassified photos above have in common is a finding about this run, not a general rule."
    assert note in _lesson02(np.where(np.arange(len(Y_TRUE)) < 3, 1 - Y_TRUE, Y_TRUE))  # 3 mistakes
    perfect = _lesson02(Y_TRUE.copy())
    assert "misclassified photos" not in perfect and "The mistakes: 0 cats called dogs, 0 dogs called cats." in perfect


@pytest.mark.parametrize("race_photos", [TRAIN_PHOTOS // 2, TRAIN_PHOTOS])
def test_the_race_says_the_naive_time_includes_compiling_vgg16_s_training_graph(race_photos):
    # fresh review 6, C2: the naive side's first fit compiles VGG16's training graph; the cached side's extraction
    # reuses a predict graph the cells above compiled, so the race is a cold start against a warm one
    lines = _race_lines(race_photos, cache_hit=False)
    assert "the naive time includes compiling VGG16's training graph, the naive model's first `fit`" in lines, lines
    assert "On a short run (3 epochs here) that one-off cost can be a large share of the naive time." in lines, lines

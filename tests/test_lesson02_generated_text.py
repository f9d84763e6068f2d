"""Lesson 02's generated sentences are true for any numbers: the race note (§5) and the finding on the heads (§6).

The lesson's own hidden cells run here on made-up numbers (no photos, no VGG16). ``race_table``: the note
that the extraction time comes from the run that filled the cache appears only when that time is used
(quick and cpu mode race on a subset whose extraction is timed in this run). ``head_table``: two heads
that fit their training photos equally (both 1.000 is likely in full mode) are said to, not that the
first one fits less well; the less-fitting head is named whichever it is; a tie of the gaps keeps the
fitting clause.
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

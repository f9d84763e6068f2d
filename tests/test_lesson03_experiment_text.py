"""Lesson 03 §6's generated reading of the three brief fine-tuning runs is true whichever run is best or worst.

The lesson's own hidden cell ``cell-029`` runs here on made-up accuracies (no photos, no ResNet50): the
recipe run may itself be the worst (then the text must say which run beat it, not "no run is clearly
worse"), and float32 accuracies two photos apart must not read as "more than two photos".
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import nbformat  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from conftest import REPO_ROOT  # noqa: E402

NOTEBOOK = REPO_ROOT / "solutions" / "03_resnet50_fine_tuning" / "03_resnet50_fine_tuning.ipynb"
VAL_PHOTOS = 20  # one photo is 0.05


def _reading(
    recipe: float,
    heads_rate: float,
    batchnorm: float,
    changes=(0.01, 0.30, 0.20),
    steps: int = 20,
    weights_source: str = "imagenet",
) -> str:
    (cell,) = [c for c in nbformat.read(NOTEBOOK, as_version=4).cells if c.get("id") == "cell-029"]
    shown = []
    namespace = {
        "runs": {
            "recipe": (recipe, changes[0]),
            "head's rate": (heads_rate, changes[1]),
            "BatchNorm training": (batchnorm, changes[2]),
        },
        "phase1_val_accuracy": 0.7,
        "baseline": {"val": 0.5},
        "EXPERIMENT_STEPS": steps,
        "labels_of": {"val": np.zeros(VAL_PHOTOS, dtype=int)},
        "probe_images": np.zeros((8, 2, 2, 3)),
        "weights_source": weights_source,
        "Markdown": str,
        "display": shown.append,
        "np": np,
    }
    (helper,) = [c for c in nbformat.read(NOTEBOOK, as_version=4).cells if c.get("id") == "photos-apart"]
    exec(helper.source, namespace)  # noqa: S102 - the lesson's own helper, defined before phase 2
    exec(cell.source, namespace)  # noqa: S102 - the lesson's own cell
    matplotlib.pyplot.close("all")
    (text,) = shown
    return text


def test_a_recipe_run_below_both_others_is_named_not_hidden():
    text = _reading(recipe=0.60, heads_rate=0.85, batchnorm=0.80)
    assert "no run is clearly" not in text, text
    assert "**head's rate** run scored 5 photos above the recipe run" in text, text
    assert "**BatchNorm training** run scored 4 photos above the recipe run" in text, text
    assert "does not confirm the card's choice" in text


def test_a_run_clearly_below_the_recipe_is_named_and_a_close_one_is_not():
    text = _reading(recipe=0.85, heads_rate=0.60, batchnorm=0.80)
    assert "**head's rate** run scored 5 photos below the recipe run" in text, text
    assert "BatchNorm training** run scored" not in text and "no run is clearly" not in text, text
    assert "does not confirm" not in text


def test_a_spread_of_two_photos_or_less_is_no_clear_difference():
    # float32 accuracies as Keras returns them: 0.6 - 0.5 is a little more than 2 photos' 0.1
    text = _reading(recipe=float(np.float32(0.6)), heads_rate=0.5, batchnorm=float(np.float32(0.55)))
    assert "no run is clearly better or worse" in text, text
    assert "photos below" not in text and "photos above" not in text, text


def test_the_recipe_in_the_middle_names_the_best_and_the_worst_run():
    text = _reading(recipe=0.60, heads_rate=0.50, batchnorm=0.70)
    assert "no run is clearly" not in text, text
    assert "within two photos of both others" in text
    assert "**BatchNorm training** run scored 4 photos above the **head's rate** run" in text, text


@pytest.mark.parametrize("accuracies", [(0.5, 0.5, 0.5), (0.9, 0.1, 0.1), (0.1, 0.9, 0.9), (0.3, 0.1, 0.9)])
def test_exactly_one_reading_of_the_spread(accuracies):
    text = _reading(*accuracies)
    claims = ["no run is clearly", "within two photos of both others", "photos below", "photos above"]
    assert any(claim in text for claim in claims), text
    assert not ("no run is clearly" in text and ("photos below" in text or "photos above" in text)), text


def test_the_run_that_moved_the_features_most_is_named_and_a_tie_names_both():
    assert "the **head's rate** run moved the features most" in _reading(0.6, 0.6, 0.6)
    # equal as printed (three decimals): neither run is named alone
    text = _reading(0.6, 0.6, 0.6, changes=(0.01, 0.2501, 0.2499))
    assert "the **head's rate and BatchNorm training** runs moved the features most" in text, text


def test_all_three_feature_changes_are_printed():
    text = _reading(0.6, 0.6, 0.6, changes=(0.012, 0.345, 0.678))
    assert "Feature change after the steps: recipe 0.012, head's rate 0.345, BatchNorm training 0.678" in text, text


def test_the_quick_mode_clause_says_what_each_count_measures():
    text = _reading(0.6, 0.6, 0.6, steps=1)
    assert "Only 1 training step(s) (quick mode): the 8 probe photos show how far the features move; " in text, text
    assert f"{VAL_PHOTOS} validation photos cannot show a reliable accuracy change" in text, text
    assert "quick mode" not in _reading(0.6, 0.6, 0.6, steps=20)


@pytest.mark.parametrize("accuracies", [(0.60, 0.85, 0.80), (0.85, 0.60, 0.80), (0.6, 0.6, 0.6)])
def test_random_weights_say_nothing_about_imagenet_features_or_the_card(accuracies):
    text = _reading(*accuracies, weights_source="random")
    assert "feature changes are of a random network" in text and "do not predict the sizes with ImageNet" in text, text
    assert "cannot test the card's choice" in text, text
    assert "shows the mechanism" not in text and "does not confirm the card's choice" not in text, text


def test_training_mode_is_said_to_switch_only_the_unfrozen_stage():
    # fresh review 6, C3: Keras keeps a frozen (trainable=False) BatchNorm layer in inference mode even with
    # training=True, so the experiment's training-mode run switches only the unfrozen stage's layers
    (cell,) = [c for c in nbformat.read(NOTEBOOK, as_version=4).cells if c.get("id") == "cell-027"]
    text = " ".join(cell.source.split())
    assert "With `training=True` each BatchNorm layer of the unfrozen stage normalises" in text, text

"""Lesson 03's reference answers (helpers/reference_answers/lesson03.py) have what the lesson's checks ask of a learner.

The lesson goes on with these when a your-turn cell is empty or wrong, so they must follow the recipe card:
a frozen ResNet50 without its classifier, a logits head over ``base(x, training=False)``, and in phase 2
the conv5 stage trainable (BatchNorm's scale and shift included) at a tenth of the head's rate.
"""

import pytest

keras = pytest.importorskip("keras")

from helpers.reference_answers.lesson03 import frozen_resnet50, model_with_new_head, unfreeze_top_stage  # noqa: E402


def test_the_three_reference_answers_follow_the_recipe_card():
    base = frozen_resnet50(32, None)
    assert "resnet50" in base.name and len(base.output.shape) == 4 and not base.trainable_weights
    augmentation = keras.Sequential([keras.layers.RandomFlip("horizontal")])
    model = model_with_new_head(base, augmentation, 3, 32)
    assert tuple(model.output.shape) == (None, 3)
    assert model.layers[-1].activation is keras.activations.linear, "logits"
    assert base._inbound_nodes[-1].arguments.kwargs.get("training") is False, "base(x, training=False)"
    assert len(model.trainable_weights) == 2, "phase 1: only the new Dense layer trains"

    assert unfreeze_top_stage(model, base, 1e-4) is base
    top = [layer for layer in base.layers if layer.name.startswith("conv5_") and layer.weights]
    below = [layer for layer in base.layers if layer.weights and not layer.name.startswith("conv5_")]
    assert top and all(layer.trainable for layer in top), "the whole top stage trains"
    assert any(isinstance(layer, keras.layers.BatchNormalization) for layer in top), "BatchNorm is part of the stage"
    assert not any(layer.trainable for layer in below), "the stages below stay frozen"
    assert abs(float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)) / 1e-4 - 1) < 1e-6
    assert model.loss.get_config()["from_logits"] is True

"""Reference answers to lesson 03's your-turn cells (Keras: two-phase fine-tuning of ResNet50).

``helpers.your_turn.check`` calls one of these only when the learner's cell is missing or wrong, so that
the lesson goes on. Each returns what its cell defines, built from what the lesson has in scope.
"""

from __future__ import annotations

from typing import Any

__all__ = ["frozen_resnet50", "model_with_new_head", "unfreeze_top_stage", "TOP_STAGE_PREFIX"]

TOP_STAGE_PREFIX = "conv5_"  # Keras's ResNet50 names its last stage's layers conv5_block1_..., conv5_block3_...


def frozen_resnet50(image_size: int, weights: str | None) -> Any:
    """Your turn 1: ResNet50 without its ImageNet classifier, at the lesson's size, frozen."""
    import keras

    base = keras.applications.ResNet50(weights=weights, include_top=False, input_shape=(image_size, image_size, 3))
    base.trainable = False
    return base


def model_with_new_head(base: Any, augmentation: Any, num_classes: int, image_size: int) -> Any:
    """Your turn 2: raw photos -> augmentation -> ``preprocess_input`` -> base (inference mode) -> a logits head."""
    import keras
    from keras import layers

    inputs = keras.Input(shape=(image_size, image_size, 3))
    x = augmentation(inputs)
    x = keras.applications.resnet50.preprocess_input(x)
    x = base(x, training=False)  # BatchNorm keeps ImageNet's statistics, even once the base is unfrozen
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(0.2)(x)
    outputs = layers.Dense(num_classes)(x)  # logits: the loss applies the softmax
    return keras.Model(inputs, outputs, name="resnet50_cats_vs_dogs")


def unfreeze_top_stage(model: Any, base: Any, pretrained_lr: float) -> Any:
    """Your turn 3: the top stage (conv5, BatchNorm's scale and shift included) trains; recompiled at ``pretrained_lr``."""
    import keras

    base.trainable = True
    for layer in base.layers:
        layer.trainable = layer.name.startswith(TOP_STAGE_PREFIX)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=pretrained_lr),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return base

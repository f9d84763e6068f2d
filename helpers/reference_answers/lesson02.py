"""Reference answers to lesson 02's your-turn cells (Keras: feature extraction with a frozen VGG16).

``helpers.your_turn.check`` calls one of these only when the learner's cell is missing or wrong, so that
the lesson goes on. Each returns what its cell defines, built from what the lesson has in scope.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["frozen_vgg16", "binary_compiler", "naive_vgg16_model", "feature_extractor"]


def frozen_vgg16(image_size: int, weights: str | None) -> Any:
    """Your turn 1: VGG16's convolutional base (no ImageNet classifier) at the lesson's size, frozen."""
    import keras

    base = keras.applications.VGG16(weights=weights, include_top=False, input_shape=(image_size, image_size, 3))
    base.trainable = False
    return base


def binary_compiler(head_lr: float) -> Callable[[Any], Any]:
    """Your turn 2: ``compile_binary(model)``, which compiles a one-logit model for a yes/no question."""
    import keras

    def compile_binary(model):
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate=head_lr),
            loss=keras.losses.BinaryCrossentropy(from_logits=True),
            metrics=[keras.metrics.BinaryAccuracy(threshold=0.0, name="accuracy")],  # a logit above 0 means class 1
        )
        return model

    return compile_binary


def naive_vgg16_model(base: Any, head: Any, image_size: int, compile_binary: Callable[[Any], Any]) -> Any:
    """Your turn 3: raw pixels -> ``preprocess_input`` -> the frozen base (inference mode) -> the head, compiled."""
    import keras

    inputs = keras.Input(shape=(image_size, image_size, 3))
    x = keras.applications.vgg16.preprocess_input(inputs)
    x = base(x, training=False)
    return compile_binary(keras.Model(inputs, head(x), name="vgg16_naive"))


def feature_extractor(base: Any, batch_size: int) -> Callable[[Any], Any]:
    """Your turn 4: ``vgg16_features(images)``: raw 0-255 photos -> VGG16's feature maps, as a NumPy array."""
    import keras
    import numpy as np

    def vgg16_features(images):
        pixels = keras.applications.vgg16.preprocess_input(np.array(images, dtype="float32"))  # a copy: it edits in place
        return base.predict(pixels, batch_size=batch_size, verbose=0)

    return vgg16_features

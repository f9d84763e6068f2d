"""The VGG16 lesson's race, measured on its own: training a head for 10 epochs through the
frozen VGG16 base every epoch ("frozen forward", the naive way) vs extracting the features once
(cached with ``helpers.feature_cache``) and training the same head on the arrays.

The code is the lesson's (``solutions/02_vgg16_feature_extraction``): the same ``Flatten`` ->
``Dense(256)`` -> ``Dense(1)`` logit head, Adam 1e-3 (the recipe card's head rate) with
``BinaryCrossentropy(from_logits=True)``, ``preprocess_input`` and ``base(x, training=False)``.
The ratio is about compute, so VGG16 runs with RANDOM weights when its ImageNet weights cannot
be had (they are not in the offline mirror): the number of multiply-adds is identical, and the
result records which weights ran. Accuracies are reported but mean nothing with random weights.
"""

from __future__ import annotations

import tempfile
import time
import warnings
from pathlib import Path

from .measure import environment, load_1m, summarize

GOAL_SPEEDUP = 8.0


def _build_head(keras, layers, feature_shape, units=256):
    inputs = keras.Input(shape=feature_shape)
    x = layers.Flatten()(inputs)
    x = layers.Dense(units, activation="relu")(x)
    outputs = layers.Dense(1)(x)  # a logit, as in the lesson (recipe card, rule 5)
    return keras.Model(inputs, outputs, name="flatten_head")


def _compile(keras, model):
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=1e-3),
        loss=keras.losses.BinaryCrossentropy(from_logits=True),
        metrics=[keras.metrics.BinaryAccuracy(threshold=0.0, name="accuracy")],
    )
    return model


def race_once(splits, image_size: int, epochs: int, batch_size: int, seed: int) -> dict:
    import keras
    import numpy as np
    from keras import layers

    from helpers.data import load_arrays
    from helpers.feature_cache import cached_features, feature_key
    from helpers.models import load_keras_backbone

    x_train, y_train = load_arrays(splits.train, image_size)
    x_val, y_val = load_arrays(splits.val, image_size)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the random-weights warning is recorded in weights_source
        base = load_keras_backbone("vgg16", input_shape=(image_size, image_size, 3), allow_random=True)
    base.trainable = False
    preprocess = keras.applications.vgg16.preprocess_input
    feature_shape = tuple(base.output_shape[1:])

    keras.utils.set_random_seed(seed)
    inputs = keras.Input(shape=(image_size, image_size, 3))
    outputs = _build_head(keras, layers, feature_shape)(base(preprocess(inputs), training=False))
    naive = _compile(keras, keras.Model(inputs, outputs))
    start = time.perf_counter()
    naive_history = naive.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=epochs, batch_size=batch_size, verbose=0)
    naive_s = time.perf_counter() - start

    def extract(images):
        return np.concatenate(
            [
                base.predict_on_batch(preprocess(images[i : i + batch_size].astype("float32")))
                for i in range(0, len(images), batch_size)
            ]
        )

    start = time.perf_counter()
    features = {}
    for split, x, y in (("train", x_train, y_train), ("val", x_val, y_val)):
        key = feature_key(
            "vgg16",
            image_size,
            getattr(splits, split),
            base.weights_source,
            model=base,
            preprocessing="keras.applications.vgg16.preprocess_input",
            split=split,
        )
        features[split] = cached_features(key, lambda x=x, y=y: (extract(x), y), verbose=False)
    extract_s = time.perf_counter() - start  # includes hashing the weights for the cache key and saving
    keras.utils.set_random_seed(seed)
    head = _compile(keras, _build_head(keras, layers, feature_shape))
    start = time.perf_counter()
    cached_history = head.fit(
        features["train"].x, y_train, validation_data=(features["val"].x, y_val), epochs=epochs, batch_size=batch_size, verbose=0
    )
    head_s = time.perf_counter() - start
    keras.backend.clear_session()
    return {
        "frozen_forward_s": round(naive_s, 2),
        "cached_extract_s": round(extract_s, 2),
        "cached_head_s": round(head_s, 2),
        "cached_total_s": round(extract_s + head_s, 2),
        "speedup": round(naive_s / (extract_s + head_s), 2),
        "speedup_head_only": round(naive_s / head_s, 2),
        "frozen_forward_val_accuracy": round(float(naive_history.history["val_accuracy"][-1]), 4),
        "cached_val_accuracy": round(float(cached_history.history["val_accuracy"][-1]), 4),
        "weights_source": base.weights_source,
    }


def run_vgg16_speedup(
    runs: int = 3,
    smoke: bool = False,
    image_size: int = 160,
    train_per_class: int = 32,
    eval_per_class: int = 8,
    epochs: int = 10,
    batch_size: int = 32,
    tmp_root: Path | None = None,
) -> dict:
    from helpers.data import load_splits

    if smoke:  # a handful of tiny photos: checks the code path, not the claim
        image_size, train_per_class, eval_per_class, epochs = 32, 4, 2, 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        splits = load_splits("cats_and_dogs_filtered", per_class=train_per_class, eval_per_class=eval_per_class)
    per_run = []
    for index in range(runs):
        workdir = Path(tempfile.mkdtemp(prefix="tl-bench-vgg16-", dir=tmp_root))
        print(f"[bench] VGG16 cached vs frozen forward, run {index + 1}/{runs} ...", flush=True)
        with environment(TL_COURSE_CACHE=str(workdir / "cache"), KERAS_HOME=str(workdir / "keras")):
            record = {
                "load_1m_start": load_1m(),
                **race_once(splits, image_size, epochs, batch_size, seed=index),
                "load_1m_end": load_1m(),
            }
        print(f"[bench]   {record}", flush=True)
        per_run.append(record)
    speedup = summarize([r["speedup"] for r in per_run])
    return {
        "settings": {
            "dataset": "cats_and_dogs_filtered",
            "train_photos": len(splits.train),
            "val_photos": len(splits.val),
            "image_size": image_size,
            "epochs": epochs,
            "batch_size": batch_size,
        },
        "weights_source": sorted({r["weights_source"] for r in per_run}),
        "note": "VGG16 ImageNet weights are not in the offline mirror: random weights, same compute; accuracies are meaningless then",
        "frozen_forward_s": summarize([r["frozen_forward_s"] for r in per_run]),
        "cached_total_s": summarize([r["cached_total_s"] for r in per_run]),
        "cached_extract_s": summarize([r["cached_extract_s"] for r in per_run]),
        "cached_head_s": summarize([r["cached_head_s"] for r in per_run]),
        "speedup": speedup,
        "speedup_head_only": summarize([r["speedup_head_only"] for r in per_run]),
        "goals": {"speedup_at_least_8x": speedup["median"] is not None and speedup["median"] >= GOAL_SPEEDUP},
        "per_run": per_run,
    }

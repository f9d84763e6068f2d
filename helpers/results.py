"""Results that lessons save and later lessons, the course runner and the benchmark read.

Every number a lesson reports about itself (accuracy, training time, parameters) is written
here by the notebook that computed it, so comparison tables are read, never typed. ``one_class_warning``
reads a lesson's test predictions: a model that answers one class for (nearly) every photo is named as such.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from .costs import lesson_costs, show_lesson_cost  # noqa: F401 - lessons import show_lesson_cost from here
from .storage import cache_dir

__all__ = ["load_result", "one_class_warning", "results_dir", "save_result", "show_lesson_cost"]

ONE_CLASS_SHARE = 0.9  # warn when one class takes this share of the answers
# Training classes are "clearly unequal" when the largest has more than this many times the photos of the
# smallest (cats vs dogs 1000/1000 and ants vs bees 124/121 are not; 13 against 10 is).
UNEQUAL_RATIO = 1.25


def results_dir() -> Path:
    path = cache_dir() / "results"
    path.mkdir(parents=True, exist_ok=True)
    return path


def save_result(lesson: str, metrics: dict[str, Any], key_metric: str | None = None) -> Path:
    """Record a lesson's computed metrics (JSON), with the run mode and when it ran."""
    from .runtime import mode

    record = {
        "lesson": lesson,
        "mode": mode(),
        "saved_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "key_metric": key_metric,
        "metrics": metrics,
    }
    path = results_dir() / f"{lesson}.json"
    partial = path.with_suffix(".json.partial")
    partial.write_text(json.dumps(record, indent=2, default=_jsonable))
    os.replace(partial, path)
    return path


def load_result(lesson: str) -> dict[str, Any] | None:
    """A lesson's last saved record, or None if it has not run yet on this machine."""
    path = results_dir() / f"{lesson}.json"
    if not path.exists():
        return None
    return json.loads(path.read_text())


def one_class_warning(predictions, classes, train_counts, *, random_weights=False, class_weighted=False) -> str:
    """A warning sentence when one class takes ONE_CLASS_SHARE or more of the predicted class indices, else "".

    Such a model scores about what always answering that class scores, whatever its accuracy looks like.
    ``train_counts`` (training photos per class, in the order of ``classes``) chooses the explanation: the
    class sizes are blamed only when the training classes are clearly unequal (UNEQUAL_RATIO) and the answered
    class is the largest; with classes of about the same size a constant answer means features that do not
    separate the classes or a head that did not learn. ``random_weights``: the lesson knows its backbone is
    random (then that is expected); ``class_weighted``: its loss already weighs each class by its share.
    """
    counts = [0] * len(classes)
    for prediction in predictions:
        counts[int(prediction)] += 1
    top = max(range(len(classes)), key=counts.__getitem__)
    share = counts[top] / max(sum(counts), 1)
    if share < ONE_CLASS_SHARE:
        return ""
    text = (
        f"**Warning:** the model answers {classes[top]!r} for {share:.0%} of the test photos: its accuracy is "
        "about that of always answering that class."
    )
    sizes = [int(n) for n in train_counts]
    described = ", ".join(f"{name} {n}" for name, n in zip(classes, sizes))
    largest, smallest = max(sizes), min(sizes)
    unequal = largest > UNEQUAL_RATIO * smallest
    if unequal and sizes[top] == largest:
        which = "the largest" if sizes.count(largest) == 1 else "one of the largest"
        if class_weighted:
            text += (
                f" It is {which} training class ({described} photos), although the loss weighs each class by "
                "the inverse of its share: the other classes may have too few photos to learn from, or the "
                "features do not separate them (check the audit and the weights)."
            )
        else:
            text += (
                f" It is {which} training class ({described} photos): the model has probably learnt the class "
                "sizes, not the classes."
            )
    else:
        why = (
            f"The training classes are {'equal' if largest == smallest else 'close in size'} ({described} photos)"
            if not unequal
            else f"It is not the largest training class ({described} photos)"
        )
        text += (
            f" {why}, so the class sizes alone do not explain it: the features do not separate the classes, "
            "or the head did not learn (check the weights, the learning rate and the training curve)."
        )
    if random_weights:
        text += " This run's weights are random, so features that separate nothing are expected."
    return text


def _jsonable(value):
    if hasattr(value, "item"):  # numpy / torch scalars
        return value.item()
    return str(value)

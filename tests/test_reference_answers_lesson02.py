"""Lesson 02's reference answers pass the lesson's own "your turn" checks (helpers/reference_answers/lesson02.py).

A learner who skips a cell goes on with these, so each must be what its check asks for. The checks are
the lesson's hidden check cells, run as they are, on a VGG16 with random weights at 32 pixels.
"""

import pytest

from coursetools.paths import REPO_ROOT
from nbgrader_course import read_notebook

LESSON = "02_vgg16_feature_extraction"
CHECKS = [
    "check_your_turn_base",
    "check_your_turn_compile_binary",
    "check_your_turn_naive_model",
    "check_your_turn_vgg16_features",
]


def _sources():
    notebook = read_notebook(REPO_ROOT / "solutions" / LESSON / f"{LESSON}.ipynb")
    return {cell.metadata["nbgrader"]["grade_id"]: cell.source for cell in notebook.cells if "nbgrader" in cell.metadata}


def _namespace(reference_answers):
    """What the lesson's locked cells define, with each learner name holding the reference answer."""
    import keras
    import numpy as np
    from keras import layers

    from helpers.models import count_parameters
    from helpers.your_turn import check, expect

    namespace = dict(
        keras=keras,
        layers=layers,
        np=np,
        check=check,
        expect=expect,
        count_parameters=count_parameters,
        IMAGE_SIZE=32,
        WEIGHTS=None,
        BATCH_SIZE=4,
        **vars(reference_answers),
    )
    exec(_sources()["head"], namespace)  # noqa: S102 - the lesson's own build_head and HEAD_LR
    base = reference_answers.frozen_vgg16(32, None)
    compile_binary = reference_answers.binary_compiler(namespace["HEAD_LR"])
    namespace.update(base=base, feature_shape=tuple(base.output_shape[1:]), compile_binary=compile_binary)
    namespace["naive_model"] = reference_answers.naive_vgg16_model(
        base, namespace["build_head"](namespace["feature_shape"]), 32, compile_binary
    )
    namespace["vgg16_features"] = reference_answers.feature_extractor(base, 4)
    return namespace


def _run_checks(namespace, capsys):
    sources = _sources()
    for grade_id in CHECKS:
        exec(sources[grade_id], namespace)  # noqa: S102 - the lesson's check cells, unchanged
    return capsys.readouterr()


def test_every_reference_answer_passes_its_check(capsys):
    from helpers.reference_answers import lesson02

    out, err = _run_checks(_namespace(lesson02), capsys)
    assert err == "", err
    assert out.count("✓") == len(CHECKS), out


@pytest.mark.parametrize(
    ("broken", "problem"),
    [
        ("frozen_vgg16", "base still trains"),
        ("binary_compiler", "the loss must read logits"),
    ],
)
def test_a_broken_reference_is_caught(monkeypatch, capsys, broken, problem):
    """The checks are not vacuous: a reference that unfreezes the base, or compiles for probabilities, fails."""
    import keras

    from helpers.reference_answers import lesson02

    if broken == "frozen_vgg16":
        monkeypatch.setattr(
            lesson02,
            "frozen_vgg16",
            lambda size, weights: keras.applications.VGG16(weights=weights, include_top=False, input_shape=(size, size, 3)),
        )
    else:

        def probabilities(head_lr):
            def compile_binary(model):
                model.compile(optimizer=keras.optimizers.Adam(head_lr), loss="binary_crossentropy", metrics=["accuracy"])
                return model

            return compile_binary

        monkeypatch.setattr(lesson02, "binary_compiler", probabilities)
    _, err = _run_checks(_namespace(lesson02), capsys)
    assert problem in err, err

"""The recipe card (docs/recipe.md) against every lesson: the rules a machine can check.

The rest of the card (what each sentence of a lesson says) is read by a person: see #28.
"""

import json
import re

import pytest

from coursetools.paths import REPO_ROOT

CARD = REPO_ROOT / "docs" / "recipe.md"
LESSONS = sorted(p.name for p in (REPO_ROOT / "solutions").iterdir() if p.is_dir())
FINE_TUNING = ["01_concepts", "03_resnet50_fine_tuning", "04_pytorch_resnet18", "06_your_own_images"]
KERAS = ["02_vgg16_feature_extraction", "03_resnet50_fine_tuning"]
TORCH = ["04_pytorch_resnet18", "06_your_own_images"]
# Words that meant opposite learning-rate factors in different lessons (lesson-review-2 K1, K2).
AMBIGUOUS = [r"\blow end\b", r"\bhigh end\b", r"\bgentle end\b", r"\bsame in Keras\b"]


def _cells(lesson: str, kind: str | None = None) -> list[str]:
    notebook = json.loads((REPO_ROOT / "solutions" / lesson / f"{lesson}.ipynb").read_text())
    return ["".join(c["source"]) for c in notebook["cells"] if kind is None or c["cell_type"] == kind]


def _code(lesson: str) -> str:
    return "\n".join(_cells(lesson, "code"))


def test_the_card_is_on_the_website():
    assert CARD.is_file()
    assert "docs/recipe" in (REPO_ROOT / "_toc.yml").read_text()


@pytest.mark.parametrize("lesson", [name for name in LESSONS if name != "05_quiz"])
def test_every_lesson_links_the_card(lesson):
    links = [cell for cell in _cells(lesson, "markdown") if re.search(r"\]\([./]*docs/recipe(\.md)?(#[\w-]+)?\)", cell)]
    assert links, f"{lesson} never links the recipe card (docs/recipe.md)"


@pytest.mark.parametrize("lesson", LESSONS)
def test_no_ambiguous_learning_rate_words(lesson):
    text = "\n".join(_cells(lesson))
    found = [pattern for pattern in AMBIGUOUS if re.search(pattern, text, re.I)]
    assert not found, f"{lesson} says {found}: say 'a tenth' or 'a hundredth' of the head's rate (docs/recipe.md, rule 2)"


@pytest.mark.parametrize("lesson", FINE_TUNING)
def test_the_pretrained_layers_get_a_tenth_of_the_heads_rate(lesson):
    code = _code(lesson)
    head = re.search(r"^HEAD_LR\s*=\s*([0-9.e-]+)", code, re.M)
    assert head, f"{lesson} defines no HEAD_LR (the card's name for the head's learning rate)"
    assert float(head.group(1)) == (1e-2 if lesson == "01_concepts" else 1e-3), f"{lesson}: HEAD_LR differs from the card"
    assert re.search(r"^PRETRAINED_LR\s*=\s*HEAD_LR\s*/\s*10\b", code, re.M), f"{lesson}: PRETRAINED_LR is not HEAD_LR / 10"


@pytest.mark.parametrize("lesson", KERAS)
def test_keras_heads_output_logits(lesson):
    code = _code(lesson)
    probabilities = re.findall(r"Dense\([^()]*activation=[\"'](sigmoid|softmax)[\"']", code)
    assert not probabilities, f"{lesson}: a Dense output with activation={probabilities}: output logits (rule 5)"
    assert "from_logits=True" in code, f"{lesson}: no loss with from_logits=True (rule 5)"


def test_keras_fine_tuning_keeps_batchnorm_in_inference_mode_and_its_scale_and_shift_trainable():
    code = _code("03_resnet50_fine_tuning")
    assert re.search(r"\(\s*\w+\s*,\s*training\s*=\s*False\s*\)", code), "the base is never called with training=False (rule 3)"
    for block in re.findall(r"if isinstance\([^)]*BatchNormalization\)[^\n]*\n(?:[ \t]+[^\n]*\n?){1,2}", code):
        assert not re.search(r"trainable\s*=\s*False", block), f"BatchNorm's gamma/beta frozen, unlike the card (rule 3): {block}"


@pytest.mark.parametrize("lesson", TORCH)
def test_pytorch_lessons_put_batchnorm_back_in_eval_and_use_the_weights_transforms(lesson):
    code = _code(lesson)
    assert re.search(r"isinstance\([^)]*BatchNorm", code) and ".eval()" in code, f"{lesson}: BatchNorm not put in eval() (rule 3)"
    assert re.search(r"\.transforms\(\)", code), (
        f"{lesson}: the weights' own preprocessing (weights.transforms()) is not shown (rule 6)"
    )

"""Backbone registry and pretrained-weights loading for torchvision and Keras.

Each backbone carries what a lesson needs to use it correctly: input size, preprocessing,
where its classification head is, and where its ImageNet weights come from. Weights go
through the frameworks' own loaders and caches (torch hub, ``~/.keras/models``), seeded from
the offline mirror when it has them.

Offline without weights, loading fails with an error naming the fix. Random initialisation
happens only when the caller passes ``allow_random=True`` or ``TL_COURSE_ALLOW_RANDOM_WEIGHTS=1``
is set (the course's tests), and then with a loud warning: accuracy figures are meaningless.
"""
from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import RandomWeightsWarning, UnknownNameError, WeightsUnavailableError
from .storage import keras_home, keras_models_dir, seed_from_mirror, torch_checkpoints_dir

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class BackboneSpec:
    """A pretrained ImageNet CNN as the course uses it."""

    name: str
    framework: str  # "torch" or "keras"
    input_size: int  # the resolution it was trained at
    preprocessing: str  # what its inputs must look like
    head: str  # torch: attribute path of the classifier; keras: how the head is removed
    feature_dim: int  # channels of the last convolutional features
    weights_file: str
    weights_url: str
    weights_mb: float
    licence: str

    def describe_download(self) -> str:
        return f"{self.name} ImageNet weights: {self.weights_mb:.0f} MB from {self.weights_url}"


BACKBONES: dict[str, BackboneSpec] = {
    spec.name: spec
    for spec in (
        BackboneSpec(
            name="resnet18",
            framework="torch",
            input_size=224,
            preprocessing="RGB in [0, 1], normalised with ImageNet mean/std",
            head="fc",
            feature_dim=512,
            weights_file="resnet18-f37072fd.pth",
            weights_url="https://download.pytorch.org/models/resnet18-f37072fd.pth",
            weights_mb=45,
            licence="BSD-3-Clause code; weights trained on ImageNet (non-commercial terms)",
        ),
        BackboneSpec(
            name="mobilenet_v2",
            framework="torch",
            input_size=224,
            preprocessing="RGB in [0, 1], normalised with ImageNet mean/std",
            head="classifier.1",
            feature_dim=1280,
            weights_file="mobilenet_v2-b0353104.pth",
            weights_url="https://download.pytorch.org/models/mobilenet_v2-b0353104.pth",
            weights_mb=14,
            licence="BSD-3-Clause code; weights trained on ImageNet (non-commercial terms)",
        ),
        BackboneSpec(
            name="vgg16",
            framework="keras",
            input_size=224,
            preprocessing="keras.applications.vgg16.preprocess_input (BGR, ImageNet means subtracted)",
            head="include_top=False",
            feature_dim=512,
            weights_file="vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
            weights_url="https://storage.googleapis.com/tensorflow/keras-applications/vgg16/"
            "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
            weights_mb=59,
            licence="Apache-2.0 code; weights CC BY 4.0 (VGG authors), trained on ImageNet",
        ),
        BackboneSpec(
            name="resnet50",
            framework="keras",
            input_size=224,
            preprocessing="keras.applications.resnet50.preprocess_input (BGR, ImageNet means subtracted)",
            head="include_top=False",
            feature_dim=2048,
            weights_file="resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
            weights_url="https://storage.googleapis.com/tensorflow/keras-applications/resnet/"
            "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
            weights_mb=95,
            licence="Apache-2.0 code; weights MIT (Kaiming He), trained on ImageNet",
        ),
        BackboneSpec(
            name="efficientnetb0",
            framework="keras",
            input_size=224,
            preprocessing="built into the model (Rescaling + Normalization): feed raw RGB 0-255",
            head="include_top=False",
            feature_dim=1280,
            weights_file="efficientnetb0_notop.h5",
            weights_url="https://storage.googleapis.com/keras-applications/efficientnetb0_notop.h5",
            weights_mb=16,
            licence="Apache-2.0 code and weights (Keras Applications, from TensorFlow's TPU models), trained on ImageNet",
        ),
    )
}


def backbone_spec(name: str) -> BackboneSpec:
    try:
        return BACKBONES[name]
    except KeyError:
        raise UnknownNameError(
            f"Unknown backbone {name!r}. The course backbones are: {', '.join(BACKBONES)}."
        ) from None


def random_weights_allowed(allow_random: bool | None = None) -> bool:
    """The caller's choice, else ``TL_COURSE_ALLOW_RANDOM_WEIGHTS=1`` (tests only)."""
    if allow_random is not None:
        return allow_random
    return os.environ.get("TL_COURSE_ALLOW_RANDOM_WEIGHTS", "").strip().lower() in {"1", "true", "yes"}


def _unavailable(spec: BackboneSpec, cache: Path, err: BaseException) -> WeightsUnavailableError:
    return WeightsUnavailableError(
        f"Could not get the {spec.describe_download()} ({type(err).__name__}: {err}). "
        "Check your internet connection and run the cell again. Offline? Copy "
        f"{spec.weights_file} into {cache}, or set TL_COURSE_MIRROR to a course mirror that "
        f"holds weights/{spec.framework}/{spec.weights_file}."
    )


def _random_fallback(spec: BackboneSpec, reason: BaseException) -> None:
    banner = "!" * 78
    message = (
        f"{spec.name} is running with RANDOM weights, not ImageNet weights ({reason}). "
        "Every accuracy below is meaningless as a measure of transfer learning; it only "
        "shows that the code runs. Unset TL_COURSE_ALLOW_RANDOM_WEIGHTS and get the weights "
        "(internet or TL_COURSE_MIRROR) for real results."
    )
    print(f"{banner}\n{message}\n{banner}")
    warnings.warn(message, RandomWeightsWarning, stacklevel=3)


def load_torch_backbone(name: str, pretrained: bool = True, allow_random: bool | None = None):
    """A torchvision model with ImageNet weights (the original 1000-class head included).

    The returned model has ``weights_source`` set to ``"imagenet"`` or ``"random"``.
    """
    import torchvision

    spec = backbone_spec(name)
    if spec.framework != "torch":
        raise UnknownNameError(f"{name!r} is a Keras backbone: use load_keras_backbone({name!r}, ...).")
    build = getattr(torchvision.models, name)
    if not pretrained:
        model = build(weights=None)
        model.weights_source = "random"
        return model
    cache = torch_checkpoints_dir()
    seed_from_mirror("torch", spec.weights_file, cache)
    if not (cache / spec.weights_file).exists():
        print(f"Downloading {spec.describe_download()} into {cache} (once).")
    weights = torchvision.models.get_model_weights(name).IMAGENET1K_V1
    try:
        model = build(weights=weights, progress=True)
    except OSError as err:  # URLError, socket errors, a hash mismatch on a partial file
        if random_weights_allowed(allow_random):
            _random_fallback(spec, err)
            model = build(weights=None)
            model.weights_source = "random"
            return model
        raise _unavailable(spec, cache, err) from err
    model.weights_source = "imagenet"
    return model


def fetch_keras_weights(name: str, allow_random: bool | None = None) -> str:
    """Put a Keras backbone's ImageNet weights (no top) into Keras's cache; say where they came from.

    Returns ``"imagenet"`` when the file is in Keras's cache (copied from the mirror, or
    downloaded now), so ``keras.applications.X(weights="imagenet", include_top=False)`` loads it
    without a download. Returns ``"random"`` only when the weights cannot be had and random
    weights are allowed (the course's offline tests), after a loud warning. Otherwise raises
    WeightsUnavailableError naming the fix.
    """
    import keras

    spec = backbone_spec(name)
    if spec.framework != "keras":
        raise UnknownNameError(f"{name!r} is a torchvision backbone: use load_torch_backbone({name!r}).")
    cache = keras_models_dir()
    if seed_from_mirror("keras", spec.weights_file, cache) is not None:
        return "imagenet"
    print(f"Downloading {spec.describe_download()} into {cache} (once).")
    try:
        keras.utils.get_file(spec.weights_file, spec.weights_url, cache_subdir="models", cache_dir=str(keras_home()))
    except Exception as err:  # keras.utils.get_file wraps URLError in a bare Exception
        if random_weights_allowed(allow_random):
            _random_fallback(spec, err)
            return "random"
        raise _unavailable(spec, cache, err) from err
    return "imagenet"


def load_keras_backbone(
    name: str,
    input_shape: tuple[int, int, int] | None = None,
    pretrained: bool = True,
    allow_random: bool | None = None,
    **kwargs: Any,
):
    """A Keras application without its top (``include_top=False``), ImageNet weights.

    Extra keyword arguments (``pooling=...``) go to the Keras constructor. The returned model
    has ``weights_source`` set to ``"imagenet"`` or ``"random"``.
    """
    import keras

    spec = backbone_spec(name)
    if spec.framework != "keras":
        raise UnknownNameError(f"{name!r} is a torchvision backbone: use load_torch_backbone({name!r}).")
    build = {"vgg16": keras.applications.VGG16, "resnet50": keras.applications.ResNet50,
             "efficientnetb0": keras.applications.EfficientNetB0}[name]
    shape = input_shape or (spec.input_size, spec.input_size, 3)
    source = fetch_keras_weights(name, allow_random) if pretrained else "random"
    weights = "imagenet" if source == "imagenet" else None
    return _tag(build(weights=weights, include_top=False, input_shape=shape, **kwargs), source)


def _tag(model, source: str):
    model.weights_source = source
    return model


def count_parameters(model, trainable_only: bool = True) -> int:
    """Parameters of a torch or Keras model (trainable ones by default)."""
    if hasattr(model, "parameters"):
        return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)
    import numpy as np

    weights = model.trainable_weights if trainable_only else model.weights
    return int(sum(np.prod(w.shape) for w in weights))

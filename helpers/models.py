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

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import RandomWeightsWarning, UnknownNameError, WeightsUnavailableError
from .config import env_flag
from .storage import copy_atomically, keras_models_dir, mirror_dir, torch_checkpoints_dir

__all__ = [
    "BACKBONES",
    "count_parameters",
    "fetch_keras_weights",
    "fetch_torch_weights",
    "load_torch_backbone",
]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


# Licence lines, printed by the lessons and written into lesson 06's model card. Each names where it comes
# from. Every backbone's weights were trained on ImageNet, so every line carries the same caveat:
# torchvision's own note, quoted, and the same words for the Keras weights.
TORCHVISION_WEIGHTS_NOTE = (
    '"The pre-trained models provided in this library may have their own licenses or terms and conditions '
    "derived from the dataset used for training. It is your responsibility to determine whether you have "
    'permission to use the models for your use case." (torchvision\'s README, "Pre-trained Model License", '
    "https://github.com/pytorch/vision#pre-trained-model-license)"
)
IMAGENET_CAVEAT = (
    "trained on ImageNet, so they may also have terms derived from that dataset: it is your responsibility "
    "to determine whether you have permission to use them for your use case (torchvision's words for its own)"
)
# Where Keras says under which licences the VGG16 and ResNet50 weights were released.
KERAS_WEIGHTS_LICENCES = "https://github.com/fchollet/deep-learning-models#license"
TORCHVISION_LICENCE = f"code BSD-3-Clause (torchvision); weights trained on ImageNet. torchvision: {TORCHVISION_WEIGHTS_NOTE}"


@dataclass(frozen=True)
class BackboneSpec:
    """A pretrained ImageNet CNN as the course uses it."""

    name: str
    framework: str  # "torch" or "keras"
    input_size: int  # the resolution it was trained at
    preprocessing: str  # what its inputs must look like
    head: str  # torch: attribute path of the classifier; keras: how the head is removed
    feature_dim: int  # channels of the last convolutional features
    weights_file: str  # its name in the framework cache and the mirror
    weights_mb: float
    licence: str
    url: str = ""  # Keras: where keras.applications downloads it from; torch: see weights_url
    torch_weights: str = ""  # torchvision's Weights enum member, e.g. "ResNet18_Weights.IMAGENET1K_V1"

    def weights_enum(self):
        """torchvision's ``Weights`` member: its URL, checksum, categories and preprocessing."""
        import torchvision

        enum_name, member = self.torch_weights.split(".")
        return getattr(getattr(torchvision.models, enum_name), member)

    @property
    def weights_url(self) -> str:
        """Where the weights come from; for torch, torchvision's own ``Weights.url``."""
        return self.url or self.weights_enum().url

    def transforms(self):
        """torch: the preprocessing the weights were trained with (``Weights.transforms()``)."""
        if self.framework != "torch":
            raise UnknownNameError(f"{self.name} is a Keras backbone: its preprocessing is {self.preprocessing}.")
        return self.weights_enum().transforms()

    def cache_folder(self) -> Path:
        """The framework's own weights cache (torch hub checkpoints, ``~/.keras/models``)."""
        return torch_checkpoints_dir() if self.framework == "torch" else keras_models_dir()

    def cache_path(self) -> Path:
        return self.cache_folder() / self.weights_file

    def mirror_path(self) -> Path | None:
        """Its file in the offline mirror (``weights/FRAMEWORK/FILE``), None without a mirror."""
        mirror = mirror_dir()
        return mirror / "weights" / self.framework / self.weights_file if mirror is not None else None

    def seed_from_mirror(self) -> Path | None:
        """Copy the weights from the mirror into the framework cache, unless they are there.

        Returns the cached file, or None when neither the cache nor the mirror has it."""
        target = self.cache_path()
        if target.exists():
            return target
        source = self.mirror_path()
        return copy_atomically(source, target) if source is not None and source.is_file() else None

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
            torch_weights="ResNet18_Weights.IMAGENET1K_V1",
            weights_mb=45,
            licence=TORCHVISION_LICENCE,
        ),
        BackboneSpec(
            name="mobilenet_v2",
            framework="torch",
            input_size=224,
            preprocessing="RGB in [0, 1], normalised with ImageNet mean/std",
            head="classifier.1",
            feature_dim=1280,
            weights_file="mobilenet_v2-b0353104.pth",
            torch_weights="MobileNet_V2_Weights.IMAGENET1K_V1",
            weights_mb=14,
            licence=TORCHVISION_LICENCE,
        ),
        BackboneSpec(
            name="vgg16",
            framework="keras",
            input_size=224,
            preprocessing="keras.applications.vgg16.preprocess_input (BGR, ImageNet means subtracted)",
            head="include_top=False",
            feature_dim=512,
            weights_file="vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
            url="https://storage.googleapis.com/tensorflow/keras-applications/vgg16/"
            "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5",
            weights_mb=59,
            licence=f"code Apache-2.0 (Keras); weights CC BY 4.0, as released by the VGG group at Oxford "
            f"({KERAS_WEIGHTS_LICENCES}), and {IMAGENET_CAVEAT}",
        ),
        BackboneSpec(
            name="resnet50",
            framework="keras",
            input_size=224,
            preprocessing="keras.applications.resnet50.preprocess_input (BGR, ImageNet means subtracted)",
            head="include_top=False",
            feature_dim=2048,
            weights_file="resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
            url="https://storage.googleapis.com/tensorflow/keras-applications/resnet/"
            "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
            weights_mb=95,
            licence=f"code Apache-2.0 (Keras); weights MIT, as released by Kaiming He ({KERAS_WEIGHTS_LICENCES}), "
            f"and {IMAGENET_CAVEAT}",
        ),
        BackboneSpec(
            name="efficientnetb0",
            framework="keras",
            input_size=224,
            preprocessing="built into the model (Rescaling + Normalization): feed raw RGB 0-255",
            head="include_top=False",
            feature_dim=1280,
            weights_file="efficientnetb0_notop.h5",
            url="https://storage.googleapis.com/keras-applications/efficientnetb0_notop.h5",
            weights_mb=16,
            licence="code Apache-2.0 (Keras); weights: no licence of their own is named in their source "
            "(https://github.com/keras-team/keras/blob/master/keras/src/applications/efficientnet.py); they are "
            f"{IMAGENET_CAVEAT}",
        ),
    )
}


def backbone_spec(name: str) -> BackboneSpec:
    try:
        return BACKBONES[name]
    except KeyError:
        raise UnknownNameError(f"Unknown backbone {name!r}. The course backbones are: {', '.join(BACKBONES)}.") from None


def random_weights_allowed(allow_random: bool | None = None) -> bool:
    """The caller's choice, else ``TL_COURSE_ALLOW_RANDOM_WEIGHTS=1`` (tests only)."""
    if allow_random is not None:
        return allow_random
    return env_flag("TL_COURSE_ALLOW_RANDOM_WEIGHTS")


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
    cache = spec.cache_folder()
    spec.seed_from_mirror()
    if not (cache / spec.weights_file).exists():
        print(f"Downloading {spec.describe_download()} into {cache} (once).")
    weights = spec.weights_enum()
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


def fetch_torch_weights(name: str, allow_random: bool | None = None) -> str:
    """Put a torchvision backbone's ImageNet weights into torch's hub cache; say where they came from.

    The counterpart of :func:`fetch_keras_weights`, for lessons that build the model in view with
    torchvision's own line (``mobilenet_v2(weights=MobileNet_V2_Weights.IMAGENET1K_V1)``). Returns
    ``"imagenet"`` when the file is in torch's cache (copied from the mirror, or downloaded now), so
    that line loads it without a download. Returns ``"random"`` only when the weights cannot be had
    and random weights are allowed (the course's offline tests), after a loud warning: the lesson
    then builds the model with ``weights=None``. Otherwise raises WeightsUnavailableError naming the fix.
    """
    spec = backbone_spec(name)
    if spec.framework != "torch":
        raise UnknownNameError(f"{name!r} is a Keras backbone: use fetch_keras_weights({name!r}).")
    # URLError, socket errors, a hash mismatch on a partial file: OSError
    return _fetch_weights(spec, lambda cache: spec.weights_enum().get_state_dict(progress=True), OSError, allow_random)


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

    def download(cache):  # Keras's cache is KERAS_HOME/models: cache_dir is its parent
        keras.utils.get_file(spec.weights_file, spec.weights_url, cache_subdir=cache.name, cache_dir=str(cache.parent))

    # keras.utils.get_file wraps URLError in a bare Exception
    return _fetch_weights(spec, download, Exception, allow_random)


def _fetch_weights(spec, download, download_errors, allow_random: bool | None) -> str:
    """Both frameworks' fetch: the mirror's copy, else ``download(cache)``; on ``download_errors``
    random weights where allowed (after a loud warning), else WeightsUnavailableError naming the fix."""
    cache = spec.cache_folder()
    if spec.seed_from_mirror() is not None:
        return "imagenet"
    print(f"Downloading {spec.describe_download()} into {cache} (once).")
    try:
        download(cache)
    except download_errors as err:
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
    build = {
        "vgg16": keras.applications.VGG16,
        "resnet50": keras.applications.ResNet50,
        "efficientnetb0": keras.applications.EfficientNetB0,
    }[name]
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

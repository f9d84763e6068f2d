"""Backbone registry, weights from the mirror, the offline error, the random-weights fallback,
freezing and parameter counts."""

from __future__ import annotations

import urllib.error

import pytest
import torch
import torch.nn as nn

from helpers import models
from helpers.models import IMAGENET_MEAN
from helpers.errors import RandomWeightsWarning, UnknownNameError, WeightsUnavailableError


def test_registry_describes_each_backbone():
    assert set(models.BACKBONES) == {"resnet18", "mobilenet_v2", "vgg16", "resnet50", "efficientnetb0"}
    for spec in models.BACKBONES.values():
        assert spec.framework in {"torch", "keras"}
        assert spec.input_size == 224 and spec.feature_dim > 0 and spec.preprocessing
        assert spec.weights_url.endswith(spec.weights_file) and spec.licence
        if spec.framework == "torch":  # URL and preprocessing come from torchvision's Weights enum
            assert spec.weights_url == spec.weights_enum().url and not spec.url
            assert list(spec.transforms().mean) == list(IMAGENET_MEAN) and spec.transforms().crop_size == [spec.input_size]
    with pytest.raises(UnknownNameError, match="resnet18"):
        models.backbone_spec("resnet1000")
    with pytest.raises(UnknownNameError, match="load_keras_backbone"):
        models.load_torch_backbone("vgg16")


def test_licence_lines_quote_their_sources_and_carry_the_imagenet_caveat():
    """Review E11: torchvision's note is quoted, the Keras weights get the same caveat, each line names a source."""
    note = (
        "The pre-trained models provided in this library may have their own licenses or terms and conditions derived "
        "from the dataset used for training. It is your responsibility to determine whether you have permission to "
        "use the models for your use case."
    )
    for spec in models.BACKBONES.values():
        assert "ImageNet" in spec.licence and "https://" in spec.licence, spec.name
        assert "responsibility to determine whether you have permission" in spec.licence, spec.name
        assert "non-commercial" not in spec.licence, f"{spec.name}: no source says so"
        if spec.framework == "torch":
            assert f'"{note}"' in spec.licence and spec.licence.startswith("code BSD-3-Clause"), spec.name
    assert "CC BY 4.0" in models.BACKBONES["vgg16"].licence and "MIT" in models.BACKBONES["resnet50"].licence


def test_torch_head_attribute_matches_the_real_models():
    import torchvision

    for name in ("resnet18", "mobilenet_v2"):
        spec = models.BACKBONES[name]
        module = getattr(torchvision.models, name)(weights=None)
        for part in spec.head.split("."):
            module = module[int(part)] if part.isdigit() else getattr(module, part)
        assert isinstance(module, nn.Linear) and module.in_features == spec.feature_dim


def test_mobilenet_weights_load_from_the_mirror_into_the_torch_hub_cache(mirror, tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    model = models.load_torch_backbone("mobilenet_v2", allow_random=False)
    assert model.weights_source == "imagenet"
    cached = tmp_path / "torch" / "hub" / "checkpoints" / "mobilenet_v2-b0353104.pth"
    assert cached.is_file()
    reference = torch.load(cached, map_location="cpu")
    assert torch.equal(model.features[0][0].weight, reference["features.0.0.weight"])


def _offline(monkeypatch):
    import torch.hub

    def refuse(*args, **kwargs):
        raise urllib.error.URLError("[Errno -2] Name or service not known")

    monkeypatch.setattr(torch.hub, "download_url_to_file", refuse)


def test_offline_without_weights_names_the_fix(isolated_cache, monkeypatch):
    _offline(monkeypatch)
    with pytest.raises(WeightsUnavailableError) as info:
        models.load_torch_backbone("resnet18")
    message = str(info.value)
    assert "internet connection" in message and "resnet18-f37072fd.pth" in message
    assert "TL_COURSE_MIRROR" in message


def test_random_fallback_only_when_allowed_and_loudly(isolated_cache, monkeypatch, capsys):
    _offline(monkeypatch)
    with pytest.warns(RandomWeightsWarning):
        model = models.load_torch_backbone("resnet18", allow_random=True)
    assert model.weights_source == "random"
    assert "RANDOM weights" in capsys.readouterr().out
    monkeypatch.setenv("TL_COURSE_ALLOW_RANDOM_WEIGHTS", "1")
    with pytest.warns(RandomWeightsWarning):
        assert models.load_torch_backbone("resnet18").weights_source == "random"
    with pytest.raises(WeightsUnavailableError):
        models.load_torch_backbone("resnet18", allow_random=False)


def test_keras_offline_error_and_fallback(isolated_cache, monkeypatch):
    import keras

    def refuse(*args, **kwargs):
        raise Exception("URL fetch failure on https://storage.googleapis.com/...: None -- Name or service not known")

    monkeypatch.setattr(keras.utils, "get_file", refuse)
    monkeypatch.setattr("keras.src.applications.vgg16.file_utils.get_file", refuse)
    with pytest.raises(WeightsUnavailableError, match="vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5"):
        models.load_keras_backbone("vgg16", input_shape=(32, 32, 3))
    with pytest.warns(RandomWeightsWarning):
        base = models.load_keras_backbone("vgg16", input_shape=(32, 32, 3), allow_random=True)
    assert base.weights_source == "random" and base.output_shape == (None, 1, 1, 512)


def test_freezing_and_parameter_counts():
    import keras
    from torchvision.models import resnet18

    net = resnet18(weights=None)
    assert models.count_parameters(net) == 11_689_512
    for parameter in net.parameters():
        parameter.requires_grad = False
    net.fc = nn.Linear(512, 2)
    assert models.count_parameters(net) == 1026
    assert models.count_parameters(net, trainable_only=False) == 11_689_512 - 513_000 + 1026

    base = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Conv2D(4, 3), keras.layers.GlobalAveragePooling2D()])
    model = keras.Sequential([base, keras.layers.Dense(1, activation="sigmoid")])
    assert models.count_parameters(model) == (3 * 3 * 3 * 4 + 4) + (4 + 1)
    base.trainable = False
    assert models.count_parameters(model) == 5
    assert models.count_parameters(model, trainable_only=False) == 112 + 5


def test_fetch_keras_weights_copies_from_the_mirror_and_never_downloads(isolated_cache, monkeypatch):
    import keras

    mirror = isolated_cache / "mirror"
    (mirror / "weights" / "keras").mkdir(parents=True)
    (mirror / "weights" / "keras" / "efficientnetb0_notop.h5").write_bytes(b"weights")
    monkeypatch.setenv("TL_COURSE_MIRROR", str(mirror))
    monkeypatch.setattr(keras.utils, "get_file", lambda *a, **k: pytest.fail("must not download"))
    assert models.fetch_keras_weights("efficientnetb0") == "imagenet"
    assert (isolated_cache / "keras" / "models" / "efficientnetb0_notop.h5").read_bytes() == b"weights"
    with pytest.raises(UnknownNameError, match="load_torch_backbone"):
        models.fetch_keras_weights("resnet18")

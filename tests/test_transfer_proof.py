"""Transfer learning really works: real ImageNet MobileNetV2 features vs the same network with
random weights, on the full hymenoptera data, with a linear classifier on frozen features."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from torchvision import transforms

from helpers.data import load_splits, torch_loaders
from helpers.models import IMAGENET_MEAN, IMAGENET_STD, load_torch_backbone


def _features(model, loader) -> tuple[np.ndarray, np.ndarray]:
    model.eval()
    xs, ys = [], []
    with torch.no_grad():
        for images, labels in loader:
            xs.append(model(images).numpy())
            ys.append(labels.numpy())
    return np.concatenate(xs), np.concatenate(ys)


def _accuracy(model, splits) -> float:
    model.classifier = torch.nn.Identity()  # 1280 pooled features
    prep = transforms.Compose(
        [
            transforms.Resize(256),
            transforms.CenterCrop(224),
            transforms.ToTensor(),
            transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD),
        ]
    )
    loaders = torch_loaders(splits, prep, prep, batch_size=32)
    x_train, y_train = _features(model, loaders["train"])
    x_val, y_val = [], []
    for part in ("val", "test"):  # the whole original validation folder
        x, y = _features(model, loaders[part])
        x_val.append(x)
        y_val.append(y)
    x_val, y_val = np.concatenate(x_val), np.concatenate(y_val)
    mean, std = x_train.mean(0), x_train.std(0) + 1e-6
    classifier = LogisticRegression(max_iter=2000, C=0.1)
    classifier.fit((x_train - mean) / std, y_train)
    return float(classifier.score((x_val - mean) / std, y_val))


@pytest.mark.usefixtures("mirror")
def test_pretrained_features_beat_random_features_by_20_points():
    torch.manual_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        splits = load_splits("hymenoptera_data")
    assert len(splits.train) == 244 and len(splits.val) + len(splits.test) == 153
    pretrained = load_torch_backbone("mobilenet_v2", allow_random=False)
    assert pretrained.weights_source == "imagenet"
    pretrained_acc = _accuracy(pretrained, splits)
    random_acc = _accuracy(load_torch_backbone("mobilenet_v2", pretrained=False), splits)
    print(f"validation accuracy: pretrained {pretrained_acc:.3f}, random {random_acc:.3f}")
    assert pretrained_acc >= 0.90
    assert pretrained_acc - random_acc >= 0.20

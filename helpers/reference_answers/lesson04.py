"""Reference answers to lesson 04's "your turn" cells (PyTorch, ResNet18); see the package docstring.

The lesson calls one of these only when the learner's cell is missing or wrong. Each returns what its
cell defines: the frozen model, the new head, and two functions (the training mode that keeps
BatchNorm's statistics, the optimiser of phase 2).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

__all__ = ["frozen_resnet18", "new_head", "train_mode_keeping_batchnorm_statistics", "phase2_optimizer_factory"]


def frozen_resnet18(weights):
    """Your turn 1: ``resnet18(weights=weights)`` with every parameter frozen."""
    from torchvision.models import resnet18

    model = resnet18(weights=weights)
    for parameter in model.parameters():
        parameter.requires_grad = False
    return model


def new_head(model, num_classes: int):
    """Your turn 2: a new, trainable ``nn.Linear`` in place of ``model.fc``; returns it."""
    from torch import nn

    head = nn.Linear(model.fc.in_features, num_classes)
    model.fc = head
    return head


def _train_mode(model):
    from torch import nn

    model.train()
    for module in model.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.eval()  # inference mode: the running statistics stay ImageNet's
    return model


def train_mode_keeping_batchnorm_statistics() -> Callable:
    """Your turn 3: ``train_mode(model)``, i.e. ``model.train()`` then every ``nn.BatchNorm2d`` back in ``eval()``."""
    return _train_mode


def phase2_optimizer_factory(head_lr: float, pretrained_lr: float) -> Callable:
    """Your turn 4: ``phase2_optimizer(model, stages)`` with the lesson's two learning rates."""

    def phase2_optimizer(model, stages: Sequence[str]):
        import torch

        unfrozen = [parameter for stage in stages for parameter in getattr(model, stage).parameters()]
        for parameter in unfrozen:
            parameter.requires_grad = True
        return torch.optim.Adam([{"params": model.fc.parameters(), "lr": head_lr}, {"params": unfrozen, "lr": pretrained_lr}])

    return phase2_optimizer

"""Reference answers to lesson 06's "your turn" cells (your own images, MobileNetV2 in PyTorch).

``helpers.your_turn.check`` calls these only when the learner's cell is missing or wrong; each one is
the cell's own lines (see ``helpers.reference_answers``). Autograding runs only nbgrader's cells, so the
cells (and these) use only what the lesson's locked cells define: the weights and the two learning rates.
"""

from __future__ import annotations

import torch
import torch.nn as nn
from torchvision.models import mobilenet_v2

__all__ = ["frozen_backbone", "new_head", "keep_batchnorm_in_eval", "phase2_optimizer"]


def frozen_backbone(weights):
    """Your turn 1: MobileNetV2 with its ImageNet weights (``None``: random, tests only), every parameter frozen."""
    backbone = mobilenet_v2(weights=weights)
    for parameter in backbone.parameters():
        parameter.requires_grad = False
    return backbone


def new_head(features: int, num_classes: int) -> nn.Module:
    """Your turn 2: a new linear head that outputs logits (the loss applies the softmax)."""
    return nn.Linear(features, num_classes)


def keep_batchnorm_in_eval(net: nn.Module) -> None:
    """Your turn 3: after ``net.train()``, BatchNorm layers go back to inference mode (ImageNet's statistics).

    Their scale and shift still follow ``requires_grad``: ``eval()`` does not freeze them.
    """
    for module in net.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            module.eval()


def phase2_optimizer(top: nn.Module, head: nn.Module, head_lr: float, pretrained_lr: float) -> torch.optim.Optimizer:
    """Your turn 4: unfreeze the top stage; Adam with two groups, the head at ``head_lr``, the top stage at ``pretrained_lr``."""
    for parameter in top.parameters():
        parameter.requires_grad = True
    return torch.optim.Adam([{"params": top.parameters(), "lr": pretrained_lr}, {"params": head.parameters(), "lr": head_lr}])

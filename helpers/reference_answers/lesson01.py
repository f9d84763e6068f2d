"""Reference answers to lesson 01's "your turn" cells (used only when a learner's cell is missing or wrong).

The lesson defines its small network (``SmallCNN``: a ``body`` and a linear ``head``) in the notebook, so
these take the model class and the pretrained weights from the lesson's cell.
"""

from __future__ import annotations

__all__ = ["pretrained_body_new_head", "two_rate_optimizer"]


def pretrained_body_new_head(model_class, pretrained_state: dict, num_classes: int = 5):
    """Your turn 1: the source model's weights, a new head for the target's classes, the body frozen."""
    import torch.nn as nn

    model = model_class()
    model.load_state_dict(pretrained_state)
    model.head = nn.Linear(model.head.in_features, num_classes)
    for parameter in model.body.parameters():
        parameter.requires_grad = False
    return model


def two_rate_optimizer(model, pretrained_lr: float, head_lr: float):
    """Your turn 2: unfreeze the body; Adam with the body at the pretrained layers' rate, the head at its own."""
    import torch

    for parameter in model.body.parameters():
        parameter.requires_grad = True
    return torch.optim.Adam([
        {"params": model.body.parameters(), "lr": pretrained_lr},
        {"params": model.head.parameters(), "lr": head_lr},
    ])

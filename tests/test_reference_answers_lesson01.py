"""Lesson 01's reference answers meet the checks of its "your turn" cells (helpers/reference_answers/lesson01.py).

A learner who skips a cell goes on with these, so they must be what the check asks for: the
pretrained body, a new head, the body frozen; then the body unfrozen at a tenth of the head's rate.
"""

import torch
import torch.nn as nn

from helpers.reference_answers.lesson01 import pretrained_body_new_head, two_rate_optimizer


class TinyCNN(nn.Module):  # the lesson's SmallCNN shape: a body and a linear head
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten())
        self.head = nn.Linear(2 * 2 * 2, 5)

    def forward(self, x):
        return self.head(self.body(x))


def _pretrained_state():
    torch.manual_seed(0)
    return {name: value.clone() for name, value in TinyCNN().state_dict().items()}


def test_pretrained_body_new_head_keeps_the_body_replaces_the_head_and_freezes_the_body():
    state = _pretrained_state()
    model = pretrained_body_new_head(TinyCNN, state, num_classes=3)
    assert all(torch.equal(model.state_dict()[k], v) for k, v in state.items() if k.startswith("body."))
    assert model.head.out_features == 3 and model.head.in_features == 8
    assert not any(p.requires_grad for p in model.body.parameters())
    assert all(p.requires_grad for p in model.head.parameters())
    assert model(torch.zeros(1, 1, 4, 4)).shape == (1, 3)


def test_two_rate_optimizer_unfreezes_the_body_and_gives_it_its_own_rate():
    model = pretrained_body_new_head(TinyCNN, _pretrained_state())
    optimizer = two_rate_optimizer(model, pretrained_lr=1e-3, head_lr=1e-2)
    assert all(p.requires_grad for p in model.parameters())
    rate = {id(p): group["lr"] for group in optimizer.param_groups for p in group["params"]}
    assert all(rate[id(p)] == 1e-3 for p in model.body.parameters())
    assert all(rate[id(p)] == 1e-2 for p in model.head.parameters())
    assert len(rate) == len(list(model.parameters()))

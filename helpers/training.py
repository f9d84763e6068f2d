"""PyTorch training and evaluation loops with progress bars, a history and best-weights tracking.

The lessons write the transfer-learning decisions themselves (what to freeze, which head,
which parameters the optimiser sees, the learning rates); these loops only run epochs.

Progress bars (tqdm) write to stderr, and nbgrader gives a test cell no points when it writes
anything to stderr (``nbgrader.utils.determine_grade``). So while nbgrader executes a notebook
(run mode ``"grading"``, see ``helpers.runtime``) the bars are off, whatever ``progress`` says.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field

from helpers.runtime import mode

__all__ = ["predict", "run_epoch"]


def show_progress(progress: bool = True) -> bool:
    """Whether a progress bar may be drawn: asked for, and nbgrader is not executing the notebook."""
    return bool(progress) and mode() != "grading"


@dataclass
class History:
    """Per-epoch metrics of one or more ``fit`` calls (phases are appended)."""

    records: list[dict] = field(default_factory=list)
    phase_starts: list[int] = field(default_factory=list)

    def column(self, key: str) -> list[float]:
        return [r[key] for r in self.records]

    @property
    def best(self) -> dict:
        return max(self.records, key=lambda r: r["val_acc"])

    @property
    def seconds(self) -> float:
        return sum(r["seconds"] for r in self.records)


def run_epoch(model, loader, loss_fn, device, optimizer=None, desc: str = "", progress: bool = True, train_mode_hook=None):
    """One pass over ``loader``; trains when an optimizer is given. Returns (loss, accuracy).

    ``train_mode_hook(model)`` runs right after ``model.train()``: lessons use it to keep
    frozen BatchNorm layers in eval mode (their running statistics must not drift).
    """
    import torch
    from tqdm.auto import tqdm

    training = optimizer is not None
    model.train(training)
    if training and train_mode_hook is not None:
        train_mode_hook(model)
    total_loss, correct, seen = 0.0, 0, 0
    with torch.set_grad_enabled(training):
        for batch in tqdm(loader, desc=desc, leave=False, disable=not show_progress(progress)):
            if batch is None:  # every image of this batch failed to decode
                continue
            inputs, labels = batch[0].to(device), batch[1].to(device)
            outputs = model(inputs)
            loss = loss_fn(outputs, labels)
            if training:
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            total_loss += loss.item() * labels.size(0)
            correct += (outputs.argmax(1) == labels).sum().item()
            seen += labels.size(0)
    if seen == 0:
        raise ValueError("The loader yielded no usable images: check the dataset split.")
    return total_loss / seen, correct / seen


def fit(
    model,
    loaders: dict,
    loss_fn,
    optimizer,
    epochs: int,
    device,
    scheduler=None,
    history: History | None = None,
    keep_best: bool = True,
    progress: bool = True,
    train_mode_hook=None,
) -> History:
    """Train for ``epochs`` on ``loaders["train"]``, validating on ``loaders["val"]``.

    Appends to ``history`` (pass the previous one to continue a second phase). With
    ``keep_best`` the weights of the best validation epoch of this call are restored at the end.
    """
    from tqdm.auto import tqdm

    history = history or History()
    history.phase_starts.append(len(history.records))
    best_acc, best_state = -1.0, None
    bar = tqdm(range(epochs), desc="epochs", disable=not show_progress(progress))
    for _ in bar:
        start = time.perf_counter()
        train_loss, train_acc = run_epoch(model, loaders["train"], loss_fn, device, optimizer, "train", progress, train_mode_hook)
        val_loss, val_acc = run_epoch(model, loaders["val"], loss_fn, device, None, "val", progress)
        if scheduler is not None:
            scheduler.step()
        record = {
            "epoch": len(history.records) + 1,
            "train_loss": train_loss,
            "train_acc": train_acc,
            "val_loss": val_loss,
            "val_acc": val_acc,
            "seconds": time.perf_counter() - start,
        }
        history.records.append(record)
        bar.set_postfix(train_acc=f"{train_acc:.3f}", val_acc=f"{val_acc:.3f}")
        if keep_best and val_acc > best_acc:
            best_acc, best_state = val_acc, copy.deepcopy(model.state_dict())
    if keep_best and best_state is not None:
        model.load_state_dict(best_state)
    return history


def predict(model, loader, device):
    """Labels and predicted labels over a loader: ``(y_true, y_pred)`` as NumPy arrays."""
    import numpy as np
    import torch

    model.eval()
    y_true, y_pred = [], []
    with torch.no_grad():
        for batch in loader:
            if batch is None:
                continue
            outputs = model(batch[0].to(device))
            y_pred.append(outputs.argmax(1).cpu().numpy())
            y_true.append(batch[1].numpy())
    return np.concatenate(y_true), np.concatenate(y_pred)

"""Plots the lessons share: learning curves, image grids with predictions, confusion matrices."""

from __future__ import annotations

from typing import Sequence

__all__ = ["plot_confusion_matrix", "plot_history", "show_images"]

# Readable with any colour vision: viridis for heatmaps; Okabe-Ito blue/vermillion plus a mark
# for right/wrong (red vs green is the pair most colour-blind readers cannot tell apart).
HEATMAP_CMAP = "viridis"
RIGHT_COLOUR, WRONG_COLOUR = "#0072B2", "#D55E00"
RIGHT_MARK, WRONG_MARK = "\u2713", "\u2717"


def plot_history(history, title: str = "", phase_starts: Sequence[int] = (), first_epoch: int = 1, baseline: float | None = None):
    """Loss and accuracy per epoch, train vs validation.

    ``history`` is a training.History, a Keras ``History`` or a dict of lists
    (``loss``, ``val_loss``, ``accuracy``, ``val_accuracy``). A dashed line marks where each
    later phase starts (e.g. fine-tuning after feature extraction). ``first_epoch=0`` when the
    curves start with the model evaluated before training (epoch 0). ``baseline``: the validation
    majority baseline, drawn on the accuracy panel (an accuracy means little without it).
    """
    import matplotlib.pyplot as plt

    curves = _curves(history)
    starts = list(phase_starts) or list(getattr(history, "phase_starts", []))[1:]
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
    for ax, metric in zip(axes, ("loss", "accuracy")):
        for split in ("train", "val"):
            values = curves.get(f"{split}_{metric}")
            if values:
                ax.plot(range(first_epoch, first_epoch + len(values)), values, marker="o", label=split)
        for start in starts:
            ax.axvline(start + 0.5, color="grey", linestyle="--", label="phase switch")
        if metric == "accuracy" and baseline is not None:
            ax.axhline(baseline, color="grey", linestyle=":", label="majority baseline")
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    plt.show()


def _curves(history) -> dict[str, list[float]]:
    if hasattr(history, "records"):  # helpers.training.History
        return {
            "train_loss": history.column("train_loss"),
            "val_loss": history.column("val_loss"),
            "train_accuracy": history.column("train_acc"),
            "val_accuracy": history.column("val_acc"),
        }
    data = getattr(history, "history", history)  # keras History or plain dict
    return {
        "train_loss": list(data.get("loss", [])),
        "val_loss": list(data.get("val_loss", [])),
        "train_accuracy": list(data.get("accuracy", data.get("binary_accuracy", []))),
        "val_accuracy": list(data.get("val_accuracy", data.get("val_binary_accuracy", []))),
    }


def to_display_image(image):
    """A torch CHW tensor (normalised or not) or HWC array as HWC floats in [0, 1]."""
    import numpy as np

    array = image.detach().cpu().numpy() if hasattr(image, "detach") else np.asarray(image)
    if array.ndim == 3 and array.shape[0] in (1, 3) and array.shape[-1] not in (1, 3):
        array = array.transpose(1, 2, 0)
    array = array.astype("float32")
    low, high = array.min(), array.max()
    return (array - low) / (high - low) if high > low else np.zeros_like(array)


def show_images(images, labels, classes: Sequence[str], predictions=None, columns: int = 6, title: str = ""):
    """A grid of images titled with their label (and prediction: a blue tick when right, an orange
    cross when wrong; the mark, not only the colour, tells them apart)."""
    import matplotlib.pyplot as plt

    count = len(images)
    if count == 0:
        print("(no images to show)")
        return
    rows = (count + columns - 1) // columns
    fig, axes = plt.subplots(rows, columns, figsize=(2 * columns, 2.2 * rows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= count:
            continue
        ax.imshow(to_display_image(images[i]))
        label = classes[int(labels[i])]
        if predictions is None:
            ax.set_title(label, fontsize=9)
        else:
            guess = classes[int(predictions[i])]
            right = guess == label
            ax.set_title(
                f"{RIGHT_MARK if right else WRONG_MARK} {guess}\n(true: {label})",
                fontsize=9,
                color=RIGHT_COLOUR if right else WRONG_COLOUR,
            )
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    plt.show()


def plot_confusion_matrix(y_true, y_pred, classes: Sequence[str], title: str = "Confusion matrix"):
    """Counts of true (rows) vs predicted (columns) classes."""
    import matplotlib.pyplot as plt
    from sklearn.metrics import ConfusionMatrixDisplay

    fig, ax = plt.subplots(figsize=(3.5, 3.5))
    ConfusionMatrixDisplay.from_predictions(
        y_true,
        y_pred,
        labels=list(range(len(classes))),
        display_labels=list(classes),
        ax=ax,
        colorbar=False,
        cmap=HEATMAP_CMAP,
    )
    ax.set_title(title)
    fig.tight_layout()
    plt.show()

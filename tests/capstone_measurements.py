"""The figures lesson 06 and its helpers cite, measured on the fallback set (run by hand, not a test).

    PYTHONPATH=$PWD TL_COURSE_MIRROR=../shared/mirror python tests/capstone_measurements.py [PER_CLASS]

1. The near-duplicate threshold: share of altered copies grouped and false-merge rate at
   ``HASH_THRESHOLD`` (``helpers.near_duplicates.measure_threshold``).
2. Portraits: how many fallback photos are portraits and how much the centre crop removes; the
   5-fold cross-validated accuracy of the phase-1 head (the lesson's: a linear layer on pooled
   MobileNetV2 features, Adam, balanced class weights, 40 epochs) with ``FIT = "crop"`` and
   ``"pad"``, mean and standard deviation over folds.
Prints one JSON object.

Measured 2026-12-06 on the Intel Xeon 2-core machine (1 run; load 6.8 at the start, 12.7 at the end,
other engineers sharing the CPU), 200 photos per class (794 after placeholders are dropped):
- threshold 12 bits: 60/60 copies grouped for each of resized 50 %, JPEG quality 40, brightened 20 %,
  cropped 3 % per side; 34/60 cropped 6 % per side (91 % of all 300 copies); false merges 0 of 78,421
  same-class pairs of different photos (0 of 794 photos merged);
- 176 of 794 photos are portraits; the centre crop removes 24 % of a photo on average;
- 5-fold CV of the phase-1 head at 224 px: crop 0.974 +- 0.014, pad 0.965 +- 0.014 (std over folds):
  the difference (0.009) is inside the spread, so the lesson keeps "crop" as its default.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np
import torch
import torch.nn as nn
from sklearn.model_selection import StratifiedKFold


def pooled_features(paths, image_size, fit):
    from torchvision import transforms

    from helpers.models import IMAGENET_MEAN, IMAGENET_STD, load_torch_backbone
    from helpers.standalone_predict import load_rgb, preprocess

    backbone = load_torch_backbone("mobilenet_v2").eval()
    assert backbone.weights_source == "imagenet", "needs the real ImageNet weights (offline mirror)"
    normalise = transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD)
    out = []
    with torch.no_grad():
        for first in range(0, len(paths), 32):
            batch = torch.stack([normalise(preprocess(load_rgb(p), image_size, fit)) for p in paths[first : first + 32]])
            out.append(backbone.features(batch).mean(dim=(2, 3)))
    return torch.cat(out)


def cv_head(x, y, folds=5, epochs=40, lr=1e-3, seed=0):
    scores = []
    classes = int(y.max()) + 1
    for fold, (fit_idx, held_idx) in enumerate(StratifiedKFold(folds, shuffle=True, random_state=seed).split(x, y)):
        torch.manual_seed(fold)
        head = nn.Linear(x.shape[1], classes)
        counts = torch.bincount(y[fit_idx], minlength=classes).float()
        loss_fn = nn.CrossEntropyLoss(weight=counts.sum() / (classes * counts.clamp(min=1)))
        optimizer = torch.optim.Adam(head.parameters(), lr=lr, weight_decay=1e-4)
        generator = torch.Generator().manual_seed(0)
        xf, yf = x[fit_idx], y[fit_idx]
        for _ in range(epochs):
            for batch in torch.randperm(len(xf), generator=generator).split(32):
                optimizer.zero_grad()
                loss_fn(head(xf[batch]), yf[batch]).backward()
                optimizer.step()
        with torch.no_grad():
            scores.append(float((head(x[held_idx]).argmax(1) == y[held_idx]).float().mean()))
    return scores


def main(per_class: int = 200) -> dict:
    from helpers.my_images import fallback_image_folder
    from helpers.near_duplicates import HASH_THRESHOLD, measure_threshold
    from helpers.standalone_predict import load_rgb

    root = fallback_image_folder(per_class)
    result = {"per_class": per_class}
    threshold = measure_threshold(root)
    result["near_duplicates"] = {
        "threshold": HASH_THRESHOLD,
        "photos": threshold["photos"],
        "pairs": threshold["pairs"],
        "originals": threshold["originals"],
        "max_copy_distance": threshold["max_copy_distance"],
        "at_threshold": threshold["by_threshold"][HASH_THRESHOLD],
    }
    classes = sorted(p.name for p in root.iterdir() if p.is_dir())
    paths = [p for c in classes for p in sorted((root / c).iterdir())]
    y = torch.tensor([classes.index(p.parent.name) for p in paths])
    sizes = [load_rgb(p, 256).size for p in paths]
    cut = [1 - min(w, h) / max(w, h) for w, h in sizes]
    result["portraits"] = sum(h > w * 1.05 for w, h in sizes)
    result["photos"] = len(paths)
    result["crop_cut_mean"] = float(np.mean(cut))
    result["crop_cut_portraits_mean"] = float(np.mean([c for c, (w, h) in zip(cut, sizes) if h > w * 1.05] or [0]))
    for fit in ("crop", "pad"):
        start = time.perf_counter()
        x = pooled_features(paths, 224, fit)
        scores = cv_head(x, y)
        result[f"cv_{fit}"] = {
            "mean": float(np.mean(scores)),
            "std": float(np.std(scores, ddof=1)),
            "folds": scores,
            "seconds": time.perf_counter() - start,
        }
    return result


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]) if len(sys.argv) > 1 else 200), indent=1))

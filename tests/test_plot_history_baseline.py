"""Every training-curve plot of lessons 02 and 03 draws the validation majority baseline (review 5, C4).

Lessons 01 and 04 draw it by hand; 02 and 03 use ``helpers.plots.plot_history``, whose ``baseline=`` draws it on
the accuracy panel.
"""

from __future__ import annotations

import re

import matplotlib
import nbformat
import pytest
from conftest import REPO_ROOT

matplotlib.use("Agg")


def test_plot_history_draws_the_baseline_on_the_accuracy_panel(monkeypatch):
    import matplotlib.pyplot as plt

    from helpers.plots import plot_history

    monkeypatch.setattr(plt, "show", lambda: None)
    history = {"loss": [1.0, 0.8], "val_loss": [1.1, 0.9], "accuracy": [0.5, 0.7], "val_accuracy": [0.5, 0.6]}
    plot_history(history, baseline=0.55)
    loss_ax, accuracy_ax = plt.gcf().axes
    baselines = [line for line in accuracy_ax.get_lines() if line.get_label() == "majority baseline"]
    assert [list(line.get_ydata()) for line in baselines] == [[0.55, 0.55]]
    assert not [line for line in loss_ax.get_lines() if line.get_label() == "majority baseline"]
    plt.close("all")


@pytest.mark.parametrize("lesson", ["02_vgg16_feature_extraction", "03_resnet50_fine_tuning"])
def test_every_plot_history_call_passes_the_baseline(lesson):
    notebook = nbformat.read(REPO_ROOT / "solutions" / lesson / f"{lesson}.ipynb", as_version=4)
    calls = [c.source for c in notebook.cells if c.cell_type == "code" and re.search(r"^\s*plot_history\(", c.source, re.M)]
    assert calls, f"{lesson} draws no training curves any more: update this test"
    for source in calls:
        assert "baseline=" in source, f"{lesson}: a plot_history call without baseline=:\n{source}"

"""helpers.training: progress bars stay off while nbgrader executes (a stderr line zeroes a test cell)."""

import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402
from torch.utils.data import DataLoader, TensorDataset  # noqa: E402

from helpers import runtime, training  # noqa: E402


def _tiny():
    torch.manual_seed(0)
    x, y = torch.randn(32, 3), torch.randint(0, 2, (32,))
    loader = DataLoader(TensorDataset(x, y), batch_size=8)
    model = nn.Linear(3, 2)
    return model, {"train": loader, "val": loader}, torch.optim.SGD(model.parameters(), lr=0.1)


def _train_with_bars(monkeypatch, **env):
    for name in ("TL_COURSE_QUICK", "TL_COURSE_MODE", "NBGRADER_EXECUTION"):
        monkeypatch.delenv(name, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    runtime.decide_run_settings(("torch",))
    model, loaders, optimizer = _tiny()
    training.run_epoch(model, loaders["train"], nn.CrossEntropyLoss(), "cpu", optimizer, desc="train", progress=True)
    training.fit(model, loaders, nn.CrossEntropyLoss(), optimizer, 2, "cpu", progress=True)


@pytest.mark.parametrize("execution", ["autograde", "validate"])
def test_no_progress_bar_on_stderr_while_nbgrader_executes(monkeypatch, capsys, execution):
    _train_with_bars(monkeypatch, NBGRADER_EXECUTION=execution)
    assert runtime.mode() == "grading"
    assert capsys.readouterr().err == "", "a progress bar on stderr would give an nbgrader test cell 0 points"


def test_progress_bars_still_show_outside_grading(monkeypatch, capsys):
    _train_with_bars(monkeypatch, TL_COURSE_QUICK="1")
    assert "train" in capsys.readouterr().err  # tqdm's bar: so the test above can see one


def test_show_progress_follows_the_argument_and_the_mode(monkeypatch):
    monkeypatch.setenv("TL_COURSE_QUICK", "1")
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    runtime.decide_run_settings(("torch",))
    assert training.show_progress(True) and not training.show_progress(False)
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    runtime.decide_run_settings(("torch",))
    assert not training.show_progress(True)

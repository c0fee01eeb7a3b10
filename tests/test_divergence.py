"""A learning rate that is too large stops `digitnet train` with a clear message (what happened, a
smaller learning rate to try), exit code 1, and the last finite model saved: never a file of NaNs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from digitnet import Network
from digitnet.cli import main

DIVERGING = ["train", "--limit", "2000", "--epochs", "3", "--learning-rate", "1e6", "--activation", "relu",
             "--cost", "cross-entropy", "--quiet"]


@pytest.mark.slow
def test_a_huge_learning_rate_exits_1_naming_it_and_saves_the_last_finite_model(tmp_path: Path) -> None:
    out = tmp_path / "model.npz"
    done = subprocess.run([sys.executable, "-m", "digitnet", *DIVERGING, "--out", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    err = done.stderr
    assert err.startswith("digitnet: error: training diverged in epoch 1")
    assert "NaN or infinite" in err and "learning rate 1e+06" in err
    suggested = re.search(r"Try a smaller learning rate, such as ([0-9.e+-]+)\.", err)
    assert suggested and 0 < float(suggested.group(1)) < 1e6
    assert f"the last finite model (0 epochs) is saved in {out}" in err
    assert "Traceback" not in err and "Warning" not in err  # no stack trace, no NumPy overflow warnings

    net = Network.load(out)
    assert net.history == []
    assert all(np.isfinite(a).all() for a in net.W + net.b)
    # Diverged in the first epoch: what is kept is the untouched initial network of the seed.
    start = Network(net.sizes, activation="relu", cost="cross-entropy", seed=0)
    for a, b in zip(net.W + net.b, start.W + start.b):
        np.testing.assert_array_equal(a, b)


def test_divergence_in_a_later_epoch_keeps_the_model_of_the_epochs_before(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A weight made infinite during epoch 3 (as a too-large step would): the saved model is the
    very model (same bytes) that a 2-epoch run saves."""
    import digitnet.training

    real_fit: Any = digitnet.training.fit

    def fit_that_blows_up_in_epoch_3(net: Network, *args: Any, progress: Any = None, **kwargs: Any) -> Any:
        finished = 0

        def hook(done: int, total: int) -> None:
            nonlocal finished
            if finished == 2:
                net.W[0][0, 0] = np.inf
            finished += done == total

        return real_fit(net, *args, progress=hook, **kwargs)

    settings = ["train", "--limit", "2000", "--learning-rate", "0.5", "--engine", "numpy", "--quiet", "--seed", "4"]
    two = tmp_path / "two-epochs.npz"
    assert main([*settings, "--epochs", "2", "--out", str(two)]) == 0

    out = tmp_path / "diverged.npz"
    monkeypatch.setattr(digitnet.training, "fit", fit_that_blows_up_in_epoch_3)
    assert main([*settings, "--epochs", "5", "--out", str(out)]) == 1
    assert len(Network.load(out).history) == 2
    assert out.read_bytes() == two.read_bytes()


"""Interrupting training loses nothing: Ctrl-C or SIGTERM saves a checkpoint (model, optimiser
state, epoch, random state), and resuming it ends with the same model file, byte for byte, as a
run that was never interrupted.

The runs use momentum and a learning-rate decay, so that the velocities and the epoch number must
both be restored for the bytes to match.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from digitnet import Network
from digitnet.checkpoint import load_checkpoint, save_checkpoint
from digitnet.cli import main
from digitnet.errors import ModelFileError
from digitnet.training import SGD, fit

# Small enough to be quick, large enough that each epoch takes a visible fraction of a second.
TRAIN = ["train", "--limit", "3000", "--epochs", "6", "--seed", "7", "--momentum", "0.5", "--lr-decay", "0.9",
         "--learning-rate", "0.5", "--quiet"]
# For the signals sent from outside: the NumPy engine and more epochs, so that the run is still
# going, by a second or more, when the signal arrives after the first epoch's line.
SIGNALLED = ["train", "--limit", "3000", "--epochs", "12", "--seed", "7", "--momentum", "0.5", "--lr-decay", "0.9",
             "--learning-rate", "0.5", "--engine", "numpy", "--quiet"]


def digitnet(*args: str, **kwargs: Any) -> subprocess.Popen:
    """``python -m digitnet ARGS`` in a subprocess, its output piped."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    return subprocess.Popen([sys.executable, "-m", "digitnet", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, **kwargs)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The model file of the whole run, never interrupted."""
    out = tmp_path_factory.mktemp("full") / "model.npz"
    assert main([*TRAIN, "--out", str(out)]) == 0
    return out.read_bytes()


@pytest.fixture(scope="module")
def uninterrupted_numpy(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    out = tmp_path_factory.mktemp("full-numpy") / "model.npz"
    assert main([*SIGNALLED, "--out", str(out)]) == 0
    return out.read_bytes()


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_after_the_first_epoch_saves_a_checkpoint_that_resumes_to_the_same_bytes(
        tmp_path: Path, uninterrupted_numpy: bytes, sig: signal.Signals) -> None:
    out, ckpt = tmp_path / "model.npz", tmp_path / "run.ckpt.npz"
    proc = digitnet(*SIGNALLED, "--out", str(out), "--checkpoint", str(ckpt))
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if line.lstrip().startswith("epoch") and " 1/12 " in line:
            proc.send_signal(sig)
            break
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, "".join(lines) + stdout + stderr
    assert f"checkpoint {ckpt}" in stderr and f"--resume {ckpt}" in stderr
    assert not out.exists()  # the run did not finish: no model file pretends it did

    net, opt, settings = load_checkpoint(ckpt)
    assert 1 <= len(net.history) < 12
    assert [h["epoch"] for h in net.history] == list(range(1, len(net.history) + 1))
    assert settings["epochs"] == 12 and settings["seed"] == 7 and settings["momentum"] == 0.5
    assert settings["engine"] == "numpy"  # resumed with the engine it ran with
    assert opt.momentum == 0.5 and any(np.abs(v).max() > 0 for v in opt.vW)  # the velocities were kept
    state = net.rng.bit_generator.state
    assert state != Network(net.sizes, seed=7).rng.bit_generator.state  # the shuffles so far were drawn

    done = subprocess.run([sys.executable, "-m", "digitnet", "train", "--resume", str(ckpt), "--out", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"resuming {ckpt} after epoch {len(net.history)} of 12" in done.stdout
    assert out.read_bytes() == uninterrupted_numpy


def interrupting(progress: Any, epoch: int, moment: str) -> Any:
    """A progress hook that raises KeyboardInterrupt in epoch ``epoch`` (counted from 1), at its
    first progress report, halfway through, or at its last report (all steps taken, the epoch
    not yet recorded); otherwise it passes the reports on to ``progress``."""
    finished = 0

    def hook(done: int, total: int) -> None:
        nonlocal finished
        if finished == epoch - 1 and (moment == "first" or (moment == "middle" and 2 * done >= total)
                                      or (moment == "last" and done == total)):
            raise KeyboardInterrupt
        if done == total:
            finished += 1
        if progress is not None:
            progress(done, total)

    return hook


@pytest.mark.parametrize("epoch", [1, 3])
@pytest.mark.parametrize("moment", ["first", "middle", "last"])
def test_ctrl_c_at_any_moment_of_an_epoch_resumes_to_the_same_bytes(
        tmp_path: Path, uninterrupted: bytes, monkeypatch: pytest.MonkeyPatch, epoch: int, moment: str) -> None:
    """In process, through the command line: KeyboardInterrupt from the progress hook."""
    import digitnet.training

    real_fit: Any = digitnet.training.fit

    def interrupted_fit(*args: Any, progress: Any = None, **kwargs: Any) -> Any:
        return real_fit(*args, progress=interrupting(progress, epoch, moment), **kwargs)

    out, ckpt = tmp_path / "model.npz", tmp_path / "model.checkpoint.npz"
    monkeypatch.setattr(digitnet.training, "fit", interrupted_fit)
    assert main([*TRAIN, "--out", str(out)]) == 130
    monkeypatch.setattr(digitnet.training, "fit", real_fit)

    net, _, _ = load_checkpoint(ckpt)  # the default checkpoint path: OUT with .checkpoint.npz
    assert len(net.history) == epoch - 1  # whole epochs only
    assert main(["train", "--resume", str(ckpt), "--out", str(out)]) == 0
    assert out.read_bytes() == uninterrupted


def test_interrupted_twice_and_resumed_twice_still_gives_the_same_bytes(
        tmp_path: Path, uninterrupted: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    import digitnet.training

    real_fit: Any = digitnet.training.fit

    def stop_after(epochs: int) -> Any:
        def interrupted_fit(*args: Any, callback: Any = None, **kwargs: Any) -> Any:
            def on_epoch(record: dict[str, Any]) -> Any:
                callback(record)
                if record["epoch"] == epochs:  # after the epoch is recorded: the boundary itself
                    raise KeyboardInterrupt

            return real_fit(*args, callback=on_epoch, **kwargs)

        return interrupted_fit

    out, ckpt = tmp_path / "model.npz", tmp_path / "c.npz"
    monkeypatch.setattr(digitnet.training, "fit", stop_after(2))
    assert main([*TRAIN, "--out", str(out), "--checkpoint", str(ckpt)]) == 130
    assert len(load_checkpoint(ckpt)[0].history) == 2
    monkeypatch.setattr(digitnet.training, "fit", stop_after(4))
    assert main(["train", "--resume", str(ckpt), "--out", str(out)]) == 130
    assert len(load_checkpoint(ckpt)[0].history) == 4  # the resumed run checkpoints to the same file
    monkeypatch.setattr(digitnet.training, "fit", real_fit)
    assert main(["train", "--resume", str(ckpt), "--out", str(out)]) == 0
    assert out.read_bytes() == uninterrupted


@pytest.mark.parametrize(("epoch", "moment"), [(1, "first"), (1, "last"), (2, "middle"), (4, "last")])
def test_fit_restores_the_start_of_the_epoch_on_keyboard_interrupt(blobs: dict[str, np.ndarray], tmp_path: Path,
                                                                    epoch: int, moment: str) -> None:
    """The library alone: fit, interrupted from its progress hook, then checkpointed and resumed,
    equals fit never interrupted (float64, momentum, weight decay, decay: every piece of state)."""
    settings = {"epochs": 4, "batch_size": 10, "learning_rate": 0.3, "momentum": 0.9, "weight_decay": 1e-3,
                "learning_rate_decay": 0.8, "hidden": [8], "activation": "relu", "cost": "cross-entropy",
                "seed": 11, "dtype": "float64", "data": None, "limit": None}
    kwargs: dict[str, Any] = dict(epochs=4, batch_size=10, learning_rate=0.3, momentum=0.9, weight_decay=1e-3,
                                  learning_rate_decay=0.8, validation_data=(blobs["X_test"], blobs["y_test"]),
                                  engine="numpy")

    def network() -> Network:
        return Network((20, 8, 3), activation="relu", cost="cross-entropy", seed=11, dtype=np.float64)

    reference = network()
    fit(reference, blobs["X"], blobs["y"], **kwargs)

    net, opt = network(), SGD(0.3, 0.9, 1e-3)
    with pytest.raises(KeyboardInterrupt):
        fit(net, blobs["X"], blobs["y"], progress=interrupting(None, epoch, moment), optimizer=opt, **kwargs)
    kept = len(net.history)
    assert kept == epoch - 1  # whole epochs only
    save_checkpoint(tmp_path / "c.npz", net, opt, settings)
    net, opt, _ = load_checkpoint(tmp_path / "c.npz")
    assert len(net.history) == kept
    fit(net, blobs["X"], blobs["y"], optimizer=opt, start_epoch=kept, **kwargs)

    for a, b in zip(net.W + net.b, reference.W + reference.b):
        np.testing.assert_array_equal(a, b)  # bit for bit: no tolerance
    reference.save(tmp_path / "reference.npz")
    net.save(tmp_path / "resumed.npz")
    assert (tmp_path / "resumed.npz").read_bytes() == (tmp_path / "reference.npz").read_bytes()


def test_a_model_file_is_not_a_checkpoint(tmp_path: Path) -> None:
    Network((4, 3, 2), seed=0).save(tmp_path / "m.npz")
    with pytest.raises(ModelFileError, match=r"m\.npz is a model file, not a checkpoint"):
        load_checkpoint(tmp_path / "m.npz")
    assert main(["train", "--resume", str(tmp_path / "m.npz"), "--out", str(tmp_path / "o.npz")]) == 2


def test_an_interrupt_while_the_epoch_is_being_recorded_keeps_weights_and_history_together(
        blobs: dict[str, np.ndarray], monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C between an epoch's last step and its entry in the history (here: while its duration
    is measured) must not leave the weights of two epochs with the history of one."""
    import digitnet.training

    net = Network((20, 8, 3), seed=5, dtype=np.float64)
    before = [W.copy() for W in net.W]
    calls = 0

    class Clock:
        """training.py's clock, raising at its second reading."""

        @staticmethod
        def perf_counter() -> float:
            nonlocal calls
            calls += 1
            if calls == 2:  # the first epoch's end: its steps are taken, its record not yet kept
                raise KeyboardInterrupt
            return 0.0

    monkeypatch.setattr(digitnet.training, "time", Clock)
    with pytest.raises(KeyboardInterrupt):
        fit(net, blobs["X"], blobs["y"], epochs=2, learning_rate=0.5, engine="numpy")
    assert net.history == []
    for a, b in zip(net.W, before):
        np.testing.assert_array_equal(a, b)


SECOND_SIGNAL = """
import os, signal, sys
import digitnet.checkpoint, digitnet.training
from digitnet.cli import main

real_save, real_fit = digitnet.checkpoint.save_checkpoint, digitnet.training.fit

def impatient_save(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C again, and a kill, while the checkpoint is written
    os.kill(os.getpid(), signal.SIGTERM)
    real_save(*args, **kwargs)

def fit(*args, callback=None, **kwargs):
    def on_epoch(record):
        callback(record)
        raise KeyboardInterrupt
    return real_fit(*args, callback=on_epoch, **kwargs)

digitnet.checkpoint.save_checkpoint, digitnet.training.fit = impatient_save, fit
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.slow
def test_a_second_ctrl_c_or_kill_while_the_checkpoint_is_written_does_not_lose_it(tmp_path: Path) -> None:
    ckpt = tmp_path / "c.npz"
    done = subprocess.run([sys.executable, "-c", SECOND_SIGNAL, *TRAIN, "--out", str(tmp_path / "m.npz"),
                           "--checkpoint", str(ckpt)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 130, done.stderr
    assert len(load_checkpoint(ckpt)[0].history) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["c.npz"]  # no temporary file left behind

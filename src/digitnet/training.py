"""Stochastic gradient descent (lesson 2): shuffle the training data, cut it into mini-batches, and
take one step downhill per mini-batch: W -= eta dW, b -= eta db.

The settings are a ``TrainingSettings`` (settings.py); the update rule, with its optional momentum,
weight decay and the learning rate's decay, is the optimiser's (optimizer.py); the mini-batches
run on the engine (engine.py: compiled, or the NumPy reference). This module is the epoch loop:
shuffling, the history, divergence and interruption. It returns the history and prints nothing:
callers (the CLI, the web page) show it.

It works on any object with a Network's attributes and does not import network.py (which calls
it from ``Network.fit``), so that imports run one way.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from . import checks
from . import engine as fast
from .errors import ConfigError, TrainingDiverged
from .evaluation import evaluate
from .netlike import NetworkLike
from .optimizer import SGD, sgd_batches
from .settings import TrainingSettings

__all__ = ["fit", "SGD", "sgd_batches", "TrainingSettings"]


def fit(
    net: NetworkLike,
    X: np.ndarray,
    y: np.ndarray,
    settings: TrainingSettings | None = None,
    validation_data: tuple[np.ndarray, np.ndarray] | None = None,
    callback: Callable[[dict[str, Any]], Any] | None = None,
    progress: Callable[[int, int], Any] | None = None,
    engine: str | None = None,
    optimizer: SGD | None = None,
    start_epoch: int = 0,
    **setting_values: Any,
) -> list[dict[str, Any]]:
    """Train ``net`` by SGD on mini-batches of (X, y) shuffled each epoch; returns the history.

    X: images (N, 784), float in [0, 1] or uint8 0-255 (their inked pixels packed once, for all epochs).
    y: labels (N,) or one-hot (N, 10). settings: a TrainingSettings (default: its defaults); setting_values
    (epochs=..., learning_rate=...) replace some of them.
    validation_data: (X_test, y_test), evaluated after each epoch. callback(record) is called after each
    epoch; if it returns True, training stops early. progress(done, total): as mini-batches are done.
    engine: "auto" (compiled when available), "compiled" or "numpy" (the reference); default: settings'.
    optimizer, start_epoch: the state of an interrupted run, to resume it exactly.

    History records: "epoch" (1 first), "learning_rate", "train_cost" and "train_accuracy" (Keras'
    running figures: each example's C_0 and guess from the forward pass of its own step, before it),
    "test_cost" and "test_accuracy" (of validation_data after the epoch), "seconds".

    A non-finite cost or weight stops training with TrainingDiverged; the network is left as it
    was at the end of the last finite epoch. KeyboardInterrupt (Ctrl-C) likewise leaves the network,
    the optimiser and the random state as they were at the end of the last whole epoch, so that a
    checkpoint taken then resumes to the same result, bit for bit.
    """
    if settings is None:
        settings = TrainingSettings()
    elif not isinstance(settings, TrainingSettings):
        raise ConfigError(f"settings must be a TrainingSettings, got {type(settings).__name__}")
    if setting_values:
        settings = settings.replace(**setting_values)
    X = checks.training_images(net, X)
    Y = checks.one_hot(net, y, len(X))
    validation = _validation(net, validation_data)
    opt = optimizer or SGD(settings.learning_rate)
    opt.configure(settings)
    opt.init_state(net)
    run = fast.select(engine or settings.engine)
    images = fast.pack(net, X, engine or settings.engine)  # once: every epoch reads the same inked pixels

    for epoch in range(start_epoch, settings.epochs):
        opt.start_epoch(epoch)
        started = time.perf_counter()
        # The state at the start of the epoch: restored if the epoch diverges or is interrupted,
        # so what remains is always a whole number of finite epochs, and a resumed run repeats
        # this epoch exactly (same shuffle, same steps).
        saved = ([W.copy() for W in net.W], [b.copy() for b in net.b],
                 [v.copy() for v in opt.vW], [v.copy() for v in opt.vb], net.rng.bit_generator.state,
                 len(net.history))

        try:
            order = net.rng.permutation(len(X))
            # A diverging run overflows; that is detected just below, so NumPy need not warn too.
            with np.errstate(over="ignore", invalid="ignore"):
                summed = run(net, images, Y, order, settings.batch_size, opt, progress)
            train_cost = summed.cost / len(X)
            if not _finite(net, train_cost):
                _restore(net, opt, saved)
                raise TrainingDiverged(
                    f"training diverged in epoch {epoch + 1}: the cost or a weight became NaN or infinite "
                    f"with learning rate {opt.learning_rate:g}; the network is kept as it was after epoch "
                    f"{epoch}. Try a smaller learning rate, such as {opt.learning_rate / 10:g}.")
            record = _record(net, epoch, opt.learning_rate, train_cost, summed.right / len(X), validation)
            record["seconds"] = time.perf_counter() - started
            # Inside the try: an interrupt between the last step and this line must not leave the
            # weights of epoch + 1 with the history of epoch (a checkpoint would then not resume exactly).
            net.history.append(record)
        except KeyboardInterrupt:
            _restore(net, opt, saved)
            raise
        if callback is not None and callback(record) is True:
            break
    return net.history


def _finite(net: NetworkLike, train_cost: float) -> bool:
    """Whether the epoch's cost and every weight and bias are finite numbers."""
    return bool(np.isfinite(train_cost)) and all(np.isfinite(p).all() for p in net.W + net.b)


def _record(net: NetworkLike, epoch: int, learning_rate: float, train_cost: float, train_accuracy: float,
            validation: tuple[np.ndarray, np.ndarray] | None) -> dict[str, Any]:
    """The history's record of epoch ``epoch`` (0 first): its rate, its steps' running cost and
    accuracy, and the validation's."""
    record: dict[str, Any] = {
        "epoch": epoch + 1,
        "learning_rate": learning_rate,
        "train_cost": float(train_cost),
        "train_accuracy": float(train_accuracy),
    }
    if validation is not None:
        test = evaluate(net, *validation)
        record["test_cost"], record["test_accuracy"] = test.cost, test.accuracy
    return record


def _validation(net: NetworkLike, validation_data: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """validation_data checked: (images as brightnesses, labels), or None."""
    if validation_data is None:
        return None
    try:
        Xv, yv = validation_data
    except (TypeError, ValueError):
        raise ConfigError("validation_data must be a pair (X_test, y_test) of images and labels, got "
                          f"a {type(validation_data).__name__} that is not one") from None
    Xv, _ = checks.images(net, Xv)
    return Xv, checks.labels(net, yv, len(Xv))


def _restore(net: NetworkLike, opt: SGD, saved: tuple) -> None:
    """Put back the state of the start of an epoch: weights, velocities, random state, history."""
    net.W[:], net.b[:], opt.vW[:], opt.vb[:] = saved[0], saved[1], saved[2], saved[3]
    net.rng.bit_generator.state = saved[4]
    del net.history[saved[5]:]

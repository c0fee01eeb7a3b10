"""Stochastic gradient descent (lesson 2): shuffle the training data, cut it into mini-batches, and
take one step downhill per mini-batch: W -= eta dW, b -= eta db.

Optional extras, both off by default so the plain lesson is what runs:

- momentum mu: each step keeps a velocity v = mu v - eta (dW + lambda W); W += v.
- weight decay lambda (L2): adds lambda/2 |W|^2 to the cost, so lambda W to dW (biases are not decayed).
- learning_rate_decay: eta is multiplied by this factor after every epoch.

The loop returns the history and prints nothing: callers (the CLI, the web page) show it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import ConfigError, ShapeError, TrainingDiverged
from .network import Network, check_learning_rate


@dataclass
class SGD:
    """The optimiser's settings and state (the velocities of momentum), saved in checkpoints."""

    learning_rate: float
    momentum: float = 0.0
    weight_decay: float = 0.0
    vW: list[np.ndarray] = field(default_factory=list)
    vb: list[np.ndarray] = field(default_factory=list)

    def init_state(self, net: Network) -> None:
        """Zero velocities shaped like the network's parameters (once, before the first step)."""
        if not self.vW:
            self.vW = [np.zeros_like(W) for W in net.W]
            self.vb = [np.zeros_like(b) for b in net.b]


def check_settings(epochs: Any, batch_size: Any, learning_rate: Any, momentum: Any, weight_decay: Any,
                   learning_rate_decay: Any = 1.0) -> tuple[int, int, float, float, float, float]:
    """The training settings, checked: a ConfigError says which one is wrong and what would do."""
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
        raise ConfigError(f"epochs must be a whole number >= 0, got {epochs!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ConfigError(f"batch size must be a whole number >= 1, got {batch_size!r}; the lesson uses 10")
    eta = check_learning_rate(learning_rate)
    mu = _number(momentum, "momentum")
    if not 0.0 <= mu < 1.0:
        raise ConfigError(f"momentum must be in [0, 1), got {momentum!r}; try 0.9, or 0 for plain SGD")
    lam = _number(weight_decay, "weight decay")
    if lam < 0:
        raise ConfigError(f"weight decay must be >= 0, got {weight_decay!r}")
    decay = _number(learning_rate_decay, "learning rate decay")
    if not 0.0 < decay <= 1.0:
        raise ConfigError(f"learning rate decay must be in (0, 1], got {learning_rate_decay!r}")
    return int(epochs), int(batch_size), eta, mu, lam, decay


def _number(value: Any, name: str) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a number, got {value!r}") from None
    if not np.isfinite(x):
        raise ConfigError(f"{name} must be finite, got {value!r}")
    return x


def sgd_batches(net: Network, X: np.ndarray, Y: np.ndarray, order: np.ndarray, batch_size: int,
                opt: SGD) -> float:
    """Plain NumPy SGD over the mini-batches ``order[i:i + batch_size]``; returns the summed cost.

    The reference the fast engine is tested against: one ``backprop`` per mini-batch, then the
    update W += v, v = mu v - eta (dW + lambda W) (with mu = lambda = 0 exactly ``Network.step``).
    """
    total = 0.0
    for start in range(0, len(order), batch_size):
        idx = order[start:start + batch_size]
        Xb = X[idx]
        if Xb.dtype == np.uint8:
            Xb = Xb.astype(net.dtype) / net.dtype(255)
        cost, dW, db = net.backprop(Xb, Y[idx])
        total += cost * len(idx)
        for l in range(len(net.W)):
            gW = dW[l] + opt.weight_decay * net.W[l] if opt.weight_decay else dW[l]
            if opt.momentum:
                opt.vW[l] = (opt.momentum * opt.vW[l] - opt.learning_rate * gW).astype(net.dtype)
                opt.vb[l] = (opt.momentum * opt.vb[l] - opt.learning_rate * db[l]).astype(net.dtype)
                net.W[l] += opt.vW[l]
                net.b[l] += opt.vb[l]
            else:
                net.W[l] -= (opt.learning_rate * gW).astype(net.dtype)
                net.b[l] -= (opt.learning_rate * db[l]).astype(net.dtype)
    return total


def fit(
    net: Network,
    X: np.ndarray,
    y: np.ndarray,
    epochs: int = 30,
    batch_size: int = 10,
    learning_rate: float = 1.5,
    momentum: float = 0.0,
    weight_decay: float = 0.0,
    validation_data: tuple[np.ndarray, np.ndarray] | None = None,
    callback: Callable[[dict[str, Any]], Any] | None = None,
    learning_rate_decay: float = 1.0,
    progress: Callable[[int, int], Any] | None = None,
    engine: str = "auto",
    optimizer: SGD | None = None,
    start_epoch: int = 0,
) -> list[dict[str, Any]]:
    """Train ``net`` by SGD on mini-batches of (X, y) shuffled each epoch; returns the history.

    X: images (N, 784), float in [0, 1] or uint8 0-255 (kept as uint8: 4x less memory traffic).
    y: labels (N,) or one-hot (N, 10). validation_data: (X_test, y_test), evaluated after each epoch.
    callback(record) is called after each epoch; if it returns True, training stops early.
    progress(done, total) is called as mini-batches are done within an epoch (for progress bars).
    engine: "auto" (the compiled engine when available), "numba" or "numpy" (the reference loop).
    optimizer, start_epoch: the state of an interrupted run, to resume it exactly.

    A non-finite cost or weight stops training with TrainingDiverged; the network is left as it
    was at the end of the last finite epoch. KeyboardInterrupt (Ctrl-C) likewise leaves the network,
    the optimiser and the random state as they were at the end of the last whole epoch, so that a
    checkpoint taken then resumes to the same result, bit for bit.
    """
    from . import engine as fast

    epochs, batch_size, eta, mu, lam, decay = check_settings(
        epochs, batch_size, learning_rate, momentum, weight_decay, learning_rate_decay)
    X = _training_images(net, X)
    Y = net.one_hot(y, len(X))
    labels = np.argmax(Y, axis=1)
    if validation_data is not None:
        try:
            Xv, yv = validation_data
        except (TypeError, ValueError):
            raise ConfigError("validation_data must be a pair (X_test, y_test) of images and labels, got "
                              f"a {type(validation_data).__name__} that is not one") from None
        Xv, _ = net._check_input(Xv)
        yv = net._check_labels(yv, len(Xv))
    opt = optimizer or SGD(eta, mu, lam)
    opt.init_state(net)
    run = fast.select(engine)

    for epoch in range(start_epoch, epochs):
        opt.learning_rate = eta * decay ** epoch
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
                total = run(net, X, Y, order, batch_size, opt, progress)
            train_cost = total / len(X)
            finite = bool(np.isfinite(train_cost)) and all(np.isfinite(W).all() for W in net.W) and all(
                np.isfinite(b).all() for b in net.b)
            if not finite:
                _restore(net, opt, saved)
                raise TrainingDiverged(
                    f"training diverged in epoch {epoch + 1}: the cost or a weight became NaN or infinite "
                    f"with learning rate {opt.learning_rate:g}; the network is kept as it was after epoch "
                    f"{epoch}. Try a smaller learning rate, such as {opt.learning_rate / 10:g}.")
            record: dict[str, Any] = {
                "epoch": epoch + 1,
                "learning_rate": opt.learning_rate,
                "train_cost": float(train_cost),
                "train_accuracy": _accuracy_on(net, X, labels) if len(X) else None,
            }
            if validation_data is not None:
                a = fast.predict_proba(net, Xv)
                record["test_cost"] = float(np.mean(net.cost_function.fn(a, net.one_hot(yv, len(Xv)))))
                record["test_accuracy"] = float(np.mean(np.argmax(a, axis=1) == yv))
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


def _restore(net: Network, opt: SGD, saved: tuple) -> None:
    """Put back the state of the start of an epoch: weights, velocities, random state, history."""
    net.W[:], net.b[:], opt.vW[:], opt.vb[:] = saved[0], saved[1], saved[2], saved[3]
    net.rng.bit_generator.state = saved[4]
    del net.history[saved[5]:]


def _training_images(net: Network, X: Any) -> np.ndarray:
    X = np.asarray(X)
    if X.dtype == np.uint8:
        if X.ndim != 2 or X.shape[1] != net.sizes[0]:
            raise ShapeError(f"expected images of shape (m, {net.sizes[0]}), got {X.shape}")
    else:
        X = net._check_input(X)[0]
    if len(X) == 0:
        raise ShapeError(f"no training images: X has shape {X.shape}; give at least one image to train on")
    return X


def _accuracy_on(net: Network, X: np.ndarray, labels: np.ndarray) -> float:
    from . import engine as fast

    return float(np.mean(np.argmax(fast.predict_proba(net, X), axis=1) == labels))

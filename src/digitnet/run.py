"""One training run from its settings: the data, the network, the fit.

``digitnet train`` and every trial of ``digitnet sweep`` go through these functions, so a trial
of a sweep is the same training as ``digitnet train`` with its settings, and gives the same model
file, byte for byte.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import training
from .errors import ConfigError
from .network import Network
from .optimizer import SGD
from .settings import TrainingSettings

# The defaults: the lesson's network, with the settings that train it best here (see README).
DEFAULTS: dict[str, Any] = {
    "hidden": (16, 16),
    "activation": "sigmoid",
    "cost": "quadratic",
    "epochs": 30,
    "batch_size": 10,
    "learning_rate": 1.5,
    "momentum": 0.0,
    "weight_decay": 1e-4,
    "learning_rate_decay": 0.93,
    "seed": 0,
    "dtype": "float32",
}


@dataclass(frozen=True)
class TrainingData:
    """The training images (uint8, as stored), the test images (float in [0, 1]) and the class names."""

    X: np.ndarray
    y: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    classes: tuple[str, ...]

    def training(self, limit: int | None) -> tuple[np.ndarray, np.ndarray]:
        """The first ``limit`` training images and labels (all of them for None)."""
        return (self.X[:limit], self.y[:limit]) if limit else (self.X, self.y)


def load_data(data_dir: str | None) -> TrainingData:
    """MNIST (or the MNIST-format files in ``data_dir``), as every training run reads it."""
    from . import data

    X, y = data.load_mnist_uint8("train", data_dir=data_dir)
    X_test, y_test = data.load_mnist("test", data_dir=data_dir)
    return TrainingData(X, y, X_test, y_test, tuple(data.class_names(data_dir)))


def checked(settings: Mapping[str, Any]) -> TrainingSettings:
    """The training settings (epochs, batch size, eta, mu, lambda, decay, engine), each checked; ConfigError if not."""
    if settings.get("limit") is not None and settings["limit"] < 1:
        raise ConfigError(f"--limit must be >= 1, got {settings['limit']}")
    return TrainingSettings.from_dict(dict(settings), partial=True)


def sizes_for(settings: Mapping[str, Any], data: TrainingData) -> tuple[int, ...]:
    """The layer sizes: the data's input size, the hidden layers, one output per class."""
    return (data.X.shape[1], *settings["hidden"], len(data.classes))


def build(settings: Mapping[str, Any], data: TrainingData) -> tuple[Network, SGD]:
    """A new network with ``settings`` (sizes, activation, cost, seed, dtype) and its optimiser."""
    ts = checked(settings)
    net = Network(sizes_for(settings, data), activation=settings["activation"], cost=settings["cost"],
                  seed=settings["seed"], dtype=settings["dtype"])
    return net, SGD.from_settings(ts)


def train(settings: Mapping[str, Any], data: TrainingData, net: Network, opt: SGD, engine: str = "auto",
          callback: Callable[[dict[str, Any]], Any] | None = None,
          progress: Callable[[int, int], Any] | None = None) -> Network:
    """Train ``net`` with ``settings`` on ``data``, from its last whole epoch on; returns it.

    Raises TrainingDiverged (the net kept as after its last finite epoch) and lets KeyboardInterrupt
    through (the net, optimiser and random state as at the end of the last whole epoch).
    """
    ts = checked(settings)
    X, y = data.training(settings.get("limit"))
    training.fit(net, X, y, ts, validation_data=(data.X_test, data.y_test), callback=callback, progress=progress,
                 engine=engine, optimizer=opt, start_epoch=len(net.history))
    return net

"""The training and inference engine behind Network.fit and Network.predict.

This module holds the plain NumPy path; the readable ``Network.backprop`` is its specification.
"""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .errors import ConfigError

ENGINES = ("auto", "numba", "numpy")


def predict_proba(net: Any, X: np.ndarray) -> np.ndarray:
    """The output activations for a checked mini-batch X (m, n): uint8 or float."""
    if X.dtype == np.uint8:
        X = X.astype(net.dtype) / net.dtype(255)
    return net.feedforward(X)[1][-1]


def select(name: str) -> Callable[..., float]:
    """The function that runs SGD over a list of mini-batches, for engine ``name``."""
    from .training import sgd_batches

    if name not in ENGINES:
        raise ConfigError(f"unknown engine {name!r}: choose one of {', '.join(ENGINES)}")

    def run(net, X, Y, order, batch_size, opt, progress=None):
        total = 0.0
        chunk = max(batch_size, (len(order) // 50) // batch_size * batch_size)
        for start in range(0, len(order), chunk):
            total += sgd_batches(net, X, Y, order[start:start + chunk], batch_size, opt)
            if progress is not None:
                progress(min(start + chunk, len(order)), len(order))
        return total

    return run

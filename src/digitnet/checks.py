"""Checking what users pass in: images, labels, targets, sizes, dtypes and numeric settings.

One place for every input check, so that the network, training, inspection and the web page
reject bad input with the same message. Each check returns the value in the form digitnet
computes with, or raises ShapeError / ConfigError naming the value and what to do. The checks
read only a network's ``sizes``, ``dtype`` and ``cost_name``, so they sit below network.py.

uint8 images (0-255) are brought to brightnesses in [0, 1] by ``brightness``, the only place
that scales them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .costs import get_cost
from .errors import ConfigError, ShapeError

# Largest network digitnet accepts: a guard against typos such as --sizes 784,1600000,10.
MAX_PARAMETERS = 100_000_000


def brightness(X: np.ndarray, dtype: Any) -> np.ndarray:
    """uint8 pixels 0-255 as brightnesses in [0, 1] of ``dtype``; float images in ``dtype`` (unchanged
    when they are already)."""
    return X.astype(dtype) / dtype(255) if X.dtype == np.uint8 else X.astype(dtype, copy=False)


def _all_finite(X: np.ndarray, rows: int = 8192) -> bool:
    """Whether every value of X is finite, a few thousand rows at a time (no full-size temporary)."""
    return all(bool(np.isfinite(X[i:i + rows]).all()) for i in range(0, len(X), rows))


def images(net: Any, X: Any, keep_uint8: bool = False) -> tuple[np.ndarray, bool]:
    """X as a 2-D array of the network's dtype, and whether it was a single image.

    keep_uint8: uint8 images stay uint8 (the engine reads them as stored, a quarter of the memory).
    """
    X = np.asarray(X)
    if X.dtype == np.uint8:
        if not keep_uint8:
            X = brightness(X, net.dtype)
    elif X.dtype.kind not in "fiub":
        raise ShapeError(f"images must be numbers, got an array of dtype {X.dtype}")
    n = net.sizes[0]
    if X.ndim not in (1, 2) or X.shape[-1] != n:
        raise ShapeError(
            f"expected one image of shape ({n},) or a batch of shape (m, {n}), got shape "
            f"{X.shape}; flatten each {_side(n)} image into {n} brightnesses in [0, 1]"
        )
    if X.dtype != np.uint8:  # uint8 pixels are always finite
        X = X.astype(net.dtype, copy=False)
        if not _all_finite(X):
            raise ShapeError("images contain NaN or infinite values; brightnesses must be finite, in [0, 1]")
    single = X.ndim == 1
    return (X[None, :] if single else X), single


def examples(net: Any, X: Any, Y: Any, keep_uint8: bool = False) -> tuple[np.ndarray, np.ndarray, bool]:
    """X as in ``images``, Y as one-hot rows: at least one example, since costs are means over them."""
    X, single = images(net, X, keep_uint8)
    if len(X) == 0:
        raise ShapeError(f"no images (shape {X.shape}): the cost, its gradient and the accuracy are means "
                         "over the examples, so they need at least one")
    return X, one_hot(net, Y, len(X)), single


def training_images(net: Any, X: Any) -> np.ndarray:
    """Training images (m, n), m >= 1: uint8, float32 and float64 kept as stored (the engine reads them
    so, and the reference converts each mini-batch: no full-size copy), floats checked finite."""
    X = np.asarray(X)
    if X.dtype == np.uint8:
        if X.ndim != 2 or X.shape[1] != net.sizes[0]:
            raise ShapeError(f"expected images of shape (m, {net.sizes[0]}), got {X.shape}")
    elif X.dtype in (np.float32, np.float64) and X.ndim == 2 and X.shape[1] == net.sizes[0]:
        if not _all_finite(X):
            raise ShapeError("images contain NaN or infinite values; brightnesses must be finite, in [0, 1]")
    else:
        X = images(net, X)[0]
    if len(X) == 0:
        raise ShapeError(f"no training images: X has shape {X.shape}; give at least one image to train on")
    return X


def labels(net: Any, y: Any, m: int) -> np.ndarray:
    """y as m integer labels 0..k-1 (one-hot rows are turned into their index)."""
    y = np.asarray(y)
    k = net.sizes[-1]
    if y.ndim == 2 and y.shape[1] == k:
        y = np.argmax(y, axis=1)
    if y.ndim != 1 or len(y) != m:
        raise ShapeError(f"expected {m} labels (one per image), got an array of shape {y.shape}")
    if y.dtype.kind == "f":
        bad = ~np.isfinite(y) | (y != np.round(y))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ShapeError(f"labels must be whole numbers 0..{k - 1}, got {float(y[i])!r} at position {i}")
        y = y.astype(np.int64)
    if y.dtype.kind not in "iub":
        raise ShapeError(f"labels must be integers 0..{k - 1}, got dtype {y.dtype}")
    if m and (y.min() < 0 or y.max() >= k):
        raise ShapeError(f"labels must be in 0..{k - 1}, got values from {y.min()} to {y.max()}")
    return y.astype(np.int64, copy=False)


def one_hot(net: Any, Y: Any, m: int) -> np.ndarray:
    """Y as one-hot rows (m, k) of the network's dtype: integer labels are expanded, one-hot checked."""
    Y = np.asarray(Y)
    k = net.sizes[-1]
    if Y.ndim == 2:
        if Y.shape != (m, k):
            raise ShapeError(f"expected targets of shape ({m}, {k}), got {Y.shape}")
        if Y.dtype.kind not in "fiub":
            raise ShapeError(f"targets must be numbers (one-hot rows), got an array of dtype {Y.dtype}")
        if not np.isfinite(Y).all():
            raise ShapeError("targets contain NaN or infinite values")
        cost = get_cost(net.cost_name)
        if cost.targets_are_probabilities:
            # The output delta a - y (costs.py) is the gradient only for rows of y that are
            # probabilities: one-hot, or soft labels such as 0.9 / 0.1 that sum to 1.
            sums = Y.sum(axis=1, dtype=np.float64)
            bad = np.flatnonzero((Y < 0).any(axis=1) | (np.abs(sums - 1.0) > 1e-5))
            if len(bad):
                i = int(bad[0])
                raise ShapeError(f"{cost.name} targets must be probabilities (each row >= 0, summing to 1), "
                                 f"but row {i} is {Y[i].tolist()} and sums to {sums[i]:g}")
        return Y.astype(net.dtype, copy=False)
    y = labels(net, Y, m)
    out: np.ndarray = np.zeros((m, k), dtype=net.dtype)
    out[np.arange(m), y] = 1
    return out


def output_neuron(net: Any, j: object) -> int:
    """j as the index of an output neuron, 0..k-1."""
    k = net.sizes[-1]
    if isinstance(j, bool) or not isinstance(j, (int, np.integer)) or not 0 <= j < k:
        raise ConfigError(f"output neuron must be a whole number 0..{k - 1}, got {j!r}")
    return int(j)


# -- settings -------------------------------------------------------------------------------------------

MAX_WHOLE = 2**31 - 1  # the compiled engine's loop counters; no data set has more examples or epochs


def whole_number(value: Any, name: str, minimum: int, hint: str = "") -> int:
    """value as an int in [minimum, MAX_WHOLE] (not a bool, not a float), or a ConfigError."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ConfigError(f"{name} must be a whole number >= {minimum}, got {value!r}{hint}")
    if value > MAX_WHOLE:
        raise ConfigError(f"{name} must be at most {MAX_WHOLE:,}, got {value!r}{hint}")
    return int(value)


def number(value: Any, name: str) -> float:
    """value as a finite float, or a ConfigError."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a number, got {value!r}") from None
    if not np.isfinite(x):
        raise ConfigError(f"{name} must be finite, got {value!r}")
    return x


def learning_rate(value: Any) -> float:
    """The learning rate eta as a float, or a ConfigError unless it is finite and > 0."""
    try:
        eta = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"learning rate must be a number > 0, got {value!r}") from None
    if not np.isfinite(eta) or eta <= 0:
        raise ConfigError(f"learning rate must be a finite number > 0, got {value!r}; try 0.1 to 3")
    return eta


def seed(value: Any) -> int:
    """A random seed: a non-negative integer."""
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 0:
        raise ConfigError(f"seed must be a non-negative integer, got {value!r}")
    return int(value)


def sizes(value: Any) -> tuple[int, ...]:
    """Layer sizes such as (784, 16, 16, 10): at least two whole numbers >= 1, not too many weights."""
    try:
        s = tuple(value)
    except TypeError:
        raise ConfigError(f"sizes must be a list of layer sizes such as (784, 16, 16, 10), got {value!r}") from None
    if len(s) < 2:
        raise ConfigError(f"a network needs at least an input and an output layer, got sizes {s!r}")
    for n in s:
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
            raise ConfigError(f"every layer size must be a whole number >= 1, got {n!r} in {s!r}")
    s = tuple(int(n) for n in s)
    n_params = n_parameters(s)
    if n_params > MAX_PARAMETERS:
        raise ConfigError(f"sizes {s} give {n_params:,} parameters, more than digitnet's limit of {MAX_PARAMETERS:,}")
    return s


def n_parameters(sizes: tuple[int, ...]) -> int:
    """Weights and biases of a network of these layer sizes."""
    return sum(k * n + k for n, k in zip(sizes[:-1], sizes[1:]))


def dtype(value: Any) -> type:
    """float32 or float64, as a NumPy scalar type."""
    try:
        dt = np.dtype(value)
    except TypeError:
        raise ConfigError(f"dtype must be float32 or float64, got {value!r}") from None
    if dt not in (np.float32, np.float64):
        raise ConfigError(f"dtype must be float32 or float64, got {dt}")
    return dt.type


def _side(n: int) -> str:
    r = int(round(np.sqrt(n)))
    return f"{r}x{r}" if r * r == n else f"{n}-pixel"

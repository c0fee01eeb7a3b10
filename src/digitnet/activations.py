"""Activation functions sigma and their derivatives sigma' (lesson 1: a' = sigma(W a + b)).

Each is looked up by name in ``ACTIVATIONS``. They are pure functions of ``z`` (the weighted sum,
before the activation) and return new arrays of the same shape and dtype.

- sigmoid:  sigma(z) = 1 / (1 + e^-z),        sigma'(z) = sigma(z) (1 - sigma(z))
- relu:     sigma(z) = max(0, z),             sigma'(z) = 1 if z > 0 else 0
- softmax (output layer only, with the cross-entropy cost): a_j = e^z_j / sum_k e^z_k
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .errors import ConfigError


def sigmoid(z: np.ndarray) -> np.ndarray:
    """sigma(z) = 1 / (1 + e^-z), written as (1 + tanh(z/2)) / 2 so that no exp overflows."""
    return 0.5 * (np.tanh(0.5 * z) + 1.0)


def sigmoid_prime(z: np.ndarray) -> np.ndarray:
    """sigma'(z) = sigma(z) (1 - sigma(z))."""
    s = sigmoid(z)
    return s * (1.0 - s)


def relu(z: np.ndarray) -> np.ndarray:
    """ReLU(z) = max(0, z)."""
    return np.maximum(z, 0.0).astype(z.dtype, copy=False)


def relu_prime(z: np.ndarray) -> np.ndarray:
    """ReLU'(z) = 1 where z > 0, else 0 (we take 0 at z = 0)."""
    return (z > 0).astype(z.dtype)


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax of z (m, k); the row maximum is subtracted first so no exp overflows."""
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@dataclass(frozen=True)
class Activation:
    """An activation by name: ``fn`` is sigma, ``prime`` is sigma'."""

    name: str
    fn: Callable[[np.ndarray], np.ndarray]
    prime: Callable[[np.ndarray], np.ndarray]


ACTIVATIONS: dict[str, Activation] = {
    "sigmoid": Activation("sigmoid", sigmoid, sigmoid_prime),
    "relu": Activation("relu", relu, relu_prime),
}


def get_activation(name: str) -> Activation:
    """The hidden-layer activation called ``name``, or a ConfigError listing the choices."""
    try:
        return ACTIVATIONS[name]
    except (KeyError, TypeError):
        raise ConfigError(
            f"unknown activation {name!r}: choose one of {', '.join(sorted(ACTIVATIONS))}"
        ) from None

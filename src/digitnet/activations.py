"""Activation functions sigma and their derivatives sigma' (lesson 1: a' = sigma(W a + b)).

Each is looked up by name in ``ACTIVATIONS``. They are pure functions of ``z`` (the weighted sum,
before the activation) and return new arrays of the same shape and dtype.

- sigmoid:  sigma(z) = 1 / (1 + e^-z),        sigma'(z) = sigma(z) (1 - sigma(z))
- relu:     sigma(z) = max(0, z),             sigma'(z) = 1 if z > 0 else 0
- softmax (output layer only, with the cross-entropy cost): a_j = e^z_j / sum_k e^z_k

Backpropagation goes through an activation with ``Activation.backward(z, a, dC_da) = dC/dz``: for
sigmoid and relu, each a_j depends on its own z_j only, so it is dC/da * sigma'(z); a softmax
output mixes them, so its Jacobian is applied whole (``softmax_backward``).
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


def softmax_backward(a: np.ndarray, g: np.ndarray) -> np.ndarray:
    """g = dC/da through the softmax: dC/dz_k = sum_j g_j a_j (delta_jk - a_k) = a_k (g_k - sum_j g_j a_j)."""
    return a * (g - np.sum(g * a, axis=-1, keepdims=True))


def log_softmax(z: np.ndarray) -> np.ndarray:
    """ln a_j of the softmax, row by row, without computing a first (the row maximum taken out)."""
    top = z.max(axis=-1, keepdims=True)
    return z - (top + np.log(np.exp(z - top).sum(axis=-1, keepdims=True)))


def _identity(z: np.ndarray) -> np.ndarray:
    return z


def _softmax_score_backward(a: np.ndarray, g: np.ndarray) -> np.ndarray:
    """g = dS/d(ln a) back to dS/dz: ln a_j = z_j - ln sum_k e^z_k, so dz gets g - a sum(g)."""
    return g - a * np.sum(g, axis=-1, keepdims=True)


def _pass(a: np.ndarray, g: np.ndarray) -> np.ndarray:
    return g


@dataclass(frozen=True)
class Activation:
    """An activation by name: ``fn`` is sigma, ``prime`` is sigma' (None for the softmax, whose
    Jacobian is not diagonal: ``jacobian_T`` applies it instead).

    ``score`` is a per-neuron quantity that rises with a_j but does not flatten out as a_j nears 1
    (z_j for a sigmoid, ln a_j for a softmax); ``score_backward`` carries dS/dscore back to dS/dz.
    ``init_scale(n)`` is the standard deviation of the first weights into a layer of this
    activation fed by n neurons; ``sums_to_one``: its outputs are already probabilities;
    ``bounded``: they lie in [0, 1]; ``symbol``: how the page writes a = symbol(z).
    """

    name: str
    fn: Callable[[np.ndarray], np.ndarray]
    prime: Callable[[np.ndarray], np.ndarray] | None
    jacobian_T: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None
    score: Callable[[np.ndarray], np.ndarray] = _identity
    score_backward: Callable[[np.ndarray, np.ndarray], np.ndarray] = _pass
    init_scale: Callable[[int], float] = lambda n: 1.0 / np.sqrt(n)
    sums_to_one: bool = False
    bounded: bool = True  # every activation in [0, 1]: a brightness as it is
    symbol: str = "σ"

    def backward(self, z: np.ndarray, a: np.ndarray, dC_da: np.ndarray) -> np.ndarray:
        """dC/dz from dC/da, by the chain rule through a = sigma(z): dC/da * sigma'(z) elementwise."""
        if self.jacobian_T is not None:
            return self.jacobian_T(a, dC_da)
        assert self.prime is not None
        return dC_da * self.prime(z)


SIGMOID = Activation("sigmoid", sigmoid, sigmoid_prime)
RELU = Activation("relu", relu, relu_prime, init_scale=lambda n: np.sqrt(2.0 / n), bounded=False,
                  symbol="relu")
SOFTMAX = Activation("softmax", softmax, None, softmax_backward, log_softmax, _softmax_score_backward,
                     sums_to_one=True, symbol="softmax")

# The hidden layers' choices; the output layer's activation comes with the cost (costs.py).
ACTIVATIONS: dict[str, Activation] = {"sigmoid": SIGMOID, "relu": RELU}


def get_activation(name: str) -> Activation:
    """The hidden-layer activation called ``name``, or a ConfigError listing the choices."""
    try:
        return ACTIVATIONS[name]
    except (KeyError, TypeError):
        raise ConfigError(
            f"unknown activation {name!r}: choose one of {', '.join(sorted(ACTIVATIONS))}"
        ) from None

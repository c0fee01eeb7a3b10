"""Costs C_0 of one example, and their derivative dC_0/da (lesson 2: the cost function).

The network's cost C is the mean of C_0 over the examples. Each cost also fixes the output layer's
activation, since the two go together:

- quadratic (the lesson's), with a sigmoid output layer:
      C_0 = sum_j (a_j - y_j)^2                 dC_0/da_j = 2 (a_j - y_j)
  (No 1/2 in front, as in the lesson. Nielsen's book uses 1/2 |a - y|^2, so his eta = 3.0 is
  eta = 1.5 here.)
- cross-entropy, with a softmax output layer:
      C_0 = -sum_j y_j ln a_j                   dC_0/dz_j = a_j - y_j   (softmax and this cost together)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .activations import SIGMOID, SOFTMAX, Activation
from .errors import ConfigError

# Probabilities are clipped to [EPS, 1] before the log, so the cost is finite at a = 0.
EPS = 1e-12


def quadratic(a: np.ndarray, y: np.ndarray) -> np.ndarray:
    """C_0 = sum_j (a_j - y_j)^2 for each row of a, y (m, k) -> (m,)."""
    return np.sum((a - y) ** 2, axis=-1)


def quadratic_dC_da(a: np.ndarray, y: np.ndarray) -> np.ndarray:
    """dC_0/da_j = 2 (a_j - y_j)."""
    return 2.0 * (a - y)


def quadratic_delta(z: np.ndarray, a: np.ndarray, y: np.ndarray) -> np.ndarray:
    """delta_L = dC_0/dz_L = dC_0/da * sigma'(z_L), sigma the sigmoid output: 2 (a - y) sigma'(z)."""
    return SIGMOID.backward(z, a, quadratic_dC_da(a, y))


def cross_entropy(a: np.ndarray, y: np.ndarray) -> np.ndarray:
    """C_0 = -sum_j y_j ln a_j for each row of a, y (m, k) -> (m,); a clipped away from 0."""
    return -np.sum(y * np.log(np.clip(a, EPS, 1.0)), axis=-1)


def cross_entropy_dC_da(a: np.ndarray, y: np.ndarray) -> np.ndarray:
    """dC_0/da_j = -y_j / a_j (a clipped away from 0, as in the cost itself)."""
    return -y / np.clip(a, EPS, 1.0)


def cross_entropy_delta(z: np.ndarray, a: np.ndarray, y: np.ndarray) -> np.ndarray:
    """delta_L = a - y: the softmax Jacobian times dC_0/da = -y/a collapses to this.

    The one named special case of delta_L = J^T dC/da. Holds only because the output layer is a
    softmax and each row of y sums to 1 (one-hot), and is exact where -y/a would lose digits.
    """
    return a - y


@dataclass(frozen=True)
class Cost:
    """A cost by name: ``fn`` is C_0 per example, ``dC_da`` its derivative, ``output_activation``
    the output layer's activation that goes with it, ``delta`` delta_L = dC_0/dz_L (the chain rule
    dC_0/da * sigma'(z_L), or its shortcut). ``targets_are_probabilities``: the delta holds only
    for target rows that sum to 1. ``formula``: C_0 as the page writes it."""

    name: str
    fn: Callable[[np.ndarray, np.ndarray], np.ndarray]
    dC_da: Callable[[np.ndarray, np.ndarray], np.ndarray]
    delta: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]
    output_activation: Activation
    targets_are_probabilities: bool = False
    formula: str = ""

    @property
    def output(self) -> Callable[[np.ndarray], np.ndarray]:
        """The output layer's activation function."""
        return self.output_activation.fn

    @property
    def output_name(self) -> str:
        return self.output_activation.name


COSTS: dict[str, Cost] = {
    "quadratic": Cost("quadratic", quadratic, quadratic_dC_da, quadratic_delta, SIGMOID,
                      formula="C₀ = Σ (aⱼ − yⱼ)²"),
    "cross-entropy": Cost("cross-entropy", cross_entropy, cross_entropy_dC_da, cross_entropy_delta, SOFTMAX,
                          targets_are_probabilities=True, formula="C₀ = −Σ yⱼ ln aⱼ"),
}


def get_cost(name: str) -> Cost:
    """The cost called ``name``, or a ConfigError listing the choices."""
    try:
        return COSTS[name]
    except (KeyError, TypeError):
        raise ConfigError(f"unknown cost {name!r}: choose one of {', '.join(sorted(COSTS))}") from None

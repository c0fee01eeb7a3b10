"""The optimiser: stochastic gradient descent's update rule and its state, and the NumPy reference loop.

One step on a mini-batch with gradient (dW, db), the lesson's W -= eta dW, b -= eta db, with two
optional extras (both off by default):

- momentum mu: a velocity v = mu v - eta (dW + lambda W); W += v.
- weight decay lambda (L2): adds lambda/2 |W|^2 to the cost, so lambda W to dW (biases are not decayed).

and the learning rate's decay: eta_epoch = eta * decay^epoch. The compiled engine applies the same
rule in its kernels, reading ``learning_rate``, ``momentum``, ``weight_decay``, ``vW`` and ``vb``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from .checks import brightness
from .settings import TrainingSettings


@dataclass
class SGD:
    """The optimiser's settings and state (the velocities of momentum), saved in checkpoints.

    ``learning_rate`` is the rate of the current epoch; ``start_epoch`` sets it from the first
    rate and the decay.
    """

    learning_rate: float
    momentum: float = 0.0
    weight_decay: float = 0.0
    vW: list[np.ndarray] = field(default_factory=list)
    vb: list[np.ndarray] = field(default_factory=list)
    learning_rate_decay: float = 1.0
    first_rate: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        self.first_rate = self.first_rate or self.learning_rate

    @classmethod
    def from_settings(cls, settings: TrainingSettings) -> SGD:
        opt = cls(settings.learning_rate)
        opt.configure(settings)
        return opt

    def configure(self, settings: TrainingSettings) -> None:
        """Take the rule's constants from ``settings``, keeping the velocities."""
        self.momentum, self.weight_decay = settings.momentum, settings.weight_decay
        self.first_rate, self.learning_rate_decay = settings.learning_rate, settings.learning_rate_decay

    def init_state(self, net: Any) -> None:
        """Zero velocities shaped like the network's parameters (once, before the first step)."""
        if not self.vW:
            self.vW = [np.zeros_like(W) for W in net.W]
            self.vb = [np.zeros_like(b) for b in net.b]

    def start_epoch(self, epoch: int) -> None:
        """The learning rate of epoch ``epoch`` (0 first): eta * decay^epoch."""
        self.learning_rate = self.first_rate * self.learning_rate_decay ** epoch

    def update(self, net: Any, dW: list[np.ndarray], db: list[np.ndarray]) -> None:
        """One step: W += v, v = mu v - eta (dW + lambda W), in place (with mu = lambda = 0, W -= eta dW)."""
        for l in range(len(net.W)):
            gW = dW[l] + self.weight_decay * net.W[l] if self.weight_decay else dW[l]
            if self.momentum:
                self.vW[l] = (self.momentum * self.vW[l] - self.learning_rate * gW).astype(net.dtype)
                self.vb[l] = (self.momentum * self.vb[l] - self.learning_rate * db[l]).astype(net.dtype)
                net.W[l] += self.vW[l]
                net.b[l] += self.vb[l]
            else:
                net.W[l] -= (self.learning_rate * gW).astype(net.dtype)
                net.b[l] -= (self.learning_rate * db[l]).astype(net.dtype)


class Summed(NamedTuple):
    """What a run of SGD steps saw of its examples, each in the forward pass of its own mini-batch's
    step (before that step): the sum of their costs C_0, and how many the network guessed right
    (its most activated output is the target's largest, the label)."""

    cost: float
    right: int


def sgd_batches(net: Any, X: np.ndarray, Y: np.ndarray, order: np.ndarray, batch_size: int, opt: SGD) -> Summed:
    """Plain NumPy SGD over the mini-batches ``order[i:i + batch_size]``; returns their summed cost
    and right guesses.

    The reference the fast engine is tested against: per mini-batch one forward pass (the guesses),
    backpropagation from it, then ``opt.update``.
    """
    total, right = 0.0, 0
    for start in range(0, len(order), batch_size):
        idx = order[start:start + batch_size]
        zs, activations = net.feedforward(brightness(X[idx], net.dtype))
        right += int(np.sum(np.argmax(activations[-1], axis=1) == np.argmax(Y[idx], axis=1)))
        cost, dW, db = net.backprop_from(zs, activations, Y[idx])
        total += cost * len(idx)
        opt.update(net, dW, db)
    return Summed(total, right)

"""Judging a network on labelled images: the mean cost, the accuracy, and the accuracy per class.

The one evaluation behind fit's history, ``digitnet evaluate``, and the web page's status and live
curve. Images may be uint8 (0-255, read as stored by the engine) or brightnesses in [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from . import checks, engine
from .costs import get_cost


@dataclass(frozen=True)
class Evaluation:
    """examples: how many; cost: mean C_0; accuracy: fraction right; per_class[k]: (count, accuracy
    or None when class k has no example)."""

    examples: int
    cost: float
    accuracy: float
    per_class: dict[int, tuple[int, float | None]]


def evaluate(net: Any, X: Any, y: Any) -> Evaluation:
    """The cost, accuracy and per-class accuracy of ``net`` on images X (m, n) with labels y (m,)."""
    X, _, _ = checks.examples(net, X, y, keep_uint8=True)  # at least one example: these are means
    labels = checks.labels(net, y, len(X))
    a = engine.predict_proba(net, X)  # (m, k)
    return judge(net, a, labels)


def right_guesses(a: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Whether each guess (the most activated output of a (m, k)) equals its label."""
    return np.argmax(a, axis=1) == labels


def judge(net: Any, a: np.ndarray, labels: np.ndarray) -> Evaluation:
    """The evaluation of output activations a (m, k) against checked labels (m,)."""
    right = right_guesses(a, labels)
    per_class: dict[int, tuple[int, float | None]] = {}
    for k in range(net.sizes[-1]):
        mask = labels == k
        per_class[k] = (int(mask.sum()), float(np.mean(right[mask])) if mask.any() else None)
    cost = float(np.mean(get_cost(net.cost_name).fn(a, checks.one_hot(net, labels, len(labels)))))
    return Evaluation(len(labels), cost, float(np.mean(right)), per_class)


def accuracy(net: Any, X: Any, y: Any) -> float:
    """The fraction of images whose guess equals the label."""
    return evaluate(net, X, y).accuracy

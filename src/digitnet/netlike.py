"""What the modules below network.py read of a network: its shape, parameters and history.

Training, model files and the ONNX export work on any object of this shape (a ``Network`` is
one), so they need not import network.py, which calls them: imports run one way.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np


class NetworkLike(Protocol):
    """A network's attributes as ``digitnet.Network`` has them."""

    sizes: tuple[int, ...]
    activation: str
    cost_name: str
    dtype: Any
    seed: int
    rng: np.random.Generator
    W: list[np.ndarray]
    b: list[np.ndarray]
    history: list[dict[str, Any]]

    def feedforward(self, X: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]: ...

    def backprop(self, X: np.ndarray, Y: np.ndarray) -> tuple[float, list[np.ndarray], list[np.ndarray]]: ...

    def backprop_from(self, zs: list[np.ndarray], activations: list[np.ndarray],
                      Y: np.ndarray) -> tuple[float, list[np.ndarray], list[np.ndarray]]: ...

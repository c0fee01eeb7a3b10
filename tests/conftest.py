"""Shared fixtures: a small synthetic dataset (fast, no files) and MNIST (bundled with digitnet)."""

from __future__ import annotations

import numpy as np
import pytest


def make_blobs(n: int, dim: int, classes: int, seed: int, spread: float = 0.08) -> tuple[np.ndarray, np.ndarray]:
    """n images of ``dim`` brightnesses in [0, 1], one cluster per class, and their labels (n,).

    Each class is a random "prototype" image plus a little noise, so a small network separates
    them within a few epochs, as it separates digits.
    """
    rng = np.random.default_rng(seed)
    prototypes = rng.random((classes, dim))  # (classes, dim)
    y = np.arange(n) % classes
    rng.shuffle(y)
    X = np.clip(prototypes[y] + spread * rng.standard_normal((n, dim)), 0.0, 1.0)  # (n, dim)
    return X.astype(np.float32), y.astype(np.int64)


@pytest.fixture(scope="session")
def blobs() -> dict[str, np.ndarray]:
    """A 3-class, 20-pixel dataset: 300 training and 150 test images (float32 in [0, 1])."""
    X, y = make_blobs(450, 20, 3, seed=1)
    data = {"X": X[:300], "y": y[:300], "X_test": X[300:], "y_test": y[300:]}
    for a in data.values():
        a.setflags(write=False)  # a test that changed the shared data would fail, not corrupt others
    return data


@pytest.fixture(scope="session")
def mnist() -> dict[str, np.ndarray]:
    """MNIST as bundled with digitnet: the first 5000 training images and the 10,000 test images."""
    from digitnet.data import load_mnist

    X, y = load_mnist("train")
    X_test, y_test = load_mnist("test")
    data = {"X": X[:5000], "y": y[:5000], "X_test": X_test, "y_test": y_test}
    for a in data.values():
        a.setflags(write=False)
    return data

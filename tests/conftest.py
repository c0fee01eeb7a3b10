"""Shared fixtures: a small synthetic dataset (fast, no files), MNIST (bundled with digitnet), and
headless Chromium for the page's browser tests (Debian's, at CHROMIUM; a failure in CI when missing)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"the browser tests need {reason} in CI")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if shutil.which(CHROMIUM) is None:
        _unavailable(f"Chromium at {CHROMIUM} (set CHROMIUM to its path)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright for Python (pip install playwright)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield browser
        browser.close()


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


@pytest.fixture(scope="session")
def trained() -> Any:
    """The lesson's 784-16-16-10 network after 4 epochs on MNIST (about 93% right): it reads a clear 1.
    Shared by the page's browser tests (trained once per test run)."""
    from digitnet import Network
    from digitnet.data import load_mnist

    X, y = load_mnist("train")
    net = Network((784, 16, 16, 10), seed=0)
    net.fit(X, y, epochs=4, batch_size=10, learning_rate=1.5)
    return net

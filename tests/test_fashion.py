"""Fashion-MNIST, a data set in MNIST's IDX format: digitnet trains on it and names its classes.

Fashion-MNIST comes from Debian's ``dataset-fashion-mnist`` package, which CI installs; without it
these tests are skipped locally, and fail in CI (CI=true), where a missing data set is a mistake.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from digitnet import Network
from digitnet.data import class_names, load_mnist

FASHION = Path("/usr/share/datasets/fashion-mnist")
NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

if not (FASHION / "train-images-idx3-ubyte.gz").is_file():
    if os.environ.get("CI") == "true":
        raise RuntimeError(f"Fashion-MNIST is missing from {FASHION}: CI must `apt-get install dataset-fashion-mnist`")
    pytest.skip(f"Fashion-MNIST is not in {FASHION} (apt-get install dataset-fashion-mnist)", allow_module_level=True)


@pytest.fixture(scope="module")
def fashion() -> dict[str, np.ndarray]:
    X, y = load_mnist("train", FASHION)
    X_test, y_test = load_mnist("test", FASHION)
    return {"X": X[:10_000], "y": y[:10_000], "X_test": X_test, "y_test": y_test}


def test_loads_like_mnist_with_its_own_class_names(fashion):
    assert fashion["X"].shape == (10_000, 784) and fashion["X"].dtype == np.float32
    assert fashion["X_test"].shape == (10_000, 784)
    assert 0.0 <= fashion["X"].min() and fashion["X"].max() <= 1.0
    np.testing.assert_array_equal(np.bincount(fashion["y_test"]), np.full(10, 1000))  # 1000 of each class
    assert class_names(FASHION) == NAMES


def test_a_short_run_learns_clearly_above_chance(fashion):
    """Two epochs of the lesson's 784-16-16-10 on 10,000 images: about 75% (chance is 10%)."""
    net = Network(seed=0)
    net.fit(fashion["X"], fashion["y"], epochs=2, validation_data=(fashion["X_test"], fashion["y_test"]))
    accuracy = net.accuracy(fashion["X_test"], fashion["y_test"])
    assert accuracy > 0.65
    np.testing.assert_allclose(net.history[-1]["test_accuracy"], accuracy)
    # Trousers, bags and boots are easy; the network must get most of each right.
    guess = net.predict(fashion["X_test"])
    for k in (1, 8, 9):
        assert np.mean(guess[fashion["y_test"] == k] == k) > 0.7, NAMES[k]


def test_command_line_trains_and_evaluates_with_class_names(tmp_path, capsys):
    from digitnet.cli import main

    model = tmp_path / "fashion.npz"
    assert main(["train", "--data", str(FASHION), "--limit", "5000", "--epochs", "1", "-q", "-o", str(model)]) == 0
    capsys.readouterr()
    assert main(["evaluate", str(model), "--data", str(FASHION), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert list(result["per_class"]) == NAMES
    assert result["examples"] == 10_000 and result["accuracy"] > 0.6

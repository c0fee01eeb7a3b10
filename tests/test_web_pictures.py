"""The lessons' pictures on the page say what ``digitnet.inspect`` says (the same functions as
``digitnet show``), and what the inspector says of a neuron's activation is checked independently:
its z against W a + b by hand, its slope against central differences of a in its bias.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from numpy.testing import assert_allclose

from digitnet import Network, inspect
from digitnet.errors import ConfigError
from digitnet.web.app import create_app


def small_data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Random but fixed uint8 'digits': 300 to train on, 400 to test."""
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, (700, 784), dtype=np.uint8)
    y = rng.integers(0, 10, 700)
    return X[:300], y[:300], X[300:], y[300:]


@pytest.fixture(scope="module")
def net() -> Network:
    """A network that has learnt something of the random data, so its confusion matrix has many cells."""
    X, y = small_data()[:2]
    net = Network((784, 16, 12, 10), seed=0, dtype=np.float64)
    net.fit(X, y, epochs=2, batch_size=10, learning_rate=1.0)
    return net


@pytest.fixture
def client(net: Network, tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(net.copy(), output_dir=tmp_path, data=small_data, train_default=False, use_cache=False)
    with TestClient(app) as client:
        yield client


def decode(b64: str, dtype: type) -> np.ndarray:
    return np.frombuffer(base64.b64decode(b64), dtype=dtype).astype(np.float64)


# -- inspect: a neuron's curve, one cell of the confusion matrix ------------------------------------------------


@pytest.mark.parametrize("activation, cost", [("sigmoid", "quadratic"), ("relu", "quadratic"),
                                              ("sigmoid", "cross-entropy"), ("relu", "cross-entropy")])
def test_a_neurons_slope_is_the_change_of_a_with_its_z(activation: str, cost: str) -> None:
    net = Network((784, 8, 6, 10), seed=1, activation=activation, cost=cost, dtype=np.float64)
    x = np.random.default_rng(2).random(784) * 0.3
    h = 1e-5
    for layer in (1, 2, 3):
        for index in range(3):
            c = inspect.activation_curve(net, x, layer, index)
            a = x
            for W, b in zip(net.W[:layer - 1], net.b[:layer - 1]):
                a = net.sigma(W @ a + b)
            assert c.z == pytest.approx(net.W[layer - 1][index] @ a + net.b[layer - 1][index], abs=1e-12)
            assert c.a == pytest.approx(net.forward(x)[layer][index], abs=1e-12)
            moved = []
            for step in (h, -h):  # z_j moves by the change of its bias, the layer's other z held
                other = net.copy()
                other.b[layer - 1][index] += step
                moved.append(other.forward(x)[layer][index])
            if activation == "relu" and layer < 3 and abs(c.z) < 2 * h:
                continue  # the kink: no derivative to compare
            assert c.slope == pytest.approx((moved[0] - moved[1]) / (2 * h), abs=1e-6)
            assert c.zs[0] <= c.z <= c.zs[-1]
            assert c.zs[0] == -c.zs[-1] and np.all(np.diff(c.zs) > 0)


def test_the_curve_is_the_activation_of_its_z() -> None:
    net = Network((784, 8, 10), seed=3, cost="cross-entropy", dtype=np.float64)
    x = np.random.default_rng(4).random(784)
    hidden = inspect.activation_curve(net, x, 1, 2)
    assert_allclose(hidden.curve, 1 / (1 + np.exp(-hidden.zs)), atol=1e-12)  # the sigmoid
    out = inspect.activation_curve(net, x, 2, 4)
    z = net.W[1] @ net.forward(x)[1] + net.b[1]
    others = np.exp(np.delete(z, 4)).sum()
    assert_allclose(out.curve, np.exp(out.zs) / (np.exp(out.zs) + others), atol=1e-12)  # the softmax's a_4


def test_a_neuron_far_out_on_its_curve_is_saturated() -> None:
    net = Network((784, 4, 10), seed=0, dtype=np.float64)
    net.b[0][:] = [12.0, -12.0, 0.0, 3.0]  # sigma'(12) ~ 6e-6, sigma'(0) = 1/4, sigma'(3) ~ 0.045
    x = np.zeros(784)
    assert [inspect.activation_curve(net, x, 1, i).saturated for i in range(4)] == [True, True, False, False]
    relu = Network((784, 2, 10), seed=0, activation="relu", dtype=np.float64)
    relu.b[0][:] = [-1.0, 1.0]  # a ReLU below 0 passes nothing back
    assert [inspect.activation_curve(relu, x, 1, i).saturated for i in range(2)] == [True, False]
    with pytest.raises(ConfigError, match="no layer 3"):
        inspect.activation_curve(net, x, 3, 0)


def test_a_cell_of_the_confusion_matrix_holds_its_images(net: Network) -> None:
    X, y = small_data()[2:]
    guesses = net.predict(X)
    conf = net.predict_proba(X).max(axis=1)
    counts = inspect.confusion_matrix(net, X, y)
    label, guess = np.unravel_index(np.argmax(counts - np.diag(np.diag(counts))), counts.shape)
    m = inspect.misread(net, X, y, int(label), int(guess), n=1000)
    assert len(m.index) == counts[label, guess] > 1
    assert np.all(y[m.index] == label) and np.all(guesses[m.index] == guess)
    assert_allclose(m.confidence, conf[m.index])
    assert np.all(np.diff(m.confidence) <= 0)  # the surest first
    assert inspect.misread(net, X, y, int(label), int(guess), n=2).index.tolist() == m.index[:2].tolist()


# -- the API: the same numbers as inspect -------------------------------------------------------------------------


def test_the_neuron_endpoint_serves_its_curve(client: TestClient, net: Network) -> None:
    x = small_data()[2][0] / 255
    r = client.post("/api/neuron", json={"layer": 2, "index": 5, "input": x.tolist()}).json()
    c = inspect.activation_curve(net, x, 2, 5)
    assert r["z"] == pytest.approx(c.z, abs=2e-6) and r["slope"] == pytest.approx(c.slope, abs=1e-9)
    assert r["saturated"] == c.saturated
    assert_allclose(r["curve"]["z"], c.zs, atol=2e-6)
    assert_allclose(r["curve"]["a"], c.curve, atol=2e-6)
    blank = client.post("/api/neuron", json={"layer": 2, "index": 5}).json()
    assert blank["curve"] is None and blank["slope"] is None


def test_layer_2_through_layer_1_is_inspects_templates(client: TestClient, net: Network) -> None:
    r = client.get("/api/pictures/templates").json()
    T = inspect.templates(net).reshape(12, 784)
    assert r["neurons"] == 12 and len(r["images"]) == 12
    for i in range(12):
        image = decode(r["images"][i], np.int8) / 127 * r["scale"][i]
        assert_allclose(image, T[i], atol=r["scale"][i] / 127 / 2 + 1e-9)


def test_a_network_without_a_second_layer_has_no_templates(tmp_path: Path) -> None:
    app = create_app(Network((784, 10), seed=0), output_dir=tmp_path, data=small_data, train_default=False,
                     use_cache=False)
    with TestClient(app) as client:
        r = client.get("/api/pictures/templates")
    assert r.status_code == 409 and "second layer" in r.json()["detail"]


def test_the_confusion_matrix_and_its_cells(client: TestClient, net: Network) -> None:
    X, y = small_data()[2:]
    r = client.get("/api/pictures/confusion").json()
    counts = np.bincount(y * 10 + net.predict(X), minlength=100).reshape(10, 10)  # by hand
    assert np.array_equal(r["counts"], counts) and r["total"] == 400
    assert r["accuracy"] == pytest.approx(net.accuracy(X, y))
    label, guess = np.unravel_index(np.argmax(counts - np.diag(np.diag(counts))), counts.shape)
    cell = client.post("/api/pictures/misread", json={"label": int(label), "guess": int(guess), "limit": 5}).json()
    m = inspect.misread(net, X, y, int(label), int(guess), 5)
    assert cell["count"] == counts[label, guess] and cell["index"] == m.index.tolist()
    for i, b64 in zip(cell["index"], cell["images"]):
        assert np.array_equal(decode(b64, np.uint8), X[i])
    empty = client.post("/api/pictures/misread", json={"label": 0, "guess": 0, "limit": 5}).json()
    assert empty["count"] == counts[0, 0] and len(empty["index"]) == min(5, counts[0, 0])


def test_the_dreams_are_inspects_dreams(client: TestClient, net: Network) -> None:
    r = client.post("/api/pictures/dreams", json={"digits": [2, 7], "steps": 30}).json()
    assert [d["digit"] for d in r["dreams"]] == [2, 7]
    for d in r["dreams"]:
        dream = inspect.dream(net, d["digit"], "noise", steps=30, seed=0)
        assert_allclose(decode(d["image"], np.uint8) / 255, dream.image, atol=0.5 / 255 + 1e-9)
        assert d["activation"] == pytest.approx(dream.activation[-1], abs=2e-6)
        assert d["start"] == pytest.approx(dream.activation[0], abs=2e-6)
        assert d["steps"] == len(dream.activation) - 1 and d["guess"] == int(net.predict(dream.image))


def test_the_noise_test_is_inspects_confidence_on_noise(client: TestClient, net: Network) -> None:
    r = client.post("/api/pictures/noise", json={"n": 300, "seed": 5}).json()
    conf, guess = inspect.confidence(net, inspect.noise_images(300, 28, 5))
    conf_digits, _ = inspect.confidence(net, small_data()[2])
    assert r["noise_histogram"] == np.histogram(conf, np.linspace(0, 1, 11))[0].tolist()
    assert sum(r["digit_histogram"]) == 400 and sum(r["noise_histogram"]) == 300
    assert r["noise_median"] == pytest.approx(np.median(conf))
    assert r["digit_median"] == pytest.approx(np.median(conf_digits))
    assert r["noise_guesses"] == np.bincount(guess, minlength=10).tolist()
    assert r["guesses"] == guess[:8].tolist()


@pytest.mark.parametrize("path, body", [
    ("/api/pictures/dreams", {"steps": 301}), ("/api/pictures/dreams", {"digits": []}),
    ("/api/pictures/dreams", {"digits": [10]}), ("/api/pictures/noise", {"n": 5001}),
    ("/api/pictures/misread", {"label": 3, "guess": 11}),
    ("/api/pictures/misread", {"label": 3, "guess": 1, "limit": 65}),
])
def test_picture_requests_are_bounded(client: TestClient, path: str, body: dict) -> None:
    assert client.post(path, json=body).status_code == 422

"""The web API says what the network says: every endpoint's numbers are checked against the
network itself (``Network.forward``, ``digitnet.preprocess.to_mnist``, a hand-written backward
pass and central differences), and training from the page is started, paused, stopped, used,
saved and downloaded on a small synthetic dataset.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from numpy.testing import assert_allclose

from digitnet import Network
from digitnet.preprocess import to_mnist
from digitnet.web.app import create_app

ATOL = 2e-6  # the API rounds its numbers to 6 decimals


def small_data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """2,000 training and 200 test 'digits' (uint8, random but fixed): training on them is quick."""
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, (2200, 784), dtype=np.uint8)
    y = rng.integers(0, 10, 2200)
    return X[:2000], y[:2000], X[2000:], y[2000:]


@pytest.fixture
def net() -> Network:
    return Network((784, 16, 16, 10), seed=0, dtype=np.float64)


@pytest.fixture
def app(net: Network, tmp_path: Path) -> Iterator[FastAPI]:
    app = create_app(net, source="a test network", output_dir=tmp_path, data=small_data, train_default=False,
                     use_cache=False)
    yield app
    app.state.trainer.shutdown()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


def image(seed: int = 1) -> np.ndarray:
    """A 784-pixel image in [0, 1] with some ink, some blank pixels."""
    rng = np.random.default_rng(seed)
    x = rng.random(784)
    x[x < 0.5] = 0.0
    return x


def ok(response: Any) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def wait_for(client: TestClient, states: tuple[str, ...], timeout: float = 20.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = ok(client.get("/api/train"))
        if run["state"] in states:
            return run
        time.sleep(0.02)
    raise AssertionError(f"training did not reach {states} within {timeout} s: {run['state']}")


TINY = {"hidden": [8], "epochs": 1, "limit": 200, "batch_size": 10, "seed": 3}
LONG = {"hidden": [256], "epochs": 100, "seed": 1}  # many seconds: stopped by the test


# -- the network ------------------------------------------------------------------------------------------


def test_status_names_the_served_network(client: TestClient, net: Network) -> None:
    s = ok(client.get("/api/status"))
    assert s["ready"] is True and s["message"] == "ready"
    assert s["model"]["sizes"] == [784, 16, 16, 10]
    assert s["model"]["source"] == "a test network"
    assert s["model"]["n_parameters"] == 784 * 16 + 16 + 16 * 16 + 16 + 16 * 10 + 10
    X, y = small_data()[2:]
    assert s["model"]["test_accuracy"] == pytest.approx(np.mean(net.predict(X / 255.0) == y))
    assert s["training"] == "idle" and s["class_names"] == [str(k) for k in range(10)]


def test_network_gives_sizes_biases_and_the_strongest_weights(client: TestClient, net: Network) -> None:
    info = ok(client.get("/api/network", params={"top": 50}))
    assert info["model"]["sizes"] == [784, 16, 16, 10]
    assert [len(b) for b in info["biases"]] == [16, 16, 10]
    for b_served, b in zip(info["biases"], net.b):
        assert_allclose(b_served, b, atol=ATOL)
    assert [c["layer"] for c in info["connections"]] == [1, 2, 3]
    for c, W in zip(info["connections"], net.W):
        assert len(c["to"]) == len(c["from"]) == len(c["weight"]) == 50
        assert max(c["to"]) < W.shape[0] and max(c["from"]) < W.shape[1]
        assert_allclose(c["weight"], W[c["to"], c["from"]], atol=ATOL)
        strongest = np.sort(np.abs(W).ravel())[::-1][:50]
        assert_allclose(np.abs(c["weight"]), strongest, atol=ATOL)  # the 50 largest |w|, largest first
        assert c["max_abs"] == pytest.approx(np.abs(W).max())


def test_forward_gives_every_layer_as_network_forward(client: TestClient, net: Network) -> None:
    x = image()
    result = ok(client.post("/api/forward", json={"input": x.tolist()}))
    expected = net.forward(x)  # [x, a1, a2, a3]
    assert_allclose(result["input"], x, atol=ATOL)
    assert len(result["layers"]) == 3
    for layer, a, W, b, a_prev in zip(result["layers"], expected[1:], net.W, net.b, expected[:-1]):
        assert_allclose(layer["a"], a, atol=ATOL)
        assert_allclose(layer["z"], W @ a_prev + b, atol=ATOL)
    assert_allclose(result["output"], expected[-1], atol=ATOL)
    assert result["guess"] == int(np.argmax(expected[-1])) and result["blank"] is False
    blank = ok(client.post("/api/forward", json={"input": [0.0] * 784}))
    assert blank["blank"] is True


def test_canvas_is_brought_to_mnist_form_by_to_mnist(client: TestClient, net: Network) -> None:
    grid = np.zeros((140, 120), dtype=np.uint8)  # height 140, width 120, an off-centre stroke
    grid[20:110, 30:44] = 255
    grid[100:112, 30:90] = 180
    pixels = base64.b64encode(grid.tobytes()).decode()
    result = ok(client.post("/api/canvas", json={"width": 120, "height": 140, "pixels": pixels}))
    x = to_mnist(grid)
    assert_allclose(result["input"], x, atol=ATOL)
    assert_allclose(result["output"], net.forward(x)[-1], atol=ATOL)
    wrong = client.post("/api/canvas", json={"width": 140, "height": 140, "pixels": pixels})
    assert wrong.status_code == 422 and "bytes of pixels" in json.dumps(wrong.json())


def test_example_is_a_test_image_and_the_networks_answer(client: TestClient, net: Network) -> None:
    X, y = small_data()[2:]
    result = ok(client.get("/api/example", params={"index": 7}))
    assert result["index"] == 7 and result["label"] == int(y[7])
    assert_allclose(result["input"], X[7] / 255.0, atol=ATOL)
    assert_allclose(result["output"], net.forward(X[7] / 255.0)[-1], atol=ATOL)
    random = ok(client.get("/api/example"))
    assert 0 <= random["index"] < len(X) and random["label"] == int(y[random["index"]])
    assert client.get("/api/example", params={"index": len(X)}).status_code == 404


@pytest.mark.parametrize("layer, index", [(1, 5), (2, 0), (3, 9)])
def test_neuron_gives_its_weights_bias_z_and_a(client: TestClient, net: Network, layer: int, index: int) -> None:
    x = image()
    result = ok(client.post("/api/neuron", json={"layer": layer, "index": index, "input": x.tolist()}))
    activations = net.forward(x)
    w, b = net.W[layer - 1][index], net.b[layer - 1][index]
    assert_allclose(result["weights"], w, atol=ATOL)
    assert result["bias"] == pytest.approx(b)
    assert result["image_side"] == (28 if layer == 1 else None)
    assert result["z"] == pytest.approx(w @ activations[layer - 1] + b)
    assert result["a"] == pytest.approx(activations[layer][index])
    assert_allclose(result["inputs"], activations[layer - 1], atol=ATOL)
    bare = ok(client.post("/api/neuron", json={"layer": layer, "index": index}))
    assert bare["z"] is None and bare["a"] is None
    assert client.post("/api/neuron", json={"layer": 4, "index": 0}).status_code == 404
    assert client.post("/api/neuron", json={"layer": 2, "index": 16}).status_code == 404


# -- lesson 3: backpropagation ---------------------------------------------------------------------------------


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def test_backprop_wants_what_the_cost_wants(client: TestClient, net: Network) -> None:
    x, label, eta = image(), 3, 1.5
    result = ok(client.post("/api/backprop", json={"input": x.tolist(), "label": label, "learning_rate": eta,
                                                   "top": 20}))
    a = net.forward(x)
    y = np.eye(10)[label]
    assert result["target"] == y.tolist()
    assert result["cost"] == pytest.approx(np.sum((a[-1] - y) ** 2))
    wants = [np.array(w) for w in result["wants"]]
    assert [len(w) for w in wants] == [16, 16, 10]
    # The output: -dC/da = 2 (y - a), up for the right digit, down for the others.
    assert np.all(np.sign(wants[-1]) == np.sign(y - a[-1]))
    assert_allclose(wants[-1], 2 * (y - a[-1]), atol=ATOL)

    # The last hidden layer: -dC/da by central differences on C(a_2) = sum (sigma(W3 a_2 + b3) - y)^2.
    def cost_of(a2: np.ndarray) -> float:
        return float(np.sum((sigmoid(net.W[2] @ a2 + net.b[2]) - y) ** 2))

    h = 1e-6
    numeric = np.array([(cost_of(a[2] + h * e) - cost_of(a[2] - h * e)) / (2 * h) for e in np.eye(16)])
    assert_allclose(wants[1], -numeric, atol=1e-5)

    # The weight changes: -eta dC/dw, the largest |change| first, as Network.backprop's gradient.
    _, dW, _ = net.backprop(x[None, :], y[None, :])
    changes = result["weight_changes"]
    assert len(changes) == 20
    for c in changes:
        assert c["change"] == pytest.approx(-eta * dW[c["layer"] - 1][c["to"], c["from"]], abs=1e-9)
        assert c["weight"] == pytest.approx(net.W[c["layer"] - 1][c["to"], c["from"]])
    largest = np.sort(np.concatenate([np.abs(eta * g).ravel() for g in dW]))[::-1][:20]
    assert_allclose([abs(c["change"]) for c in changes], largest, rtol=1e-9)


def test_a_backprop_step_moves_the_outputs_toward_the_target_on_a_copy(client: TestClient, net: Network) -> None:
    x, label = image(), 3
    before_net = net.copy()
    served_before = ok(client.post("/api/forward", json={"input": x.tolist()}))["output"]
    body = {"input": x.tolist(), "label": label, "learning_rate": 1.5}
    first = ok(client.post("/api/backprop/step", json=body))
    expected = before_net.copy()
    expected.step(x[None, :], np.eye(10)[[label]], 1.5)
    assert_allclose(first["before"], before_net.forward(x)[-1], atol=ATOL)
    assert_allclose(first["after"], expected.forward(x)[-1], atol=ATOL)
    assert first["cost_after"] < first["cost_before"]
    assert first["after"][label] > first["before"][label]
    assert first["steps_taken"] == 1
    second = ok(client.post("/api/backprop/step", json=body))
    assert second["steps_taken"] == 2 and second["cost_after"] < second["cost_before"] < first["cost_before"]
    assert_allclose(second["before"], first["after"], atol=ATOL)
    # The served network is untouched: the steps went to a scratch copy.
    for W, W0 in zip(net.W, before_net.W):
        assert np.array_equal(W, W0)
    assert ok(client.post("/api/forward", json={"input": x.tolist()}))["output"] == served_before
    assert ok(client.post("/api/backprop", json={"input": x.tolist(), "label": label}))["steps_taken"] == 2


def test_reset_throws_the_scratch_copy_away(client: TestClient) -> None:
    body = {"input": image().tolist(), "label": 5}
    first = ok(client.post("/api/backprop/step", json=body))
    ok(client.post("/api/backprop/step", json=body))
    assert ok(client.post("/api/backprop/reset")) == {"steps_taken": 0}
    again = ok(client.post("/api/backprop/step", json=body))
    assert again["steps_taken"] == 1 and again["before"] == first["before"]


# -- training from the page --------------------------------------------------------------------------------------


def test_a_tiny_training_runs_to_the_end_and_streams_its_events(client: TestClient) -> None:
    started = ok(client.post("/api/train", json=TINY))
    assert started["settings"]["sizes"] == [784, 8, 10] and started["settings"]["limit"] == 200
    run = wait_for(client, ("finished", "failed"))
    assert run["state"] == "finished" and run["epoch"] == 1 and run["progress"] == 1.0
    assert run["message"] == "finished 1 epoch"  # not "1 epochs"
    assert run["has_network"] is True and len(run["history"]) == 1 and len(run["points"]) >= 1
    assert all(np.isfinite(p["cost"]) and 0 <= p["accuracy"] <= 1 for p in run["points"])

    weights = ok(client.get("/api/train/weights"))
    assert weights["neurons"] == 8 and len(weights["data"]) == len(weights["scale"]) == 8
    q = np.frombuffer(base64.b64decode(weights["data"][0]), dtype=np.int8)
    assert q.shape == (784,) and np.abs(q).max() == 127  # each neuron scaled by its largest |w|

    with client.stream("GET", "/api/train/events") as response:  # the run is over: the stream ends at once
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        text = "".join(response.iter_text())
    names = [line[len("event: "):] for line in text.splitlines() if line.startswith("event: ")]
    assert names[0] == "state" and names[-1] == "end"  # the run's number before its points
    assert "epoch" in names and "point" in names and "weights" in names
    datas = [json.loads(line[len("data: "):]) for line in text.splitlines() if line.startswith("data: ")]
    epochs = [d for n, d in zip(names, datas) if n == "epoch"]
    assert epochs[0]["epoch"] == 1 and epochs[0]["train_cost"] == pytest.approx(run["history"][0]["train_cost"])


def test_the_curves_and_weight_images_show_the_network_as_trained(client: TestClient, app: FastAPI) -> None:
    # Each point is measured on the network as it is at that point's step (the run is taken in pieces,
    # and the engine writes the weights back after each): before training, within and after each epoch.
    ok(client.post("/api/train", json={**TINY, "epochs": 3}))
    run = wait_for(client, ("finished", "failed"))
    assert run["state"] == "finished"
    assert {0, 1, 2, 3} <= {p["epoch"] for p in run["points"]}  # before training, then after each epoch
    assert [p["epoch"] for p in run["points"]] == sorted(p["epoch"] for p in run["points"])
    trained = app.state.trainer.network()
    X, y = small_data()[2:]  # the points are measured on (up to) the first 1,000 test images
    a = trained.forward(X.astype(np.float64) / 255)[-1]
    Y = np.eye(10)[y]
    assert run["points"][-1]["cost"] == pytest.approx(np.mean(np.sum((a - Y) ** 2, axis=1)), rel=1e-6)  # float32
    assert run["points"][-1]["accuracy"] == pytest.approx(np.mean(np.argmax(a, axis=1) == y))
    assert run["points"][-1]["cost"] != pytest.approx(run["points"][-2]["cost"], rel=1e-6)

    weights = ok(client.get("/api/train/weights"))
    W = trained.W[0]  # (8, 784)
    q = np.stack([np.frombuffer(base64.b64decode(d), dtype=np.int8) for d in weights["data"]])
    assert_allclose(weights["scale"], np.abs(W).max(axis=1), rtol=1e-5)
    assert_allclose(q, np.round(W / np.abs(W).max(axis=1, keepdims=True) * 127), atol=1)


def test_pause_resume_stop_and_one_run_at_a_time(client: TestClient) -> None:
    assert client.post("/api/train/pause").status_code == 409  # nothing runs
    ok(client.post("/api/train", json=LONG))
    wait_for(client, ("running",))
    second = client.post("/api/train", json=TINY)
    assert second.status_code == 409 and "already" in second.json()["detail"]
    assert ok(client.post("/api/train/pause"))["state"] in ("paused", "running")
    paused = wait_for(client, ("paused",))
    time.sleep(0.2)
    assert ok(client.get("/api/train"))["progress"] == paused["progress"]  # a paused run does not move
    assert ok(client.post("/api/train/resume"))["state"] == "running"
    stopped = ok(client.post("/api/train/stop"))
    assert stopped["state"] in ("stopping", "stopped")
    stopped = wait_for(client, ("stopped",))
    assert stopped["has_network"] is True and stopped["settings"]["sizes"] == [784, 256, 10]
    again = ok(client.post("/api/train", json=TINY))  # a new run may start once the last one is over
    assert again["run"] == stopped["run"] + 1
    wait_for(client, ("finished",))


def test_use_save_download_and_back_to_the_original(client: TestClient, app: FastAPI, tmp_path: Path) -> None:
    assert client.post("/api/train/use").status_code == 409  # nothing trained yet
    assert client.get("/api/train/download").status_code == 409
    ok(client.post("/api/train", json=TINY))
    wait_for(client, ("finished",))
    trained = app.state.trainer.network()
    x = image()

    first = ok(client.get("/api/status"))
    status = ok(client.post("/api/train/use"))
    assert status["model"]["sizes"] == [784, 8, 10]
    assert status["model"]["source"] == "trained on this page (run 1, 1 epoch)"
    assert status["run"] == 1 and first["run"] is None
    assert status["model_version"] != first["model_version"]
    result = ok(client.post("/api/forward", json={"input": x.tolist()}))
    assert_allclose(result["output"], trained.forward(x)[-1], atol=ATOL)
    assert result["model_version"] == status["model_version"]

    saved = ok(client.post("/api/train/save", json={"name": "page-run"}))
    assert saved["filename"] == "page-run.npz" and Path(saved["path"]) == (tmp_path / "page-run.npz").resolve()
    loaded = Network.load(tmp_path / "page-run.npz")
    assert_allclose(loaded.forward(x)[-1], trained.forward(x)[-1], rtol=1e-6)
    assert client.post("/api/train/save", json={"name": "page-run"}).status_code == 409  # never overwritten
    assert client.post("/api/train/save", json={"name": "../escape"}).status_code == 422

    response = client.get("/api/train/download")
    assert response.status_code == 200 and response.headers["content-type"] == "application/octet-stream"
    assert 'filename="digitnet-784-8-10.npz"' in response.headers["content-disposition"]
    (tmp_path / "downloaded.npz").write_bytes(response.content)
    downloaded = Network.load(tmp_path / "downloaded.npz")
    for W, W0 in zip(downloaded.W, trained.W):
        assert_allclose(W, W0)

    original = ok(client.post("/api/model/original"))
    assert original["model"]["sizes"] == [784, 16, 16, 10] and original["model"]["source"] == "a test network"
    assert original["model_version"] == first["model_version"] and original["run"] is None


def test_without_a_network_the_api_says_so(tmp_path: Path) -> None:
    app = create_app(None, output_dir=tmp_path, data=small_data, train_default=False, use_cache=False)
    with TestClient(app) as client:
        s = ok(client.get("/api/status"))
        assert s["ready"] is False and s["model"] is None
        response = client.post("/api/forward", json={"input": [0.0] * 784})
        assert response.status_code == 503 and "no network" in response.json()["detail"]
        assert client.post("/api/model/original").status_code == 503  # no network to go back to yet
        assert client.get("/api/train/weights").status_code == 404
    app.state.trainer.shutdown()


@pytest.mark.parametrize("activation,cost,hidden,output,bounded,formula", [
    ("sigmoid", "quadratic", "σ", "σ", True, "C₀ = Σ (aⱼ − yⱼ)²"),
    ("relu", "cross-entropy", "relu", "softmax", False, "C₀ = −Σ yⱼ ln aⱼ"),
])
def test_model_info_says_how_the_page_writes_its_activations_and_cost(
        tmp_path: Path, activation: str, cost: str, hidden: str, output: str, bounded: bool, formula: str) -> None:
    net = Network((784, 16, 10), activation=activation, cost=cost, seed=0)
    app = create_app(net, source="a test network", output_dir=tmp_path, data=small_data, train_default=False,
                     use_cache=False)
    try:
        with TestClient(app) as client:
            model = ok(client.get("/api/network", params={"top": 5}))["model"]
    finally:
        app.state.trainer.shutdown()
    assert (model["activation"], model["cost"]) == (activation, cost)
    assert (model["hidden_symbol"], model["output_symbol"]) == (hidden, output)
    assert model["hidden_bounded"] is bounded and model["cost_formula"] == formula


def test_a_runs_history_is_the_one_fit_writes(client: TestClient) -> None:
    # The page's training takes its steps in pieces, and fit in one go: the same steps, so the same
    # epoch records (the training's cost and accuracy those of the steps' own forward passes).
    started = ok(client.post("/api/train", json={**TINY, "epochs": 2}))["settings"]
    run = wait_for(client, ("finished", "failed"))
    assert run["state"] == "finished"
    X, y = small_data()[:2]
    net = Network(started["sizes"], activation=started["activation"], cost=started["cost"], seed=started["seed"])
    history = net.fit(X[:started["limit"]], y[:started["limit"]], epochs=2, batch_size=started["batch_size"],
                      learning_rate=started["learning_rate"])
    for page, fitted in zip(run["history"], history, strict=True):
        assert page["train_cost"] == pytest.approx(fitted["train_cost"], rel=1e-12)
        assert page["train_accuracy"] == fitted["train_accuracy"]

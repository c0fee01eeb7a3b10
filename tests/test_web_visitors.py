"""Each visitor of the page (each tab, by the id its page sends) has its own practice copy and its
own choice of network; the server keeps a bounded number of visitors for a bounded time; the
backprop picture's scales are fixed for a network; and the default network trained at start-up
is the server's network, not a run of the page.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from numpy.testing import assert_allclose

from digitnet import Network
from digitnet.web.app import create_app
from digitnet.web.visitors import VISITOR_HEADER, Visitors
from test_web_api import ATOL, TINY, image, ok, small_data, wait_for  # type: ignore[import-not-found]

A = {VISITOR_HEADER: "a" * 32}
B = {VISITOR_HEADER: "b" * 32}


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


def test_two_visitors_have_their_own_practice_copy(client: TestClient, net: Network) -> None:
    x = image()
    body = {"input": x.tolist(), "label": 3, "learning_rate": 1.5}
    ok(client.post("/api/backprop/step", json=body, headers=A))
    a2 = ok(client.post("/api/backprop/step", json=body, headers=A))
    b1 = ok(client.post("/api/backprop/step", json=body, headers=B))
    assert a2["steps_taken"] == 2 and b1["steps_taken"] == 1
    expected = net.copy()
    expected.step(x[None, :], np.eye(10)[[3]], 1.5)
    assert_allclose(b1["after"], expected.forward(x)[-1], atol=ATOL)  # b's copy started from the network itself
    assert ok(client.post("/api/backprop", json={"input": x.tolist(), "label": 3}, headers=B))["steps_taken"] == 1
    assert ok(client.post("/api/backprop", json={"input": x.tolist(), "label": 3}))["steps_taken"] == 0  # anonymous
    ok(client.post("/api/backprop/reset", headers=A))
    assert ok(client.post("/api/backprop", json={"input": x.tolist(), "label": 3}, headers=B))["steps_taken"] == 1


def test_a_backprop_answer_shows_the_copy_it_speaks_of(client: TestClient, net: Network) -> None:
    x = image()
    body = {"input": x.tolist(), "label": 3, "learning_rate": 1.5}
    step = ok(client.post("/api/backprop/step", json=body, headers=A))
    bp = ok(client.post("/api/backprop", json={**body, "top": 5}, headers=A))
    assert_allclose(bp["output"], step["after"], atol=ATOL)
    assert_allclose(bp["layers"][-1]["a"], step["after"], atol=ATOL)
    copy = net.copy()
    copy.step(x[None, :], np.eye(10)[[3]], 1.5)
    zs, _ = copy.feedforward(x[None, :])
    assert_allclose(bp["output_z"], zs[-1][0], atol=ATOL)
    a = copy.forward(x)[-1]
    sigma_prime = a * (1 - a)
    assert_allclose(bp["output_delta"], 2 * (a - np.eye(10)[3]) * sigma_prime, atol=1e-8)  # dC/dz_L


def test_using_a_run_is_for_that_visitor_only(client: TestClient, app: FastAPI) -> None:
    ok(client.post("/api/train", json=TINY))
    wait_for(client, ("finished",))
    mine = ok(client.post("/api/train/use", params={"run": 1}, headers=A))
    theirs = ok(client.get("/api/status", headers=B))
    assert mine["model"]["sizes"] == [784, 8, 10] and mine["run"] == 1
    assert theirs["model"]["sizes"] == [784, 16, 16, 10] and theirs["run"] is None
    x = image().tolist()
    assert len(ok(client.post("/api/forward", json={"input": x}, headers=A))["layers"]) == 2
    assert len(ok(client.post("/api/forward", json={"input": x}, headers=B))["layers"]) == 3
    trained = app.state.trainer.network()  # every endpoint answers A with the run's network, B with the server's
    assert ok(client.get("/api/network", params={"top": 5}, headers=A))["model"]["sizes"] == [784, 8, 10]
    assert ok(client.get("/api/network", params={"top": 5}, headers=B))["model"]["sizes"] == [784, 16, 16, 10]
    neuron = ok(client.post("/api/neuron", json={"layer": 2, "index": 4, "input": x}, headers=A))
    assert_allclose(neuron["weights"], trained.W[1][4], atol=ATOL)
    assert neuron["a"] == pytest.approx(trained.forward(np.asarray(x))[-1][4], abs=ATOL)
    example = ok(client.get("/api/example", params={"index": 5}, headers=A))
    assert_allclose(example["output"], trained.forward(np.asarray(example["input"]))[-1], atol=ATOL)
    bp = ok(client.post("/api/backprop", json={"input": x, "label": 2}, headers=A))
    assert len(bp["wants"]) == 2 and bp["model_version"] == mine["model_version"]
    gone = client.post("/api/train/use", params={"run": 7}, headers=B)
    assert gone.status_code == 409 and "run 7 is no longer on the server" in gone.json()["detail"]
    back = ok(client.post("/api/model/original", headers=A))
    assert back["model"]["source"] == "a test network" and back["model_version"] == theirs["model_version"]


def test_a_visitor_id_must_look_like_one(client: TestClient) -> None:
    response = client.get("/api/status", headers={VISITOR_HEADER: "not an id!"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["header", VISITOR_HEADER]


def test_visitors_are_bounded_in_number_and_time() -> None:
    now = [0.0]
    visitors = Visitors(limit=3, ttl=100.0, clock=lambda: now[0])
    first = visitors.get("one")
    first.steps = 5
    visitors.get("two")
    visitors.get("three")
    assert visitors.get("one") is first  # seen again: now the most recent
    visitors.get("four")  # over the limit: "two", the least recently seen, goes
    assert len(visitors) == 3 and visitors.get("one") is first
    assert visitors.get("two").steps == 0 and len(visitors) == 3  # a new "two"; "three" went
    now[0] = 150.0
    assert visitors.get("one") is not first  # forgotten after 100 s without a request
    assert len(visitors) == 1  # and the others with it


def test_the_scales_are_fixed_for_the_network(client: TestClient, net: Network) -> None:
    answers = [ok(client.post("/api/backprop", json={"input": image(seed).tolist(), "label": label,
                                                    "learning_rate": 2.0}, headers=A))
               for seed, label in ((1, 3), (2, 7))]
    assert answers[0]["wants_scale"] == answers[1]["wants_scale"]
    # Independently: the per-example largest |dC/da| of each layer over the first 100 test images, its 90th percentile.
    X, y = small_data()[2:]
    X = X[:100] / 255.0
    Y = np.eye(10)[y[:100]]
    a = net.forward(X)
    dC_da = [2 * (a[-1] - Y)]
    delta = dC_da[0] * a[-1] * (1 - a[-1])
    deltas = [delta]
    for l in (2, 1):
        dC_da.insert(0, delta @ net.W[l])
        delta = dC_da[0] * a[l] * (1 - a[l])
        deltas.insert(0, delta)
    expected = [np.quantile(np.abs(g).max(axis=1), 0.9) for g in dC_da]
    assert_allclose(answers[0]["wants_scale"], expected, rtol=1e-6)
    dw = np.max([np.abs(d).max(axis=1) * np.abs(act).max(axis=1) for d, act in zip(deltas, a[:-1])], axis=0)
    assert answers[0]["change_scale"] == pytest.approx(2.0 * np.quantile(dw, 0.9), rel=1e-6)


def test_the_default_network_is_the_servers_not_a_run(tmp_path: Path) -> None:
    app = create_app(None, output_dir=tmp_path, data=small_data, train_default=True, use_cache=False,
                     default_training={"sizes": [784, 8, 10], "activation": "sigmoid", "cost": "quadratic",
                                       "learning_rate": 1.5, "batch_size": 10, "epochs": 1, "limit": 500, "seed": 0})
    try:
        with TestClient(app) as client:
            if not ok(client.get("/api/status"))["ready"]:
                busy = client.post("/api/train", json=TINY)
                assert busy.status_code in (200, 409)  # 409 while the default network trains
            deadline = time.monotonic() + 60
            while not ok(client.get("/api/status"))["ready"] and time.monotonic() < deadline:
                time.sleep(0.05)
            status = ok(client.get("/api/status", headers=A))
            assert status["model"]["source"] == "the default network, trained at start-up (1 epoch)"
            assert status["run"] is None
            if ok(client.get("/api/train"))["run"] == 0:
                assert ok(client.get("/api/train"))["state"] == "idle"  # the page's Train panel: no run yet
            assert ok(client.post("/api/model/original", headers=A))["model"]["sizes"] == [784, 8, 10]
    finally:
        app.state.trainer.shutdown()
        app.state.startup.shutdown()


def test_the_page_refuses_the_learning_rates_the_schema_refuses() -> None:
    """The page checks eta against its fields' max (index.html): the schema's limit, written once there."""
    import re

    import digitnet.web
    from digitnet.web.schemas import MAX_LEARNING_RATE

    page = (Path(digitnet.web.__file__).parent / "static" / "index.html").read_text()
    for field in ("bp-eta", "t-eta"):
        found = re.search(rf'id="{field}"[^>]*\bmax="([0-9.]+)"', page)
        assert found is not None and float(found[1]) == MAX_LEARNING_RATE, field

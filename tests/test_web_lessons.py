"""The lessons' endpoints give the network's own numbers: a step's costs, each example's nudges and
their average (= Network.gradients), the ranked gradient, the surface's origin (= the cost on the
sample), and replayed steps byte-identical to a training stopped there; recordings save and load."""

from __future__ import annotations

import io
import os
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from digitnet import Network
from digitnet.stepper import Settings, Stepper
from digitnet.web.app import create_app


def small_data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, (2200, 784), dtype=np.uint8)
    y = rng.integers(0, 10, 2200)
    return X[:2000], y[:2000], X[2000:], y[2000:]


RUN = {"hidden": [8], "epochs": 2, "limit": 500, "batch_size": 10, "seed": 3, "learning_rate": 0.5}


@pytest.fixture
def app(tmp_path: Path) -> Iterator[FastAPI]:
    app = create_app(Network((784, 16, 10), seed=0), output_dir=tmp_path, data=small_data, train_default=False,
                     use_cache=False)
    yield app
    app.state.trainer.shutdown()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


def ok(response: Any) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def wait(client: TestClient, test, timeout: float = 20.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = ok(client.get("/api/train"))
        if test(status):
            return status
        time.sleep(0.02)
    raise AssertionError(f"timed out: {status['state']} at step {status['step']}")


def stopped_at(k: int) -> Stepper:
    """An independent training of RUN's settings on the same data, stopped after k mini-batches."""
    X, y = small_data()[:2]
    stepper = Stepper(Network((784, 8, 10), seed=3), X[:500], y[:500],
                      Settings(epochs=2, batch_size=10, learning_rate=0.5))
    stepper.run_to(k)
    return stepper


def same_bytes(a: Network, b: Network) -> bool:
    return all(p.tobytes() == q.tobytes() for p, q in zip(a.W + a.b, b.W + b.b))


def paused_run(client: TestClient) -> dict:
    """Start RUN in slow motion, then pause it after a few steps."""
    ok(client.post("/api/train", json={**RUN, "seconds_per_batch": 0.05}))
    wait(client, lambda s: s["step"] >= 3)
    ok(client.post("/api/train/pause"))
    return wait(client, lambda s: s["state"] == "paused")


def test_slow_motion_takes_one_mini_batch_at_a_time_and_full_speed_many(client: TestClient) -> None:
    status = paused_run(client)
    steps = [b["step"] for b in status["batches"]]
    slow = [b - a for a, b in zip(steps, steps[1:])]
    assert slow and set(slow) == {1}  # successive mini-batches, one by one
    ok(client.post("/api/train/speed", json={}))
    ok(client.post("/api/train/resume"))
    done = wait(client, lambda s: s["state"] == "finished")
    assert done["step"] == done["total_steps"] == 100 and done["steps_per_epoch"] == 50
    epoch_two = [b for b in done["batches"] if 1 < b["epoch"] <= 2]
    assert len(epoch_two) >= 10  # points within an epoch, at full speed
    assert client.post("/api/train/speed", json={"seconds_per_batch": 0.01}).status_code == 422


def test_a_step_reports_the_costs_of_the_network_before_and_after(client: TestClient, app: FastAPI) -> None:
    k = paused_run(client)["step"]
    report = ok(client.post("/api/train/step"))
    assert report["step"] == k + 1
    before, after = stopped_at(k), stopped_at(k + 1)
    np.testing.assert_array_equal(report["indices"], before.batch())
    X, Y = before.X[report["indices"]].astype(np.float32) / 255, before.Y[report["indices"]]
    np.testing.assert_allclose(report["batch_cost_before"], before.net.cost(X, Y), rtol=1e-6)
    np.testing.assert_allclose(report["batch_cost_after"], after.net.cost(X, Y), rtol=1e-6)
    assert report["batch_cost_after"] < report["batch_cost_before"]  # a step downhill on its own mini-batch
    assert same_bytes(app.state.trainer.network(), after.net)


def test_the_average_nudge_is_the_batch_gradient_of_the_network(client: TestClient) -> None:
    k = paused_run(client)["step"]
    ref = stopped_at(k)
    idx = ref.batch()
    X, Y = ref.X[idx].astype(np.float32) / 255, ref.Y[idx]
    dW, db = ref.net.gradients(X, Y)
    queries: list[tuple[dict[str, str | int], float]] = [
        ({"layer": 0, "kind": "W", "row": 3, "col": 400}, dW[0][3, 400]),
        ({"layer": 1, "kind": "W", "row": 7, "col": 2}, dW[1][7, 2]),
        ({"layer": 1, "kind": "b", "row": 4}, db[1][4])]
    for query, g in queries:
        batch = ok(client.get("/api/lessons/batch", params=query))
        assert batch["step"] == k and batch["indices"] == idx.tolist() and len(batch["nudges"]) == 10
        np.testing.assert_allclose(batch["average"], -g, rtol=1e-4, atol=1e-9)
        np.testing.assert_allclose(np.mean(batch["nudges"]), batch["average"], rtol=1e-4, atol=1e-9)
        np.testing.assert_allclose(batch["costs"], ref.net.cost_function.fn(ref.net.forward(X)[-1], Y), rtol=1e-5)
    assert client.get("/api/lessons/batch", params={"layer": 0, "kind": "W", "row": 8, "col": 0}).status_code == 404


def test_the_ranked_gradient_is_the_batch_gradient_sorted(client: TestClient) -> None:
    k = paused_run(client)["step"]
    ref = stopped_at(k)
    idx = ref.batch()
    dW, db = ref.net.gradients(ref.X[idx].astype(np.float32) / 255, ref.Y[idx])
    flat = np.concatenate([g.ravel() for pair in zip(dW, db) for g in pair])
    r = ok(client.get("/api/lessons/gradient", params={"top": 30}))
    assert r["n_parameters"] == 784 * 8 + 8 + 8 * 10 + 10 and len(r["images"]) == 8
    np.testing.assert_allclose([abs(e["gradient"]) for e in r["top"]], np.sort(np.abs(flat))[::-1][:30], rtol=1e-5)
    np.testing.assert_allclose(r["share"]["10"], (np.sort(flat ** 2)[::-1][:10]).sum() / (flat ** 2).sum(), rtol=1e-4)


@pytest.mark.parametrize("directions", ["gradient", "path"])
def test_the_surfaces_origin_is_the_networks_cost_on_the_sample(client: TestClient, app: FastAPI,
                                                                 directions: str) -> None:
    ok(client.post("/api/train", json=RUN))
    wait(client, lambda s: s["state"] == "finished")
    s = ok(client.post("/api/lessons/surface", json={"directions": directions, "resolution": 9}))
    net = app.state.trainer.network()
    X, y = small_data()[2:]
    assert s["images"] == 200 and len(s["cost"]) == 9 and s["alpha"][4] == 0
    np.testing.assert_allclose(s["origin_cost"], net.cost(X.astype(np.float32) / 255, y), rtol=1e-6)
    np.testing.assert_allclose(s["cost"][4][4], s["sample_cost"], rtol=1e-6)
    assert len(s["path"]) >= 3  # the recorded snapshots before the last step


def test_replay_at_step_k_is_a_training_stopped_at_step_k(client: TestClient, app: FastAPI) -> None:
    k = paused_run(client)["step"]
    paused = app.state.trainer.network()
    for step in (0, 1, k):
        content = client.get("/api/lessons/replay/model", params={"step": step}).content
        with io.BytesIO(content) as f:
            z = np.load(f, allow_pickle=False)
            replayed = [z["W0"], z["b0"], z["W1"], z["b1"]]
        ref = stopped_at(step).net
        assert all(a.tobytes() == b.tobytes() for a, b in zip(replayed, ref.W[:1] + ref.b[:1] + ref.W[1:] + ref.b[1:]))
    assert same_bytes(paused, stopped_at(k).net)
    state = ok(client.get("/api/lessons/replay", params={"step": k}))
    assert state["step"] == k and len(state["images"]) == 8 and all(p["step"] <= k for p in state["points"])
    assert client.get("/api/lessons/replay", params={"step": 10_000}).status_code == 404


def test_a_recording_saves_and_loads_and_replays_the_same_steps(client: TestClient, app: FastAPI) -> None:
    ok(client.post("/api/train", json=RUN))
    wait(client, lambda s: s["state"] == "finished")
    saved = ok(client.post("/api/lessons/recording/save", json={"name": "run1"}))
    assert saved["steps"] == 100 and saved["snapshots"] >= 3  # spaced by seconds of training: an epoch here
    assert client.post("/api/lessons/recording/load", json={"name": "nothing"}).status_code == 404
    ok(client.post("/api/lessons/recording/load", json={"name": "run1"}))
    z = np.load(io.BytesIO(client.get("/api/lessons/replay/model", params={"step": 77}).content))
    assert z["W0"].tobytes() == stopped_at(77).net.W[0].tobytes()
    forward = ok(client.post("/api/lessons/replay/forward", json={"step": 77, "image": [0.5] * 784}))
    np.testing.assert_allclose(forward["output"], stopped_at(77).net.forward(np.full(784, 0.5))[-1], atol=1e-6)


def test_a_run_nobody_watches_takes_whole_epochs_and_is_still_replayed_exactly() -> None:
    """Unwatched, the page's training feeds nothing within an epoch and takes it in few engine calls
    (the cost of watching is only paid while someone watches); its recording still rebuilds any step."""
    from digitnet.web.trainer import Trainer

    trainer = Trainer(small_data)
    trainer.start({"sizes": [784, 8, 10], "activation": "sigmoid", "cost": "quadratic", "learning_rate": 0.5,
                   "batch_size": 10, "epochs": 2, "limit": 500, "seed": 3})
    trainer.join(60)
    run = trainer.run
    assert run is not None and run.state == "finished" and run.recording is not None
    assert len(run.batches) <= 4  # pieces: the first one timed, then up to the next snapshot (an epoch here)
    assert [p["step"] for p in run.points] == [0, 50, 100]  # the sample's points at the epochs' ends only
    X, y = small_data()[:2]
    for k in (37, 77):
        assert same_bytes(run.recording.network_at(k, X[:500], y[:500]), stopped_at(k).net)
    assert not trainer.watched()
    trainer.snapshot()
    assert trainer.watched()  # a look at the run


@pytest.mark.skipif(not hasattr(os, "setpriority") or sys.platform != "linux",
                    reason="a niceness per thread is Linux's")
def test_the_training_thread_yields_the_cpu_to_the_server_and_the_page() -> None:
    """The page's training runs niced (TRAINING_NICENESS above the server's threads), so that on a
    machine with few cores a stroke on the pad is answered first; the server's own threads keep
    their priority."""
    from digitnet.web.trainer import TRAINING_NICENESS, Trainer

    trainer = Trainer(small_data)
    mine = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    trainer.start({"sizes": [784, 8, 10], "activation": "sigmoid", "cost": "quadratic", "learning_rate": 0.5,
                   "batch_size": 10, "epochs": 1, "limit": 500, "seed": 3, "seconds_per_batch": 0.5})
    try:
        deadline = time.monotonic() + 30
        while trainer.state() != "running" and time.monotonic() < deadline:
            time.sleep(0.01)
        assert trainer.state() == "running"
        thread = trainer._thread
        assert thread is not None and thread.native_id is not None
        assert os.getpriority(os.PRIO_PROCESS, thread.native_id) == min(mine + TRAINING_NICENESS, 19)
        assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == mine
    finally:
        trainer.stop()
        trainer.shutdown()


def test_a_watched_run_feeds_no_more_often_than_the_feed_rate_counting_its_start(monkeypatch) -> None:
    """The feed (a point on the fixed sample, the weight pictures) samples the run at most FEED_HZ
    times a second, counting the starting point: a watched run shorter than 1 / FEED_HZ gets its
    sample points at the start and at the epochs' ends only, while the mini-batches' cost still
    comes in pieces within each epoch."""
    from digitnet.web import trainer as trainer_module
    from digitnet.web.trainer import Trainer

    monkeypatch.setattr(trainer_module, "FEED_HZ", 0.05)  # one feed every 20 s: none but the start's
    trainer = Trainer(small_data)
    trainer.snapshot()  # someone looks: the run is watched
    trainer.start({"sizes": [784, 8, 10], "activation": "sigmoid", "cost": "quadratic", "learning_rate": 0.5,
                   "batch_size": 10, "epochs": 2, "limit": 500, "seed": 3})
    trainer.join(60)
    run = trainer.run
    assert run is not None and run.state == "finished"
    assert [p["step"] for p in run.points] == [0, 50, 100]
    assert len(run.batches) >= 2 * 10  # watched: the curve of the mini-batches' cost within each epoch

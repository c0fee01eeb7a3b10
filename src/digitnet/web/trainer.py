"""Training from the web page: one run at a time, in a background thread, with pause and stop.

The run calls ``Network.fit`` as the command line does. Two of fit's hooks carry the page's
controls and its live view:

- ``progress(done, total)``, called between chunks of mini-batches: it moves the progress bar,
  blocks while the run is paused, and raises ``Stopped`` when asked to stop;
- ``callback(record)``, after each epoch: the epoch's record (train cost, test accuracy...), a
  point of the live curves (cost and accuracy on a fixed sample of 1,000 test images) and the
  first layer's weights as pictures.

The curves and pictures are taken only where the network holds its current weights: before the
first step and after each epoch. Inside an epoch it may not: the compiled engine trains on its
own copy of the weights and writes them back at the end of the epoch (or when stopped). For the
same reason a paused run offers the network as it was after its last finished epoch.

The page follows a run through ``snapshot`` (all of it) and ``Cursor`` (what is new since the
last look), which the server streams as Server-Sent Events.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import DigitNetError
from ..network import Network
from . import explain

ACTIVE = ("loading", "running", "paused", "stopping")
SAMPLE = 1000  # test images behind each point of the live curves

Data = Callable[[], tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]


class Busy(Exception):
    """A run is already going: only one training at a time."""


class NotAllowed(Exception):
    """The request does not fit the run's state (pause when nothing runs, use before any network...)."""


class Stopped(Exception):
    """Raised inside fit's progress hook to stop a run between two chunks of mini-batches."""


@dataclass
class Cursor:
    """What one listener has already been sent of a run."""

    run: int = -1
    state_version: int = -1
    points: int = 0
    history: int = 0
    weights_version: int = 0


@dataclass
class Run:
    """One training run's settings and everything the page is shown about it."""

    number: int
    settings: dict[str, Any]
    state: str = "loading"
    message: str = "loading the training images"
    epoch: int = 0
    progress: float = 0.0
    points: list[dict[str, float]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    weights: dict[str, Any] | None = None
    weights_version: int = 0
    state_version: int = 0
    net: Network | None = None
    snapshot: Network | None = None  # a copy after the last finished epoch: what a paused run offers
    position: float = 0.0  # epochs done, fractional


class Trainer:
    """Runs at most one training at a time and keeps the latest run for the page to look at."""

    def __init__(self, data: Data) -> None:
        self._data = data
        self._lock = threading.Lock()
        self._run: Run | None = None
        self._thread: threading.Thread | None = None
        self._resume = threading.Event()  # set while not paused
        self._stop = threading.Event()

    # -- controls ---------------------------------------------------------------------------------

    def start(self, settings: dict[str, Any], on_done: Callable[[Run], None] | None = None) -> Run:
        """Start a run with ``settings`` (sizes, activation, cost, learning_rate, batch_size, epochs,
        limit, seed); raises Busy if one is going."""
        with self._lock:
            if self._run is not None and self._run.state in ACTIVE:
                raise Busy(f"a training run is already {self._run.state} (run {self._run.number}); "
                           "stop it or wait for it to finish before starting another")
            number = (self._run.number if self._run else 0) + 1
            run = Run(number, dict(settings))
            self._run = run
            self._resume.set()
            self._stop.clear()
            self._thread = threading.Thread(target=self._train, args=(run, on_done), daemon=True,
                                            name=f"digitnet-training-{number}")
            self._thread.start()
        return run

    def _current(self) -> Run:
        """The run that ``_require`` has just found in a live state."""
        assert self._run is not None
        return self._run

    def pause(self) -> None:
        with self._lock:
            self._require("running", "pause")
            self._resume.clear()
            self._set_state(self._current(), "paused", "paused; resume or stop (use, save and download take the "
                                                       "network as it was after the last finished epoch)")

    def resume(self) -> None:
        with self._lock:
            self._require("paused", "resume")
            self._set_state(self._current(), "running", "training")
            self._resume.set()

    def stop(self) -> None:
        with self._lock:
            self._require(("loading", "running", "paused"), "stop")
            self._stop.set()
            self._set_state(self._current(), "stopping", "stopping after the current chunk of mini-batches")
            self._resume.set()

    def shutdown(self, timeout: float = 5.0) -> None:
        """Stop any run and wait for its thread (the server is going away)."""
        self._stop.set()
        self._resume.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def join(self, timeout: float | None = None) -> None:
        """Wait for the current run's thread to end."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def network(self) -> Network:
        """A copy of the latest run's network; NotAllowed while it is still changing."""
        with self._lock:
            run = self._run
            if run is None or run.net is None:
                raise NotAllowed("no network has been trained yet: start a training run first")
            if not _has_network(run):
                raise NotAllowed(f"the network is still training ({run.state}); pause or stop it first")
            if run.state == "paused" and run.snapshot is not None:
                return run.snapshot.copy()  # the weights inside an unfinished epoch may not be in run.net yet
            return run.net.copy()

    # -- what the page sees -------------------------------------------------------------------------

    @property
    def run(self) -> Run | None:
        return self._run

    def state(self) -> str:
        run = self._run
        return run.state if run else "idle"

    def snapshot(self) -> dict[str, Any]:
        """Everything about the latest run (without the weight images)."""
        with self._lock:
            run = self._run
            if run is None:
                return {"run": 0, "state": "idle", "message": "no training run yet", "settings": None, "epoch": 0,
                        "progress": 0.0, "points": [], "history": [], "has_network": False}
            return {"run": run.number, "state": run.state, "message": run.message, "settings": run.settings,
                    "epoch": run.epoch, "progress": run.progress, "points": list(run.points),
                    "history": list(run.history), "has_network": _has_network(run)}

    def weights(self) -> dict[str, Any] | None:
        run = self._run
        return None if run is None or run.weights is None else {"run": run.number, **run.weights}

    def news(self, cursor: Cursor) -> tuple[list[tuple[str, Any]], bool]:
        """The events a listener at ``cursor`` has not seen yet, and whether the stream is over.

        Events: ("state", status without curves), ("point", CurvePoint), ("epoch", EpochRecord),
        ("weights", WeightImages). The stream is over once a run ended (or none was started) and
        everything has been sent, or when a newer run replaced the one being followed.
        """
        events: list[tuple[str, Any]] = []
        with self._lock:
            run = self._run
            if run is None:
                if cursor.state_version < 0:
                    cursor.state_version = 0
                    events.append(("state", self._state_event(None)))
                return events, True
            if cursor.run < 0:
                cursor.run = run.number
            elif cursor.run != run.number:
                return events, True
            # The state first: it names the run, and a page that sees a new run number starts its
            # curves afresh, so the points of that run must come after it.
            if cursor.state_version != run.state_version:
                cursor.state_version = run.state_version
                events.append(("state", self._state_event(run)))
            events += [("point", p) for p in run.points[cursor.points:]]
            cursor.points = len(run.points)
            events += [("epoch", h) for h in run.history[cursor.history:]]
            cursor.history = len(run.history)
            if run.weights is not None and cursor.weights_version != run.weights_version:
                cursor.weights_version = run.weights_version
                events.append(("weights", {"run": run.number, **run.weights}))
            return events, run.state not in ACTIVE

    def _state_event(self, run: Run | None) -> dict[str, Any]:
        if run is None:
            return {"run": 0, "state": "idle", "message": "no training run yet", "settings": None, "epoch": 0,
                    "progress": 0.0, "has_network": False}
        return {"run": run.number, "state": run.state, "message": run.message, "settings": run.settings,
                "epoch": run.epoch, "progress": run.progress, "has_network": _has_network(run)}

    # -- the run itself ------------------------------------------------------------------------------

    def _require(self, states: str | tuple[str, ...], action: str) -> None:
        states = (states,) if isinstance(states, str) else states
        run = self._run
        if run is None or run.state not in states:
            now = run.state if run else "idle"
            raise NotAllowed(f"cannot {action}: no training run is {' or '.join(states)} (state: {now})")

    def _set_state(self, run: Run, state: str, message: str) -> None:
        run.state, run.message = state, message
        run.state_version += 1

    def _update(self, run: Run, **changes: Any) -> None:
        with self._lock:
            for k, v in changes.items():
                setattr(run, k, v)
            run.state_version += 1

    def _train(self, run: Run, on_done: Callable[[Run], None] | None) -> None:
        s = run.settings
        sample: tuple[np.ndarray, np.ndarray] | None = None
        try:
            X, y, X_test, y_test = self._data()
            if s.get("limit"):
                X, y = X[:s["limit"]], y[:s["limit"]]
            sample = (X_test[:SAMPLE], y_test[:SAMPLE])
            net = Network(s["sizes"], activation=s["activation"], cost=s["cost"], seed=s.get("seed"))
            s["seed"] = net.seed
            with self._lock:
                run.net = net
                if run.state == "loading":
                    self._set_state(run, "running", "training")
            self._check_controls()
            self._add_point(run, net, 0.0, sample)
            self._add_weights(run, net)
            run.snapshot = net.copy()

            def progress(done: int, total: int) -> None:
                self._check_controls()
                run.position = run.epoch + (done / total if total else 1.0)
                self._update(run, progress=min(1.0, run.position / s["epochs"]))
                self._check_controls()

            def callback(record: dict[str, Any]) -> None:
                run.position = record["epoch"]
                self._add_point(run, net, record["epoch"], sample)
                self._add_weights(run, net)
                snapshot = net.copy()
                self._update(run, epoch=record["epoch"], history=run.history + [_record(record)],
                             progress=record["epoch"] / s["epochs"], snapshot=snapshot)

            net.fit(X, y, epochs=s["epochs"], batch_size=s["batch_size"], learning_rate=s["learning_rate"],
                    validation_data=(X_test, y_test), callback=callback, progress=progress)
            self._finish(run, "finished", f"finished {run.epoch} epochs")
        except Stopped:
            if sample is not None and run.net is not None and run.points and run.position > run.points[-1]["epoch"]:
                self._add_point(run, run.net, run.position, sample)  # the engine kept the partial epoch
            self._finish(run, "stopped", f"stopped after {run.epoch} full epochs")
        except DigitNetError as e:
            self._finish(run, "failed", str(e))
        except Exception as e:  # noqa: BLE001 - the page must hear about any failure, not hang
            self._finish(run, "failed", f"training failed: {type(e).__name__}: {e}")
        if on_done is not None:
            on_done(run)

    def _finish(self, run: Run, state: str, message: str) -> None:
        with self._lock:
            self._set_state(run, state, message)
        if run.net is not None:
            self._add_weights(run, run.net)

    def _check_controls(self) -> None:
        while not self._resume.wait(0.1):
            if self._stop.is_set():
                break
        if self._stop.is_set():
            raise Stopped

    def _add_point(self, run: Run, net: Network, epoch: float, sample: tuple[np.ndarray, np.ndarray]) -> None:
        X, y = sample
        a = net.feedforward(X.astype(net.dtype) / net.dtype(255) if X.dtype == np.uint8 else X)[1][-1]
        cost = float(np.mean(net.cost_function.fn(a, net.one_hot(y, len(y)))))
        accuracy = float(np.mean(np.argmax(a, axis=1) == y))
        if np.isfinite(cost):
            with self._lock:
                run.points.append({"epoch": round(epoch, 4), "cost": cost, "accuracy": accuracy})

    def _add_weights(self, run: Run, net: Network) -> None:
        images = explain.weight_images(net)
        if all(np.isfinite(images["scale"])):
            with self._lock:
                run.weights = images
                run.weights_version += 1


def _has_network(run: Run) -> bool:
    """Whether the run's network can be used now: it exists and is not changing (paused counts)."""
    return run.net is not None and run.state not in ("loading", "running", "stopping")


def _record(record: dict[str, Any]) -> dict[str, Any]:
    keys = ("epoch", "learning_rate", "train_cost", "train_accuracy", "test_cost", "test_accuracy", "seconds")
    return {k: record.get(k) for k in keys}

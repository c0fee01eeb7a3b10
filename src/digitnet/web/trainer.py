"""Training from the web page: one run at a time, in a background thread, with pause and stop.

The run takes the steps ``Network.fit`` takes (the same shuffles and mini-batches, the same engine,
bit for bit: see stepper.py), in pieces. While someone watches (a listener has looked at the run in
the last WATCHING_SECONDS), a piece at full speed is about 0.1 s (a whole epoch of the lesson's
network); in slow motion one mini-batch with a pause between, and one at a time on the step button
while paused. Between pieces the network holds its current weights, so the page sees them:

- ``batches``: the mean cost of the mini-batches of each piece, or of each 1/20 of a piece longer
  than 1/10 of an epoch, so the curve gains at least 10 points an epoch (free: the engine computes
  it, in one call for the piece);
- ``points``: cost and accuracy on a fixed sample of 1,000 test images, and the first layer's
  weights as pictures, at most FEED_HZ times a second while watched (and at each epoch's end,
  each single step);
- the run is recorded (replay.py): a snapshot after each watched piece, and every so many steps.

When nobody watches, nothing is shown, so nothing is computed for showing: no sample points or
pictures within an epoch, and pieces as long as the recording's snapshots are apart (an epoch of
the lesson's network in one engine call, as ``fit`` takes it). The snapshots are spaced by time, so
that a replay rebuilds any step in at most about QUIET_SECONDS of training: at least 10 an epoch
for a network whose epoch is slow, one an epoch for one as fast as the lesson's.

The page follows a run through ``snapshot`` (all of it) and ``Cursor`` (what is new since the
last look), which the server streams as Server-Sent Events.

The training thread runs at a lower scheduling priority (nice + TRAINING_NICENESS) than the server:
on a machine with few cores, the answer to a stroke on the pad (the server, the browser) gets a
core when it needs one, and training takes what is left; alone on the machine it runs at full speed.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..checks import brightness
from ..errors import DigitNetError
from ..evaluation import evaluate
from ..network import Network
from ..replay import Recording
from ..stepper import Settings, Stepper
from ..words import plural
from . import explain
from .runstate import ACTIVE, RunState

SAMPLE = 1000  # test images behind each point of the live curves
POINTS_PER_EPOCH = 10  # watched, at least this many points of the mini-batches' cost an epoch
PIECE_SECONDS = 0.1  # ... and of about this long, so the page hears from a slow network often too
TRAINING_NICENESS = 10  # the training thread's niceness above the server's: drawing answers first
FEED_HZ = 5  # watched, the fixed sample's curve points and the weight pictures, at most this often
SNAPSHOTS_PER_EPOCH = POINTS_PER_EPOCH  # the recording's, at most: a replayed step is at most a piece of steps away
WATCHING_SECONDS = 1.0  # a run looked at this recently is watched (the page's stream looks 10 times a second)
QUIET_SECONDS = 0.25  # unwatched, pieces and the snapshots' spacing are at most about this much training
SLOW_MOTION = 0.5  # seconds per mini-batch in slow motion

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
    batches: int = 0
    step_version: int = 0


@dataclass
class Run:
    """One training run's settings and everything the page is shown about it."""

    number: int
    settings: dict[str, Any]
    state: RunState = RunState.LOADING
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
    step: int = 0  # mini-batch steps done
    total_steps: int = 0
    speed: float | None = None  # seconds per mini-batch; None: as fast as the engine goes
    batches: list[dict[str, float]] = field(default_factory=list)  # the cost of the mini-batches, piece by piece
    last_step: dict[str, Any] | None = None  # what the last single step (step button, slow motion) changed
    step_version: int = 0
    stepper: Stepper | None = None
    recording: Recording | None = None
    snapshot_step: int = -1  # the step ``snapshot`` was taken at
    sample: tuple[np.ndarray, np.ndarray] | None = None  # the fixed test images of the curves and the surface


class Trainer:
    """Runs at most one training at a time and keeps the latest run for the page to look at."""

    def __init__(self, data: Data) -> None:
        self._data = data
        self._lock = threading.Lock()
        self._run: Run | None = None
        self._thread: threading.Thread | None = None
        self._resume = threading.Event()  # set while not paused
        self._stop = threading.Event()
        self._step_wanted = threading.Event()  # one mini-batch step asked for while paused
        self._looked = -float("inf")  # time.monotonic() of the last look at the run (news, snapshot, weights)

    # -- controls ---------------------------------------------------------------------------------

    def start(self, settings: dict[str, Any], on_done: Callable[[Run], None] | None = None) -> Run:
        """Start a run with ``settings`` (sizes, activation, cost, learning_rate, batch_size, epochs,
        limit, seed); raises Busy if one is going."""
        with self._lock:
            if self._run is not None and self._run.state in ACTIVE:
                raise Busy(f"a training run is already {self._run.state} (run {self._run.number}); "
                           "stop it or wait for it to finish before starting another")
            number = (self._run.number if self._run else 0) + 1
            settings = dict(settings)
            run = Run(number, settings, speed=settings.pop("seconds_per_batch", None))
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
            self._require(RunState.RUNNING, "pause")
            self._resume.clear()
            self._set_state(self._current(), RunState.PAUSED, "paused; take one mini-batch step, resume or stop")
            self._settle(self._current())  # the piece under way ends first: a paused run does not move

    def resume(self) -> None:
        with self._lock:
            self._require(RunState.PAUSED, "resume")
            self._set_state(self._current(), RunState.RUNNING, "training")
            self._resume.set()

    def stop(self) -> None:
        with self._lock:
            self._require((RunState.LOADING, RunState.RUNNING, RunState.PAUSED), "stop")
            self._stop.set()
            self._set_state(self._current(), RunState.STOPPING, "stopping after the current chunk of mini-batches")
            self._resume.set()

    def step(self) -> None:
        """Take one mini-batch step of a paused run (the page's step button)."""
        with self._lock:
            self._require(RunState.PAUSED, "take a step")
            run = self._current()
            if run.stepper is not None and run.stepper.done:
                raise NotAllowed("cannot take a step: the run has taken all its steps; resume to finish it")
            self._settle(run)
            target = run.step + 1
            self._step_wanted.set()
        deadline = time.monotonic() + 30
        while run.snapshot_step != target and run.state == RunState.PAUSED and time.monotonic() < deadline:
            time.sleep(0.005)  # one mini-batch takes well under a second; the caller wants its result

    def _settle(self, run: Run, timeout: float = 10.0) -> None:
        """Wait (lock held) until a paused run's thread has stopped and copied the network it holds."""
        deadline = time.monotonic() + timeout
        while run.state == RunState.PAUSED and run.snapshot_step != run.step and time.monotonic() < deadline:
            self._lock.release()
            try:
                time.sleep(0.005)
            finally:
                self._lock.acquire()

    def set_speed(self, seconds_per_batch: float | None) -> None:
        """Full speed (None) or slow motion: one mini-batch every ``seconds_per_batch`` seconds."""
        with self._lock:
            run = self._run
            if run is None or run.state not in ACTIVE:
                raise NotAllowed("cannot change the speed: no training run is going")
            run.speed = seconds_per_batch
            run.state_version += 1

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
            if run.state == RunState.PAUSED:
                self._settle(run)
            if run.state == RunState.PAUSED and run.snapshot is not None:
                return run.snapshot.copy()  # taken when the training thread stopped: its weights, step by step
            return run.net.copy()

    # -- what the page sees -------------------------------------------------------------------------

    @property
    def run(self) -> Run | None:
        return self._run

    def state(self) -> RunState:
        run = self._run
        return run.state if run else RunState.IDLE

    def watched(self) -> bool:
        """Whether someone follows the run: its news, status or pictures were asked for just now."""
        return time.monotonic() - self._looked < WATCHING_SECONDS

    def snapshot(self) -> dict[str, Any]:
        """Everything about the latest run (without the weight images)."""
        self._looked = time.monotonic()
        with self._lock:
            run = self._run
            if run is None:
                return {"run": 0, "state": RunState.IDLE, "message": "no training run yet", "settings": None,
                        "epoch": 0, "progress": 0.0, "points": [], "history": [], "has_network": False}
            return {"run": run.number, "state": run.state, "message": run.message, "settings": run.settings,
                    "epoch": run.epoch, "progress": run.progress, "points": list(run.points),
                    "batches": list(run.batches), "history": list(run.history), "has_network": _has_network(run),
                    **self._steps_of(run)}

    def weights(self) -> dict[str, Any] | None:
        self._looked = time.monotonic()
        run = self._run
        return None if run is None or run.weights is None else {"run": run.number, **run.weights}

    def news(self, cursor: Cursor) -> tuple[list[tuple[str, Any]], bool]:
        """The events a listener at ``cursor`` has not seen yet, and whether the stream is over.

        Events: ("state", status without curves), ("point", CurvePoint), ("epoch", EpochRecord),
        ("weights", WeightImages). The stream is over once a run ended (or none was started) and
        everything has been sent, or when a newer run replaced the one being followed.
        """
        events: list[tuple[str, Any]] = []
        self._looked = time.monotonic()
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
            events += [("batch", p) for p in run.batches[cursor.batches:]]
            cursor.batches = len(run.batches)
            if run.last_step is not None and cursor.step_version != run.step_version:
                cursor.step_version = run.step_version
                events.append(("step", run.last_step))
            events += [("epoch", h) for h in run.history[cursor.history:]]
            cursor.history = len(run.history)
            if run.weights is not None and cursor.weights_version != run.weights_version:
                cursor.weights_version = run.weights_version
                events.append(("weights", {"run": run.number, **run.weights}))
            return events, run.state not in ACTIVE

    def _state_event(self, run: Run | None) -> dict[str, Any]:
        if run is None:
            return {"run": 0, "state": RunState.IDLE, "message": "no training run yet", "settings": None, "epoch": 0,
                    "progress": 0.0, "has_network": False}
        return {"run": run.number, "state": run.state, "message": run.message, "settings": run.settings,
                "epoch": run.epoch, "progress": run.progress, "has_network": _has_network(run), **self._steps_of(run)}

    @staticmethod
    def _steps_of(run: Run) -> dict[str, Any]:
        stepper = run.stepper
        return {"step": run.step, "total_steps": run.total_steps, "speed": run.speed,
                "steps_per_epoch": stepper.steps_per_epoch if stepper is not None else 0}

    # -- the run itself ------------------------------------------------------------------------------

    def _require(self, states: RunState | tuple[RunState, ...], action: str) -> None:
        states = (states,) if isinstance(states, str) else states
        run = self._run
        if run is None or run.state not in states:
            now = run.state if run else RunState.IDLE
            raise NotAllowed(f"cannot {action}: no training run is {' or '.join(states)} (state: {now})")

    def _set_state(self, run: Run, state: RunState, message: str) -> None:
        run.state, run.message = state, message
        run.state_version += 1

    def _update(self, run: Run, **changes: Any) -> None:
        with self._lock:
            for k, v in changes.items():
                setattr(run, k, v)
            run.state_version += 1

    def _train(self, run: Run, on_done: Callable[[Run], None] | None) -> None:
        _yield_to_the_page()
        sample: tuple[np.ndarray, np.ndarray] | None = None
        try:
            sample, validation = self._prepare(run)
            self._check_controls(run)
            self._steps(run, sample, validation)
            self._finish(run, RunState.FINISHED, f"finished {plural(run.epoch, 'epoch')}")
        except Stopped:
            if sample is not None and run.net is not None and run.points and run.position > run.points[-1]["epoch"]:
                self._add_point(run, run.net, run.position, sample)  # the partial epoch's weights
            self._finish(run, RunState.STOPPED, f"stopped after {run.epoch} full epochs (step {run.step})")
        except DigitNetError as e:
            self._finish(run, RunState.FAILED, str(e))
        except Exception as e:  # noqa: BLE001 - the page must hear about any failure, not hang
            self._finish(run, RunState.FAILED, f"training failed: {type(e).__name__}: {e}")
        if on_done is not None:
            on_done(run)

    def _prepare(self, run: Run) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
        """Load the data, build the network, its Stepper and the run's recording; the first point."""
        s = run.settings
        X, y, X_test, y_test = self._data()
        if s.get("limit"):
            X, y = X[:s["limit"]], y[:s["limit"]]
        sample = (X_test[:SAMPLE], y_test[:SAMPLE])
        net = Network(s["sizes"], activation=s["activation"], cost=s["cost"], seed=s.get("seed"))
        s["seed"] = net.seed
        stepper = Stepper(net, X, y, Settings(epochs=s["epochs"], batch_size=s["batch_size"],
                                              learning_rate=s["learning_rate"]))
        every = max(1, stepper.steps_per_epoch // SNAPSHOTS_PER_EPOCH)
        with self._lock:
            run.net, run.stepper, run.recording = net, stepper, Recording.start(stepper, every)
            run.sample = sample
            run.total_steps = stepper.total_steps
            if run.state == RunState.LOADING:
                self._set_state(run, RunState.RUNNING, "training")
        self._add_point(run, net, 0.0, sample)
        self._add_weights(run, net)
        run.snapshot = net.copy()
        return sample, (X_test, y_test)

    def _steps(self, run: Run, sample: tuple[np.ndarray, np.ndarray],
               validation: tuple[np.ndarray, np.ndarray]) -> None:
        """Take the run's mini-batch steps in pieces: as fast as the engine goes, or in slow motion.

        Watched, at full speed, a piece is about PIECE_SECONDS long (see _piece), so the page gets
        several updates a second, and the curve at least POINTS_PER_EPOCH points an epoch (a piece
        longer than 1/POINTS_PER_EPOCH of an epoch reports the cost of its stretches), while each
        piece costs the engine one call; the feed (a curve point on the fixed sample, the weight
        pictures) samples the run at most FEED_HZ times a second, so it costs the same whatever the
        engine's speed. Unwatched, pieces are longer and nothing is fed until the epoch's end. In
        slow motion each piece is one mini-batch, then a pause.
        """
        stepper, recording = run.stepper, run.recording
        assert stepper is not None and recording is not None
        per_step = 0.0  # seconds per mini-batch, measured
        # fed: when the feed last sampled the run, and _prepare has just fed the starting point
        epoch_total, epoch_right, epoch_started = 0.0, 0, time.perf_counter()
        fed = epoch_started
        while not stepper.done:
            waiting = time.perf_counter()
            single = self._check_controls(run)
            epoch_started += time.perf_counter() - waiting  # time paused is not the epoch's training time
            slow = run.speed is not None
            watched = single or slow or self.watched()
            n = 1 if single or slow else _piece(stepper, recording.every, per_step, watched)
            started = time.perf_counter()
            before = self._batch_report(run, sample) if single or slow else None
            within = watched and n > stepper.steps_per_epoch // POINTS_PER_EPOCH  # the curve's points from the engine
            engine_started = time.perf_counter()
            taken = recording.run(stepper, n, within)
            first, per_step = per_step == 0, (time.perf_counter() - engine_started) / taken
            if first:  # the steps now timed: the snapshots spaced by seconds of training
                recording.space(_snapshot_every(stepper.steps_per_epoch, per_step))
            if watched:
                recording.snap(stepper)  # what was shown can be replayed at once
            epoch_total += stepper.last_cost * min(taken * stepper.settings.batch_size, len(stepper.X))
            epoch_right += stepper.last_right
            self._after_piece(run, stepper, sample, before)
            now = time.perf_counter()
            if single or slow or (watched and now - fed >= 1 / FEED_HZ):
                fed = now
                self._add_point(run, stepper.net, stepper.position, sample)
                self._add_weights(run, stepper.net)
            if stepper.step % stepper.steps_per_epoch == 0:
                self._end_epoch(run, stepper, epoch_total / len(stepper.X), epoch_right / len(stepper.X),
                                now - epoch_started, sample, validation)
                epoch_total, epoch_right, epoch_started = 0.0, 0, time.perf_counter()
            if slow and not single:
                self._sleep(run, (run.speed or 0.0) - (time.perf_counter() - started))

    def _after_piece(self, run: Run, stepper: Stepper, sample: tuple[np.ndarray, np.ndarray],
                     before: dict[str, Any] | None) -> None:
        """Record the mini-batches' cost points (one for the piece, or its stretches') and, for a single
        step, what the step changed."""
        costs = stepper.last_costs or [(stepper.step, stepper.last_cost)]
        spe = stepper.steps_per_epoch
        points = [{"step": step, "epoch": round(step / spe, 6), "cost": cost} for step, cost in costs]
        with self._lock:
            run.batches += points
            run.step = stepper.step
            run.position = stepper.position
            run.progress = min(1.0, stepper.step / max(1, stepper.total_steps))
            run.state_version += 1
        if run.recording is not None:
            for step, cost in costs:
                run.recording.add_point(step, batch_cost=cost)
        if before is not None:
            after = self._batch_report(run, sample, before["indices"])
            with self._lock:
                run.last_step = {"step": stepper.step, "indices": before["indices"],
                                 "batch_cost_before": before["batch_cost"], "batch_cost_after": after["batch_cost"],
                                 "sample_cost_before": before["sample_cost"], "sample_cost_after": after["sample_cost"]}
                run.step_version += 1

    def _batch_report(self, run: Run, sample: tuple[np.ndarray, np.ndarray],
                      indices: list[int] | None = None) -> dict[str, Any]:
        """The next mini-batch (or ``indices``) and its cost and the fixed sample's, for a step shown."""
        stepper = run.stepper
        assert stepper is not None
        idx = np.asarray(stepper.batch() if indices is None else indices)
        net = stepper.net
        return {"indices": idx.tolist(), "batch_cost": net.cost(_floats(net, stepper.X[idx]), stepper.Y[idx]),
                "sample_cost": net.cost(_floats(net, sample[0]), sample[1])}

    def _end_epoch(self, run: Run, stepper: Stepper, train_cost: float, train_accuracy: float, seconds: float,
                   sample: tuple[np.ndarray, np.ndarray], validation: tuple[np.ndarray, np.ndarray]) -> None:
        """The epoch's record, as Network.fit writes it (the training's cost and accuracy those of its
        steps' own forward passes); the network is as the epoch left it."""
        net = stepper.net
        test = evaluate(net, *validation)
        record = {"epoch": stepper.epoch, "learning_rate": stepper.opt.learning_rate, "train_cost": train_cost,
                  "train_accuracy": train_accuracy, "test_cost": test.cost, "test_accuracy": test.accuracy,
                  "seconds": seconds}
        net.history.append(record)
        if run.recording is not None:
            run.recording.history.append({k: v for k, v in record.items() if k != "seconds"})
        self._add_point(run, net, stepper.epoch, sample)
        self._add_weights(run, net)
        self._update(run, epoch=stepper.epoch, history=run.history + [_record(record)], snapshot=net.copy())

    def _sleep(self, run: Run, seconds: float) -> None:
        """Wait ``seconds`` (slow motion), waking at once for stop, pause, a step or a change of speed."""
        end = time.perf_counter() + seconds
        speed = run.speed
        while time.perf_counter() < end and run.speed == speed and not self._stop.is_set() \
                and self._resume.is_set() and not self._step_wanted.is_set():
            time.sleep(min(0.02, max(0.0, end - time.perf_counter())))

    def _finish(self, run: Run, state: RunState, message: str) -> None:
        with self._lock:
            self._set_state(run, state, message)
        if run.net is not None:
            self._add_weights(run, run.net)

    def _check_controls(self, run: Run) -> bool:
        """Block while paused (keeping a copy of the network as it is); True if one step is asked for.

        Raises Stopped when the run is to stop.
        """
        if not self._resume.is_set() and run.net is not None:
            with self._lock:  # paused: the network stays as it is now, so the page may use it
                run.snapshot, run.snapshot_step = run.net.copy(), run.step
        while not self._resume.wait(0.05):
            if self._stop.is_set():
                break
            if self._step_wanted.is_set():
                self._step_wanted.clear()
                return True
        if self._stop.is_set():
            raise Stopped
        return False

    def _add_point(self, run: Run, net: Network, epoch: float, sample: tuple[np.ndarray, np.ndarray]) -> None:
        e = evaluate(net, *sample)
        if np.isfinite(e.cost):
            with self._lock:
                if not run.points or run.points[-1]["step"] != run.step:
                    run.points.append({"epoch": round(epoch, 6), "step": run.step, "cost": e.cost,
                                       "accuracy": e.accuracy})

    def _add_weights(self, run: Run, net: Network) -> None:
        images = explain.weight_images(net)
        if all(np.isfinite(images["scale"])):
            with self._lock:
                run.weights = images
                run.weights_version += 1


def _piece(stepper: Stepper, every: int, per_step: float, watched: bool) -> int:
    """How many mini-batches the next piece at full speed takes (per_step: seconds each, 0 if not timed yet).

    Up to the recording's next snapshot (``every`` steps apart), so that the piece is one engine
    call; in about PIECE_SECONDS at most while watched, so the page hears often, and QUIET_SECONDS
    when not, so that pause and stop still answer soon. The first piece, not timed yet, is 1/10 of
    an epoch.
    """
    steps = every - stepper.step % every
    if per_step <= 0:
        return max(1, min(steps, stepper.steps_per_epoch // POINTS_PER_EPOCH))
    return max(1, min(steps, int((PIECE_SECONDS if watched else QUIET_SECONDS) / per_step)))


def _snapshot_every(steps_per_epoch: int, per_step: float) -> int:
    """The recording's snapshot spacing: QUIET_SECONDS of training, whole tenths of an epoch, 1 to 10 an epoch."""
    tenth = max(1, steps_per_epoch // SNAPSHOTS_PER_EPOCH)
    quiet = int(QUIET_SECONDS / per_step) if per_step > 0 else 0
    return max(tenth, min(steps_per_epoch, quiet // tenth * tenth))


def _floats(net: Network, X: np.ndarray) -> np.ndarray:
    """Images as the network's floats in [0, 1] (uint8 images scaled by 1/255)."""
    return brightness(X, net.dtype)


def _has_network(run: Run) -> bool:
    """Whether the run's network can be used now: it exists and is not changing (paused counts)."""
    return run.net is not None and run.state not in (RunState.LOADING, RunState.RUNNING, RunState.STOPPING)


def _record(record: dict[str, Any]) -> dict[str, Any]:
    keys = ("epoch", "learning_rate", "train_cost", "train_accuracy", "test_cost", "test_accuracy", "seconds")
    return {k: record.get(k) for k in keys}


def _yield_to_the_page() -> None:
    """Lower this (training) thread's priority by TRAINING_NICENESS, where the system allows it.

    On Linux a niceness belongs to a thread (its native id), so the server's threads keep theirs.
    Lowering one's own priority needs no privilege; where it is not possible, training runs as is.
    """
    if not hasattr(os, "setpriority"):
        return
    tid = threading.get_native_id()
    try:
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + TRAINING_NICENESS)
    except OSError:
        pass

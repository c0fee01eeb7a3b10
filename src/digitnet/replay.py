"""Replay: a training run recorded so that any of its steps can be rebuilt exactly, and scrubbed through.

SGD is deterministic once its seed, settings and data are fixed: the seed gives the first weights
and every epoch's shuffle, the settings every step. So a recording keeps those, plus snapshots
(the weights, biases and momentum velocities, and the random state of the snapshot's epoch) every
``every`` steps; step k is rebuilt from the last snapshot at or before k by taking the steps in
between (stepper.py), and is byte for byte the network of a training stopped at step k.

The file (``.npz``, a zip archive, read and written as model files are, see model_file.py):

- ``header.json``: {"format": "digitnet-recording", "version": 1,
  "network": {"sizes", "activation", "cost", "dtype", "seed"}, "settings": Settings.as_dict(),
  "data": {"images": N, "sha256": fingerprint of the training images and labels},
  "every": steps between snapshots, "step": the last step recorded,
  "snapshots": [{"step": s, "rng_state": the generator's state at the start of the epoch of s}],
  "points": [{"step": s, ...numbers}] (the curves shown while training), "history": [...epochs]};
- ``s{i}_W{l}.npy, s{i}_b{l}.npy`` (and ``s{i}_vW{l}, s{i}_vb{l}`` with momentum): snapshot i.

No pickle; every array's size, shape, dtype and values are checked before use, as for a model file.
"""

from __future__ import annotations

import hashlib
import math
import os
from dataclasses import dataclass, field, replace
from typing import Any, NoReturn

import numpy as np

from . import checks
from . import engine as fast
from .errors import ConfigError, DataError, DigitNetError, ModelFileError
from .model_file import read_archive, read_array, write_archive
from .network import Network
from .optimizer import SGD
from .stepper import Settings, Stepper

FORMAT = "digitnet-recording"
VERSION = 1
MAX_SNAPSHOT_BYTES = 256 * 1024 * 1024  # above this, every other snapshot is dropped (``every`` doubles)
MAX_SNAPSHOTS = 4096
MAX_POINTS = 100_000


def _same_memory(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether a and b are views of the same bytes laid out alike (so, now, the same images)."""
    return (a.__array_interface__["data"][0] == b.__array_interface__["data"][0] and a.shape == b.shape
            and a.strides == b.strides and a.dtype == b.dtype)


def fingerprint(X: np.ndarray, y: np.ndarray) -> str:
    """A SHA-256 of the training images and labels, so a recording is replayed on the data it was made on."""
    h = hashlib.sha256()
    for a in (np.ascontiguousarray(X), np.ascontiguousarray(np.asarray(y))):
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.data)
    return h.hexdigest()


@dataclass
class Snapshot:
    """The state of training after ``step`` steps: enough to go on from there exactly."""

    step: int
    W: list[np.ndarray]
    b: list[np.ndarray]
    vW: list[np.ndarray]  # momentum's velocities (empty lists without momentum)
    vb: list[np.ndarray]
    rng_state: dict[str, Any]  # the generator at the start of the snapshot's epoch, before its shuffle


@dataclass
class Recording:
    """A recorded run: how to rebuild it, and snapshots of it every ``every`` steps."""

    network: dict[str, Any]  # sizes, activation, cost, dtype, seed
    settings: Settings
    data: dict[str, Any]  # images, sha256 (see described_data)
    every: int
    snapshots: list[Snapshot] = field(default_factory=list)
    step: int = 0  # the last step recorded
    points: list[dict[str, float]] = field(default_factory=list)
    history: list[dict[str, Any]] = field(default_factory=list)
    # The images and labels whose fingerprint is still to be taken: hashing MNIST's 47 MB takes tens of
    # milliseconds and leaves the caches cold for the training, so it waits until a save or a replay needs it.
    pending: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False, compare=False)

    # -- recording ---------------------------------------------------------------------------------

    @classmethod
    def start(cls, stepper: Stepper, every: int = 50) -> Recording:
        """A recording of ``stepper``'s run from where it is now (usually step 0)."""
        if isinstance(every, bool) or not isinstance(every, (int, np.integer)) or every < 1:
            raise ConfigError(f"snapshots must be taken every whole number >= 1 of steps, got {every!r}")
        net = stepper.net
        network = {"sizes": list(net.sizes), "activation": net.activation, "cost": net.cost_name,
                   "dtype": np.dtype(net.dtype).name, "seed": net.seed}
        data = {"images": len(stepper.X), "sha256": None}  # the Stepper's images are not changed by training
        # The engine by name: "auto" could pick another one where the recording is replayed, and the two
        # engines agree only to float rounding. (The compiled engine shares a mini-batch of 50 or more
        # among threads, so the replay needs the same number of threads too.)
        settings = replace(stepper.settings, engine=fast._resolve(stepper.settings.engine))
        rec = cls(network, settings, data, int(every), step=stepper.step,
                  pending=(stepper.X, np.argmax(stepper.Y, axis=1)))
        rec.snap(stepper)
        return rec

    def run(self, stepper: Stepper, steps: int, within: bool = False) -> int:
        """Take up to ``steps`` steps of ``stepper``, snapshotting every ``every``; returns the steps taken.

        Like Stepper.run (``within`` as there), stops at the end of an epoch.
        """
        if stepper.step != self.step:
            raise ConfigError(f"this recording is at step {self.step}, the run at step {stepper.step}")
        taken = 0
        while taken < steps and not stepper.done:
            to_snapshot = self.every - stepper.step % self.every
            n = stepper.run(min(steps - taken, to_snapshot), within)
            taken += n
            self.step = stepper.step
            if stepper.step % self.every == 0 or stepper.done:
                self.snap(stepper)
            if stepper.step % stepper.steps_per_epoch == 0:
                break
        return taken

    def space(self, every: int) -> None:
        """Snapshots every ``every`` steps from now on (a recorder that has timed its steps spaces them
        by the seconds a replay may take to rebuild a step, see web/trainer.py)."""
        if isinstance(every, bool) or not isinstance(every, (int, np.integer)) or every < 1:
            raise ConfigError(f"snapshots must be taken every whole number >= 1 of steps, got {every!r}")
        self.every = int(every)

    def snap(self, stepper: Stepper) -> None:
        """A snapshot of ``stepper`` now (``run`` takes one every ``every`` steps; a caller may add more,
        which are the first dropped when the recording grows too large)."""
        if stepper.step != self.step and self.snapshots:
            raise ConfigError(f"this recording is at step {self.step}, the run at step {stepper.step}")
        if self.snapshots and self.snapshots[-1].step == stepper.step:
            return
        net, opt = stepper.net, stepper.opt
        momentum = bool(self.settings.momentum)
        self.snapshots.append(Snapshot(stepper.step, [W.copy() for W in net.W], [b.copy() for b in net.b],
                                       [v.copy() for v in opt.vW] if momentum else [],
                                       [v.copy() for v in opt.vb] if momentum else [], stepper.epoch_rng_state()))
        per = sum(W.nbytes + b.nbytes for W, b in zip(net.W, net.b)) * (2 if momentum else 1)
        while len(self.snapshots) > 2 and (len(self.snapshots) * per > MAX_SNAPSHOT_BYTES
                                           or len(self.snapshots) > MAX_SNAPSHOTS):
            self.every *= 2  # keep the first, the last and every new multiple of ``every``
            last = self.snapshots[-1]
            self.snapshots = [s for s in self.snapshots[:-1] if s.step % self.every == 0] + [last]

    def add_point(self, step: int, **values: float) -> None:
        """A point of the curves at ``step`` (cost, accuracy...), replayed with the run."""
        if len(self.points) < MAX_POINTS:
            self.points.append({"step": int(step), **{k: float(v) for k, v in values.items()}})

    # -- replaying ---------------------------------------------------------------------------------

    def stepper_at(self, step: int, X: np.ndarray, y: np.ndarray) -> Stepper:
        """A Stepper at ``step`` of the recorded run, rebuilt from the last snapshot before it.

        X, y: the training images and labels the run was recorded on (checked by fingerprint).
        """
        if isinstance(step, bool) or not isinstance(step, (int, np.integer)) or not 0 <= step <= self.step:
            raise ConfigError(f"step must be a whole number in {self.snapshots[0].step}..{self.step} "
                              f"(the steps recorded), got {step!r}")
        if step < self.snapshots[0].step:
            raise ConfigError(f"the recording starts at step {self.snapshots[0].step}, so step {step} is not in it")
        net = Network(self.network["sizes"], self.network["activation"], self.network["cost"],
                      seed=self.network["seed"], dtype=self.network["dtype"])
        self.check_data(net, X, y)
        snap = [s for s in self.snapshots if s.step <= step][-1]
        net.W = [W.copy() for W in snap.W]
        net.b = [b.copy() for b in snap.b]
        net.rng.bit_generator.state = snap.rng_state
        opt = SGD(self.settings.learning_rate, self.settings.momentum, self.settings.weight_decay,
                  [v.copy() for v in snap.vW], [v.copy() for v in snap.vb])
        stepper = Stepper(net, X, y, self.settings, optimizer=opt, step=snap.step)
        stepper.run_to(step)
        return stepper

    def network_at(self, step: int, X: np.ndarray, y: np.ndarray) -> Network:
        """The network after ``step`` steps of the recorded run: the weights of a training stopped there."""
        return self.stepper_at(step, X, y).net

    def check_data(self, net: Network, X: np.ndarray, y: np.ndarray) -> None:
        """A DataError unless X, y are the images and labels the run was recorded on."""
        X = checks.training_images(net, X)  # as the Stepper holds them, so as they were fingerprinted
        labels = checks.labels(net, y, len(X))
        if len(X) != self.data["images"]:
            self._mismatch(X)
        given = fingerprint(X, labels)
        if self.pending is not None and _same_memory(X, self.pending[0]) and np.array_equal(labels, self.pending[1]):
            self.data, self.pending = {**self.data, "sha256": given}, None  # the very images recorded: hashed once
        if given != self.described_data()["sha256"]:
            self._mismatch(X)

    def _mismatch(self, X: np.ndarray) -> NoReturn:
        raise DataError(f"these {len(X)} training images are not the {self.data['images']} the run was recorded "
                        "on (their fingerprint differs); replay it with the same data and limit")

    def described_data(self) -> dict[str, Any]:
        """The recorded data's description, {"images": N, "sha256": fingerprint}, its hash taken now if pending."""
        if self.pending is not None:
            self.data, self.pending = {**self.data, "sha256": fingerprint(*self.pending)}, None
        return self.data

    # -- the file ------------------------------------------------------------------------------------

    def save(self, path: str | os.PathLike) -> None:
        """Write the recording to ``path`` atomically (format in the module docstring)."""
        header = {"format": FORMAT, "version": VERSION, "network": self.network, "settings": self.settings.as_dict(),
                  "data": self.described_data(), "every": self.every, "step": self.step,
                  "snapshots": [{"step": s.step, "rng_state": s.rng_state} for s in self.snapshots],
                  "points": self.points, "history": self.history}
        arrays: dict[str, np.ndarray] = {}
        for i, s in enumerate(self.snapshots):
            for name, group in (("W", s.W), ("b", s.b), ("vW", s.vW), ("vb", s.vb)):
                for l, a in enumerate(group):
                    arrays[f"s{i}_{name}{l}"] = a
        try:
            write_archive(path, header, arrays)
        except OSError as e:
            raise ModelFileError(f"cannot write recording {path}: {e.strerror or e}") from None

    @classmethod
    def load(cls, path: str | os.PathLike) -> Recording:
        """Read and check a recording written by ``save``."""
        header, zf = read_archive(path, format=FORMAT)
        with zf:
            rec = _from_header(path, header)
            momentum = bool(rec.settings.momentum)
            shapes = [((k, n), (k,)) for n, k in zip(rec.network["sizes"][:-1], rec.network["sizes"][1:])]
            dtype = rec.network["dtype"]
            for i, info in enumerate(header["snapshots"]):
                groups: dict[str, list[np.ndarray]] = {}
                for name, part in (("W", 0), ("b", 1), ("vW", 0), ("vb", 1)):
                    if name.startswith("v") and not momentum:
                        groups[name] = []
                        continue
                    groups[name] = [read_array(path, zf, f"s{i}_{name}{l}", shape[part], dtype)
                                    for l, shape in enumerate(shapes)]
                rec.snapshots.append(Snapshot(info["step"], groups["W"], groups["b"], groups["vW"], groups["vb"],
                                              info["rng_state"]))
        return rec


def _from_header(path: str | os.PathLike, header: dict[str, Any]) -> Recording:
    """The recording's settings out of its header, each checked (its snapshots are read after)."""
    def bad(what: str) -> ModelFileError:
        return ModelFileError(f"{path}: invalid {what} in the recording; the file is damaged, record the run again")

    if header.get("version") != VERSION:
        raise ModelFileError(f"{path}: recording version {header.get('version')!r} is not supported (this digitnet "
                             f"reads version {VERSION})")
    network, data = header.get("network"), header.get("data")
    every, step = header.get("every", 0), header.get("step", -1)
    if not isinstance(network, dict):
        raise bad("network")
    try:
        net = Network(network["sizes"], network["activation"], network["cost"], seed=network["seed"],
                      dtype=network["dtype"])
        settings = Settings(**header.get("settings", {}))
    except (DigitNetError, TypeError, KeyError) as e:
        raise ModelFileError(f"{path}: invalid network or settings in the recording: {e}") from None
    if network.get("dtype") not in ("float32", "float64") or not isinstance(network.get("sizes"), list):
        raise bad("network")
    if not (isinstance(data, dict) and _whole(data.get("images"), 1) and isinstance(data.get("sha256"), str)):
        raise bad("data description")
    total = settings.epochs * math.ceil(data["images"] / settings.batch_size)
    if not (_whole(every, 1) and _whole(step, 0) and step <= total):
        raise bad("step counts")
    snaps = header.get("snapshots")
    if not isinstance(snaps, list) or not 1 <= len(snaps) <= MAX_SNAPSHOTS:
        raise bad("snapshot list")
    if not all(isinstance(s, dict) and _whole(s.get("step"), 0) for s in snaps):
        raise bad("snapshot steps")
    steps = [int(s["step"]) for s in snaps]
    if steps != sorted(set(steps)) or steps[-1] > step:
        raise bad("snapshot steps")
    for s in snaps:
        try:
            net.rng.bit_generator.state = s.get("rng_state")
        except (TypeError, ValueError, KeyError, OverflowError):
            raise bad("random state") from None
    points, history = header.get("points", []), header.get("history", [])
    for rows in (points, history):
        if not isinstance(rows, list) or len(rows) > MAX_POINTS or not all(_numbers(r) for r in rows):
            raise bad("curve points")
    keep = {k: network[k] for k in ("sizes", "activation", "cost", "dtype", "seed")}
    return Recording(keep, settings, {"images": data["images"], "sha256": data["sha256"]}, int(every), step=int(step),
                     points=points, history=history)


def _whole(x: Any, low: int) -> bool:
    return isinstance(x, int) and not isinstance(x, bool) and x >= low


def _numbers(row: Any) -> bool:
    """A curve point or epoch record: a dict of finite numbers (or None, for a missing test accuracy)."""
    return isinstance(row, dict) and all(
        v is None or (isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v))
        for v in row.values())

"""Stochastic gradient descent one mini-batch at a time: training that can be watched and replayed.

``Network.fit`` runs whole epochs. A ``Stepper`` runs the very same steps (the same shuffle of the
training images at the start of each epoch, drawn from the network's own random generator, the
same mini-batches order[i:i + m], the same engine), but stops wherever it is asked to: after one
mini-batch, after fifty, at the end of an epoch. So a page can train in slow motion or step by
step, and a recording (replay.py) can rebuild any step exactly: stepping s steps gives the weights,
bit for bit, of ``fit`` stopped after its s-th mini-batch; stepping whole epochs gives fit's own.

Step numbers count mini-batches from the start of training: step s of epoch e (0-based) is
``e * steps_per_epoch + i``. ``position`` is the fractional epoch, steps / steps_per_epoch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import checks
from . import engine as fast
from .errors import ConfigError, TrainingDiverged
from .network import Network
from .optimizer import SGD
from .settings import TrainingSettings

# A run's settings are digitnet's one TrainingSettings (the engine among them).
Settings = TrainingSettings


class Stepper:
    """A network being trained by SGD on (X, y), advanced a chosen number of mini-batches at a time.

    X (N, 784) uint8 or float images, y (N,) labels or one-hot (N, 10), as for ``Network.fit``.
    The network, its random generator and the optimiser's velocities are changed in place.
    To go on from step s (say, a snapshot), give ``step=s`` with the network as it was at step s and
    its generator as it was at the start of that step's epoch, before the epoch's shuffle was drawn.
    """

    def __init__(self, net: Network, X: np.ndarray, y: np.ndarray, settings: Settings,
                 optimizer: SGD | None = None, step: int = 0) -> None:
        self.net = net
        self.settings = settings
        self.X = checks.training_images(net, X)
        self.Y = net.one_hot(y, len(self.X))
        self.steps_per_epoch = -(-len(self.X) // settings.batch_size)
        self.total_steps = settings.epochs * self.steps_per_epoch
        self.opt = optimizer or SGD.from_settings(settings)
        self.opt.configure(settings)
        self.opt.init_state(net)
        self._run = fast.select(settings.engine)
        self._keep: dict[str, Any] = {}  # the engine's packed weights, reused from one call to the next
        if not _whole(step) or not 0 <= step <= self.total_steps:
            raise ConfigError(f"step must be a whole number 0..{self.total_steps}, got {step!r}")
        self.step = int(step)
        # The shuffle of the current epoch: drawn when its first step is taken, as fit draws it.
        self.order: np.ndarray | None = None
        self._epoch_rng: dict[str, Any] | None = None
        self.last_cost = float("nan")  # the mean cost over the mini-batches of the last run(), before their steps
        self.last_costs: list[tuple[int, float]] = []  # run(within=True): (step, mean cost) of its stretches
        self.last_right = 0  # how many examples of the last run() were guessed right, before their steps

    @property
    def epoch(self) -> int:
        """The epoch the next step belongs to (0-based); equals ``settings.epochs`` when done."""
        return self.step // self.steps_per_epoch

    @property
    def position(self) -> float:
        """Epochs done, fractional: 2.5 is half-way through the third epoch."""
        return self.step / self.steps_per_epoch

    @property
    def done(self) -> bool:
        return self.step >= self.total_steps

    def batch(self, step: int | None = None) -> np.ndarray:
        """The indices into X of the mini-batch of ``step`` (default: the next one), in the current epoch."""
        step = self.step if step is None else step
        if self.done and step == self.step:
            raise ConfigError(f"training is over after {self.total_steps} steps: there is no next mini-batch")
        if step // self.steps_per_epoch != self.epoch:
            raise ConfigError(f"step {step} is not in the current epoch {self.epoch + 1}")
        order = self._epoch_order()
        i = (step % self.steps_per_epoch) * self.settings.batch_size
        return order[i:i + self.settings.batch_size]

    def run(self, steps: int, within: bool = False) -> int:
        """Take up to ``steps`` mini-batch steps (never past the end of training); returns how many.

        Stops at the end of an epoch, so that a caller sees every epoch's end (the next call goes on).
        A non-finite cost or weight raises TrainingDiverged, the network left as it is. With
        ``within``, ``last_costs`` gets the mean cost of about 20 stretches of those steps, as
        (step at the stretch's end, cost), the engine still called once (the same steps, bit for bit).
        """
        if not _whole(steps) or steps < 0:
            raise ConfigError(f"steps must be a whole number >= 0, got {steps!r}")
        if self.done or steps == 0:
            return 0
        order = self._epoch_order()
        i = self.step % self.steps_per_epoch
        n = min(int(steps), self.steps_per_epoch - i)
        m = self.settings.batch_size
        self.opt.start_epoch(self.epoch)
        chunks: list[tuple[int, float]] | None = [] if within else None
        with np.errstate(over="ignore", invalid="ignore"):  # divergence is detected just below
            summed = self._run(self.net, self.X, self.Y, order[i * m:(i + n) * m], m, self.opt, None,
                               self._keep, chunks)
        total, self.last_right = summed.cost, summed.right
        self.last_cost = total / len(order[i * m:(i + n) * m])
        self.last_costs = []
        before = 0
        for done, cost in chunks or []:  # examples done so far in this call, their stretch's summed cost
            self.last_costs.append((self.step + -(-done // m), cost / (done - before)))
            before = done
        self.step += n
        if not (np.isfinite(total) and all(np.isfinite(W).all() for W in self.net.W)):
            raise TrainingDiverged(f"training diverged at step {self.step} (epoch {self.epoch + 1}) with learning "
                                   f"rate {self.opt.learning_rate:g}; try a smaller one, such as "
                                   f"{self.opt.learning_rate / 10:g}")
        if self.step % self.steps_per_epoch == 0:
            self.order = None  # the next epoch draws a new shuffle
        return n

    def run_to(self, step: int) -> None:
        """Step until ``step`` (a later step of this run, at most ``total_steps``)."""
        if not _whole(step) or not self.step <= step <= self.total_steps:
            raise ConfigError(f"cannot step to {step!r}: this run is at step {self.step} of {self.total_steps}")
        while self.step < step:
            self.run(step - self.step)

    def epoch_rng_state(self) -> dict[str, Any]:
        """The random generator's state at the start of the current epoch, before its shuffle: with the
        weights, what a snapshot needs to go on from here (see ``step`` in the class docstring)."""
        return dict(self.net.rng.bit_generator.state if self.order is None else self._epoch_rng or {})

    def _epoch_order(self) -> np.ndarray:
        if self.order is None:
            self._epoch_rng = dict(self.net.rng.bit_generator.state)
            self.order = self.net.rng.permutation(len(self.X))  # fit's shuffle: the same draw, in the same place
        return self.order


def _whole(x: Any) -> bool:
    """Whether x is a whole number (an int or NumPy integer, not a bool)."""
    return isinstance(x, (int, np.integer)) and not isinstance(x, bool)

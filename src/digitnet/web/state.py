"""What the server holds between requests, in one object: the served network (and the one it started
with, and the practice copy for lesson 3), the trainer, the data, the default training settings,
the output folder, the class names and the start-up message. The routers get it as a dependency.

The served network is replaced whole (by a network trained on the page), never changed in place:
the lesson-3 "take one step" works on a practice copy, and training builds a new network.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from fastapi import HTTPException, Request

from .. import __version__
from ..activations import get_activation
from ..costs import get_cost
from ..errors import ConfigError, DigitNetError
from ..network import Network
from ..replay import Recording
from ..words import plural
from .runstate import ACTIVE, RunState
from .schemas import N_INPUTS, N_OUTPUTS, ModelInfo, Status
from .trainer import Run, Trainer

DEFAULT_TRAINING: dict[str, Any] = {
    "sizes": [784, 16, 16, 10], "activation": "sigmoid", "cost": "quadratic", "learning_rate": 1.5,
    "batch_size": 10, "epochs": 3, "limit": None, "seed": 0,
}

Data = Callable[[], tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]


class Served:
    """The network the page draws with, where it came from, and the scratch copy for lesson 3."""

    def __init__(self, net: Network | None, source: str) -> None:
        self.lock = threading.Lock()
        self.net, self.source, self.version = net, source, 1 if net is not None else 0
        self.original = (net, source)
        self.test_accuracy: float | None = None
        self.scratch: Network | None = None
        self.steps = 0

    def replace(self, net: Network, source: str) -> None:
        with self.lock:
            self.net, self.source = net, source
            self.version += 1
            self.test_accuracy = None
            self.scratch, self.steps = None, 0

    def scratch_copy(self) -> Network:
        """The scratch network (a copy of the served one until steps are taken on it); hold the lock."""
        if self.scratch is None:
            self.scratch, self.steps = self.net.copy(), 0  # type: ignore[union-attr]
        return self.scratch


class WebState:
    """Everything the endpoints share: built once by ``create_app``, kept on ``app.state.web``."""

    def __init__(self, net: Network | None, *, source: str, output_dir: str | os.PathLike[str],
                 data_dir: str | os.PathLike[str] | None, data: Data | None, train_default: bool,
                 default_training: dict[str, Any] | None, use_cache: bool) -> None:
        if net is not None:
            _check_servable(net)
        self.served = Served(net, source or ("the network given" if net is not None else ""))
        self.load_data = data or _mnist_loader(data_dir)
        self.trainer = Trainer(self.load_data)
        self.settings = dict(default_training or DEFAULT_TRAINING)
        self.output = Path(output_dir)
        self.rng = np.random.default_rng()
        self.names = _class_names(data_dir)
        self.train_default = train_default
        self.cache_file = (_default_cache_file(self.settings) if use_cache and data is None and data_dir is None
                           else None)
        self.startup_message = "ready" if net is not None else "no network loaded"
        self.recording: tuple[Recording, np.ndarray, np.ndarray] | None = None  # loaded to replay (lessons.py)
        self.replay_cache: tuple[Recording, int, Network] | None = None  # the last replayed step's network

    # -- the default network, at start-up ----------------------------------------------------------------

    def start(self) -> None:
        """At start-up without a network: take the default one from the cache, or start training it."""
        if self.served.net is None and self.train_default:
            cached = _load_cached(self.cache_file)
            if cached is not None:
                self.served.replace(cached, f"the default {describe_sizes(cached)} network "
                                            "(trained earlier, from the cache)")
            else:
                self.startup_message = "training the default network"
                self.trainer.start(self.settings, on_done=self.adopt_default)

    def adopt_default(self, run: Run) -> None:
        if run.net is None or run.state not in (RunState.FINISHED, RunState.STOPPED):
            self.startup_message = f"the default network could not be trained: {run.message}"
            return
        self.served.replace(run.net.copy(), f"the default {describe_sizes(run.net)} network, trained at startup "
                                             f"({plural(run.epoch, 'epoch')})")
        if self.cache_file is not None and run.state == RunState.FINISHED:
            try:
                self.cache_file.parent.mkdir(parents=True, exist_ok=True)
                run.net.save(self.cache_file)
            except (OSError, DigitNetError):
                pass  # the cache only saves time at the next start

    # -- what the endpoints ask ----------------------------------------------------------------------------

    def ready(self) -> Network:
        """The served network, or 503 saying why there is none yet."""
        net = self.served.net
        if net is None:
            run = self.trainer.run
            if run is not None and run.state in ACTIVE:
                raise HTTPException(503, f"the network is still training ({run.progress:.0%}); try again in a moment")
            raise HTTPException(503, f"no network is loaded: {self.startup_message}")
        return net

    def info(self) -> ModelInfo:
        served = self.served
        net = served.net
        assert net is not None
        if served.test_accuracy is None:
            X, y = self.load_data()[2:]
            served.test_accuracy = _accuracy(net, X, y)
        hidden, cost = get_activation(net.activation), get_cost(net.cost_name)
        return ModelInfo(sizes=list(net.sizes), activation=net.activation, cost=net.cost_name,
                         hidden_symbol=hidden.symbol, output_symbol=cost.output_activation.symbol,
                         cost_formula=cost.formula, hidden_bounded=hidden.bounded,
                         n_parameters=net.n_parameters, source=served.source, test_accuracy=served.test_accuracy)

    def status(self) -> Status:
        """Whether a network is ready, which one, and the state of training."""
        run = self.trainer.run
        model = self.info() if self.served.net is not None else None
        if self.served.net is not None:
            message = "ready"
        elif run is not None and run.state in ACTIVE:
            message = f"training the default network: {run.message}"
        else:
            message = self.startup_message
        return Status(ready=model is not None, message=message, model=model, model_version=self.served.version,
                      training=self.trainer.state(), progress=run.progress if run else 0.0, class_names=self.names)


async def web_state(request: Request) -> WebState:
    """The FastAPI dependency handing an endpoint the app's state (async: no worker-thread hop)."""
    return request.app.state.web


# -- helpers ------------------------------------------------------------------------------------------------

def _check_servable(net: Network) -> None:
    if net.sizes[0] != N_INPUTS or net.sizes[-1] != N_OUTPUTS:
        raise ConfigError(f"the web page shows networks with {N_INPUTS} inputs (28x28 images) and {N_OUTPUTS} "
                          f"outputs; this one is {describe_sizes(net)}")


def describe_sizes(net: Network) -> str:
    """The layer sizes as the lesson writes them: 784-16-16-10."""
    return "-".join(map(str, net.sizes))


def _accuracy(net: Network, X: np.ndarray, y: np.ndarray) -> float:
    from ..evaluation import accuracy

    return accuracy(net, X, y)


def _mnist_loader(data_dir: str | os.PathLike[str] | None) -> Data:
    """A function loading the training and test images once (uint8), on first use."""
    lock = threading.Lock()
    loaded: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []

    def load() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        with lock:
            if not loaded:
                from ..data import load_mnist_uint8

                X, y = load_mnist_uint8("train", data_dir)
                X_test, y_test = load_mnist_uint8("test", data_dir)
                loaded.append((X, y, X_test, y_test))
            return loaded[0]

    return load


def _class_names(data_dir: str | os.PathLike[str] | None) -> list[str]:
    if data_dir is None:
        return [str(k) for k in range(N_OUTPUTS)]
    from ..data import class_names

    names = class_names(data_dir)
    return names if len(names) == N_OUTPUTS else [str(k) for k in range(N_OUTPUTS)]


def _default_cache_file(settings: dict[str, Any]) -> Path | None:
    """Where the default network is kept after its first training: keyed by its settings."""
    from ..data import cache_dir

    key = hashlib.sha256(json.dumps([__version__, settings], sort_keys=True).encode()).hexdigest()[:16]
    return cache_dir() / "web" / f"default-{key}.npz"


def _load_cached(path: Path | None) -> Network | None:
    if path is None or not path.is_file():
        return None
    try:
        net = Network.load(path)
        _check_servable(net)
        return net
    except DigitNetError:
        return None

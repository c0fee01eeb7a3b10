"""What the server holds between requests, in one object: the server's network (given, or trained at
start-up), the visitors (``visitors.Visitors``: each tab's own network and practice copy), the
trainer of the page's runs and the one of the default network at start-up, the data, the default
training settings, the output folder, the class names and the start-up message. The routers get
it, and the visitor making the request, as dependencies.

No network is changed in place: a visitor who draws with a network trained on the page draws with
a copy of it, for that visitor only; the lesson-3 "take one step" works on the visitor's practice
copy; training builds a new network. The server's network changes only once, when the default
network is ready.
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
from fastapi import Header, HTTPException, Request

from .. import __version__
from ..activations import get_activation
from ..costs import get_cost
from ..errors import ConfigError, DigitNetError
from ..network import Network
from ..replay import Recording
from ..words import plural
from . import explain
from .runstate import ACTIVE, RunState
from .schemas import N_INPUTS, N_OUTPUTS, ModelInfo, Status
from .trainer import Busy, Run, Trainer
from .visitors import MAX_VISITORS, VISITOR_HEADER, VISITOR_ID, Visitor, Visitors, next_version

DEFAULT_TRAINING: dict[str, Any] = {
    "sizes": [784, 16, 16, 10], "activation": "sigmoid", "cost": "quadratic", "learning_rate": 1.5,
    "batch_size": 10, "epochs": 3, "limit": None, "seed": 0,
}

SCALE_IMAGES = 100  # test images behind the fixed scales of the backprop picture

Data = Callable[[], tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]


class Served:
    """The server's own network, the one every visitor draws with until it chooses another, and where
    it came from: None until the default network is trained at start-up."""

    def __init__(self, net: Network | None, source: str) -> None:
        self.lock = threading.Lock()
        self.net, self.source = net, source
        self.version = next_version() if net is not None else 0
        self.test_accuracy: float | None = None

    def replace(self, net: Network, source: str) -> None:
        with self.lock:
            self.net, self.source = net, source
            self.version = next_version()
            self.test_accuracy = None


class WebState:
    """Everything the endpoints share: built once by ``create_app``, kept on ``app.state.web``."""

    def __init__(self, net: Network | None, *, source: str, output_dir: str | os.PathLike[str],
                 data_dir: str | os.PathLike[str] | None, data: Data | None, train_default: bool,
                 default_training: dict[str, Any] | None, use_cache: bool) -> None:
        if net is not None:
            _check_servable(net)
        self.served = Served(net, source or ("the network given" if net is not None else ""))
        self.load_data = data or _mnist_loader(data_dir)
        self.trainer = Trainer(self.load_data)  # the page's training runs
        self.startup = Trainer(self.load_data)  # the default network's training at start-up: not a page's run
        self.visitors = Visitors()
        self._scales: dict[int, dict[str, Any]] = {}  # network version -> its backprop picture's scales
        self._scales_lock = threading.Lock()
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
                self.served.replace(cached, "the default network, trained earlier (from the cache)")
            else:
                self.startup_message = "training the default network"
                self.startup.start(self.settings, on_done=self.adopt_default)

    def adopt_default(self, run: Run) -> None:
        if run.net is None or run.state not in (RunState.FINISHED, RunState.STOPPED):
            self.startup_message = f"the default network could not be trained: {run.message}"
            return
        self.served.replace(run.net.copy(), f"the default network, trained at start-up ({plural(run.epoch, 'epoch')})")
        if self.cache_file is not None and run.state == RunState.FINISHED:
            try:
                self.cache_file.parent.mkdir(parents=True, exist_ok=True)
                run.net.save(self.cache_file)
            except (OSError, DigitNetError):
                pass  # the cache only saves time at the next start

    # -- what the endpoints ask ----------------------------------------------------------------------------

    def starting(self) -> Run | None:
        """The default network's training while it goes on, else None."""
        run = self.startup.run
        return run if run is not None and run.state in ACTIVE else None

    def ready(self) -> Network:
        """The server's network, or 503 saying why there is none yet."""
        net = self.served.net
        if net is None:
            run = self.starting()
            if run is not None:
                raise HTTPException(503, f"the network is still training ({run.progress:.0%}); try again in a moment")
            raise HTTPException(503, f"no network is loaded: {self.startup_message}")
        return net

    def network(self, visitor: Visitor) -> tuple[Network, int]:
        """The network ``visitor`` draws with and its version (503 if there is none yet)."""
        if visitor.net is not None:
            return visitor.net, visitor.version
        net = self.ready()
        return net, self.served.version

    def scales(self, net: Network, version: int, learning_rate: float) -> dict[str, Any]:
        """The fixed scales of the backprop picture for the network of ``version`` (from the first
        SCALE_IMAGES test images, computed once per network) and this eta."""
        with self._scales_lock:
            found = self._scales.get(version)
        if found is None:
            from ..checks import brightness

            X, y = self.load_data()[2:]
            found = explain.scales(net, brightness(X[:SCALE_IMAGES], net.dtype), y[:SCALE_IMAGES])
            with self._scales_lock:
                self._scales[version] = found
                while len(self._scales) > 2 * MAX_VISITORS:
                    self._scales.pop(next(iter(self._scales)))
        return {"wants_scale": found["wants_scale"], "change_scale": learning_rate * found["gradient_scale"]}

    def start_training(self, settings: dict[str, Any]) -> None:
        """Start a page's training run; Busy while one goes, or while the default network trains."""
        run = self.starting()
        if run is not None:
            raise Busy(f"the default network is still training ({run.progress:.0%}); start yours once it is ready")
        self.trainer.start(settings)

    def info(self, visitor: Visitor) -> ModelInfo:
        net, _ = self.network(visitor)
        own = visitor if visitor.net is not None else self.served
        if own.test_accuracy is None:
            X, y = self.load_data()[2:]
            own.test_accuracy = _accuracy(net, X, y)
        hidden, cost = get_activation(net.activation), get_cost(net.cost_name)
        return ModelInfo(sizes=list(net.sizes), activation=net.activation, cost=net.cost_name,
                         hidden_symbol=hidden.symbol, output_symbol=cost.output_activation.symbol,
                         cost_formula=cost.formula, hidden_bounded=hidden.bounded,
                         n_parameters=net.n_parameters, source=own.source, test_accuracy=own.test_accuracy)

    def status(self, visitor: Visitor) -> Status:
        """Whether a network is ready, which one this visitor draws with, and the state of training."""
        run, startup = self.trainer.run, self.starting()
        ready = visitor.net is not None or self.served.net is not None
        model = self.info(visitor) if ready else None
        if ready:
            message = "ready"
        elif startup is not None:
            message = f"training the default network: {startup.message}"
        else:
            message = self.startup_message
        progress = (run.progress if run else 0.0) if ready or startup is None else startup.progress
        return Status(ready=model is not None, message=message, model=model,
                      model_version=self.network(visitor)[1] if ready else 0, run=visitor.run,
                      training=self.trainer.state(), progress=progress, class_names=self.names)


async def web_state(request: Request) -> WebState:
    """The FastAPI dependency handing an endpoint the app's state (async: no worker-thread hop)."""
    return request.app.state.web


async def visitor_state(request: Request, visitor: str | None = Header(
        None, alias=VISITOR_HEADER, pattern=VISITOR_ID,
        description="the page's random id for this tab: its own network and practice copy; none: the "
                    "anonymous visitor, shared by every client that sends none")) -> Visitor:
    """The FastAPI dependency handing an endpoint the visitor making the request."""
    return request.app.state.web.visitors.get(visitor or "")


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

"""The local web server behind the page: draw a digit, watch the network think, watch it learn.

``create_app(net)`` builds a FastAPI application around one network, the *served* network that
the page draws with. It is replaced whole (by a network trained on the page), never changed in
place: the lesson-3 "take one step" works on a scratch copy, and training builds a new network.

Endpoints (all JSON; each request is checked by a pydantic model in ``schemas``):

    GET  /api/status              is a network ready? which one?
    GET  /api/network             sizes, biases, the strongest connections into each layer
    POST /api/forward             784 brightnesses -> z and a of every layer, the guess
    POST /api/canvas              a drawing (grey grid) -> digitnet.preprocess.to_mnist -> as /forward
    GET  /api/example             a test image (random, or by index) and what the network makes of it
    POST /api/neuron              one neuron: weights, bias, z and a for an image
    POST /api/backprop            lesson 3: what the cost wants from each neuron, the biggest weight changes
    POST /api/backprop/step       one gradient step on the scratch copy: outputs before and after
    POST /api/backprop/reset      a fresh scratch copy of the served network
    POST /api/train               start training (409 if a run is going); pause, resume, stop
    GET  /api/train, /api/train/weights, /api/train/events (Server-Sent Events)
    POST /api/train/use, /api/train/save; GET /api/train/download
    POST /api/model/original      serve the network the server started with again

The page itself is static (``static/``), served from this package: no build step, no CDN.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import numpy as np
from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles

from .. import __version__
from ..checks import brightness
from ..errors import ConfigError, DigitNetError
from ..network import Network
from . import explain, security
from .lessons import router as lessons_router
from .schemas import (
    N_INPUTS,
    N_OUTPUTS,
    BackpropRequest,
    BackpropResponse,
    CanvasRequest,
    ErrorMessage,
    ExampleResponse,
    ForwardResponse,
    ImageRequest,
    ModelInfo,
    NetworkInfo,
    NeuronRequest,
    NeuronResponse,
    SavedModel,
    SaveRequest,
    ScratchStatus,
    Status,
    StepRequest,
    StepResponse,
    TrainRequest,
    TrainStatus,
    WeightImages,
)
from .trainer import Busy, Cursor, NotAllowed, Run, Trainer

STATIC_DIR = Path(__file__).parent / "static"
MAX_BODY = 1_000_000  # bytes; the largest legitimate request (a 280x280 canvas) is about 320 kB
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


def create_app(
    net: Network | None = None,
    *,
    source: str = "",
    output_dir: str | os.PathLike[str] = ".",
    data_dir: str | os.PathLike[str] | None = None,
    data: Data | None = None,
    train_default: bool = True,
    default_training: dict[str, Any] | None = None,
    use_cache: bool = True,
    allowed_hosts: list[str] | None = None,
    max_body: int = MAX_BODY,
) -> FastAPI:
    """The web application serving ``net``.

    net: the network to draw with; None trains the default 784-16-16-10 network at startup in a
        background thread (or loads it from digitnet's cache, where the first training leaves it),
        while the page shows the progress. ``train_default=False`` leaves it None (for tests).
    source: how to describe where ``net`` came from (e.g. its file name).
    output_dir: where "save" writes model files.
    data_dir: MNIST-format IDX files to train on and take test images from (default: the bundled MNIST).
    data: a function returning (X_train, y_train, X_test, y_test) instead (uint8 or float images).
    allowed_hosts: Host headers to answer (a guard against DNS rebinding); None answers any.
    max_body: the largest request body accepted, in bytes (413 beyond).
    """
    if net is not None:
        _check_servable(net)
    served = Served(net, source or ("the network given" if net is not None else ""))
    load_data = data or _mnist_loader(data_dir)
    trainer = Trainer(load_data)
    settings = dict(default_training or DEFAULT_TRAINING)
    output = Path(output_dir)
    rng = np.random.default_rng()
    names = _class_names(data_dir)
    cache_file = _default_cache_file(settings) if use_cache and data is None and data_dir is None else None
    startup = {"message": "ready" if net is not None else "no network loaded"}

    def adopt_default(run: Run) -> None:
        if run.net is None or run.state not in ("finished", "stopped"):
            startup["message"] = f"the default network could not be trained: {run.message}"
            return
        served.replace(run.net.copy(), f"the default {_sizes(run.net)} network, trained at startup "
                                        f"({run.epoch} epochs)")
        if cache_file is not None and run.state == "finished":
            try:
                cache_file.parent.mkdir(parents=True, exist_ok=True)
                run.net.save(cache_file)
            except (OSError, DigitNetError):
                pass  # the cache only saves time at the next start

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if served.net is None and train_default:
            cached = _load_cached(cache_file)
            if cached is not None:
                served.replace(cached, f"the default {_sizes(cached)} network (trained earlier, from the cache)")
            else:
                startup["message"] = "training the default network"
                trainer.start(settings, on_done=adopt_default)
        yield
        trainer.shutdown()

    app = FastAPI(
        title="digitnet", version=__version__, lifespan=lifespan,
        docs_url=None, redoc_url=None,  # their pages load scripts from a CDN; the schema is at /openapi.json
        description="Draw a digit, watch the network of the 3Blue1Brown lessons think, and watch it learn.",
    )
    app.state.served, app.state.trainer, app.state.output_dir = served, trainer, output
    app.include_router(lessons_router)  # the lessons' views of training (lessons.py)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        """422 saying what is wrong where, without echoing the input back: it may hold NaN or
        infinity (which JSON cannot carry), and an image is 784 numbers long."""
        errors = [{"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
                  for e in exc.errors()]
        return JSONResponse({"detail": errors}, status_code=422)
    app.add_middleware(BodyLimit, max_bytes=max_body)
    security.install(app, allowed_hosts)  # Host check, cross-site requests refused, every error JSON

    def ready() -> Network:
        net = served.net
        if net is None:
            run = trainer.run
            if run is not None and run.state in ("loading", "running", "paused", "stopping"):
                raise HTTPException(503, f"the network is still training ({run.progress:.0%}); try again in a moment")
            raise HTTPException(503, f"no network is loaded: {startup['message']}")
        return net

    def info() -> ModelInfo:
        net = served.net
        assert net is not None
        if served.test_accuracy is None:
            X, y = load_data()[2:]
            served.test_accuracy = _accuracy(net, X, y)
        return ModelInfo(sizes=list(net.sizes), activation=net.activation, cost=net.cost_name,
                         n_parameters=net.n_parameters, source=served.source, test_accuracy=served.test_accuracy)

    # -- the page -------------------------------------------------------------------------------------

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", headers=PAGE_HEADERS)

    app.mount("/static", NoCacheStatic(directory=STATIC_DIR), name="static")

    # -- the network ------------------------------------------------------------------------------------

    @app.get("/api/status", response_model=Status, tags=["network"])
    def status() -> Status:
        """Whether a network is ready, which one, and the state of training."""
        run = trainer.run
        model = info() if served.net is not None else None
        if served.net is not None:
            message = "ready"
        elif run is not None and run.state in ("loading", "running", "paused", "stopping"):
            message = f"training the default network: {run.message}"
        else:
            message = startup["message"]
        return Status(ready=model is not None, message=message, model=model, model_version=served.version,
                      training=trainer.state(),  # type: ignore[arg-type]  # one of TrainState
                      progress=run.progress if run else 0.0, class_names=names)

    @app.get("/api/network", response_model=NetworkInfo, responses=NOT_READY, tags=["network"])
    def network(top: int = Query(256, ge=1, le=2000, description="connections listed per layer")) -> dict:
        """The served network's sizes and biases, and the ``top`` strongest connections into each layer."""
        net = ready()
        return {"model": info(), "model_version": served.version, "biases": [explain.floats(b) for b in net.b],
                "connections": explain.strongest_connections(net, top)}

    # /forward and /canvas run on the event loop, not in a worker thread: they take about a
    # millisecond, and the hop to a thread would cost more than that while someone draws.
    @app.post("/api/forward", response_model=ForwardResponse, responses=NOT_READY | BODY_ERRORS, tags=["network"])
    async def forward(request: ImageRequest) -> dict:
        """Feed one 28x28 image (784 brightnesses in [0, 1]) forward through the network."""
        net = ready()
        return {**explain.forward(net, np.asarray(request.input)), "model_version": served.version}

    @app.post("/api/canvas", response_model=ForwardResponse, responses=NOT_READY | BODY_ERRORS,
              tags=["network"])
    async def canvas(request: CanvasRequest) -> dict:
        """Bring a drawing to MNIST's form (``digitnet.preprocess.to_mnist``, as ``digitnet predict``)
        and feed it forward."""
        from ..preprocess import to_mnist

        net = ready()
        return {**explain.forward(net, to_mnist(request.grid())), "model_version": served.version}

    @app.get("/api/example", response_model=ExampleResponse, responses=NOT_READY | NOT_FOUND, tags=["network"])
    def example(index: int | None = Query(None, ge=0, le=9999, description="test image number; default: random")
                ) -> dict:
        """A test image (random unless ``index`` is given), its label, and the network's response to it."""
        net = ready()
        X, y = load_data()[2:]
        i = int(rng.integers(len(X))) if index is None else index
        if i >= len(X):
            raise HTTPException(404, f"there are only {len(X)} test images; index must be below {len(X)}")
        x = brightness(X[i], np.float32)
        return {**explain.forward(net, x), "model_version": served.version, "index": i, "label": int(y[i])}

    @app.post("/api/neuron", response_model=NeuronResponse, responses=NOT_READY | NOT_FOUND | BODY_ERRORS,
              tags=["network"])
    def neuron(request: NeuronRequest) -> dict:
        """One neuron: its incoming weights and bias; with an image, its weighted sum z and activation a."""
        net = ready()
        L = len(net.W)
        if request.layer > L:
            raise HTTPException(
                404, f"the network has layers 1 to {L} (layer 0 is the input); no layer {request.layer}")
        k = net.sizes[request.layer]
        if request.index >= k:
            raise HTTPException(404, f"layer {request.layer} has {k} neurons (0 to {k - 1}); no neuron {request.index}")
        x = None if request.input is None else np.asarray(request.input)
        return {**explain.neuron(net, request.layer, request.index, x), "model_version": served.version}

    # -- lesson 3: backpropagation on one example ---------------------------------------------------------

    @app.post("/api/backprop", response_model=BackpropResponse, responses=NOT_READY | BODY_ERRORS,
              tags=["backpropagation"])
    def backprop(request: BackpropRequest) -> dict:
        """What the cost of this one example wants: -dC/da for every neuron, and the weights one
        gradient step would change most (on the scratch copy)."""
        ready()
        with served.lock:
            net = served.scratch_copy()
            result = explain.backprop(net, np.asarray(request.input), request.label, request.learning_rate,
                                      request.top)
            return {**result, "steps_taken": served.steps, "model_version": served.version}

    @app.post("/api/backprop/step", response_model=StepResponse, responses=NOT_READY | BODY_ERRORS,
              tags=["backpropagation"])
    def backprop_step(request: StepRequest) -> dict:
        """Take one gradient step on this example, on the scratch copy (never the served network)."""
        ready()
        with served.lock:
            net = served.scratch_copy()
            result = explain.step(net, np.asarray(request.input), request.label, request.learning_rate)
            served.steps += 1
            return {**result, "steps_taken": served.steps, "model_version": served.version}

    @app.post("/api/backprop/reset", response_model=ScratchStatus, responses=NOT_READY, tags=["backpropagation"])
    def backprop_reset() -> ScratchStatus:
        """Throw the scratch copy away: the next step starts again from the served network."""
        ready()
        with served.lock:
            served.scratch, served.steps = None, 0
        return ScratchStatus(steps_taken=0)

    # -- training ---------------------------------------------------------------------------------------------

    @app.post("/api/train", response_model=TrainStatus, responses=BUSY | BODY_ERRORS, tags=["training"])
    def train(request: TrainRequest) -> dict:
        """Start training a new network in the background (only one run at a time: 409 otherwise)."""
        settings = request.model_dump()
        settings["sizes"] = [N_INPUTS, *settings.pop("hidden"), N_OUTPUTS]
        try:
            trainer.start(settings)
        except Busy as e:
            raise HTTPException(409, str(e)) from None
        return trainer.snapshot()

    @app.get("/api/train", response_model=TrainStatus, tags=["training"])
    def train_status() -> dict:
        """The latest run: state, settings, live curve points and the history of its epochs."""
        return trainer.snapshot()

    def control(action: Callable[[], None]) -> dict:
        try:
            action()
        except NotAllowed as e:
            raise HTTPException(409, str(e)) from None
        return trainer.snapshot()

    @app.post("/api/train/pause", response_model=TrainStatus, responses=BUSY, tags=["training"])
    def train_pause() -> dict:
        """Pause the running training (between two chunks of mini-batches)."""
        return control(trainer.pause)

    @app.post("/api/train/resume", response_model=TrainStatus, responses=BUSY, tags=["training"])
    def train_resume() -> dict:
        """Resume a paused training."""
        return control(trainer.resume)

    @app.post("/api/train/stop", response_model=TrainStatus, responses=BUSY, tags=["training"])
    def train_stop() -> dict:
        """Stop the training; the network keeps what it has learnt so far."""
        return control(trainer.stop)

    @app.get("/api/train/weights", response_model=WeightImages, responses=NOT_FOUND, tags=["training"])
    def train_weights() -> dict:
        """The first layer's weights of the latest run (up to 32 neurons), as int8 images."""
        images = trainer.weights()
        if images is None:
            raise HTTPException(404, "no training run has weights to show yet; start one")
        return images

    @app.get("/api/train/events", response_class=EventStream, tags=["training"], responses={200: {
        "description": "Server-Sent Events: `state`, `point` (a curve point), `epoch` (an epoch's record), "
                       "`weights` (first-layer weight images) and a final `end`. The stream ends when the run "
                       "ends, at once if none is going.",
        "content": {"text/event-stream": {"schema": {
            "type": "object", "description": "one event: its name and its data (JSON)",
            "properties": {"event": {"type": "string"}, "data": {"type": "string"}}}}}}})
    async def train_events(request: Request) -> EventStream:
        """Follow the latest training run live, as Server-Sent Events."""
        return EventStream(_events(trainer, request))

    @app.post("/api/train/use", response_model=Status, responses=BUSY, tags=["training"])
    def train_use() -> Status:
        """Draw with the network trained on the page (finished, stopped or paused)."""
        try:
            net = trainer.network()
        except NotAllowed as e:
            raise HTTPException(409, str(e)) from None
        run = trainer.run
        served.replace(net, f"trained on this page (run {run.number if run else '?'}, {len(net.history)} epochs)")
        return status()

    @app.post("/api/train/save", response_model=SavedModel, responses=BUSY | BODY_ERRORS, tags=["training"])
    def train_save(request: SaveRequest) -> SavedModel:
        """Save the trained network as a model file in the server's output directory."""
        try:
            net = trainer.network()
        except NotAllowed as e:
            raise HTTPException(409, str(e)) from None
        name = request.name or f"digitnet-{_sizes(net)}-{time.strftime('%Y%m%d-%H%M%S')}"
        path = output / f"{name}.npz"
        if path.exists():
            raise HTTPException(409, f"{path} already exists; choose another name")
        # Written under a private name, then linked to its own: the link fails if the name was
        # taken meanwhile, so of concurrent saves under one name exactly one succeeds.
        tmp = output / f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp"
        try:
            output.mkdir(parents=True, exist_ok=True)
            net.save(tmp)
            os.link(tmp, path)
        except FileExistsError:
            raise HTTPException(409, f"{path} already exists; choose another name") from None
        except (OSError, DigitNetError) as e:
            raise HTTPException(500, f"could not write {path}: {getattr(e, 'strerror', None) or e}") from None
        finally:
            tmp.unlink(missing_ok=True)
        return SavedModel(path=str(path.resolve()), filename=path.name)

    @app.get("/api/train/download", response_class=Response, tags=["training"], responses=BUSY | {200: {
        "description": "The model file (.npz), as written by `digitnet train`.",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}})
    def train_download() -> Response:
        """Download the trained network as a model file."""
        try:
            net = trainer.network()
        except NotAllowed as e:
            raise HTTPException(409, str(e)) from None
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "model.npz"
            net.save(path)
            content = path.read_bytes()
        filename = f"digitnet-{_sizes(net)}.npz"
        return Response(content, media_type="application/octet-stream",
                        headers={"Content-Disposition": f'attachment; filename="{filename}"'})

    @app.post("/api/model/original", response_model=Status, responses=BUSY, tags=["network"])
    def model_original() -> Status:
        """Draw with the network the server started with again."""
        net, source = served.original
        if net is None:
            raise HTTPException(409, "the server started without a network; there is none to go back to")
        served.replace(net, source)
        return status()

    return app


# -- responses shared by several endpoints, for the OpenAPI schema -----------------------------------------

def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorMessage, "description": description}


NOT_READY: dict[int | str, dict[str, Any]] = {503: _error("No network is ready yet (the default one is training)")}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: _error("No such layer, neuron or image")}
BUSY: dict[int | str, dict[str, Any]] = {409: _error("Not possible in the training run's current state")}
BODY_ERRORS: dict[int | str, dict[str, Any]] = {
    400: _error("The request body could not be read (it is not UTF-8 text)"),
    413: _error("The request body is larger than the server accepts"),
}

PAGE_HEADERS = {
    # Everything the page needs comes from this server: no inline script, no CDN.
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; "
                               "script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


class NoCacheStatic(StaticFiles):
    """The package's static files (StaticFiles refuses paths outside its directory), revalidated on
    each load so an upgraded digitnet never runs with an old app.js."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = "no-cache"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


class EventStream(StreamingResponse):
    """A Server-Sent Events stream (text/event-stream)."""

    media_type = "text/event-stream"

    def __init__(self, content: Any, status_code: int = 200) -> None:
        super().__init__(content, status_code=status_code, media_type=self.media_type,
                         headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


async def _events(trainer: Trainer, request: Request, poll: float = 0.1, keep_alive: float = 10.0
                  ) -> AsyncIterator[str]:
    """The training run's news as SSE messages, until it ends or the client goes away."""
    cursor = Cursor()
    yield "retry: 2000\n\n"
    quiet_since = time.monotonic()
    while True:
        events, over = trainer.news(cursor)
        for name, data in events:
            yield f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"
        if over:
            yield "event: end\ndata: {}\n\n"
            return
        if events:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since > keep_alive:
            quiet_since = time.monotonic()
            yield ": still here\n\n"
        if await request.is_disconnected():
            return
        await asyncio.sleep(poll)


class BodyLimit:
    """Refuse request bodies larger than ``max_bytes`` with 413, before any endpoint parses them.

    The body is read (up to the limit) and handed on whole, so a client cannot make the server
    parse megabytes of JSON, whether it sends a Content-Length or streams chunks.
    """

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_bytes):
            await self._refuse(send)
            return
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.max_bytes:
                await self._refuse(send)
                return
        replayed = False

        async def replay() -> dict:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Callable) -> None:
        detail = f"request body too large: the limit is {self.max_bytes:,} bytes"
        payload = json.dumps({"detail": detail}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": payload})


# -- helpers ------------------------------------------------------------------------------------------------

def _check_servable(net: Network) -> None:
    if net.sizes[0] != N_INPUTS or net.sizes[-1] != N_OUTPUTS:
        raise ConfigError(f"the web page shows networks with {N_INPUTS} inputs (28x28 images) and {N_OUTPUTS} "
                          f"outputs; this one is {_sizes(net)}")


def _sizes(net: Network) -> str:
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

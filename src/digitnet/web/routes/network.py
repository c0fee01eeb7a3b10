"""The network the page draws with: its status and parts, and what it makes of an image."""

from __future__ import annotations

import numpy as np
from fastapi import APIRouter, HTTPException, Query

from ...checks import brightness
from .. import explain
from ..http import BODY_ERRORS, NOT_FOUND, NOT_READY
from ..schemas import (
    CanvasRequest,
    ExampleResponse,
    ForwardResponse,
    ImageRequest,
    NetworkInfo,
    NeuronRequest,
    NeuronResponse,
    Status,
)
from . import Me, State

router = APIRouter(tags=["network"])


@router.get("/api/status", response_model=Status)
def status(state: State, me: Me) -> Status:
    """Whether a network is ready, which one this visitor draws with, and the state of training."""
    return state.status(me)


@router.get("/api/network", response_model=NetworkInfo, responses=NOT_READY)
def network(state: State, me: Me,
            top: int = Query(256, ge=1, le=2000, description="connections listed per layer")) -> dict:
    """The sizes and biases of the network this visitor draws with, and the ``top`` strongest connections
    into each layer."""
    net, version = state.network(me)
    return {"model": state.info(me), "model_version": version,
            "biases": [explain.floats(b) for b in net.b], "connections": explain.strongest_connections(net, top)}


# /forward and /canvas run on the event loop, not in a worker thread: they take about a
# millisecond, and the hop to a thread would cost more than that while someone draws.
@router.post("/api/forward", response_model=ForwardResponse, responses=NOT_READY | BODY_ERRORS)
async def forward(request: ImageRequest, state: State, me: Me) -> dict:
    """Feed one 28x28 image (784 brightnesses in [0, 1]) forward through the network."""
    net, version = state.network(me)
    return {**explain.forward(net, np.asarray(request.input)), "model_version": version}


@router.post("/api/canvas", response_model=ForwardResponse, responses=NOT_READY | BODY_ERRORS)
async def canvas(request: CanvasRequest, state: State, me: Me) -> dict:
    """Bring a drawing to MNIST's form (``digitnet.preprocess.to_mnist``, as ``digitnet predict``)
    and feed it forward."""
    from ...preprocess import to_mnist

    net, version = state.network(me)
    return {**explain.forward(net, to_mnist(request.grid())), "model_version": version}


@router.get("/api/example", response_model=ExampleResponse, responses=NOT_READY | NOT_FOUND)
def example(state: State, me: Me,
            index: int | None = Query(None, ge=0, le=9999, description="test image number; default: random")) -> dict:
    """A test image (random unless ``index`` is given), its label, and the network's response to it."""
    net, version = state.network(me)
    X, y = state.load_data()[2:]
    i = int(state.rng.integers(len(X))) if index is None else index
    if i >= len(X):
        raise HTTPException(404, f"there are only {len(X)} test images; index must be below {len(X)}")
    x = brightness(X[i], np.float32)
    return {**explain.forward(net, x), "model_version": version, "index": i, "label": int(y[i])}


@router.post("/api/neuron", response_model=NeuronResponse, responses=NOT_READY | NOT_FOUND | BODY_ERRORS)
def neuron(request: NeuronRequest, state: State, me: Me) -> dict:
    """One neuron: its incoming weights and bias; with an image, its weighted sum z and activation a."""
    net, version = state.network(me)
    L = len(net.W)
    if request.layer > L:
        raise HTTPException(
            404, f"the network has layers 1 to {L} (layer 0 is the input); no layer {request.layer}")
    k = net.sizes[request.layer]
    if request.index >= k:
        raise HTTPException(404, f"layer {request.layer} has {k} neurons (0 to {k - 1}); no neuron {request.index}")
    x = None if request.input is None else np.asarray(request.input)
    return {**explain.neuron(net, request.layer, request.index, x), "model_version": version}


@router.post("/api/model/original", response_model=Status, responses=NOT_READY)
def model_original(state: State, me: Me) -> Status:
    """Draw with the server's own network again (the one given, or the default trained at start-up);
    for this visitor only."""
    state.ready()
    me.use(None)
    return state.status(me)

"""The lessons' pictures on the page, computed by ``digitnet.inspect`` as ``digitnet show`` draws them:
layer 2 seen through layer 1, the confusion matrix on the test set and the images of each of its
cells, the dreams (the input each output likes most) and the noise test. Each request's work is
bounded by its schema (at most 10 dreams of 300 steps, 5,000 noise images, the 10,000 test images).
Each visitor sees the pictures of the network it draws with.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from fastapi import APIRouter, HTTPException

from ...errors import ConfigError
from .. import explain
from ..http import BODY_ERRORS, NOT_READY
from ..schemas import (
    ConfusionResponse,
    DreamRequest,
    DreamResponse,
    ErrorMessage,
    MisreadRequest,
    MisreadResponse,
    NoiseRequest,
    NoiseResponse,
    TemplatesResponse,
)
from . import Me, State

router = APIRouter(tags=["pictures"])
NO_SECOND_LAYER: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorMessage, "description": "The network has no second layer of weights to draw"}}


@router.get("/api/pictures/templates", response_model=TemplatesResponse, responses=NOT_READY | NO_SECOND_LAYER)
def templates(state: State, me: Me) -> dict:
    """Layer 2 seen through layer 1: each second-layer neuron's weights mapped back to the 28x28 input
    (W[1] W[0], ``digitnet show weights``), up to 32 neurons."""
    net, version = state.network(me)
    try:
        return {**explain.templates(net), "model_version": version}
    except ConfigError as e:
        raise HTTPException(409, str(e)) from None


@router.get("/api/pictures/confusion", response_model=ConfusionResponse, responses=NOT_READY)
def confusion(state: State, me: Me) -> dict:
    """The confusion matrix on the test images (``digitnet show confusion``): row = label, column = guess."""
    net, version = state.network(me)
    X, y = state.load_data()[2:]
    return {**explain.confusion(net, X, y), "model_version": version}


@router.post("/api/pictures/misread", response_model=MisreadResponse, responses=NOT_READY | BODY_ERRORS)
def misread(request: MisreadRequest, state: State, me: Me) -> dict:
    """The test images of one cell of the confusion matrix: labelled ``label``, read as ``guess``."""
    net, version = state.network(me)
    X, y = state.load_data()[2:]
    return {**explain.misread(net, X, y, request.label, request.guess, request.limit),
            "model_version": version}


@router.post("/api/pictures/dreams", response_model=DreamResponse, responses=NOT_READY | BODY_ERRORS)
def dreams(request: DreamRequest, state: State, me: Me) -> dict:
    """What each output likes most: gradient ascent on the input pixels (``digitnet show dream``)."""
    net, version = state.network(me)
    return {**explain.dreams(net, request.digits, request.steps, request.start, request.seed),
            "model_version": version}


@router.post("/api/pictures/noise", response_model=NoiseResponse, responses=NOT_READY | BODY_ERRORS)
def noise(request: NoiseRequest, state: State, me: Me) -> dict:
    """Random noise answered with confidence (``digitnet show noise``): the largest output on noise
    and on the test digits."""
    net, version = state.network(me)
    X_test = state.load_data()[2]
    return {**explain.noise(net, np.asarray(X_test), request.n, request.seed), "model_version": version}

"""Lesson 3 on one example: what the cost wants from each neuron, and gradient steps taken on a
practice copy of the served network (never on the served network itself)."""

from __future__ import annotations

import numpy as np
from fastapi import APIRouter

from .. import explain
from ..http import BODY_ERRORS, NOT_READY
from ..schemas import BackpropRequest, BackpropResponse, ScratchStatus, StepRequest, StepResponse
from . import State

router = APIRouter(tags=["backpropagation"])


@router.post("/api/backprop", response_model=BackpropResponse, responses=NOT_READY | BODY_ERRORS)
def backprop(request: BackpropRequest, state: State) -> dict:
    """What the cost of this one example wants: -dC/da for every neuron, and the weights one
    gradient step would change most (on the scratch copy)."""
    state.ready()
    served = state.served
    with served.lock:
        net = served.scratch_copy()
        result = explain.backprop(net, np.asarray(request.input), request.label, request.learning_rate,
                                  request.top)
        return {**result, "steps_taken": served.steps, "model_version": served.version}


@router.post("/api/backprop/step", response_model=StepResponse, responses=NOT_READY | BODY_ERRORS)
def backprop_step(request: StepRequest, state: State) -> dict:
    """Take one gradient step on this example, on the scratch copy (never the served network)."""
    state.ready()
    served = state.served
    with served.lock:
        net = served.scratch_copy()
        result = explain.step(net, np.asarray(request.input), request.label, request.learning_rate)
        served.steps += 1
        return {**result, "steps_taken": served.steps, "model_version": served.version}


@router.post("/api/backprop/reset", response_model=ScratchStatus, responses=NOT_READY)
def backprop_reset(state: State) -> ScratchStatus:
    """Throw the scratch copy away: the next step starts again from the served network."""
    state.ready()
    served = state.served
    with served.lock:
        served.scratch, served.steps = None, 0
    return ScratchStatus(steps_taken=0)

"""Lesson 3 on one example: what the cost wants from each neuron, and gradient steps taken on the
visitor's own practice copy of the network it draws with (never on that network itself)."""

from __future__ import annotations

import numpy as np
from fastapi import APIRouter

from .. import explain
from ..http import BODY_ERRORS, NOT_READY
from ..schemas import BackpropRequest, BackpropResponse, ScratchStatus, StepRequest, StepResponse
from . import Me, State

router = APIRouter(tags=["backpropagation"])


@router.post("/api/backprop", response_model=BackpropResponse, responses=NOT_READY | BODY_ERRORS)
def backprop(request: BackpropRequest, state: State, me: Me) -> dict:
    """What the cost of this one example wants: -dC/da for every neuron, and the weights one
    gradient step would change most (on this visitor's practice copy), with the fixed scales to
    draw them on."""
    served, version = state.network(me)
    scales = state.scales(served, version, request.learning_rate)
    with me.lock:
        net = me.practice_copy(served, version)
        result = explain.backprop(net, np.asarray(request.input), request.label, request.learning_rate,
                                  request.top)
        return {**result, **scales, "steps_taken": me.steps, "model_version": version}


@router.post("/api/backprop/step", response_model=StepResponse, responses=NOT_READY | BODY_ERRORS)
def backprop_step(request: StepRequest, state: State, me: Me) -> dict:
    """Take one gradient step on this example, on this visitor's practice copy (never the network it draws with)."""
    served, version = state.network(me)
    with me.lock:
        net = me.practice_copy(served, version)
        result = explain.step(net, np.asarray(request.input), request.label, request.learning_rate)
        me.steps += 1
        return {**result, "steps_taken": me.steps, "model_version": version}


@router.post("/api/backprop/reset", response_model=ScratchStatus, responses=NOT_READY)
def backprop_reset(state: State, me: Me) -> ScratchStatus:
    """Throw this visitor's practice copy away: the next step starts again from the network it draws with."""
    state.network(me)
    with me.lock:
        me.reset_copy()
    return ScratchStatus(steps_taken=0)

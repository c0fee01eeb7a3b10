"""Training on the page: start a run, follow it live, pause, resume or stop it, and draw with it."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable

from fastapi import APIRouter, HTTPException, Query, Request

from ...words import plural
from ..http import BODY_ERRORS, BUSY, NOT_FOUND, EventStream
from ..schemas import N_INPUTS, N_OUTPUTS, Status, TrainRequest, TrainStatus, WeightImages
from ..trainer import Busy, Cursor, NotAllowed, Trainer
from . import Me, State

router = APIRouter(tags=["training"])


@router.post("/api/train", response_model=TrainStatus, responses=BUSY | BODY_ERRORS)
def train(request: TrainRequest, state: State) -> dict:
    """Start training a new network in the background (only one run at a time, and none while the
    default network trains at start-up: 409 otherwise)."""
    settings = request.model_dump()
    settings["sizes"] = [N_INPUTS, *settings.pop("hidden"), N_OUTPUTS]
    try:
        state.start_training(settings)
    except Busy as e:
        raise HTTPException(409, str(e)) from None
    return state.trainer.snapshot()


@router.get("/api/train", response_model=TrainStatus)
def train_status(state: State) -> dict:
    """The latest run: state, settings, live curve points and the history of its epochs."""
    return state.trainer.snapshot()


def control(trainer: Trainer, action: Callable[[], None]) -> dict:
    """Do ``action`` to the run (409 if its state does not allow it); the run's status after it."""
    try:
        action()
    except NotAllowed as e:
        raise HTTPException(409, str(e)) from None
    return trainer.snapshot()


@router.post("/api/train/pause", response_model=TrainStatus, responses=BUSY)
def train_pause(state: State) -> dict:
    """Pause the running training (between two chunks of mini-batches)."""
    return control(state.trainer, state.trainer.pause)


@router.post("/api/train/resume", response_model=TrainStatus, responses=BUSY)
def train_resume(state: State) -> dict:
    """Resume a paused training."""
    return control(state.trainer, state.trainer.resume)


@router.post("/api/train/stop", response_model=TrainStatus, responses=BUSY)
def train_stop(state: State) -> dict:
    """Stop the training; the network keeps what it has learnt so far."""
    return control(state.trainer, state.trainer.stop)


@router.get("/api/train/weights", response_model=WeightImages, responses=NOT_FOUND)
def train_weights(state: State) -> dict:
    """The first layer's weights of the latest run (up to 32 neurons), as int8 images."""
    images = state.trainer.weights()
    if images is None:
        raise HTTPException(404, "no training run has weights to show yet; start one")
    return images


@router.get("/api/train/events", response_class=EventStream, responses={200: {
    "description": "Server-Sent Events: `state`, `point` (a curve point), `epoch` (an epoch's record), "
                   "`weights` (first-layer weight images) and a final `end`. The stream ends when the run "
                   "ends, at once if none is going.",
    "content": {"text/event-stream": {"schema": {
        "type": "object", "description": "one event: its name and its data (JSON)",
        "properties": {"event": {"type": "string"}, "data": {"type": "string"}}}}}}})
async def train_events(request: Request, state: State) -> EventStream:
    """Follow the latest training run live, as Server-Sent Events."""
    return EventStream(_events(state.trainer, request))


@router.post("/api/train/use", response_model=Status, responses=BUSY)
def train_use(state: State, me: Me, run: int | None = Query(
        None, ge=1, le=2**31 - 1, description="the run whose network to use (409 if it is not the latest run); "
                                               "default: the latest")) -> Status:
    """Draw with the network trained on the page (finished, stopped or paused): this visitor only,
    on a copy (the run may go on, others keep theirs)."""
    latest = state.trainer.run
    if run is not None and (latest is None or latest.number != run):
        now = f"the latest is run {latest.number}" if latest is not None else "no run has been started since"
        raise HTTPException(409, f"run {run} is no longer on the server ({now}); the server keeps only the latest run")
    try:
        net = state.trainer.network()
    except NotAllowed as e:
        raise HTTPException(409, str(e)) from None
    number = latest.number if latest is not None else 0
    me.use(net, f"trained on this page (run {number}, {plural(len(net.history), 'epoch')})", run=number)
    return state.status(me)


POLL_SECONDS = 0.1  # how often the stream looks for news


def event_message(name: str, data: object) -> str:
    """One Server-Sent Event: its name and its data as compact JSON."""
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


async def _events(trainer: Trainer, request: Request, poll: float = POLL_SECONDS, keep_alive: float = 10.0
                  ) -> AsyncIterator[str]:
    """The training run's news as SSE messages, until it ends or the client goes away."""
    cursor = Cursor()
    yield "retry: 2000\n\n"
    quiet_since = time.monotonic()
    while True:
        events, over = trainer.news(cursor)
        for name, data in events:
            yield event_message(name, data)
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

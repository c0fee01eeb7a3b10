"""The lessons' views of training (lessons 2 and 3): speed and single steps, the mini-batch opened up,
the gradient as 13,002 nudges, the cost surface, and replay. The numbers come from the library
(stepper, nudges, surface, replay); this router only finds the run, checks the request and answers.
"""

from __future__ import annotations

import base64
import tempfile
import threading
from pathlib import Path
from typing import Any

import numpy as np
from fastapi import APIRouter, HTTPException, Query, Response

from ..checks import brightness
from ..errors import DigitNetError
from ..network import Network
from ..nudges import nudges, parameter, ranked_gradient
from ..replay import Recording
from ..surface import cost_surface, flatten
from . import explain
from .lesson_schemas import (
    MiniBatch,
    RankedGradientResponse,
    RecordingInfo,
    RecordingName,
    ReplayForwardRequest,
    ReplayState,
    SpeedRequest,
    StepReport,
    SurfaceRequest,
    SurfaceResponse,
)
from .routes import State
from .runstate import RunState
from .schemas import ErrorMessage, ForwardResponse, TrainStatus
from .state import WebState
from .trainer import NotAllowed, Run, Trainer

router = APIRouter()
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorMessage, "description": "Not possible in the training run's state"}}
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": ErrorMessage, "description": "No such parameter or step"}}
BODY: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorMessage, "description": "The request body could not be read (it is not UTF-8 text)"},
    413: {"model": ErrorMessage, "description": "The request body is larger than the server accepts"}}


def _paused(trainer: Trainer) -> tuple[Run, Network]:
    """The paused run and a copy of its network: the next mini-batch is only known while paused."""
    run = trainer.run
    if run is None or run.state != RunState.PAUSED or run.stepper is None:
        raise HTTPException(409, "pause a training run first: the next mini-batch is the paused run's")
    if run.stepper.done:
        raise HTTPException(409, "the paused run has taken all its steps: there is no next mini-batch")
    try:
        return run, trainer.network()
    except NotAllowed as e:
        raise HTTPException(409, str(e)) from None


def _next_batch(trainer: Trainer, run: Run) -> np.ndarray:
    with trainer._lock:  # the thread is paused; the lock keeps a resume from racing the epoch's shuffle
        assert run.stepper is not None
        return np.asarray(run.stepper.batch())


def _name(p: Any) -> dict[str, Any]:
    return {"layer": p.layer, "kind": p.kind, "row": p.row, "col": p.col, "name": str(p)}


def _int8_images(A: np.ndarray) -> dict[str, Any]:
    """Rows of A (k, 784) each scaled by its largest |value| to int8, base64: as the weight pictures."""
    A = np.asarray(A, dtype=np.float64).reshape(len(A), -1)
    scale = np.abs(A).max(axis=1)
    scale[scale == 0] = 1.0
    q = np.round(A / scale[:, None] * 127).astype(np.int8)
    return {"scale": explain.floats(scale, 12), "images": [base64.b64encode(r.tobytes()).decode() for r in q]}


@router.post("/api/train/speed", response_model=TrainStatus, responses=CONFLICT | BODY, tags=["training"])
def train_speed(body: SpeedRequest, state: State) -> dict:
    """Full speed, or slow motion: one mini-batch every ``seconds_per_batch`` seconds."""
    trainer = state.trainer
    try:
        trainer.set_speed(body.seconds_per_batch)
    except NotAllowed as e:
        raise HTTPException(409, str(e)) from None
    return trainer.snapshot()


@router.post("/api/train/step", response_model=StepReport, responses=CONFLICT, tags=["training"])
def train_step(state: State) -> dict:
    """Take one mini-batch step of the paused run; the batch's and the sample's cost before and after."""
    trainer = state.trainer
    run = trainer.run
    try:
        trainer.step()
    except NotAllowed as e:
        raise HTTPException(409, str(e)) from None
    if run is None or run.last_step is None or run.last_step["step"] != run.step:
        raise HTTPException(409, "the step did not happen: the run was stopped or resumed meanwhile")
    return run.last_step


@router.get("/api/lessons/batch", response_model=MiniBatch, responses=CONFLICT | NOT_FOUND, tags=["lessons"])
def lesson_batch(state: State, layer: int = Query(0, ge=0, le=4), kind: str = Query("W", pattern="^[Wb]$"),
                 row: int = Query(0, ge=0, le=511), col: int | None = Query(None, ge=0, le=783)) -> dict:
    """The paused run's next mini-batch: each example's cost and guess, and its nudge -dC_k/dw to one
    weight or bias (``kind`` W with ``row`` and ``col``, or b with ``row``) and their average."""
    trainer = state.trainer
    run, net = _paused(trainer)
    assert run.stepper is not None
    try:
        p = parameter(net, layer, kind, row, col if kind == "W" else None)
    except DigitNetError as e:
        raise HTTPException(404, str(e)) from None
    idx = _next_batch(trainer, run)
    X, Y = run.stepper.X[idx], run.stepper.Y[idx]
    n = nudges(net, X, Y, p)
    pixels = X if X.dtype == np.uint8 else np.round(np.clip(X, 0, 1) * 255).astype(np.uint8)
    return {"step": run.step, "indices": idx.tolist(), "labels": n.label.tolist(), "guesses": n.guess.tolist(),
            "costs": explain.floats(n.cost, 9), "images": [base64.b64encode(r.tobytes()).decode() for r in pixels],
            "parameter": _name(p), "value": n.value, "nudges": explain.floats(n.nudge, 12),
            "average": n.average, "learning_rate": run.stepper.opt.learning_rate}


@router.get("/api/lessons/gradient", response_model=RankedGradientResponse, responses=CONFLICT, tags=["lessons"])
def lesson_gradient(state: State, top: int = Query(20, ge=1, le=2000)) -> dict:
    """The gradient of the paused run's next mini-batch, its ``top`` largest entries first, the share
    they carry, and the first layer's gradient as images over the 28x28 input."""
    trainer = state.trainer
    run, net = _paused(trainer)
    assert run.stepper is not None
    idx = _next_batch(trainer, run)
    r = ranked_gradient(net, run.stepper.X[idx], run.stepper.Y[idx], top=top)
    return {"step": run.step, "n_parameters": r.n_parameters, "norm": r.norm,
            "top": [{"parameter": _name(p), "gradient": g} for p, g in r.top],
            "share": {str(k): v for k, v in r.share.items()}, **_int8_images(r.first_layer)}


def _run_with_network(trainer: Trainer) -> tuple[Run, Network]:
    run = trainer.run
    try:
        net = trainer.network()
    except NotAllowed as e:
        raise HTTPException(409, str(e)) from None
    assert run is not None
    return run, net


@router.post("/api/lessons/surface", response_model=SurfaceResponse, responses=CONFLICT | BODY, tags=["lessons"])
def lesson_surface(body: SurfaceRequest, state: State) -> dict:
    """A 2-D slice of the cost around the run's current weights, on the fixed sample, with the path."""
    trainer = state.trainer
    run, net = _run_with_network(trainer)
    if run.sample is None or run.recording is None:
        raise HTTPException(409, "the run has no sample of test images yet")
    X, y = run.sample
    snapshots = [s for s in list(run.recording.snapshots) if s.step < run.step]
    path = [flatten(s.W, s.b) for s in snapshots]
    try:
        s = cost_surface(net, X, y, directions=body.directions, path=path, span=body.span,
                         resolution=body.resolution, seed=body.seed)
    except DigitNetError as e:
        raise HTTPException(409, str(e)) from None
    return {"step": run.step, "directions": s.directions, "alpha": s.alpha.tolist(), "beta": s.beta.tolist(),
            "cost": np.round(s.cost, 9).tolist(), "path": s.path.tolist(),
            "explained": s.explained if np.isfinite(s.explained) else None, "origin_cost": s.origin_cost,
            "sample_cost": net.cost(brightness(X, np.float64), y), "images": len(X)}


# -- replay ------------------------------------------------------------------------------------------------

_cache_lock = threading.Lock()


def _replayed(state: WebState, step: int) -> tuple[Recording, Network]:
    """The network after ``step`` steps of the loaded recording, else of the latest run's."""
    loaded = state.recording
    run = state.trainer.run
    if loaded is not None:
        rec, X, y = loaded
    elif run is not None and run.recording is not None and run.stepper is not None:
        rec, X, y = run.recording, run.stepper.X, np.argmax(run.stepper.Y, axis=1)
    else:
        raise HTTPException(409, "nothing to replay: train a network, or load a recording")
    if not 0 <= step <= rec.step:
        raise HTTPException(404, f"step {step} is not in the recording (steps 0..{rec.step})")
    with _cache_lock:
        cached = state.replay_cache
        if cached is not None and cached[0] is rec and cached[1] == step:
            return rec, cached[2]
    try:
        net = rec.network_at(step, X, y)
    except DigitNetError as e:
        raise HTTPException(409, str(e)) from None
    with _cache_lock:
        state.replay_cache = (rec, step, net)
    return rec, net


@router.get("/api/lessons/replay", response_model=ReplayState, responses=CONFLICT | NOT_FOUND, tags=["lessons"])
def lesson_replay(state: State, step: int = Query(ge=0, le=10_000_000)) -> dict:
    """The recorded run as it was after ``step`` steps: its curves so far and its weight pictures."""
    rec, net = _replayed(state, step)
    spe = -(-rec.data["images"] // rec.settings.batch_size)
    return {"step": step, "total_steps": rec.step, "steps_per_epoch": spe, "epoch": step / spe,
            "points": [p for p in list(rec.points) if p["step"] <= step], **_int8_images(net.W[0][:32])}


@router.post("/api/lessons/replay/forward", response_model=ForwardResponse, responses=CONFLICT | NOT_FOUND | BODY,
             tags=["lessons"])
def lesson_replay_forward(body: ReplayForwardRequest, state: State) -> dict:
    """The network of step ``step`` of the recording, thinking about ``image``: every layer's z and a."""
    _, net = _replayed(state, body.step)
    return {**explain.forward(net, np.asarray(body.image)), "model_version": -1}  # -1: not the served network


@router.get("/api/lessons/replay/model", response_class=Response, responses=CONFLICT | NOT_FOUND, tags=["lessons"])
def lesson_replay_model(state: State, step: int = Query(ge=0, le=10_000_000)) -> Response:
    """The network of step ``step`` of the recording, as a model file (.npz)."""
    _, net = _replayed(state, step)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.npz"
        net.save(path)
        content = path.read_bytes()
    return Response(content, media_type="application/octet-stream",
                    headers={"Content-Disposition": f'attachment; filename="digitnet-step-{step}.npz"'})


@router.post("/api/lessons/recording/save", response_model=RecordingInfo, responses=CONFLICT | BODY, tags=["lessons"])
def recording_save(body: RecordingName, state: State) -> dict:
    """Save the latest run's recording in the server's output directory."""
    run = state.trainer.run
    if run is None or run.recording is None or run.state in (RunState.LOADING, RunState.RUNNING, RunState.STOPPING):
        raise HTTPException(409, "no recording to save: train a network, and pause, stop or finish it first")
    path = state.output / f"{body.name}.recording.npz"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        run.recording.save(path)
    except (OSError, DigitNetError) as e:
        raise HTTPException(409, f"could not write {path.name}: {e}") from None
    return {"filename": path.name, "steps": run.recording.step, "snapshots": len(run.recording.snapshots)}


@router.post("/api/lessons/recording/load", response_model=RecordingInfo, responses=CONFLICT | NOT_FOUND | BODY,
             tags=["lessons"])
def recording_load(body: RecordingName, state: State) -> dict:
    """Load a recording saved in the output directory, to replay it (on the server's training images)."""
    path = state.output / f"{body.name}.recording.npz"
    if not path.is_file():
        raise HTTPException(404, f"there is no recording {path.name} in the output directory")
    trainer = state.trainer
    try:
        rec = Recording.load(path)
        X, y = trainer._data()[:2]
        X, y = X[:rec.data["images"]], y[:rec.data["images"]]
        rec.check_data(Network(rec.network["sizes"], rec.network["activation"], rec.network["cost"]), X, y)
    except DigitNetError as e:
        raise HTTPException(409, str(e)) from None
    state.recording = (rec, X, y)
    return {"filename": path.name, "steps": rec.step, "snapshots": len(rec.snapshots)}

"""One trial of a sweep, as a worker runs it: an ordinary digitnet training, its result as a dict.

The trial trains through digitnet.run, the code path of ``digitnet train``, so its model file is
the same, byte for byte, as ``digitnet train`` with its settings gives. A trial that diverges or
fails is a result too (status and message), never an exception that stops the sweep.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .. import run as training_run
from ..errors import TrainingDiverged
from ..run import TrainingData
from .grid import trial_id

# A sweep keeps every core busy with trials, one per worker: each trial trains on one thread.
TRIAL_THREADS = 1


def run_trial(settings: Mapping[str, Any], data: TrainingData, keep_model: bool = False) -> dict[str, Any]:
    """Train one network with ``settings`` on ``data``; its result row (and model file bytes if ``keep_model``)."""
    _one_thread()
    started = time.perf_counter()
    result: dict[str, Any] = {"id": trial_id(settings), "worker": _worker_name(), "model": None,
                              "message": None, "history": []}
    net = None
    try:
        net, opt = training_run.build(settings, data)
        result["n_parameters"] = net.n_parameters
        training_run.train(settings, data, net, opt, engine=settings.get("engine", "auto"))
        result["status"] = "done"
    except TrainingDiverged as e:
        result["status"], result["message"] = "diverged", str(e)
    except Exception as e:  # a failed trial is a row with its message; the sweep goes on
        result["status"], result["message"] = "failed", f"{type(e).__name__}: {e}"
    result["seconds"] = time.perf_counter() - started
    if net is not None:
        result["history"] = list(net.history)
        result["epochs_done"] = len(net.history)
        if net.history:
            last = net.history[-1]
            result.update(test_accuracy=last.get("test_accuracy"), test_cost=last.get("test_cost"),
                          train_cost=last.get("train_cost"))
        if keep_model and result["status"] != "failed":
            result["model"] = model_bytes(net)
    return result


def model_bytes(net: Any) -> bytes:
    """The model file ``net.save`` writes, as bytes (sent back to the client, which stores it)."""
    with tempfile.TemporaryDirectory(prefix="digitnet-trial-") as tmp:
        path = Path(tmp) / "model.npz"
        net.save(path)
        return path.read_bytes()


def _one_thread() -> None:
    """Train on TRIAL_THREADS threads of the compiled engine in this (worker) process."""
    from .. import engine

    engine.set_threads(TRIAL_THREADS)


def _worker_name() -> str:
    """The Dask worker running this trial, or this process when there is none."""
    try:
        from distributed import get_worker

        return str(get_worker().name)
    except (ImportError, ValueError):
        return f"pid {os.getpid()}"

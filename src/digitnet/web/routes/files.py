"""Model files: save the network trained on the page in the output folder, or download it."""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
import time
from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import Response

from ...errors import DigitNetError
from ..http import BODY_ERRORS, BUSY
from ..schemas import SavedModel, SaveRequest
from ..state import describe_sizes
from ..trainer import NotAllowed
from . import State

router = APIRouter(tags=["training"])


@router.post("/api/train/save", response_model=SavedModel, responses=BUSY | BODY_ERRORS)
def train_save(request: SaveRequest, state: State) -> SavedModel:
    """Save the trained network as a model file in the server's output directory."""
    try:
        net = state.trainer.network()
    except NotAllowed as e:
        raise HTTPException(409, str(e)) from None
    name = request.name or f"digitnet-{describe_sizes(net)}-{time.strftime('%Y%m%d-%H%M%S')}"
    output = state.output
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
        with contextlib.suppress(OSError):  # e.g. the output 'directory' is a file: nothing was written
            tmp.unlink(missing_ok=True)
    return SavedModel(path=str(path.resolve()), filename=path.name)


@router.get("/api/train/download", response_class=Response, responses=BUSY | {200: {
    "description": "The model file (.npz), as written by `digitnet train`.",
    "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}})
def train_download(state: State) -> Response:
    """Download the trained network as a model file."""
    try:
        net = state.trainer.network()
    except NotAllowed as e:
        raise HTTPException(409, str(e)) from None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.npz"
        net.save(path)
        content = path.read_bytes()
    filename = f"digitnet-{describe_sizes(net)}.npz"
    return Response(content, media_type="application/octet-stream",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})

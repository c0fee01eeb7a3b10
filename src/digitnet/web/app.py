"""The local web server behind the page: draw a digit, watch the network think, watch it learn.

``create_app(net)`` builds a FastAPI application around one network, the *served* network that
the page draws with. It only wires the parts together: the served state (``state.WebState``), the
HTTP around the endpoints (``http``: security headers, the body cap, the 422 answer) and the
routers, one for each thing the page does (``routes``: network, backprop, training, files, the
lessons' pictures; and the
lessons' views in ``lessons``). Every request is checked by a pydantic model in ``schemas``.

The page itself is static (``static/``), served from this package: no build step, no CDN.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError

from .. import __version__
from ..network import Network
from . import security
from .http import MAX_BODY, BodyLimit, NoCacheStatic, invalid_request
from .lessons import router as lessons_router
from .routes import backprop, files, network, page, pictures, training
from .state import DEFAULT_TRAINING, Data, WebState

__all__ = ["DEFAULT_TRAINING", "MAX_BODY", "create_app"]


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
    state = WebState(net, source=source, output_dir=output_dir, data_dir=data_dir, data=data,
                     train_default=train_default, default_training=default_training, use_cache=use_cache)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state.start()
        yield
        state.trainer.shutdown()
        state.startup.shutdown()

    app = FastAPI(
        title="digitnet", version=__version__, lifespan=lifespan,
        docs_url=None, redoc_url=None,  # their pages load scripts from a CDN; the schema is at /openapi.json
        description="Draw a digit, watch the network of the 3Blue1Brown lessons think, and watch it learn.",
    )
    app.state.web = state
    app.state.served, app.state.trainer, app.state.output_dir = state.served, state.trainer, state.output
    app.state.startup = state.startup  # the default network's training at start-up
    app.include_router(lessons_router)  # the lessons' views of training (lessons.py)
    app.add_exception_handler(RequestValidationError, invalid_request)  # type: ignore[arg-type]
    app.add_middleware(BodyLimit, max_bytes=max_body)
    security.install(app, allowed_hosts)  # Host check, cross-site requests refused, every error JSON
    app.include_router(page.router)
    app.mount("/static", NoCacheStatic(directory=page.STATIC_DIR), name="static")
    for router in (network.router, backprop.router, training.router, files.router, pictures.router):
        app.include_router(router)
    return app

"""The HTTP around the endpoints: the page's security headers, the body cap, static files that are
revalidated, the Server-Sent Events response, the 422 answer, and the error blocks of the OpenAPI
schema that several endpoints share.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles

from .schemas import ErrorMessage

MAX_BODY = 1_000_000  # bytes; the largest legitimate request (a 280x280 canvas) is about 320 kB

PAGE_HEADERS = {
    # Everything the page needs comes from this server: no inline script, no CDN.
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; "
                               "script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


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


async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
    """422 saying what is wrong where, without echoing the input back: it may hold NaN or
    infinity (which JSON cannot carry), and an image is 784 numbers long."""
    errors = [{"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
              for e in exc.errors()]
    return JSONResponse({"detail": errors}, status_code=422)


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

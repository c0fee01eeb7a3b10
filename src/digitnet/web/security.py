"""What the server lets in: only requests from its own page may change anything, every error is JSON.

- Cross-site request forgery: a page on another site can make the user's browser send requests
  to this server. A browser marks them: ``Sec-Fetch-Site: cross-site`` and an ``Origin`` other
  than this server's. Every state-changing request (any method but GET, HEAD, OPTIONS), with or
  without a body, is refused with 403 unless it comes from the page's own origin. A client that
  is not a browser (curl, a script) sends neither header; no web page can make it act.
- DNS rebinding: on a loopback address (every 127.x.y.z, ::1, ::ffff:127.x.y.z, localhost)
  only Host headers naming that address or localhost are answered (``loopback_hosts``).
- Every error, whatever raised it, is a JSON answer with a message, never a traceback.
"""

from __future__ import annotations

import ipaddress
import logging
from typing import Any
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from ..errors import DigitNetError

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
_log = logging.getLogger("digitnet.web")


def is_loopback(host: str) -> bool:
    """True for every address of this machine only: 127.0.0.0/8, ::1, ::ffff:127.x.y.z, localhost."""
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return bool(address.is_loopback or (mapped is not None and mapped.is_loopback))


def loopback_hosts(host: str) -> list[str]:
    """The Host header names a server bound to loopback ``host`` answers (DNS rebinding guard)."""
    bare = host.strip("[]")
    names = {"127.0.0.1", "localhost", "::1", "[::1]", bare}
    if ":" in bare:
        names.add(f"[{bare}]")
    return sorted(names)


def host_name(host_header: str) -> str:
    """The host of a Host header, port and IPv6 brackets removed: '[::1]:8000' -> '::1'."""
    try:
        return (urlsplit("//" + host_header).hostname or "").lower()
    except ValueError:
        return ""


class SameOrigin:
    """ASGI middleware: a Host not allowed gets 400, a state-changing request from another site 403 (JSON)."""

    def __init__(self, app: ASGIApp, allowed_hosts: list[str] | None = None) -> None:
        self.app = app
        self.allowed = None if allowed_hosts is None else {host_name(h) or h.strip("[]").lower() for h in allowed_hosts}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
            if self.allowed is not None and host_name(headers.get("host", "")) not in self.allowed:
                response = JSONResponse({"detail": "invalid Host header: this server answers only its own "
                                                   "loopback names (a guard against DNS rebinding)"}, status_code=400)
                await response(scope, receive, send)
                return
            why = _cross_site(headers) if scope["method"] not in SAFE_METHODS else ""
            if why:
                response = JSONResponse({"detail": f"refused: {why}; only this server's own page may change "
                                                   "its state"}, status_code=403)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _cross_site(headers: dict[str, str]) -> str:
    """Why a request with these headers is not from the page's own origin ("" if it is, or no browser sent it)."""
    fetch_site = headers.get("sec-fetch-site")
    if fetch_site is not None and fetch_site not in ("same-origin", "none"):
        return f"the browser marks this request {fetch_site}"
    origin = headers.get("origin")
    if origin is not None:
        parts = urlsplit(origin)
        if origin == "null" or (parts.netloc or "").lower() != headers.get("host", "").lower():
            return f"it comes from {origin}, not from {headers.get('host', 'this server')}"
    return ""


def install(app: FastAPI, allowed_hosts: list[str] | None = None) -> None:
    """Wire the Host check (None: any host), the cross-site guard and the JSON error handlers into ``app``."""
    app.add_middleware(SameOrigin, allowed_hosts=allowed_hosts)

    @app.exception_handler(DigitNetError)
    async def digitnet_error(request: Request, exc: DigitNetError) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=500 if isinstance(exc, OSError) else 400)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        _log.error("%s %s failed: %s: %s", request.method, request.url.path, type(exc).__name__, exc)
        return JSONResponse({"detail": f"internal error ({type(exc).__name__}); the server goes on"},
                            status_code=500)


__all__: list[Any] = ["install", "is_loopback", "loopback_hosts", "SameOrigin"]

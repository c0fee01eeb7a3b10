"""Running the web application with uvicorn: in the foreground (``digitnet serve``) or in a thread.

    with BackgroundServer(create_app(net)) as server:   # e.g. in a notebook or a test
        print(server.url)                              # http://127.0.0.1:PORT/ (a free port)

A request must arrive whole within ``REQUEST_TIMEOUT`` seconds of its first byte (or of the
connection opening): a client that sends half a request line or half its headers and stalls, or a
body shorter than its Content-Length, is cut off then (a slow-loris attack would otherwise hold
its connections, and the memory behind them, for ever). uvicorn has no such timeout: its
keep-alive timer covers only the idle time between requests and is reset by every byte received.
The deadline ends when the request is whole, so a long answer (the live training stream) is never cut.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from ..errors import ConfigError

LOOPBACK = ("127.0.0.1", "localhost", "::1")
REQUEST_TIMEOUT = 10.0  # seconds for a whole request, headers and body; `digitnet serve --request-timeout`


class DeadlineProtocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol, with a deadline for each request to arrive whole."""

    request_timeout = REQUEST_TIMEOUT
    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._receiving():
            if self._deadline is None:
                self._arm()
        else:
            self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _receiving(self) -> bool:
        """Whether part of a request has arrived and the rest has not."""
        state = self.conn.their_state
        return state is h11.SEND_BODY or (state is h11.IDLE and bool(self.conn.trailing_data[0]))

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(self.request_timeout, self._expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        self._deadline = None
        if self._receiving() or (self.conn.their_state is h11.IDLE and self.cycle is None):
            self.transport.close()  # the app, if it waits for the body, is told the client left


def protocol(request_timeout: float) -> type[DeadlineProtocol]:
    """The protocol class with this deadline (uvicorn makes one instance per connection)."""
    return type("DeadlineProtocol", (DeadlineProtocol,), {"request_timeout": request_timeout})


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port (port 0: any free port); ConfigError if it cannot be had."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP, not the default 0: asyncio sets TCP_NODELAY only on sockets that say they
    # are TCP, and without it every small response waits ~40 ms for a delayed ACK (Nagle).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        if e.errno in (98, 48, 10048):  # EADDRINUSE on Linux, macOS, Windows
            raise ConfigError(f"port {port} on {host} is already in use; choose another with --port") from None
        raise ConfigError(f"cannot listen on {host}:{port}: {e.strerror or e}") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{port}/"


def _server(app: Any, log_level: str, request_timeout: float = REQUEST_TIMEOUT) -> Any:
    import uvicorn

    config = uvicorn.Config(app, log_level=log_level, access_log=False, lifespan="on",
                            timeout_graceful_shutdown=2, http=protocol(request_timeout))
    return uvicorn.Server(config)


def serve(app: Any, sock: socket.socket, on_started: Callable[[], None] | None = None,
          log_level: str = "warning", request_timeout: float = REQUEST_TIMEOUT) -> None:
    """Serve ``app`` on the bound socket until interrupted (Ctrl+C); ``on_started`` runs once it listens."""
    server = _server(app, log_level, request_timeout)
    if on_started is not None:
        def wait() -> None:
            while not server.started and not server.should_exit:
                threading.Event().wait(0.05)
            if server.started:
                on_started()

        threading.Thread(target=wait, daemon=True).start()
    server.run(sockets=[sock])


class BackgroundServer:
    """Serve an app on host:port (default: a free port on 127.0.0.1) in a background thread."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0, log_level: str = "warning") -> None:
        self.sock = bind(host, port)
        self.url = url_of(self.sock)
        self.server = _server(app, log_level)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True,
                                       name="digitnet-web")

    def __enter__(self) -> BackgroundServer:
        self.thread.start()
        for _ in range(200):
            if self.server.started or not self.thread.is_alive():
                break
            threading.Event().wait(0.05)
        if not self.server.started:
            raise RuntimeError("the web server did not start within 10 seconds")
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()

"""Partial requests time out: a real ``digitnet serve`` on 127.0.0.1, driven with raw sockets.

A client that sends half a request line, half its headers, a body shorter than its Content-Length,
or nothing at all, and stalls, is cut off after ``--request-timeout`` seconds; one that trickles a
byte at a time is cut off too (the deadline runs from the request's first byte, it is not reset by
each byte). Before web/server.py's DeadlineProtocol each of these connections stayed open for ever:
uvicorn's keep-alive timer only covers the idle time between requests. Many stalled clients at
once do not keep a real one from being answered.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from digitnet import Network
from figures import record  # type: ignore[import-not-found]  # tests/figures.py

TIMEOUT = 1.0  # the server's --request-timeout here
WAIT = 8.0  # how long a test waits for the server to cut a client off before calling it a hang
FIGURES: dict[str, float] = {}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    """A ``digitnet serve MODEL --port 0 --request-timeout 1`` subprocess; its address."""
    model = tmp_path_factory.mktemp("serve") / "m.npz"
    Network((784, 8, 10), seed=0).save(model)
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "digitnet", "serve", str(model), "--port", "0",
                             "--request-timeout", str(TIMEOUT)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)
    assert proc.stdout is not None
    started = time.monotonic()
    address = None
    for line in proc.stdout:
        found = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        if found:
            address = ("127.0.0.1", int(found.group(1)))
            break
        if time.monotonic() - started > 60:
            break
    try:
        assert address is not None, proc.stderr.read() if proc.stderr else ""
        yield address
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
    record("slow_clients", {"request_timeout_s": TIMEOUT, **{k: round(v, 2) for k, v in FIGURES.items()}})


def cut_off_after(address: tuple[str, int], sent: bytes, trickle: bool = False) -> float:
    """Send ``sent`` (all at once, or a byte every 0.2 s) and stall; seconds until the server closes."""
    with socket.create_connection(address, timeout=WAIT) as s:
        started = time.monotonic()
        if trickle:
            s.settimeout(0.2)
            for byte in sent:
                try:
                    s.sendall(bytes([byte]))
                except (BrokenPipeError, ConnectionResetError):
                    return time.monotonic() - started
                try:
                    if s.recv(1024) == b"":
                        return time.monotonic() - started
                except TimeoutError:
                    pass
                if time.monotonic() - started > WAIT:
                    break
            s.settimeout(WAIT)
        else:
            s.sendall(sent)
        while True:
            try:
                chunk = s.recv(65536)
            except TimeoutError:
                raise AssertionError(f"the server kept a stalled client ({sent[:40]!r}...) for {WAIT} s") from None
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                return time.monotonic() - started


def get(address: tuple[str, int], path: str = "/api/status") -> tuple[int, float]:
    """A whole GET request; its status code and how long it took."""
    started = time.monotonic()
    with socket.create_connection(address, timeout=WAIT) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
    return int(answer.split(b" ", 2)[1]), time.monotonic() - started


def response(s: socket.socket) -> bytes:
    """One whole response read from ``s``: its headers and its Content-Length of body."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += s.recv(65536)
    head, body = data.split(b"\r\n\r\n", 1)
    length = int(re.search(rb"content-length: (\d+)", head.lower()).group(1))  # type: ignore[union-attr]
    while len(body) < length:
        body += s.recv(65536)
    return head


PARTIAL = {
    "nothing": b"",
    "half a request line": b"GET /api/sta",
    "half the headers": b"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: ",
    "a body shorter than its Content-Length": (b"POST /api/forward HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                               b"Content-Type: application/json\r\nContent-Length: 5000\r\n\r\n"
                                               b'{"input": [0.0, '),
}


@pytest.mark.parametrize("what", PARTIAL)
def test_a_partial_request_is_cut_off_after_the_timeout(server: tuple[str, int], what: str) -> None:
    seconds = cut_off_after(server, PARTIAL[what])
    assert TIMEOUT * 0.8 <= seconds < TIMEOUT + 4
    FIGURES[f"cut_off_s:{what}"] = seconds


def test_a_client_trickling_a_byte_at_a_time_is_cut_off_too(server: tuple[str, int]) -> None:
    # 60 bytes at 0.2 s each would take 12 s: the deadline is for the whole request, not per byte.
    slow = b"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 60
    seconds = cut_off_after(server, slow, trickle=True)
    assert seconds < TIMEOUT + 4
    FIGURES["cut_off_s:trickle"] = seconds


def test_whole_requests_on_a_kept_alive_connection_are_answered_however_long_apart(server: tuple[str, int]) -> None:
    with socket.create_connection(server, timeout=WAIT) as s:
        for _ in range(2):
            s.sendall(b"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            assert response(s).startswith(b"HTTP/1.1 200")
            time.sleep(TIMEOUT * 1.5)  # idle, not mid-request: the keep-alive timer's (5 s), not the deadline's


def test_many_stalled_clients_do_not_starve_a_real_one(server: tuple[str, int]) -> None:
    stalled = []
    try:
        for i in range(200):
            s = socket.create_connection(server, timeout=WAIT)
            s.sendall(PARTIAL["half the headers"] if i % 2 else PARTIAL["half a request line"])
            stalled.append(s)
        status, seconds = get(server)
        assert status == 200 and seconds < TIMEOUT
        FIGURES["real_request_beside_200_stalled_s"] = seconds
        started = time.monotonic()
        for s in stalled:
            s.settimeout(max(0.1, WAIT - (time.monotonic() - started)))
            assert s.recv(1024) == b"", "a stalled client was answered instead of cut off"
        FIGURES["200_stalled_all_cut_off_s"] = time.monotonic() - started
    finally:
        for s in stalled:
            s.close()
    assert get(server)[0] == 200

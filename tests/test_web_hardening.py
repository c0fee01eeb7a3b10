"""The web server lets nothing in: every request is checked (4xx with a message, never a 5xx),
only its own static files are served, bodies are capped, one training runs at a time, clients that
go away mid-request disturb nothing, and it listens on 127.0.0.1 unless told otherwise.

Schemathesis generates requests from the server's own OpenAPI schema (valid and invalid ones) and
checks every response: no 5xx, status codes and bodies as the schema says, invalid data refused.
DIGITNET_API_EXAMPLES sets the number of cases per operation (default 40).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from digitnet import Network
from digitnet.cli import main
from digitnet.web.app import MAX_BODY, create_app
from digitnet.web.server import BackgroundServer
from figures import record  # type: ignore[import-not-found]  # tests/figures.py

EXAMPLES = int(os.environ.get("DIGITNET_API_EXAMPLES", "40"))
CASES: dict[str, int] = {}


def small_data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """2,000 training and 200 test 'digits' (uint8, random but fixed): training on them is quick."""
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, (2200, 784), dtype=np.uint8)
    y = rng.integers(0, 10, 2200)
    return X[:2000], y[:2000], X[2000:], y[2000:]


def make_app(tmp: Path) -> FastAPI:
    return create_app(Network((784, 16, 16, 10), seed=0), source="a test network", output_dir=tmp,
                      data=small_data, train_default=False, use_cache=False)


@pytest.fixture
def app(tmp_path: Path) -> Iterator[FastAPI]:
    app = make_app(tmp_path)
    yield app
    app.state.trainer.shutdown()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackgroundServer]:
    """The app served by uvicorn on 127.0.0.1 (a free port), for requests no HTTP client would send."""
    app = make_app(tmp_path_factory.mktemp("served"))
    with BackgroundServer(app) as server:
        yield server
    app.state.trainer.shutdown()


def raw(server: BackgroundServer, request: bytes, timeout: float = 10.0) -> tuple[int, bytes]:
    """Send bytes as they are (no client normalises the path) and return (status, body)."""
    host, port = server.sock.getsockname()[:2]
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(request)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def get(server: BackgroundServer, path: str) -> tuple[int, bytes]:
    return raw(server, f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())


# -- schemathesis: the server against its own schema ------------------------------------------------------


# The schema is built at import (schemathesis.pytest.from_fixture fails under pytest 9: it reads the
# item's _nodeid, which pytest 9 removed), from an app of its own writing into a directory of its own.
API_OUTPUT = Path(tempfile.mkdtemp(prefix="digitnet-api-test-"))
API_APP = make_app(API_OUTPUT)
schema = schemathesis.openapi.from_asgi("/openapi.json", API_APP)


@pytest.mark.slow  # fuzzes every operation
@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
def test_every_operation_against_the_openapi_schema(case: Any) -> None:
    """No 5xx; status codes, content types and bodies as documented; invalid requests refused."""
    case.call_and_validate(checks=[not_a_server_error, status_code_conformance, content_type_conformance,
                                   response_schema_conformance, negative_data_rejection])
    key = f"{case.operation.method.upper()} {case.operation.path}"
    CASES[key] = CASES.get(key, 0) + 1


@pytest.fixture(scope="module", autouse=True)
def count_cases() -> Iterator[None]:
    yield
    API_APP.state.trainer.shutdown()
    shutil.rmtree(API_OUTPUT, ignore_errors=True)
    if CASES:
        record("api_cases", {"operations": len(CASES), "total": sum(CASES.values()), "by_operation": CASES})


# -- requests are checked ---------------------------------------------------------------------------------------

IMAGE = [0.5] * 784


@pytest.mark.parametrize(("body", "says"), [
    ({"input": [0.5] * 785}, "at most 784"),
    ({"input": [0.5] * 783}, "at least 784"),
    ({"input": [*IMAGE[:-1], "NaN"]}, "number"),  # "a valid number" (strict) or "a finite number" (lax)
    ({"input": [*IMAGE[:-1], -1]}, "greater than or equal to 0"),
    ({"input": [*IMAGE[:-1], 2]}, "less than or equal to 1"),
    ({"input": [*IMAGE[:-1], "0.5x"]}, "valid number"),
    ({"input": [*IMAGE[:-1], None]}, "valid number"),
    ({"input": "0.5"}, "valid list"),
    ({"pixels": IMAGE}, "input"),
    ({"input": IMAGE, "extra": 1}, "extra"),
])
def test_invalid_images_are_422_with_a_message(client: TestClient, body: dict, says: str) -> None:
    response = client.post("/api/forward", json=body)
    assert response.status_code == 422
    assert says.lower() in json.dumps(response.json()).lower()
    assert "input" in response.text or "pixels" in response.text  # the message says which field


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_numbers_in_raw_json_are_422(client: TestClient, token: str) -> None:
    body = '{"input": [' + ", ".join(["0.5"] * 783 + [token]) + "]}"
    response = client.post("/api/forward", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422


@pytest.mark.parametrize("label", [-1, 10, 3.5, "three", None, [3]])
def test_labels_must_be_0_to_9(client: TestClient, label: Any) -> None:
    response = client.post("/api/backprop", json={"input": IMAGE, "label": label})
    assert response.status_code == 422
    assert "label" in response.text


@pytest.mark.parametrize(("settings_", "says"), [
    ({"hidden": [100000]}, "hidden"), ({"hidden": [16] * 9}, "hidden"), ({"epochs": 10**6}, "epochs"),
    ({"batch_size": 0}, "batch_size"), ({"learning_rate": 1e9}, "learning_rate"),
    ({"learning_rate": 0}, "learning_rate"),
    ({"limit": 10**9}, "limit"), ({"activation": "tanh"}, "activation"), ({"seed": -1}, "seed"),
])
def test_training_settings_are_capped(client: TestClient, settings_: dict, says: str) -> None:
    response = client.post("/api/train", json=settings_)
    assert response.status_code == 422 and says in response.text
    assert client.get("/api/train").json()["state"] == "idle"  # nothing started


def test_a_body_over_the_cap_is_413_before_it_is_parsed(client: TestClient) -> None:
    big = b'{"input": [' + b"0.5, " * (MAX_BODY // 5) + b"0.5]}"
    assert len(big) > MAX_BODY
    response = client.post("/api/forward", content=big, headers={"content-type": "application/json"})
    assert response.status_code == 413 and "too large" in response.json()["detail"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: the server counts what arrives
        for i in range(0, len(big), 65536):
            yield big[i:i + 65536]

    response = client.post("/api/forward", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413


def test_a_lying_content_length_is_refused(server: BackgroundServer) -> None:
    status, _ = raw(server, b"POST /api/forward HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                            b"Content-Length: 99999999999\r\nConnection: close\r\n\r\n{}")
    assert status == 413


# -- only its own static files --------------------------------------------------------------------------------

TRAVERSALS = [
    "/static/../app.py", "/static/../../web/app.py", "/static/../../../../../../etc/passwd",
    "/static/%2e%2e/app.py", "/static/%2e%2e/%2e%2e/network.py", "/static/..%2fapp.py", "/static/%2e%2e%2fapp.py",
    "/static/..%5capp.py", "/static/....//app.py", "/static//etc/passwd", "/static/%2fetc%2fpasswd",
    "/static/app.js%00.py", "/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/static/.%2e/app.py",
]


@pytest.mark.parametrize("path", TRAVERSALS)
def test_paths_outside_the_static_directory_are_404(server: BackgroundServer, path: str) -> None:
    status, body = get(server, path)
    assert status == 404, (path, status)
    assert b"import" not in body and b"root:" not in body


def test_its_own_static_files_are_served(server: BackgroundServer) -> None:
    assert get(server, "/")[0] == 200
    assert get(server, "/static/app.js")[0] == 200


# -- one training at a time -----------------------------------------------------------------------------------


def test_a_second_training_is_refused_with_409(client: TestClient) -> None:
    first = client.post("/api/train", json={"hidden": [256], "epochs": 100, "seed": 1})  # many seconds
    assert first.status_code == 200 and first.json()["state"] in ("loading", "running")
    second = client.post("/api/train", json={"hidden": [8], "epochs": 1})
    assert second.status_code == 409
    assert "already" in second.json()["detail"] and "stop it or wait" in second.json()["detail"]
    assert client.get("/api/train").json()["settings"]["sizes"] == [784, 256, 10]  # the first run goes on
    assert client.post("/api/train/stop").status_code == 200


# -- clients that go away --------------------------------------------------------------------------------------


def test_clients_that_disconnect_mid_request_or_mid_stream_disturb_nothing(server: BackgroundServer) -> None:
    host, port = server.sock.getsockname()[:2]
    body = json.dumps({"input": IMAGE}).encode()
    head = (f"POST /api/forward HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    for cut in (0, len(head) // 2, len(head), len(head) + len(body) // 2, len(head) + len(body)):
        with socket.create_connection((host, port)) as s:  # half a request, or a whole one, then gone
            s.sendall((head + body)[:cut])
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # RST

    status, body_ = raw(server, b"POST /api/train HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                                b"Content-Length: 40\r\nConnection: close\r\n\r\n"
                                + b'{"hidden": [32], "epochs": 3, "seed": 2}'.ljust(40))
    assert status == 200, body_
    for _ in range(3):  # follow the training live, then vanish mid-stream
        with socket.create_connection((host, port)) as s:
            s.sendall(b"GET /api/train/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            assert s.recv(4096).startswith(b"HTTP/1.1 200")
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")

    status, answer = raw(server, head.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n") + body)
    assert status == 200 and "guess" in json.loads(answer)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        state = json.loads(get(server, "/api/train")[1])
        if state["state"] not in ("loading", "running"):
            break
        time.sleep(0.2)
    assert state["state"] == "finished" and state["epoch"] == 3


# -- listening address ---------------------------------------------------------------------------------------


def test_serve_listens_on_127_0_0_1_by_default() -> None:
    from digitnet.cli import build_parser

    assert build_parser().parse_args(["serve"]).host == "127.0.0.1"


@pytest.mark.parametrize(("host", "warned"), [("127.0.0.1", False), ("localhost", False), ("0.0.0.0", True),
                                              ("192.168.1.20", True)])
def test_serve_warns_when_the_page_is_exposed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str], host: str, warned: bool) -> None:
    """Nothing is bound to a public address: the socket is a loopback one whatever --host says,
    and serving returns at once; what is checked is what `digitnet serve` decides and says."""
    import digitnet.web.server as web_server

    asked: list[str] = []
    real_bind = web_server.bind

    def loopback_bind(h: str, port: int) -> socket.socket:
        asked.append(h)
        return real_bind("127.0.0.1", 0)

    served: list[Any] = []

    def serve_nothing(app: Any, sock: socket.socket, on_started: Any = None, log_level: str = "warning",
                      request_timeout: float = 10.0) -> None:
        served.append(app)
        sock.close()

    monkeypatch.setattr(web_server, "bind", loopback_bind)
    monkeypatch.setattr(web_server, "serve", serve_nothing)
    Network((784, 16, 16, 10), seed=0).save(tmp_path / "m.npz")
    assert main(["serve", str(tmp_path / "m.npz"), "--host", host, "--port", "0"]) == 0
    err = capsys.readouterr().err
    assert asked == [host] and len(served) == 1
    assert ("warning: listening on " + host in err) == warned
    if warned:
        assert "anyone who can reach this machine" in err and "--host 127.0.0.1" in err


def test_a_foreign_host_header_is_refused_on_loopback(tmp_path: Path) -> None:
    """DNS rebinding: a page on evil.example resolving to 127.0.0.1 cannot use the API."""
    app = create_app(Network((784, 16, 16, 10), seed=0), data=small_data, train_default=False, use_cache=False,
                     output_dir=tmp_path, allowed_hosts=["127.0.0.1", "localhost"])
    with TestClient(app, base_url="http://evil.example") as c:
        assert c.post("/api/forward", json={"input": IMAGE}).status_code == 400
    with TestClient(app, base_url="http://127.0.0.1") as c:
        assert c.post("/api/forward", json={"input": IMAGE}).status_code == 200

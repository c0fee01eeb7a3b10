"""Cross-site requests, Host tricks and errors: what the server must refuse, and how.

Each test failed before web/security.py: the state-changing requests without a body answered
200 to ``Origin: http://evil.example``, the Host check was off on 127.0.0.2 and
::ffff:127.0.0.1, a save into an unwritable directory answered plain text, and concurrent saves
under one name were all told 200.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from digitnet import Network
from digitnet.web.app import create_app
from digitnet.web.security import is_loopback, loopback_hosts
from figures import record  # type: ignore[import-not-found]  # tests/figures.py

REFUSED: list[tuple[str, str]] = []

CROSS_SITE = [{"Origin": "http://evil.example"}, {"Sec-Fetch-Site": "cross-site"},
              {"Origin": "null"}, {"Sec-Fetch-Site": "same-site", "Origin": "http://127.0.0.1:9"}]


@pytest.fixture
def client(tmp_path: Path) -> TestClient:
    return TestClient(create_app(Network((784, 8, 10), seed=0), output_dir=tmp_path, train_default=False),
                      base_url="http://127.0.0.1:8000")


def state_changing(client: TestClient) -> list[tuple[str, str]]:
    """Every (method, path) of the OpenAPI schema that may change state, path parameters filled in."""
    schema = client.get("/openapi.json").json()
    routes = [(method.upper(), path.replace("{", "").replace("}", ""))
              for path, item in schema["paths"].items() for method in item
              if method.upper() not in ("GET", "HEAD", "OPTIONS")]
    assert len(routes) >= 13  # the page's own: forward, canvas, neuron, backprop..., train..., model/original
    return routes


@pytest.mark.parametrize("headers", CROSS_SITE)
def test_every_state_changing_route_is_refused_cross_site_with_or_without_a_body(client: TestClient,
                                                                                 headers: dict[str, str]) -> None:
    for method, path in state_changing(client):
        for body in (None, {"name": "x"}):
            r = client.request(method, path, headers=headers, json=body)
            assert r.status_code == 403, (method, path, r.status_code)
            assert "only this server's own page" in r.json()["detail"]
            REFUSED.append((method, path))
    routes = sorted(set(REFUSED))
    record("cross_site_refused", {"requests": len(REFUSED), "routes": len(routes), "all_403": True})


def test_the_page_itself_and_non_browser_clients_are_let_through(client: TestClient) -> None:
    same = {"Origin": "http://127.0.0.1:8000", "Sec-Fetch-Site": "same-origin"}
    for headers in (same, {}):
        assert client.post("/api/backprop/reset", headers=headers).status_code != 403
        assert client.post("/api/forward", headers=headers, json={"input": [0.0] * 784}).status_code == 200


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "127.255.0.9", "::1", "::ffff:127.0.0.1", "localhost"])
def test_the_host_check_holds_for_every_loopback_address(host: str) -> None:
    assert is_loopback(host)
    app = create_app(Network((784, 8, 10), seed=0), train_default=False, allowed_hosts=loopback_hosts(host))
    name = f"[{host}]" if ":" in host else host
    client = TestClient(app, base_url=f"http://{name}:8000")
    assert client.get("/api/status").status_code == 200
    r = client.get("/api/status", headers={"Host": "evil.example:8000"})
    assert r.status_code == 400 and "Host" in r.json()["detail"]


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.4", "::ffff:10.0.0.1", "example.com"])
def test_other_addresses_are_not_loopback(host: str) -> None:
    assert not is_loopback(host)


def test_a_save_that_cannot_be_written_is_a_json_error(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    client = TestClient(create_app(Network((784, 8, 10), seed=0), output_dir=blocked / "sub", train_default=False))
    client.post("/api/train", json={"hidden": [4], "epochs": 1, "limit": 100})
    r = client.post("/api/train/save", json={"name": "m"})
    assert r.headers["content-type"].startswith("application/json") and "detail" in r.json()


def test_concurrent_saves_under_one_name_succeed_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from digitnet.web import trainer
    net = Network((784, 8, 10), seed=0)
    monkeypatch.setattr(trainer.Trainer, "network", lambda self: net)
    client = TestClient(create_app(net, output_dir=tmp_path, train_default=False))
    codes: list[int] = []
    barrier = threading.Barrier(10)

    def save() -> None:
        barrier.wait()
        codes.append(client.post("/api/train/save", json={"name": "same"}).status_code)

    threads = [threading.Thread(target=save) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(codes) == [200] + [409] * 9
    assert [p.name for p in tmp_path.iterdir()] == ["same.npz"] and os.path.getsize(tmp_path / "same.npz") > 0

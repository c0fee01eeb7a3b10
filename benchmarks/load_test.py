"""Load test of the web server: many clients asking the network about digits at once.

Starts ``digitnet serve MODEL`` in a subprocess on 127.0.0.1 (a free port), then runs CLIENTS
concurrent clients, each posting MNIST test digits to /api/forward (the request the page sends
while you draw) over a kept-alive connection, one after another, for DURATION seconds or until
MAX_REQUESTS have been sent, whichever comes first. Prints requests per second, the latency
percentiles and the errors, and writes them as JSON.

    python benchmarks/load_test.py                          # 50 clients for 30 s (the README's figures)
    python benchmarks/load_test.py --clients 10 --duration 3 --json -   # a quick check

The clients run in this process (asyncio, one kept-alive HTTP/1.1 connection each, no HTTP
library in the way), on the same machine as the server: the figures are for the two together, a
lower bound on what the server alone can do. An error is any response other than 200 with a
complete ForwardResponse body, and any connection failure or timeout (30 s).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).parent


def start_server(model: Path) -> tuple[subprocess.Popen, str]:
    """``digitnet serve MODEL`` on 127.0.0.1, any free port; returns the process and its URL."""
    proc = subprocess.Popen([sys.executable, "-m", "digitnet", "serve", str(model), "--host", "127.0.0.1",
                             "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    for line in proc.stdout:
        match = re.search(r"serving the page at (http://\S+/)", line)
        if match:
            return proc, match.group(1)
        if time.monotonic() > deadline:
            break
    proc.kill()
    raise RuntimeError(f"the server did not start: {proc.stderr.read() if proc.stderr else ''}")


def stop_server(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def request_bodies(n: int = 200) -> list[bytes]:
    """JSON bodies of /api/forward requests: the first n MNIST test digits."""
    from digitnet.data import load_mnist

    X, _ = load_mnist("test")
    return [json.dumps({"input": [round(float(v), 4) for v in x]}).encode() for x in X[:n]]


class Connection:
    """One kept-alive HTTP/1.1 connection, as lean as can be: the clients share this process with
    nothing else, so that the figures measure the server, not an HTTP library."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                          f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))  # type: ignore[union-attr]
        content = await self.reader.readexactly(length)
        if re.search(rb"(?i)connection: *close", head):
            await self.close()
        return status, content

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except OSError:
                pass
        self.reader = self.writer = None


async def client(host: str, port: int, bodies: list[bytes], start: int, deadline: float, budget: list[int],
                 latencies: list[float], errors: dict[str, int]) -> None:
    """One user: posts the bodies in turn over one connection, each after the answer to the one before."""
    conn = Connection(host, port)
    i = start
    while time.perf_counter() < deadline and budget[0] > 0:
        budget[0] -= 1
        body = bodies[i % len(bodies)]
        i += 1
        t0 = time.perf_counter()
        try:
            status, content = await asyncio.wait_for(conn.post("/api/forward", body), 30)
            ok = status == 200 and b'"guess"' in content and b'"layers"' in content
            key = "ok" if ok else f"HTTP {status}"
        except Exception as e:  # noqa: BLE001 -- every failure is counted, by kind
            key = type(e).__name__
            await conn.close()
        if key == "ok":
            latencies.append(time.perf_counter() - t0)
        else:
            errors[key] = errors.get(key, 0) + 1
    await conn.close()


async def load(url: str, clients: int, duration: float, max_requests: int) -> dict[str, Any]:
    host, port = re.match(r"http://([^:/]+):(\d+)/", url).groups()  # type: ignore[union-attr]
    bodies = request_bodies()
    latencies: list[float] = []
    errors: dict[str, int] = {}
    budget = [max_requests]
    # One warm-up request: the first /forward pays for imports and the first NumPy calls.
    warm = Connection(host, int(port))
    status, _ = await warm.post("/api/forward", bodies[0])
    await warm.close()
    if status != 200:
        raise RuntimeError(f"the server answered the warm-up request with {status}")
    started = time.perf_counter()
    deadline = started + duration
    await asyncio.gather(*(client(host, int(port), bodies, k * 7, deadline, budget, latencies, errors)
                           for k in range(clients)))
    elapsed = time.perf_counter() - started
    ms = np.array(latencies) * 1000
    done = len(latencies) + sum(errors.values())
    return {
        "endpoint": "POST /api/forward", "clients": clients, "duration_limit_s": duration,
        "max_requests": max_requests, "elapsed_s": round(elapsed, 2), "requests": done,
        "ok": len(latencies), "errors": sum(errors.values()), "error_kinds": errors,
        "requests_per_s": round(done / elapsed, 1),
        "latency_ms": {q: round(float(np.percentile(ms, p)), 2) if len(ms) else None
                       for q, p in (("p50", 50), ("p90", 90), ("p99", 99), ("max", 100))},
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
    }


def small_model(directory: Path) -> Path:
    """The lesson's 784-16-16-10 network, trained for one epoch on 6,000 digits (a few seconds)."""
    from digitnet import Network
    from digitnet.data import load_mnist_uint8

    X, y = load_mnist_uint8("train")
    net = Network((784, 16, 16, 10), seed=0)
    net.fit(X[:6000], y[:6000], epochs=1, learning_rate=1.5)
    path = directory / "model.npz"
    net.save(path)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50, help="concurrent clients")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds to run for at most")
    parser.add_argument("--max-requests", type=int, default=200_000, help="requests to send at most")
    parser.add_argument("--model", type=Path, default=None, help="model file to serve (default: a small one)")
    parser.add_argument("--json", default=str(HERE / "results" / "load_test.json"),
                        help="where to write the figures ('-': standard output only)")
    args = parser.parse_args(argv)
    if args.clients < 1 or args.duration <= 0 or args.max_requests < 1:
        parser.error("--clients, --duration and --max-requests must be positive")

    with tempfile.TemporaryDirectory() as tmp:
        model = args.model or small_model(Path(tmp))
        proc, url = start_server(model)
        try:
            result = asyncio.run(load(url, args.clients, args.duration, args.max_requests))
        finally:
            stop_server(proc)
    lat = result["latency_ms"]
    print(f"{result['requests']:,} requests from {args.clients} clients in {result['elapsed_s']} s: "
          f"{result['requests_per_s']:,.0f} requests/s, latency p50 {lat['p50']} ms, p99 {lat['p99']} ms, "
          f"max {lat['max']} ms; {result['errors']} errors {result['error_kinds'] or ''}".rstrip())
    if args.json != "-":
        out = Path(args.json)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2) + "\n")
        print(f"written to {out}")
    else:
        print(json.dumps(result, indent=2))
    return 0 if result["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

"""A short, bounded load test of the web server (benchmarks/load_test.py): 10 clients for 3 s
against /api/forward on 127.0.0.1, with zero errors. The README's figures come from the long run,
`python benchmarks/load_test.py` (50 clients, 30 s)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from figures import record  # type: ignore[import-not-found]  # tests/figures.py

pytestmark = pytest.mark.slow  # starts the server and a load test in processes

SCRIPT = Path(__file__).parent.parent / "benchmarks" / "load_test.py"


def test_ten_clients_for_three_seconds_get_no_errors(tmp_path: Path) -> None:
    out = tmp_path / "load.json"
    done = subprocess.run([sys.executable, str(SCRIPT), "--clients", "10", "--duration", "3",
                           "--max-requests", "20000", "--json", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(out.read_text())
    assert result["errors"] == 0 and result["error_kinds"] == {}
    assert result["ok"] == result["requests"] >= 100  # it did serve, not merely fail to fail
    assert result["elapsed_s"] < 3 + 30  # bounded: the last requests end soon after the deadline
    assert 0 < result["latency_ms"]["p50"] <= result["latency_ms"]["p99"] <= result["latency_ms"]["max"]
    record("load_test_ci", result)

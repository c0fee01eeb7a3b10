"""The first `digitnet train` after install: nothing to compile (the engine was built at install), so it
trains at once and is never silent for long."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

import digitnet


@pytest.mark.slow
def test_a_first_run_trains_at_once_and_never_goes_2_seconds_without_output(tmp_path):
    # the digitnet under test, wherever the run starts (a relative PYTHONPATH would not follow the cwd)
    here = str(Path(digitnet.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONUNBUFFERED": "1",
           "PYTHONPATH": os.pathsep.join([here] + [p for p in [os.environ.get("PYTHONPATH")] if p])}
    env.pop("DIGITNET_ENGINE", None)
    start = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "digitnet", "train", "--epochs", "1", "--limit", "600",
                             "--out", str(tmp_path / "m.npz")],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, cwd=tmp_path)
    assert proc.stdout is not None
    times, text = [start], b""
    while chunk := os.read(proc.stdout.fileno(), 4096):
        times.append(time.monotonic())
        text += chunk
    assert proc.wait(timeout=600) == 0, text.decode()
    output = text.decode()
    assert "epoch   1/1" in output and "compiling" not in output
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert max(gaps) < 2.0, (max(gaps), output)
    # and it was the compiled engine that trained, not the NumPy fallback
    probe = subprocess.run([sys.executable, "-c", "from digitnet import engine; print(engine.select('auto').__name__)"],
                           capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert probe.stdout.strip() == "_run_compiled", probe.stderr

"""digitnet sweep on a real Dask cluster: a `dask scheduler` and two `dask worker` processes on 127.0.0.1.

Nothing is mocked: the processes are dask's own command line, the trials real trainings on MNIST
(a few hundred images, one epoch, so the whole file takes a minute or two).
"""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

pytest.importorskip("distributed", reason="digitnet sweep needs dask[distributed] (the sweep extra)")

pytestmark = pytest.mark.slow

SRC = str(Path(__file__).resolve().parents[1] / "src")
ENV = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
# 24 trials: 3 networks x 2 learning rates x 4 seeds, on 500 images for one epoch.
GRID = ["--hidden", "16,16", "8", "12", "--learning-rate", "0.5", "1.5", "--seed", "0", "1", "2", "3",
        "--epochs", "1", "--limit", "500"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _dask(*args: str) -> subprocess.Popen:
    """A `dask` command in its own process group (so it and its nanny's child can be killed together)."""
    dask = Path(sys.executable).with_name("dask")
    return subprocess.Popen([str(dask), *args], env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=15)


@pytest.fixture()
def cluster() -> Iterator[dict]:
    """A scheduler and two single-threaded workers named w1 and w2; all shut down after the test."""
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    procs = {"scheduler": _dask("scheduler", "--host", "127.0.0.1", "--port", str(port),
                                "--no-dashboard")}
    try:
        time.sleep(2)
        for name in ("w1", "w2"):
            procs[name] = _dask("worker", address, "--name", name, "--nthreads", "1", "--host", "127.0.0.1",
                                "--no-dashboard")
        _wait_for_workers(address, 2)
        yield {"address": address, "procs": procs}
    finally:
        for proc in reversed(list(procs.values())):
            _stop(proc)


def _wait_for_workers(address: str, n: int, timeout: float = 60) -> None:
    from distributed import Client

    with Client(address, timeout="30s") as client:
        client.wait_for_workers(n, timeout=timeout)


def _sweep(db: Path, address: str, *extra: str, timeout: float = 400) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "digitnet", "sweep", *GRID, "--out", str(db),
                           "--scheduler", address, *extra], env=ENV, capture_output=True, text=True,
                          timeout=timeout)


def _rows(db: Path) -> list[tuple]:
    with sqlite3.connect(db) as con:
        return con.execute("SELECT id, status, worker, finished_at, model_path, settings FROM trials").fetchall()


def test_a_sweep_on_two_workers_records_every_trial_once_with_train_s_bytes(cluster: dict, tmp_path: Path) -> None:
    db = tmp_path / "sweep.db"
    done = _sweep(db, cluster["address"], "--save-models")
    assert done.returncode == 0, done.stderr
    rows = _rows(db)
    assert len(rows) == 24 and len({r[0] for r in rows}) == 24
    assert {r[1] for r in rows} == {"done"}
    assert {r[2] for r in rows} == {"w1", "w2"}  # both workers ran trials
    # One trial against `digitnet train` with the same settings, byte for byte.
    model = Path(next(r[4] for r in rows if '"hidden": [16, 16]' in r[5] and '"seed": 2' in r[5]
                      and '"learning_rate": 1.5' in r[5]))
    out = tmp_path / "train.npz"
    trained = subprocess.run([sys.executable, "-m", "digitnet", "train", "--hidden", "16,16", "--learning-rate",
                              "1.5", "--seed", "2", "--epochs", "1", "--limit", "500", "--out", str(out)],
                             env=ENV, capture_output=True, text=True, timeout=300)
    assert trained.returncode == 0, trained.stderr
    assert out.read_bytes() == model.read_bytes()


def test_a_lost_worker_s_trials_run_elsewhere_and_are_recorded_once(cluster: dict, tmp_path: Path) -> None:
    db = tmp_path / "sweep.db"
    client = subprocess.Popen([sys.executable, "-m", "digitnet", "sweep", *GRID, "--epochs", "3", "--out", str(db),
                               "--scheduler", cluster["address"]], env=ENV, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        _wait_until(lambda: _count(db, "done") >= 3, 300)
        os.killpg(cluster["procs"]["w2"].pid, signal.SIGKILL)  # worker and nanny, mid-sweep
        _, err = client.communicate(timeout=400)
    finally:
        if client.poll() is None:
            client.kill()
    assert client.returncode == 0, err
    rows = _rows(db)
    assert len(rows) == 24 and {r[1] for r in rows} == {"done"}


def test_killing_the_client_then_running_again_redoes_no_finished_trial(cluster: dict, tmp_path: Path) -> None:
    db = tmp_path / "sweep.db"
    client = subprocess.Popen([sys.executable, "-m", "digitnet", "sweep", *GRID, "--epochs", "3", "--out", str(db),
                               "--scheduler", cluster["address"]], env=ENV, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        _wait_until(lambda: _count(db, "done") >= 4, 300)
    finally:
        client.kill()  # SIGKILL: no clean-up at all
        client.wait(timeout=30)
    before = {r[0]: r[3] for r in _rows(db) if r[1] == "done"}
    assert 4 <= len(before) < 24
    again = _sweep(db, cluster["address"], "--epochs", "3")
    assert again.returncode == 0, again.stderr
    after = {r[0]: (r[1], r[3]) for r in _rows(db)}
    assert len(after) == 24 and {s for s, _ in after.values()} == {"done"}
    assert all(after[i][1] == t for i, t in before.items())  # finished rows untouched: not run again
    assert f"{len(before)} already done" in again.stderr


def test_the_local_default_needs_no_scheduler(tmp_path: Path) -> None:
    db = tmp_path / "local.db"
    done = subprocess.run([sys.executable, "-m", "digitnet", "sweep", "--hidden", "8", "--seed", "0",
                           "--epochs", "1", "--limit", "300", "--workers", "1", "--out", str(db)], env=ENV,
                          capture_output=True, text=True, timeout=400, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "sweep: 1 trial, 0 already done, 1 to run on 1 Dask worker (" in done.stderr  # not "1 trials"
    assert f"1 trial in {db}: 1 done" in done.stdout
    rows = _rows(db)
    assert len(rows) == 1 and {r[1] for r in rows} == {"done"}
    top = subprocess.run([sys.executable, "-m", "digitnet", "sweep", str(db), "--top", "1"], env=ENV,
                         capture_output=True, text=True, timeout=120)
    assert top.returncode == 0 and len(top.stdout.strip().splitlines()) == 3  # counts, header, one row


def _count(db: Path, status: str) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db, timeout=5) as con:
            return int(con.execute("SELECT COUNT(*) FROM trials WHERE status = ?", (status,)).fetchone()[0])
    except sqlite3.OperationalError:  # the table is not there yet
        return 0


def _wait_until(condition: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the sweep")
        time.sleep(0.2)

"""SIGINT and SIGTERM at each phase of a real ``digitnet train``: nothing lost, never a traceback.

Each phase is found by watching the process, not by sleeping: NumPy's library appearing in its
memory map (the imports), the MNIST archive open among its files (the data loading), an
epoch's line (mid-epoch), the progress bar at 100%
on a terminal (the final test evaluation), the model's temporary file appearing (the final
save, of a 784-2000-2000-10 network, which takes about a second). Each run must end with exit
130, the work finished by then on disk (nothing before the training, a checkpoint of whole epochs
during it, the model once it is trained) and a line saying where, and no traceback.

Before the fixes of this file's commit a Ctrl-C while NumPy was imported (the first half second)
printed a KeyboardInterrupt traceback and SIGTERM killed the process (exit -15); an interrupt after
the last epoch but before the save began lost the trained model.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import digitnet
from digitnet import Network
from digitnet.checkpoint import load_checkpoint
from figures import record  # type: ignore[import-not-found]  # tests/figures.py

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="watches the process through /proc")

SIGNALS = {"SIGINT": signal.SIGINT, "SIGTERM": signal.SIGTERM}
QUICK = ["train", "--limit", "2000", "--hidden", "16", "--engine", "numpy", "--quiet"]
BIG = ["train", "--limit", "300", "--hidden", "2000,2000", "--engine", "numpy", "--batch-size", "50",
       "--learning-rate", "0.1"]
PHASES: dict[str, dict[str, object]] = {}
# The child runs from a temporary directory: it must import the digitnet these tests import.
SOURCE = str(Path(digitnet.__file__).resolve().parents[1])
PYTHONPATH = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]


class Run:
    """``python -m digitnet ARGS`` in a subprocess, its output collected as it comes.

    ``tty``: its stderr is a terminal (so the progress bar is drawn), read through a pty.
    """

    def __init__(self, args: list[str], cwd: Path, env: dict[str, str] | None = None, tty: bool = False) -> None:
        self.out: list[str] = []
        self.err: list[str] = []
        environ = dict(os.environ, PYTHONUNBUFFERED="1", PYTHONPATH=os.pathsep.join([SOURCE, *PYTHONPATH]),
                       **(env or {}))
        if tty:  # a terminal of 24 x 120 (tqdm draws nothing on a terminal of width 0)
            err_read, err_write = pty.openpty()
            fcntl.ioctl(err_write, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))
        else:
            err_read, err_write = os.pipe()
        out_read, out_write = os.pipe()
        self.proc = subprocess.Popen([sys.executable, "-m", "digitnet", *args], cwd=cwd, env=environ,
                                     stdout=out_write, stderr=err_write)
        os.close(out_write)
        os.close(err_write)
        # Read as it comes, not by lines: the progress bar rewrites its line without ending it.
        self._threads = [self._reader(out_read, self.out), self._reader(err_read, self.err)]

    @staticmethod
    def _reader(fd: int, into: list[str]) -> threading.Thread:
        def loop() -> None:
            while True:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:  # EIO: the terminal's other end closed
                    break
                if not chunk:
                    break
                into.append(chunk.decode("utf-8", "replace"))
            os.close(fd)
        thread = threading.Thread(target=loop, daemon=True)
        thread.start()
        return thread

    def stdout(self) -> str:
        return "".join(self.out)

    def wait_for(self, seen: Callable[[], bool], what: str, timeout: float = 120) -> None:
        """Poll ``seen`` every millisecond or so until it holds; fail if the process ends first."""
        deadline = time.monotonic() + timeout
        while not seen():
            if self.proc.poll() is not None:
                raise AssertionError(f"digitnet ended before {what}:\n{self.text()}")
            if time.monotonic() > deadline:
                self.proc.kill()
                raise AssertionError(f"{what} not seen within {timeout} s:\n{self.text()}")
            time.sleep(0.001)

    def end(self, timeout: float = 120) -> int:
        code = self.proc.wait(timeout)
        for thread in self._threads:
            thread.join(10)
        return code

    def text(self) -> str:
        return "".join(self.out) + "".join(self.err)


def mapped(pid: int, library: str) -> bool:
    try:
        return library in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


def has_open(pid: int, name: str) -> bool:
    try:
        return any(name in os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return False


def interrupted_cleanly(run: Run, phase: str, sig: str) -> str:
    """The run's end: exit 130 and no traceback; returns its stderr."""
    code = run.end()
    err = "".join(run.err)
    assert "Traceback" not in run.text(), run.text()
    assert code == 130, run.text()
    PHASES.setdefault(phase, {})[sig] = code
    return err


@pytest.fixture(scope="module", autouse=True)
def figures() -> object:
    yield
    record("interrupt_phases", {phase: dict(sorted(codes.items())) for phase, codes in PHASES.items()})


@pytest.mark.parametrize("sig", SIGNALS)
def test_an_interrupt_while_numpy_is_imported_is_one_line_and_writes_nothing(tmp_path: Path, sig: str) -> None:
    run = Run([*QUICK, "--out", "m.npz"], tmp_path)
    run.wait_for(lambda: mapped(run.proc.pid, "_multiarray_umath"), "NumPy loading")
    run.proc.send_signal(SIGNALS[sig])
    err = interrupted_cleanly(run, "importing", sig)
    assert err.startswith("digitnet: interrupted") and len(err.strip().splitlines()) == 1, err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("sig", SIGNALS)
def test_an_interrupt_while_the_data_loads_writes_nothing(tmp_path: Path, sig: str) -> None:
    # An empty cache, so that the gzipped MNIST is read and decompressed (about a second).
    run = Run([*QUICK, "--out", "m.npz"], tmp_path, env={"DIGITNET_CACHE_DIR": str(tmp_path / "cache")})
    run.wait_for(lambda: has_open(run.proc.pid, "train-images-idx3-ubyte"), "the training images open")
    run.proc.send_signal(SIGNALS[sig])
    err = interrupted_cleanly(run, "loading the data", sig)
    assert err.strip() == "digitnet: interrupted before the training started; no model or checkpoint was written"
    assert [p.name for p in tmp_path.iterdir()] in ([], ["cache"])
    leftovers = [p.name for p in (tmp_path / "cache").rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []  # the cache is written atomically: whole or not at all


@pytest.mark.parametrize("sig", SIGNALS)
def test_an_interrupt_mid_epoch_keeps_the_whole_epochs_in_a_checkpoint(tmp_path: Path, sig: str) -> None:
    run = Run([*QUICK, "--epochs", "30", "--out", "m.npz"], tmp_path)
    run.wait_for(lambda: "\nepoch   1/30" in run.stdout(), "the first epoch's line")
    run.proc.send_signal(SIGNALS[sig])
    err = interrupted_cleanly(run, "mid-epoch", sig)
    ckpt = tmp_path / "m.checkpoint.npz"
    assert f"kept in checkpoint {ckpt.name}" in err and "Traceback" not in err
    net, _, _ = load_checkpoint(ckpt)
    assert 1 <= len(net.history) < 30 and not (tmp_path / "m.npz").exists()


@pytest.mark.slow
@pytest.mark.parametrize("sig", SIGNALS)
def test_an_interrupt_during_the_final_test_evaluation_keeps_the_whole_epochs(tmp_path: Path, sig: str) -> None:
    run = Run([*BIG, "--epochs", "2", "--out", "m.npz"], tmp_path, tty=True)
    run.wait_for(lambda: "\nepoch   1/2" in run.stdout(), "the first epoch's line")
    # The bar of the last epoch at 100%: its steps are done, the test images are being evaluated.
    run.wait_for(lambda: re.search(r"epoch 2/2: 100%", "".join(run.err)) is not None, "epoch 2's bar at 100%")
    run.proc.send_signal(SIGNALS[sig])
    err = interrupted_cleanly(run, "the final test evaluation", sig)
    assert "1 whole epoch kept in checkpoint m.checkpoint.npz" in err, err
    net, _, settings = load_checkpoint(tmp_path / "m.checkpoint.npz")
    assert [h["epoch"] for h in net.history] == [1] and settings["epochs"] == 2


@pytest.mark.slow
@pytest.mark.parametrize("sig", SIGNALS)
def test_an_interrupt_in_the_middle_of_the_final_save_finishes_it_and_says_where(tmp_path: Path, sig: str) -> None:
    run = Run([*BIG, "--epochs", "1", "--quiet", "--out", "m.npz"], tmp_path)
    run.wait_for(lambda: any(p.name.endswith(".tmp") for p in tmp_path.iterdir()), "the model's temporary file",
                 timeout=240)
    started = time.monotonic()
    run.proc.send_signal(SIGNALS[sig])
    err = interrupted_cleanly(run, "mid-save", sig)
    assert err.strip() == (f"digitnet: interrupted ({sig}) after the training had finished; the model is saved "
                           "in m.npz"), err
    net = Network.load(tmp_path / "m.npz")
    assert net.sizes == (784, 2000, 2000, 10) and len(net.history) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz"]  # no temporary file left, no checkpoint
    PHASES.setdefault("save_seconds_after_signal", {})[sig] = round(time.monotonic() - started, 2)

"""A process killed with SIGKILL while it saves a model never leaves a corrupt or half-written
file in place of the old one: the file at the path always loads, and is either the old model or
a complete new one. Temporary files of killed saves do not pile up: the next save removes them.

A writer process saves a large network (784-1000-1000-10, 7 MB, about half a second a save) over
the same path in a loop, each time with a different marker in one bias, and is killed at a random
moment, again and again. DIGITNET_KILL_ROUNDS sets the number of kills (default 20) and
DIGITNET_KILL_SIZES the network (e.g. 784,2000,2000,10: 21 MB).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from digitnet import Network
from figures import record  # type: ignore[import-not-found]  # tests/figures.py

pytestmark = pytest.mark.slow  # starts processes and kills them

SIZES = tuple(int(s) for s in os.environ.get("DIGITNET_KILL_SIZES", "784,1000,1000,10").split(","))
ROUNDS = int(os.environ.get("DIGITNET_KILL_ROUNDS", "20"))

WRITER = f"""
import sys
from digitnet import Network

path, marker = sys.argv[1], int(sys.argv[2])
net = Network({SIZES}, seed=0)
print("ready", flush=True)
while True:
    net.b[-1][0] = marker  # which save this is, readable from the file
    net.save(path)
    print(marker, flush=True)  # this save is complete
    marker += 1
"""


def temporaries(directory: Path) -> list[Path]:
    return sorted(directory.glob(".model.npz.*.tmp"))


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")
def test_sigkill_at_random_moments_of_a_save_never_leaves_a_broken_file(tmp_path: Path) -> None:
    reference = Network(SIZES, seed=0)
    path = tmp_path / "model.npz"
    reference.b[-1][0] = 0
    reference.save(path)
    latest, rng = 0, random.Random(1)
    killed_mid_write = 0
    for _ in range(ROUNDS):
        writer = subprocess.Popen([sys.executable, "-c", WRITER, str(path), str(latest + 1)],
                                  stdout=subprocess.PIPE, text=True)
        assert writer.stdout is not None and writer.stdout.readline() == "ready\n"
        time.sleep(rng.uniform(0.0, 1.0))  # a save takes about half a second: usually mid-write
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        completed = [int(line) for line in writer.stdout.read().split()]
        writer.stdout.close()
        left = temporaries(tmp_path)
        assert len(left) <= 1, left  # at most the killed writer's own, never one per kill
        killed_mid_write += any(f".{writer.pid}." in p.name for p in left)

        net = Network.load(path)  # complete and uncorrupted: loading checks every part
        marker = int(net.b[-1][0])
        # The old model, the last one reported complete, or the next (renamed into place just
        # before the kill, not yet reported).
        last = completed[-1] if completed else latest
        assert marker in (last, last + 1)
        net.b[-1][0] = reference.b[-1][0] = 0
        for a, b in zip(net.W + net.b, reference.W + reference.b):
            np.testing.assert_array_equal(a, b)
        latest = marker

    assert killed_mid_write >= ROUNDS // 2  # the test did hit the dangerous moment, many times
    record("kill_during_save", {"kills": ROUNDS, "killed_mid_write": killed_mid_write, "sizes": list(SIZES),
                                "file_bytes": path.stat().st_size, "broken_files": 0})
    reference.save(path)  # a save after the kills removes what they left behind
    assert temporaries(tmp_path) == []
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]


def test_a_temporary_file_of_a_live_process_is_left_alone(tmp_path: Path) -> None:
    """Only files of processes that no longer exist are removed (this one is ours, and a
    process of another user, such as pid 1, is left alone too)."""
    mine = tmp_path / f".model.npz.{os.getpid()}.abc.tmp"
    init = tmp_path / ".model.npz.1.abc.tmp"
    other = tmp_path / ".other.npz.999999999.abc.tmp"
    for p in (mine, init, other):
        p.write_bytes(b"partial")
    Network((4, 3, 2), seed=0).save(tmp_path / "model.npz")
    assert mine.exists() and init.exists() and other.exists()

"""Every path a user hands digitnet, and every save it makes over one (issue: nothing lost, nothing let in).

Each test here failed before the shared mechanisms in files.py, model_file.py and cli/train.py:
a FIFO blocked forever, /dev/zero was read until memory ran out, a small header asked for
seconds and gigabytes, a diverged or zero-epoch run replaced a good model, a text file or a
device at --out was replaced, and replaced files came out 0600.
"""

from __future__ import annotations

import gzip
import json
import os
import signal
import socket
import stat
import struct
import time
import tracemalloc
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from digitnet import Network
from digitnet.checkpoint import load_checkpoint, save_checkpoint
from digitnet.cli import main
from digitnet.data import read_idx
from digitnet.errors import DataError, DigitNetError, ModelFileError
from digitnet.preprocess import load_image
from digitnet.training import SGD
from figures import record  # type: ignore[import-not-found]  # tests/figures.py

REFUSED: dict[str, list] = {"path_kinds": [], "crafted": []}


@pytest.fixture(scope="module", autouse=True)
def figures() -> Iterator[None]:
    yield
    import datetime
    import platform
    record("measured", {"machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
                        "date": datetime.date.today().isoformat()})
    kinds = REFUSED["path_kinds"]
    record("path_kinds_refused", {"cases": len(kinds), "kinds": sorted({k for k, _, _ in kinds}),
                                  "readers": sorted({r for _, r, _ in kinds}),
                                  "slowest_s": round(max((t for _, _, t in kinds), default=0), 4)})
    crafted = REFUSED["crafted"]
    record("crafted_headers_refused", {"cases": len(crafted),
                                       "peak_mb": round(max((m for m, _ in crafted), default=0) / 2**20, 1),
                                       "slowest_s": round(max((t for _, t in crafted), default=0), 3)})

load = Network.load

pytestmark = pytest.mark.skipif(os.name != "posix", reason="FIFOs, sockets and devices are POSIX")


@pytest.fixture
def alarm() -> Iterator[None]:
    """Fail instead of hanging if a reader blocks (the FIFO case)."""
    def fail(signum: int, frame: object) -> None:
        raise TimeoutError("the reader blocked")
    previous = signal.signal(signal.SIGALRM, fail)
    signal.alarm(5)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def path_of_kind(tmp_path: Path, kind: str) -> tuple[Path, str]:
    """A path that is not a regular file, and the words digitnet must use for it."""
    if kind == "fifo":
        p = tmp_path / "pipe"
        os.mkfifo(p)
        return p, "named pipe"
    if kind == "directory":
        p = tmp_path / "dir"
        p.mkdir()
        return p, "directory"
    if kind == "socket":
        p = tmp_path / "sock"
        s = socket.socket(socket.AF_UNIX)
        s.bind(str(p))
        return p, "socket"
    if kind == "link-to-zero":
        p = tmp_path / "zero"
        p.symlink_to("/dev/zero")
        return p, "character device"
    return Path("/dev/urandom"), "character device"


KINDS = ["fifo", "directory", "socket", "link-to-zero", "device"]
READERS: dict[str, tuple[Callable[[Path], object], type[DigitNetError]]] = {
    "model": (load, ModelFileError),
    "checkpoint": (load_checkpoint, ModelFileError),
    "idx": (read_idx, DataError),
    "image": (load_image, DataError),
}


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("reader", READERS)
def test_every_reader_refuses_what_is_not_a_regular_file_by_name(tmp_path: Path, alarm: None, kind: str,
                                                                  reader: str) -> None:
    path, words = path_of_kind(tmp_path, kind)
    read, error = READERS[reader]
    started = time.perf_counter()
    with pytest.raises(error, match=words) as caught:
        read(path)
    assert str(path) in str(caught.value)
    seconds = time.perf_counter() - started
    assert seconds < 1
    REFUSED["path_kinds"].append((kind, reader, seconds))


def peak_of(fn: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        fn()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


def refused_fast_and_small(fn: Callable[[], object], error: type[Exception], match: str) -> None:
    def attempt() -> None:
        with pytest.raises(error, match=match):
            fn()
    started = time.perf_counter()
    attempt()
    seconds = time.perf_counter() - started
    assert seconds < 1
    peak = peak_of(attempt)  # timed apart: tracing slows Python several times
    assert peak < 150 * 2**20
    REFUSED["crafted"].append((peak, seconds))


def crafted_model(path: Path, header: dict, arrays: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("header.json", json.dumps(header))
        for name, raw in arrays.items():
            zf.writestr(f"{name}.npy", raw)
    return path


def npy(shape: tuple[int, ...], dtype: str) -> bytes:
    return npy_of(np.zeros(shape, dtype=dtype))


def npy_of(a: np.ndarray) -> bytes:
    import io
    f = io.BytesIO()
    np.lib.format.write_array(f, a)
    return f.getvalue()


def test_digitnet_loads_its_own_files_however_well_their_arrays_compress(tmp_path: Path) -> None:
    # A checkpoint of a run without momentum holds velocities of zeros: deflated 1000:1, it was
    # refused by the inflation limit, so the run could not be resumed.
    net = Network((784, 2000, 10), seed=0)
    opt = SGD(1.0, 0.0, 0.0, [np.zeros_like(W) for W in net.W], [np.zeros_like(b) for b in net.b])
    net.history = [{"epoch": 1, "train_cost": 0.5}]
    settings = {"epochs": 2, "batch_size": 10, "learning_rate": 1.0, "momentum": 0.0, "weight_decay": 0.0,
                "learning_rate_decay": 1.0, "hidden": [2000], "activation": "sigmoid", "cost": "quadratic",
                "seed": 0, "dtype": "float32", "engine": "auto", "data": None, "limit": None}
    save_checkpoint(tmp_path / "c.npz", net, opt, settings)
    np.testing.assert_array_equal(load_checkpoint(tmp_path / "c.npz")[0].W[0], net.W[0])
    net.W[0][:] = 0.25  # one value everywhere
    net.save(tmp_path / "m.npz")
    np.testing.assert_array_equal(load(tmp_path / "m.npz").W[0], net.W[0])


HEADER = {"format": "digitnet-model", "version": 1, "activation": "sigmoid", "cost": "quadratic",
          "dtype": "float64", "seed": 0, "history": []}


def test_a_header_of_millions_of_layer_sizes_is_refused_at_once(tmp_path: Path) -> None:
    sizes = np.random.default_rng(0).integers(1, 10, 1_000_000).tolist()  # 3 MB of JSON, 0.6 MB zipped
    path = crafted_model(tmp_path / "m.npz", {**HEADER, "sizes": sizes}, {})
    refused_fast_and_small(lambda: load(path), ModelFileError, "layer sizes")


def test_a_model_whose_weights_inflate_a_thousandfold_is_refused_before_it_is_read(tmp_path: Path) -> None:
    sizes = [784, 12_500, 10]  # 10 M float64 parameters, 80 MB of zeros in a file of about 80 KB
    path = crafted_model(tmp_path / "m.npz", {**HEADER, "sizes": sizes},
                         {"W0": npy((12_500, 784), "float64"), "b0": npy((12_500,), "float64"),
                          "W1": npy((10, 12_500), "float64"), "b1": npy((10,), "float64")})
    assert path.stat().st_size < 200_000
    refused_fast_and_small(lambda: load(path), ModelFileError, "DIGITNET_MAX_INFLATION")


def test_the_inflation_limit_can_be_raised_for_a_real_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    net = Network((784, 12_500, 10), seed=0, dtype=np.float64)
    net.W[0][:] = 0.0  # deflated, compresses far beyond what real weights do (digitnet itself would store it)
    arrays = {f"{k}{i}": npy_of(getattr(net, k)[i]) for i in range(2) for k in "Wb"}
    crafted_model(tmp_path / "m.npz", {**HEADER, "sizes": list(net.sizes)}, arrays)
    monkeypatch.setenv("DIGITNET_MAX_INFLATION", "100")
    with pytest.raises(ModelFileError, match="DIGITNET_MAX_INFLATION"):
        load(tmp_path / "m.npz")
    monkeypatch.setenv("DIGITNET_MAX_INFLATION", "100000")
    np.testing.assert_array_equal(load(tmp_path / "m.npz").W[1], net.W[1])


def test_an_archive_listing_more_entries_than_allowed_is_refused_from_its_end_record(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    Network((4, 3, 2), seed=0).save(tmp_path / "m.npz")
    raw = bytearray((tmp_path / "m.npz").read_bytes())
    end = raw.rindex(b"PK\x05\x06")
    raw[end + 8:end + 12] = struct.pack("<HH", 65535, 65535)  # claims the most entries a zip can
    (tmp_path / "big.npz").write_bytes(raw)
    monkeypatch.setenv("DIGITNET_MAX_ZIP_ENTRIES", "1000")
    refused_fast_and_small(lambda: load(tmp_path / "big.npz"), ModelFileError, "65,535 entries")


def test_a_gzipped_idx_bomb_is_refused_from_its_header(tmp_path: Path) -> None:
    header = bytes([0, 0, 8, 3]) + struct.pack(">3I", 100_000, 28, 28)
    path = tmp_path / "bomb.gz"
    with gzip.open(path, "wb") as g:
        g.write(header)
        for _ in range(78):
            g.write(bytes(1 << 20))  # 78 MB of zeros in about 80 KB
    assert path.stat().st_size < 200_000
    refused_fast_and_small(lambda: read_idx(path), DataError, "DIGITNET_MAX_INFLATION")


def test_nan_in_a_checkpoints_history_or_a_huge_batch_size_is_refused_at_load(tmp_path: Path) -> None:
    net = Network((4, 3, 2), seed=0)
    net.history = [{"epoch": 1, "train_cost": float("nan")}]
    settings = {"epochs": 2, "batch_size": 10, "learning_rate": 1.0, "momentum": 0.0, "weight_decay": 0.0,
                "learning_rate_decay": 1.0, "hidden": [3], "activation": "sigmoid", "cost": "quadratic",
                "seed": 0, "dtype": "float32", "engine": "auto", "data": None, "limit": None}
    opt = SGD(1.0, 0.0, 0.0, [np.zeros_like(W) for W in net.W], [np.zeros_like(b) for b in net.b])
    import digitnet.model_file as mf
    original = mf.json.dumps
    mf.json.dumps = lambda obj, **kw: original(obj, **{**kw, "allow_nan": True})
    try:
        save_checkpoint(tmp_path / "nan.npz", net, opt, settings)
    finally:
        mf.json.dumps = original
    with pytest.raises(ModelFileError, match="NaN"):
        load_checkpoint(tmp_path / "nan.npz")
    net.history = [{"epoch": 1, "train_cost": 0.5}]
    save_checkpoint(tmp_path / "huge.npz", net, opt, {**settings, "batch_size": 10**20})
    with pytest.raises(ModelFileError, match="batch size"):
        load_checkpoint(tmp_path / "huge.npz")


def test_show_history_of_a_history_without_epochs_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    net = Network((784, 3, 10), seed=0)
    net.history = [{"train_cost": 0.5}]
    net.save(tmp_path / "m.npz")
    monkeypatch.chdir(tmp_path)
    assert main(["show", "history", str(tmp_path / "m.npz")]) == 2
    assert "history record 1" in capsys.readouterr().err


# -- saving ------------------------------------------------------------------------------------------------------


def test_a_non_model_file_a_device_or_a_fifo_is_never_replaced(tmp_path: Path) -> None:
    net = Network((4, 3, 2), seed=0)
    text = tmp_path / "notes.txt"
    text.write_text("my notes")
    with pytest.raises(ModelFileError, match="not a digitnet model file"):
        net.save(text)
    assert text.read_text() == "my notes"
    fifo, _ = path_of_kind(tmp_path, "fifo")
    for target in (fifo, Path("/dev/null")):
        with pytest.raises(ModelFileError, match="only replaces regular files"):
            net.save(target)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode) and stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_a_replaced_model_keeps_its_permissions_and_a_link_is_written_through(tmp_path: Path) -> None:
    old, new = Network((4, 3, 2), seed=0), Network((4, 3, 2), seed=1)
    real = tmp_path / "real.npz"
    old.save(real)
    os.chmod(real, 0o640)
    link = tmp_path / "link.npz"
    link.symlink_to(real)
    new.save(link)
    assert link.is_symlink() and stat.S_IMODE(os.stat(real).st_mode) == 0o640
    np.testing.assert_array_equal(load(real).W[0], new.W[0])
    fresh = tmp_path / "fresh.npz"
    new.save(fresh)
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(os.stat(fresh).st_mode) == 0o666 & ~umask


def test_an_interrupt_during_the_final_save_finishes_it_and_says_where(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from digitnet.cli import train
    net = Network((4, 3, 2), seed=0)
    net.history = [{"epoch": 1, "test_accuracy": 0.5}]
    saving = net.save

    def save_interrupted(path: Path) -> None:
        os.kill(os.getpid(), signal.SIGINT)  # arrives while the file is written
        os.kill(os.getpid(), signal.SIGTERM)
        saving(path)

    net.save = save_interrupted  # type: ignore[method-assign,assignment]
    assert train._save_finished(net, tmp_path / "m.npz", None, None) == 130
    record("interrupt_during_final_save", {"signals": ["SIGINT", "SIGTERM"], "model_on_disk": True})
    np.testing.assert_array_equal(load(tmp_path / "m.npz").W[0], net.W[0])
    err = capsys.readouterr().err
    assert "interrupted (SIGINT)" in err and str(tmp_path / "m.npz") in err


def test_blank_images_are_reported_not_guessed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    Network((784, 3, 10), seed=0).save(tmp_path / "m.npz")
    Image.new("L", (1, 1), 255).save(tmp_path / "dot.png")
    Image.new("RGBA", (40, 40), (0, 0, 0, 0)).save(tmp_path / "clear.png")
    assert main(["predict", str(tmp_path / "m.npz"), str(tmp_path / "dot.png"), str(tmp_path / "clear.png"),
                 "--json"]) == 0
    results = json.loads(capsys.readouterr().out)
    assert [r["blank"] for r in results] == [True, True] and all(r["guess"] is None for r in results)


TRAIN = ["train", "--limit", "300", "--hidden", "8", "--engine", "numpy", "--quiet", "--epochs", "1"]


def test_a_diverged_or_zero_epoch_run_never_replaces_a_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                                             ) -> None:
    out = tmp_path / "model.npz"
    assert main([*TRAIN, "--out", str(out)]) == 0
    good = out.read_bytes()
    assert main([*TRAIN, "--epochs", "0", "--out", str(out)]) == 2
    assert "--epochs 0" in capsys.readouterr().err
    assert main([*TRAIN, "--learning-rate", "1e6", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert out.read_bytes() == good and "model.diverged.npz" in err and "left as it was" in err
    assert (tmp_path / "model.diverged.npz").exists()
    assert main([*TRAIN, "--out", str(out)]) == 0
    assert f"it replaced {out}: a 784-8-10 model of 1 epoch, test accuracy" in capsys.readouterr().out


def test_out_and_checkpoint_are_checked_before_training(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("keep me")
    started = time.perf_counter()
    assert main([*TRAIN, "--out", str(notes)]) == 2
    assert "not a digitnet model file" in capsys.readouterr().err and notes.read_text() == "keep me"
    assert main([*TRAIN, "--out", str(tmp_path / "m.npz"), "--checkpoint", str(tmp_path / "no" / "c.npz")]) == 2
    err = capsys.readouterr().err
    assert "--checkpoint" in err and "does not exist" in err
    assert not (tmp_path / "m.npz").exists() and time.perf_counter() - started < 5
    assert main([*TRAIN, "--batch-size", str(10**20), "--out", str(tmp_path / "m.npz")]) == 2
    assert "batch size" in capsys.readouterr().err

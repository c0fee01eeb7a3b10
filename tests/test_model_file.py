"""Model files: a round trip keeps every bit; every kind of damaged, foreign or hostile file is
refused with a ModelFileError (and never runs code); a failed save never harms an existing file."""

from __future__ import annotations

import errno
import io
import json
import os
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest

from digitnet import Network
from digitnet.errors import ModelFileError


@pytest.fixture
def trained(blobs) -> Network:
    """A small trained network with a two-epoch history."""
    net = Network((20, 8, 3), activation="relu", cost="cross-entropy", seed=3)
    net.fit(blobs["X"], blobs["y"], epochs=2, learning_rate=0.5,
            validation_data=(blobs["X_test"], blobs["y_test"]))
    return net


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def npy(a: np.ndarray, allow_pickle: bool = False) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, a, allow_pickle=allow_pickle)
    return buf.getvalue()


def rewrite(src: Path, dst: Path, header: dict | None = None, replace: dict[str, bytes] | None = None,
            drop: tuple[str, ...] = ()) -> Path:
    """A copy of model file ``src`` at ``dst`` with a changed header and members, built with zipfile alone."""
    parts = members(src)
    if header is not None:
        parts["header.json"] = json.dumps(header).encode()
    parts.update(replace or {})
    with zipfile.ZipFile(dst, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            if name not in drop:
                zf.writestr(name, data)
    return dst


def header_of(path: Path) -> dict:
    return json.loads(members(path)["header.json"])


# -- round trip ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("activation, cost, dtype", [
    ("sigmoid", "quadratic", np.float32),
    ("relu", "cross-entropy", np.float64),
])
def test_save_then_load_gives_the_same_network(tmp_path, activation, cost, dtype):
    net = Network((784, 16, 16, 10), activation=activation, cost=cost, seed=11, dtype=dtype)
    rng = np.random.default_rng(0)
    net.b = [rng.normal(size=b.shape).astype(dtype) for b in net.b]  # non-zero biases must survive too
    net.save(tmp_path / "model.npz")
    loaded = Network.load(tmp_path / "model.npz")
    assert (loaded.sizes, loaded.activation, loaded.cost_name, loaded.dtype, loaded.seed) == (
        (784, 16, 16, 10), activation, cost, dtype, 11)
    for a, b in zip(net.W + net.b, loaded.W + loaded.b):
        assert b.dtype == dtype
        np.testing.assert_array_equal(a, b)  # bit for bit: a model file stores the exact numbers
    X = rng.random((50, 784))
    np.testing.assert_array_equal(loaded.predict_proba(X), net.predict_proba(X))
    np.testing.assert_array_equal(loaded.predict(X), net.predict(X))


def test_history_is_saved_without_the_wall_clock_seconds(tmp_path, trained):
    path = tmp_path / "m.npz"
    trained.save(str(path))  # a str path works as well as a Path
    loaded = Network.load(str(path))
    assert len(loaded.history) == 2
    for saved, original in zip(loaded.history, trained.history):
        assert "seconds" in original and "seconds" not in saved
        assert set(saved) == set(original) - {"seconds"}
        for key, value in saved.items():
            np.testing.assert_allclose(value, original[key], rtol=1e-15)
    header = header_of(path)
    assert header["format"] == "digitnet-model" and header["version"] == 1
    assert header["sizes"] == [20, 8, 3] and header["seed"] == 3


def test_saving_twice_gives_byte_identical_files(tmp_path, trained):
    trained.save(tmp_path / "a.npz")
    trained.save(tmp_path / "b.npz")
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()


def test_the_file_holds_only_json_and_plain_arrays(tmp_path, trained):
    trained.save(tmp_path / "m.npz")
    parts = members(tmp_path / "m.npz")
    assert sorted(parts) == ["W0.npy", "W1.npy", "b0.npy", "b1.npy", "header.json"]
    # Readable by plain NumPy with pickles off: nothing in the file needs digitnet to be read.
    with np.load(tmp_path / "m.npz", allow_pickle=False) as npz:
        np.testing.assert_array_equal(npz["W1"], trained.W[1])


# -- files that are not (valid) model files ------------------------------------------------------------------

def test_a_missing_file(tmp_path):
    with pytest.raises(ModelFileError, match="does not exist") as e:
        Network.load(tmp_path / "nope.npz")
    assert "nope.npz" in str(e.value)


def test_a_directory(tmp_path):
    with pytest.raises(ModelFileError, match="directory"):
        Network.load(tmp_path)


@pytest.mark.parametrize("keep", [0, 10, 100, 0.5, 0.9, -1])
def test_a_truncated_file(tmp_path, trained, keep):
    trained.save(tmp_path / "m.npz")
    data = (tmp_path / "m.npz").read_bytes()
    n = int(len(data) * keep) if isinstance(keep, float) else keep % len(data)
    (tmp_path / "cut.npz").write_bytes(data[:n])
    with pytest.raises(ModelFileError, match="cut.npz"):
        Network.load(tmp_path / "cut.npz")


def test_a_file_of_another_kind(tmp_path):
    (tmp_path / "notes.npz").write_text("these are not weights\n")
    with pytest.raises(ModelFileError, match="not a digitnet model file"):
        Network.load(tmp_path / "notes.npz")


def test_a_zip_without_header_such_as_np_savez(tmp_path):
    np.savez(tmp_path / "plain.npz", W0=np.zeros((16, 784)), b0=np.zeros(16))
    with pytest.raises(ModelFileError, match="no header"):
        Network.load(tmp_path / "plain.npz")


@pytest.mark.parametrize("change, message", [
    ({"version": 2}, "version 2"),
    ({"version": None}, "version None"),
    ({"format": "something-else"}, "not a digitnet model file"),
    ({"sizes": [20, 9, 3]}, "W0"),  # tampered shape: the arrays no longer match the header
    ({"sizes": [20, 8]}, "W1"),  # a layer dropped from the header: W1, b1 have no place
    ({"sizes": [20, -8, 3]}, "sizes"),
    ({"sizes": "20-8-3"}, "sizes"),
    ({"sizes": [20, 10**9, 3]}, "larger"),
    ({"dtype": "float64"}, "W0"),  # the float32 arrays are half the size a float64 header promises
    ({"dtype": "object"}, "dtype"),
    ({"activation": "tanh"}, "tanh"),
    ({"cost": ["quadratic"]}, "cost"),
    ({"seed": -3}, "seed"),
    ({"history": "none"}, "history"),
])
def test_a_header_that_does_not_match(tmp_path, trained, change, message):
    trained.save(tmp_path / "m.npz")
    header = {**header_of(tmp_path / "m.npz"), **change}
    bad = rewrite(tmp_path / "m.npz", tmp_path / "bad.npz", header=header)
    with pytest.raises(ModelFileError, match="bad.npz") as e:
        Network.load(bad)
    assert message in str(e.value)


def test_a_header_that_is_not_json(tmp_path, trained):
    trained.save(tmp_path / "m.npz")
    bad = rewrite(tmp_path / "m.npz", tmp_path / "bad.npz", replace={"header.json": b"\xff{not json"})
    with pytest.raises(ModelFileError, match="corrupt header"):
        Network.load(bad)


def test_a_missing_array(tmp_path, trained):
    trained.save(tmp_path / "m.npz")
    bad = rewrite(tmp_path / "m.npz", tmp_path / "bad.npz", drop=("b1.npy",))
    with pytest.raises(ModelFileError, match="b1 is missing"):
        Network.load(bad)


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_nan_or_infinite_weights(tmp_path, trained, value):
    trained.save(tmp_path / "m.npz")
    W = trained.W[1].copy()
    W[1, 2] = value
    bad = rewrite(tmp_path / "m.npz", tmp_path / "bad.npz", replace={"W1.npy": npy(W)})
    with pytest.raises(ModelFileError, match="W1 holds NaN or infinite"):
        Network.load(bad)


def test_an_array_of_the_wrong_shape_or_dtype(tmp_path, trained):
    trained.save(tmp_path / "m.npz")
    for replacement in (trained.W[0].T.copy(), trained.W[0].astype(np.float64)[:, :12],
                        trained.W[0].astype(np.int32)):
        bad = rewrite(tmp_path / "m.npz", tmp_path / "bad.npz", replace={"W0.npy": npy(replacement)})
        with pytest.raises(ModelFileError, match="W0"):
            Network.load(bad)


def test_an_array_claiming_to_be_huge_is_refused_before_it_is_read(tmp_path, trained):
    # A deflated run of zeros: a few kB on disk, 16 MB once read. The declared size gives it away.
    trained.save(tmp_path / "m.npz")
    parts = members(tmp_path / "m.npz")
    with zipfile.ZipFile(tmp_path / "bomb.npz", "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            if name != "W0.npy":
                zf.writestr(name, data)
        with zf.open("W0.npy", "w", force_zip64=True) as f:
            f.write(parts["W0.npy"][:128])
            chunk = bytes(1 << 20)
            for _ in range(16):
                f.write(chunk)
    with pytest.raises(ModelFileError, match="W0 has .* bytes"):
        Network.load(tmp_path / "bomb.npz")


class _Marker:
    """Unpickling this object would create a file: proof that code ran."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (Path.touch, (Path(self.path),))


def test_a_pickle_in_the_file_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "pickle-ran"
    payload = np.empty(1, dtype=object)
    payload[0] = _Marker(str(marker))
    # Sanity: this payload does run code when unpickled (so the test below could fail).
    pickle.loads(pickle.dumps(payload[0]))
    assert marker.exists()
    marker.unlink()

    net = Network((2, 2, 2), seed=0)
    net.save(tmp_path / "m.npz")
    # The object array replaces W0 (its size is within what a (2, 2) float32 member may take, so
    # the size check lets it through to the reader, which must refuse pickles).
    evil_member = npy(payload, allow_pickle=True)
    assert b"touch" in evil_member
    bad = rewrite(tmp_path / "m.npz", tmp_path / "evil.npz", replace={"W0.npy": evil_member})
    with pytest.raises(ModelFileError, match="W0"):
        Network.load(bad)
    assert not marker.exists()
    # The header too is JSON, never unpickled: a pickle there is just a corrupt header.
    bad = rewrite(tmp_path / "m.npz", tmp_path / "evil2.npz", replace={"header.json": pickle.dumps(payload[0])})
    with pytest.raises(ModelFileError):
        Network.load(bad)
    assert not marker.exists()


# -- saving -----------------------------------------------------------------------------------------------------

def test_saving_into_a_missing_directory(tmp_path):
    net = Network((4, 3, 2), seed=0)
    with pytest.raises(ModelFileError, match="does not exist"):
        net.save(tmp_path / "no" / "such" / "dir" / "m.npz")
    assert list(tmp_path.iterdir()) == []


def test_saving_onto_a_directory(tmp_path):
    net = Network((4, 3, 2), seed=0)
    (tmp_path / "d").mkdir()
    with pytest.raises(ModelFileError, match="directory"):
        net.save(tmp_path / "d")
    assert list((tmp_path / "d").iterdir()) == []


def test_a_network_with_nan_weights_is_not_saved(tmp_path):
    net = Network((4, 3, 2), seed=0)
    net.W[1][0, 0] = np.nan
    with pytest.raises(ModelFileError, match="W1"):
        net.save(tmp_path / "m.npz")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("fail_at", [1, 3])
def test_a_save_that_fails_midway_leaves_the_old_file_intact(tmp_path, monkeypatch, fail_at, trained):
    path = tmp_path / "model.npz"
    trained.save(path)
    old = path.read_bytes()

    other = Network((20, 8, 3), activation="relu", cost="cross-entropy", seed=99)
    real_write_array = np.lib.format.write_array
    calls = []

    def failing_write_array(*args, **kwargs):
        calls.append(1)
        if len(calls) == fail_at:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write_array(*args, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", failing_write_array)
    with pytest.raises(ModelFileError, match="No space left on device") as e:
        other.save(path)
    assert "model.npz" in str(e.value)
    assert len(calls) == fail_at  # the failure did happen midway through the save
    monkeypatch.undo()

    assert path.read_bytes() == old
    assert sorted(os.listdir(tmp_path)) == ["model.npz"]  # no temporary file left behind
    np.testing.assert_array_equal(Network.load(path).W[0], trained.W[0])


def test_saving_replaces_an_existing_file(tmp_path, trained):
    path = tmp_path / "model.npz"
    Network((20, 8, 3), seed=1).save(path)
    trained.save(path)
    np.testing.assert_array_equal(Network.load(path).W[0], trained.W[0])
    assert sorted(os.listdir(tmp_path)) == ["model.npz"]

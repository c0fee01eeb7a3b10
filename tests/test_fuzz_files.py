"""Fuzzing the file readers: model files, checkpoints and IDX files.

Whatever bytes a file holds (truncated, bit-flipped, random, a wrong magic number, a wrong dtype,
absurd dimensions, a wrong version, a pickle), reading it either gives back exactly what was
saved or raises digitnet's own error (ModelFileError, DataError) with a message naming the file;
nothing else escapes, no code in the file runs, and no memory is allocated that the file's real
size cannot back.

Each property runs a few hundred to a thousand cases here (all of this file stays well under two
minutes on two cores); DIGITNET_FUZZ_EXAMPLES=N runs N cases each instead. With DIGITNET_FIGURES
set, the number of cases run is written there (see figures.py).
"""

from __future__ import annotations

import gzip
import io
import json
import os
import struct
import tracemalloc
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from digitnet import Network
from digitnet.checkpoint import load_checkpoint, save_checkpoint
from digitnet.data import read_idx, write_idx
from digitnet.errors import DataError, ModelFileError
from digitnet.model_file import header_of
from digitnet.training import SGD
from figures import record  # type: ignore[import-not-found]  # tests/figures.py

pytestmark = pytest.mark.slow  # fuzzes long

EXAMPLES = int(os.environ.get("DIGITNET_FUZZ_EXAMPLES", "0"))
CASES: Counter[str] = Counter()


def fuzz(default: int) -> Callable[[Any], Any]:
    """Hypothesis settings: ``default`` cases (or $DIGITNET_FUZZ_EXAMPLES), no deadline."""
    return settings(max_examples=EXAMPLES or default, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                           HealthCheck.data_too_large, HealthCheck.large_base_example])


@pytest.fixture(scope="module", autouse=True)
def count_cases() -> Iterator[None]:
    yield
    record("fuzz_cases", {**dict(sorted(CASES.items())), "total": sum(CASES.values())})


# -- what is fuzzed ------------------------------------------------------------------------------------------------


def trained_model() -> Network:
    """A small float32 network with a two-epoch history (as if trained)."""
    net = Network((6, 4, 3), seed=1)
    for epoch in (1, 2):
        net.rng.permutation(60)  # the shuffle an epoch draws, so the random state moved on
        net.history.append({"epoch": epoch, "learning_rate": 0.5, "train_cost": 0.5 / epoch,
                            "train_accuracy": 0.4 * epoch})
    return net


SETTINGS = {"epochs": 4, "batch_size": 10, "learning_rate": 0.5, "momentum": 0.9, "weight_decay": 0.0,
            "learning_rate_decay": 1.0, "hidden": [4], "activation": "sigmoid", "cost": "quadratic", "seed": 1,
            "dtype": "float32", "data": None, "limit": None}


@pytest.fixture(scope="module")
def originals(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The intact files the damage is done to: two model files, a checkpoint, three IDX files."""
    d = tmp_path_factory.mktemp("originals")
    net = trained_model()
    net.save(d / "model.npz")
    Network((5, 4, 4, 2), activation="relu", cost="cross-entropy", seed=2, dtype=np.float64).save(d / "relu.npz")
    opt = SGD(0.5, 0.9)
    opt.init_state(net)
    opt.vW = [np.full_like(W, 0.25) for W in net.W]
    save_checkpoint(d / "checkpoint.npz", net, opt, SETTINGS)
    write_idx(d / "images.idx", np.arange(60, dtype=np.uint8).reshape(5, 3, 4))
    write_idx(d / "images.idx.gz", np.arange(60, dtype=np.uint8).reshape(5, 3, 4))
    write_idx(d / "floats.idx", np.linspace(-1, 1, 12, dtype=np.float32).reshape(3, 4))
    return {p.name: p.read_bytes() for p in d.iterdir()}


MODELS = ["model.npz", "relu.npz", "checkpoint.npz"]
IDX_FILES = ["images.idx", "images.idx.gz", "floats.idx"]


@st.composite
def damage(draw: st.DrawFn, content: bytes) -> bytes:
    """``content`` truncated, bit-flipped, overwritten, grown, or with another magic number."""
    data = bytearray(content)
    n = len(data)
    kind = draw(st.sampled_from(["truncate", "flip", "overwrite", "insert", "magic", "flip+truncate"]))
    if "flip" in kind:
        for pos, mask in draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(1, 255)), min_size=1,
                                       max_size=4)):
            data[pos] ^= mask
    if "truncate" in kind:
        data = data[:draw(st.integers(0, n - 1))]
    if kind == "overwrite":
        pos, junk = draw(st.integers(0, n - 1)), draw(st.binary(min_size=1, max_size=32))
        data[pos:pos + len(junk)] = junk
    if kind == "insert":
        pos, junk = draw(st.integers(0, n)), draw(st.binary(min_size=1, max_size=32))
        data[pos:pos] = junk
    if kind == "magic":
        data[:4] = draw(st.binary(min_size=4, max_size=4).filter(lambda m: m != bytes(data[:4])))
    return bytes(data)


def read_model(path: Path, name: str) -> tuple[Network, SGD | None, dict | None]:
    if name == "checkpoint.npz":
        return load_checkpoint(path)
    return Network.load(path), None, None


def assert_same(a: tuple[Network, SGD | None, dict | None], b: tuple[Network, SGD | None, dict | None]) -> None:
    (net_a, opt_a, settings_a), (net_b, opt_b, settings_b) = a, b
    assert net_a.sizes == net_b.sizes and net_a.dtype == net_b.dtype and net_a.history == net_b.history
    for x, y in zip(net_a.W + net_a.b, net_b.W + net_b.b):
        np.testing.assert_array_equal(x, y)
    assert settings_a == settings_b
    if opt_a is not None and opt_b is not None:
        for x, y in zip(opt_a.vW + opt_a.vb, opt_b.vW + opt_b.vb):
            np.testing.assert_array_equal(x, y)
        assert net_a.rng.bit_generator.state == net_b.rng.bit_generator.state


def outcome(read: Callable[[Path], Any], path: Path, error: type[Exception]) -> Any:
    """What ``read(path)`` gives, or None if it raised ``error`` naming the file. Anything else
    (another exception, a message without the file's name) fails the test."""
    try:
        return read(path)
    except error as e:
        assert str(path) in str(e), f"the message does not name the file: {e}"
        return None


# -- model files and checkpoints --------------------------------------------------------------------------------


@fuzz(1500)
@given(data=st.data(), name=st.sampled_from(MODELS))
def test_a_damaged_model_file_loads_as_saved_or_is_a_model_file_error(
        tmp_path: Path, originals: dict[str, bytes], data: st.DataObject, name: str) -> None:
    path = tmp_path / "damaged.npz"
    path.write_bytes(data.draw(damage(originals[name])))
    got = outcome(lambda p: read_model(p, name), path, ModelFileError)
    if got is not None:  # the damage missed everything that matters (e.g. a zip timestamp)
        (tmp_path / "intact.npz").write_bytes(originals[name])
        assert_same(got, read_model(tmp_path / "intact.npz", name))
    CASES["model files: damaged"] += 1


PREFIXES = [b"", b"PK\x03\x04", b"PK\x05\x06", b"\x93NUMPY\x01\x00", b"\x80\x04\x95", b"\x1f\x8b\x08", b"{"]


@fuzz(600)
@given(prefix=st.sampled_from(PREFIXES), body=st.binary(max_size=600))
def test_random_bytes_are_never_a_model_file(tmp_path: Path, prefix: bytes, body: bytes) -> None:
    path = tmp_path / "random.npz"
    path.write_bytes(prefix + body)
    for read in (Network.load, load_checkpoint):
        assert outcome(read, path, ModelFileError) is None
    CASES["model files: random bytes"] += 1


def npy(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array(buf, a, allow_pickle=a.dtype == object)
    return buf.getvalue()


def npy_claiming(shape: tuple[int, ...], descr: str, pad_to: int) -> bytes:
    """A .npy header declaring ``shape`` of ``descr``, padded with zeros to ``pad_to`` bytes."""
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": descr, "fortran_order": False, "shape": shape})
    head = buf.getvalue()
    return head + bytes(max(0, pad_to - len(head)))


class Planted:
    """A pickle that creates the directory ``marker`` when it is unpickled."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return os.mkdir, (self.marker,)


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
                    max_leaves=10)


# Wrong values for each header field, each beside random JSON.
WRONG_HEADER: dict[str, list[Any]] = {
    "format": ["digitnet-checkpoint", "npz", "", None],
    "version": [0, 2, 1.0, "1", True, 10**30, None],
    "sizes": [[6, 4], [6, 4, 3, 3], [3, 4, 6], [6, 0, 3], [6, -4, 3], [6, 2**31, 3], [2**40, 2**40], [6, 4.0, 3],
              [6, True, 3], [1] * 10_000, [784, 100000, 1000], "6,4,3", []],
    "activation": ["relu", "tanh", "", ["sigmoid"], None],
    "cost": ["cross-entropy", "hinge", None],
    "dtype": ["float64", "float16", "int8", "object", "O", "V8", "", None],
    "seed": [2, -1, 2**64, 2**200, 1.5, "1", None, True],
    "history": [[], [1, 2], [{"epoch": float("nan")}], {"epoch": 1}, None],
}
WRONG_MEMBER = ["missing", "fortran order", "float64", "big-endian", "int32", "transposed", "flat", "NaN", "pickle",
                "claims 40 GB", "claims object dtype", "truncated", "cut to 20 bytes", "npy version 9", "not npy"]


def wrong_member(a: np.ndarray, how: str, marker: str) -> bytes | None:
    """The .npy bytes of array ``a`` spoilt in the way ``how``, or None for a missing member."""
    nan = a.copy()
    nan.flat[0] = np.nan
    return {
        "missing": None, "fortran order": npy(np.asfortranarray(a)),  # the right values: loads fine
        "float64": npy(a.astype(np.float64)), "big-endian": npy(a.astype(a.dtype.newbyteorder(">"))),
        "int32": npy(a.astype(np.int32)), "transposed": npy(a.T), "flat": npy(a.ravel()), "NaN": npy(nan),
        "pickle": npy(np.array([Planted(marker)], dtype=object)),  # runs code if unpickled
        "claims 40 GB": npy_claiming((100_000, 100_000), "<f4", len(npy(a))),
        "claims object dtype": npy_claiming(a.shape, "O", len(npy(a))),
        "truncated": npy(a)[:-3], "cut to 20 bytes": npy(a)[:20],
        "npy version 9": b"\x93NUMPY\x09\x00" + npy(a)[8:], "not npy": b"not a numpy file",
    }[how]


@st.composite
def crafted_checkpoint(draw: st.DrawFn, net: Network, opt: SGD, marker: str
                       ) -> tuple[dict[str, bytes | None], set[str]]:
    """The members of a zip archive holding a real checkpoint, with up to three faults (a header
    field, the checkpoint's state, the header's bytes, an array, an extra member), and the faults."""
    header = header_of(net)
    header["checkpoint"] = {"epoch": len(net.history), "rng_state": net.rng.bit_generator.state,
                            "settings": SETTINGS}
    arrays = {}
    for l in range(len(net.W)):
        arrays.update({f"W{l}": net.W[l], f"b{l}": net.b[l], f"vW{l}": opt.vW[l], f"vb{l}": opt.vb[l]})
    faults = draw(st.sets(st.sampled_from([*WRONG_HEADER, "checkpoint", "header.json", "extra member", *arrays]),
                          max_size=3))
    for field, wrong in WRONG_HEADER.items():
        if field in faults:
            header[field] = draw(st.sampled_from(wrong) | JSON)
    if "checkpoint" in faults:
        state = net.rng.bit_generator.state
        settings_key = draw(st.sampled_from(sorted(SETTINGS)))
        header["checkpoint"] = draw(st.sampled_from([
            "absent",
            {**header["checkpoint"], "epoch": 5},
            {**header["checkpoint"], "rng_state": {**state, "state": {"state": -1, "inc": 2**200}}},
            {**header["checkpoint"], "rng_state": {**state, "bit_generator": "MT19937"}},
            {**header["checkpoint"], "rng_state": "PCG64"},
            {**header["checkpoint"], "settings": {k: v for k, v in SETTINGS.items() if k != settings_key}},
        ]) | st.builds(lambda value: {**header["checkpoint"], "settings": {**SETTINGS, settings_key: value}}, JSON))
        if header["checkpoint"] == "absent":
            del header["checkpoint"]
    members: dict[str, bytes | None] = {"header.json": json.dumps(header).encode()}
    if "header.json" in faults:
        members["header.json"] = draw(st.sampled_from([b"", b"\xff\xfe", b"[" * 5000, b"{}", b"null"]))
    for name, a in arrays.items():
        members[f"{name}.npy"] = (wrong_member(a, draw(st.sampled_from(WRONG_MEMBER)), marker) if name in faults
                                  else npy(a))
    if "extra member" in faults:
        members[draw(st.sampled_from(["W2.npy", "b7.npy", "extra.npy", "header.json"]))] = npy(np.zeros(3, np.float32))
    return members, faults


def write_zip(path: Path, members: dict[str, bytes | None], stored: bool) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED) as zf:
        for name, content in members.items():
            if content is not None:
                zf.writestr(name, content)


@pytest.fixture(scope="module")
def intact_checkpoint(originals: dict[str, bytes], tmp_path_factory: pytest.TempPathFactory
                      ) -> tuple[Network, SGD, dict]:
    path = tmp_path_factory.mktemp("intact") / "checkpoint.npz"
    path.write_bytes(originals["checkpoint.npz"])
    return load_checkpoint(path)


@fuzz(1500)
@given(data=st.data(), stored=st.booleans())
def test_a_crafted_model_file_loads_as_saved_or_is_a_model_file_error_and_runs_no_code(
        tmp_path: Path, intact_checkpoint: tuple[Network, SGD, dict], data: st.DataObject, stored: bool) -> None:
    """Well-formed zip archives with wrong headers (version, sizes, dtype, seed, settings, random
    state...) and wrong members (dtype, shape, byte order, NaN, pickles, lying .npy headers)."""
    marker = tmp_path / "pickle-ran"
    path = tmp_path / "crafted.npz"
    members, faults = data.draw(crafted_checkpoint(intact_checkpoint[0], intact_checkpoint[1], str(marker)))
    write_zip(path, members, stored)
    loaded = [outcome(read, path, ModelFileError) for read in (Network.load, load_checkpoint)]
    assert not marker.exists(), "loading a model file ran code from a pickle"
    if not faults:
        assert loaded[0] is not None and loaded[1] is not None
        assert_same(loaded[1], intact_checkpoint)
    for got in loaded:
        if got is None:
            continue
        # It loaded: then it is what the file says, every array as saved. (A header field changed
        # to another valid value, such as activation "relu", describes another network, and loads.)
        net, opt = (got[0], got[1]) if isinstance(got, tuple) else (got, None)
        header = json.loads(members["header.json"])  # type: ignore[arg-type]
        assert [list(net.sizes), net.activation, net.cost_name, np.dtype(net.dtype).name, net.seed, net.history] == [
            header[k] for k in ("sizes", "activation", "cost", "dtype", "seed", "history")]
        for l in range(len(net.W)):  # (a header may describe fewer layers, if their arrays are gone too)
            np.testing.assert_array_equal(net.W[l], intact_checkpoint[0].W[l])
            np.testing.assert_array_equal(net.b[l], intact_checkpoint[0].b[l])
        if opt is not None:
            assert got[2] == header["checkpoint"]["settings"]
            for l in range(len(net.W)):
                np.testing.assert_array_equal(opt.vW[l], intact_checkpoint[1].vW[l])
                np.testing.assert_array_equal(opt.vb[l], intact_checkpoint[1].vb[l])
    CASES["model files: crafted"] += 1


def set_declared_size(archive: bytes, member: str, size: int) -> bytes:
    """``archive`` with the uncompressed size of ``member`` in its central directory set to ``size``."""
    data = bytearray(archive)
    at = data.find(b"PK\x01\x02")
    while at >= 0:
        name_len = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46:at + 46 + name_len] == member.encode():
            struct.pack_into("<I", data, at + 24, size)
        at = data.find(b"PK\x01\x02", at + 4)
    return bytes(data)


@fuzz(300)
@given(sizes=st.lists(st.integers(1, 2**40), min_size=2, max_size=5), dtype=st.sampled_from(["float32", "float64"]),
       claimed=st.integers(0, 2**32 - 1), npy_shape=st.lists(st.integers(0, 2**31), min_size=1, max_size=3))
def test_absurd_dimensions_allocate_nothing(tmp_path: Path, originals: dict[str, bytes], sizes: list[int],
                                            dtype: str, claimed: int, npy_shape: list[int]) -> None:
    """Headers, zip entries and .npy headers claiming gigabytes, in a file of a few kB: refused
    with at most a few MB of memory used (numpy's allocations are traced too)."""
    (tmp_path / "intact.npz").write_bytes(originals["model.npz"])
    with zipfile.ZipFile(tmp_path / "intact.npz") as zf:
        members: dict[str, bytes | None] = {n: zf.read(n) for n in zf.namelist()}
    header = json.loads(members["header.json"])  # type: ignore[arg-type]
    members["header.json"] = json.dumps({**header, "sizes": sizes, "dtype": dtype}).encode()
    members["W0.npy"] = npy_claiming(tuple(npy_shape), "<f4" if dtype == "float32" else "<f8", 200)
    path = tmp_path / "absurd.npz"
    write_zip(path, members, stored=False)
    path.write_bytes(set_declared_size(path.read_bytes(), "b0.npy", claimed))
    tracemalloc.start()
    try:
        got = outcome(Network.load, path, ModelFileError)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert got is None
    assert peak < 8 * 2**20, f"{peak:,} bytes allocated reading a {path.stat().st_size:,}-byte file"
    CASES["model files: absurd dimensions"] += 1


def test_a_pickled_network_or_object_array_never_runs(tmp_path: Path) -> None:
    """The ways a pickle can be dressed as a model file: a raw pickle, np.save of an object
    array, np.savez with object members under the right names."""
    import pickle

    marker = tmp_path / "pickle-ran"
    evil = np.array([Planted(str(marker))], dtype=object)
    (tmp_path / "raw.npz").write_bytes(pickle.dumps(Planted(str(marker))))
    with open(tmp_path / "object.npz", "wb") as f:
        np.save(f, evil, allow_pickle=True)
    np.savez(tmp_path / "savez.npz", allow_pickle=True, W0=evil, b0=evil, W1=evil, b1=evil)
    with zipfile.ZipFile(tmp_path / "savez.npz", "a") as zf:
        zf.writestr("header.json", json.dumps(header_of(Network((6, 4, 3), seed=0))))
    for name in ("raw.npz", "object.npz", "savez.npz"):
        for read in (Network.load, load_checkpoint):
            assert outcome(read, tmp_path / name, ModelFileError) is None
    assert not marker.exists()


# -- IDX files -------------------------------------------------------------------------------------------------------


def check_idx(array: np.ndarray, content: bytes) -> None:
    """An array read from an IDX file: native order, a known dtype, no more data than the file's."""
    assert isinstance(array, np.ndarray) and array.dtype.isnative
    assert array.dtype in {np.dtype(t) for t in ("u1", "i1", "i2", "i4", "f4", "f8")}
    raw = gzip.decompress(content) if content[:2] == b"\x1f\x8b" else content
    assert 4 + 4 * array.ndim + array.nbytes == len(raw)


@fuzz(1500)
@given(data=st.data(), name=st.sampled_from(IDX_FILES))
def test_a_damaged_idx_file_reads_as_an_array_of_its_size_or_is_a_data_error(
        tmp_path: Path, originals: dict[str, bytes], data: st.DataObject, name: str) -> None:
    content = data.draw(damage(originals[name]))
    path = tmp_path / "damaged.idx"
    path.write_bytes(content)
    got = outcome(read_idx, path, DataError)
    if got is not None:
        check_idx(got, content)
    CASES["IDX files: damaged"] += 1


@fuzz(600)
@given(prefix=st.sampled_from([b"", b"\x00\x00\x08\x03", b"\x00\x00\x0d\x01", b"\x1f\x8b\x08\x00"]),
       body=st.binary(max_size=300), gz=st.booleans())
def test_random_bytes_read_as_an_array_of_their_size_or_are_a_data_error(
        tmp_path: Path, prefix: bytes, body: bytes, gz: bool) -> None:
    content = gzip.compress(prefix + body) if gz else prefix + body
    path = tmp_path / "random.idx"
    path.write_bytes(content)
    got = outcome(read_idx, path, DataError)
    if got is not None:
        check_idx(got, content)
    CASES["IDX files: random bytes"] += 1


@fuzz(600)
@given(code=st.integers(0, 255), dims=st.lists(st.integers(0, 2**32 - 1), min_size=0, max_size=8),
       ndim_lie=st.integers(-2, 2), data=st.binary(max_size=64), gz=st.booleans(),
       magic=st.binary(min_size=2, max_size=2))
def test_wrong_magic_dtype_or_absurd_dimensions_allocate_nothing(
        tmp_path: Path, code: int, dims: list[int], ndim_lie: int, data: bytes, gz: bool, magic: bytes) -> None:
    """Any type code, any number of dimensions (declared and present may differ), dimensions up
    to 2**32 - 1, any first two bytes: an array that really is in the file, or a DataError, with
    at most a few MB allocated."""
    ndim = min(255, max(0, len(dims) + ndim_lie))
    raw = magic + bytes([code, ndim]) + struct.pack(f">{len(dims)}I", *dims) + data
    content = gzip.compress(raw) if gz else raw
    path = tmp_path / "absurd.idx"
    path.write_bytes(content)
    tracemalloc.start()
    try:
        got = outcome(read_idx, path, DataError)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    if got is not None:
        check_idx(got, content)
    assert peak < 4 * 2**20, f"{peak:,} bytes allocated reading a {len(content):,}-byte file"
    CASES["IDX files: absurd headers"] += 1


def test_a_damaged_cache_file_cannot_claim_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """load_mnist's on-disk cache: a cached array whose header claims 44 GB is ignored, and the
    data come from the source file, with no more memory than the data need."""
    from digitnet.data import cache_dir, load_mnist_uint8

    monkeypatch.setenv("DIGITNET_CACHE_DIR", str(tmp_path / "cache"))
    X, y = load_mnist_uint8("test")
    (cached,) = (cache_dir() / "idx-v1").glob("*.npy")
    with open(cached, "wb") as f:
        np.lib.format.write_array_header_1_0(f, {"descr": "|u1", "fortran_order": False,
                                                 "shape": (10_000_000, 28, 28)})
        f.write(bytes(100))
    tracemalloc.start()
    try:
        X2, y2 = load_mnist_uint8("test")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    np.testing.assert_array_equal(X2, X)
    assert peak < 4 * X.nbytes


@pytest.mark.parametrize("gz", [False, True])
def test_an_empty_array_with_absurd_other_dimensions_is_a_data_error(tmp_path: Path, gz: bool) -> None:
    """Found by the long fuzzing run: (0, 2**32 - 1, 2**32 - 1, 2**32 - 1) holds 0 bytes, but NumPy
    cannot make that shape ("array is too big", a ValueError)."""
    raw = bytes([0, 0, 0x08, 4]) + struct.pack(">4I", 0, 2**32 - 1, 2**32 - 1, 2**32 - 1)
    path = tmp_path / "empty.idx"
    path.write_bytes(gzip.compress(raw) if gz else raw)
    with pytest.raises(DataError, match="empty array"):
        read_idx(path)
    write_idx(tmp_path / "fine.idx", np.zeros((0, 28, 28), np.uint8))  # a real empty set still reads
    assert read_idx(tmp_path / "fine.idx").shape == (0, 28, 28)


@fuzz(60)
@given(claimed=st.integers(2**20, 2**31), kind=st.sampled_from(["zip", "gzip"]))
def test_a_member_or_stream_claiming_far_more_than_it_inflates_to_is_refused_small(
        tmp_path: Path, claimed: int, kind: str) -> None:
    """A zip member or a gzipped IDX file whose header claims up to 2 GiB from a few KB of file is
    refused from the claim alone, with at most a few MB allocated (no deflate bomb is inflated)."""
    CASES["claims beyond the file"] += 1
    path = tmp_path / ("m.npz" if kind == "zip" else "x.idx.gz")
    rows = max(1, claimed // 784)
    if kind == "zip":
        header = {"format": "digitnet-model", "version": 1, "sizes": [784, rows], "activation": "sigmoid",
                  "cost": "quadratic", "dtype": "float32", "seed": 0, "history": []}
        raw = io.BytesIO()
        np.lib.format.write_array_header_1_0(raw, {"descr": "<f4", "fortran_order": False, "shape": (rows, 784)})
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("header.json", json.dumps(header))
            zf.writestr("W0.npy", raw.getvalue() + bytes(min(rows * 784 * 4, 1 << 16)))
            zf.writestr("b0.npy", raw.getvalue())
        read: Callable[[], object] = lambda: load_checkpoint(path)  # noqa: E731
        error: type[Exception] = ModelFileError
    else:
        with gzip.open(path, "wb") as g:
            g.write(bytes([0, 0, 8, 2]) + struct.pack(">2I", rows, 784) + bytes(min(rows * 784, 1 << 16)))
        read, error = (lambda: read_idx(path)), DataError
    tracemalloc.start()
    try:
        with pytest.raises(error):
            read()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 * 2**20

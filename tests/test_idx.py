"""The IDX reader and writer: round trips, the exact bytes of the format, and every corruption."""

from __future__ import annotations

import gzip
import struct
import tracemalloc
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from digitnet.data import read_idx, read_idx_header, write_idx
from digitnet.errors import DataError

DTYPES = ["uint8", "int8", "int16", "int32", "float32", "float64"]
CODES = {"uint8": 0x08, "int8": 0x09, "int16": 0x0B, "int32": 0x0C, "float32": 0x0D, "float64": 0x0E}


def idx_bytes(code: int, shape: tuple[int, ...], data: bytes) -> bytes:
    """An IDX file built by hand from the format's definition, independent of write_idx."""
    return bytes([0, 0, code, len(shape)]) + struct.pack(f">{len(shape)}I", *shape) + data


def sample(dtype: str, shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if np.issubdtype(np.dtype(dtype), np.integer):
        info = np.iinfo(dtype)
        a = rng.integers(info.min, info.max, size=shape, endpoint=True).astype(dtype)
        a.flat[:2] = [info.min, info.max][: a.size]
        return a
    return rng.standard_normal(shape).astype(dtype) * 1e3


# ---------------------------------------------------------------- round trips


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["a.idx", "a.idx.gz"])
@pytest.mark.parametrize("shape", [(7,), (3, 4, 5), (2, 1, 3, 2)])
def test_round_trip(tmp_path: Path, dtype: str, name: str, shape: tuple[int, ...]) -> None:
    a = sample(dtype, shape)
    write_idx(tmp_path / name, a)
    b = read_idx(tmp_path / name)
    assert b.dtype == np.dtype(dtype) and b.dtype.isnative
    assert b.shape == shape
    np.testing.assert_array_equal(b, a)
    assert read_idx_header(tmp_path / name) == (np.dtype(dtype), shape)


def test_round_trip_of_big_endian_input_and_special_floats(tmp_path: Path) -> None:
    a = np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-300], dtype=">f8")
    write_idx(tmp_path / "f.idx", a)
    b = read_idx(tmp_path / "f.idx")
    np.testing.assert_array_equal(b, a.astype("<f8"))
    assert np.signbit(b[1])


def test_empty_dimension_round_trips(tmp_path: Path) -> None:
    write_idx(tmp_path / "e.idx.gz", np.zeros((0, 28, 28), np.uint8))
    assert read_idx(tmp_path / "e.idx.gz").shape == (0, 28, 28)


def test_written_bytes_follow_the_format(tmp_path: Path) -> None:
    write_idx(tmp_path / "u8.idx", np.array([[1, 2, 3], [4, 5, 6]], np.uint8))
    assert (tmp_path / "u8.idx").read_bytes() == bytes.fromhex("000008020000000200000003010203040506")
    write_idx(tmp_path / "i16.idx", np.array([-2, 258], np.int16))
    assert (tmp_path / "i16.idx").read_bytes() == bytes.fromhex("00000B0100000002FFFE0102")
    write_idx(tmp_path / "f32.idx.gz", np.array([1.5], np.float32))
    assert gzip.decompress((tmp_path / "f32.idx.gz").read_bytes()) == bytes.fromhex("00000D01000000013FC00000")


@pytest.mark.parametrize("dtype", DTYPES)
def test_reads_hand_made_files(tmp_path: Path, dtype: str) -> None:
    a = sample(dtype, (2, 3), seed=1)
    data = a.astype(np.dtype(dtype).newbyteorder(">")).tobytes()
    (tmp_path / "h.idx").write_bytes(idx_bytes(CODES[dtype], (2, 3), data))
    np.testing.assert_array_equal(read_idx(tmp_path / "h.idx"), a)


def test_gzip_is_recognised_by_content_not_name(tmp_path: Path) -> None:
    raw = idx_bytes(0x08, (3,), b"\x07\x08\x09")
    (tmp_path / "looks-plain.idx").write_bytes(gzip.compress(raw))
    (tmp_path / "looks-gzipped.gz").write_bytes(raw)
    np.testing.assert_array_equal(read_idx(tmp_path / "looks-plain.idx"), [7, 8, 9])
    np.testing.assert_array_equal(read_idx(tmp_path / "looks-gzipped.gz"), [7, 8, 9])


def test_gzip_output_is_reproducible(tmp_path: Path) -> None:
    a = sample("uint8", (10, 10))
    write_idx(tmp_path / "1.gz", a)
    write_idx(tmp_path / "2.gz", a)
    assert (tmp_path / "1.gz").read_bytes() == (tmp_path / "2.gz").read_bytes()


def test_write_replaces_atomically_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    write_idx(tmp_path / "a.idx", np.arange(3, dtype=np.uint8))
    write_idx(tmp_path / "a.idx", np.arange(5, dtype=np.uint8))
    with pytest.raises(DataError):
        write_idx(tmp_path / "a.idx", np.arange(5, dtype=np.int64))
    np.testing.assert_array_equal(read_idx(tmp_path / "a.idx"), np.arange(5))
    assert [p.name for p in tmp_path.iterdir()] == ["a.idx"]


@pytest.mark.parametrize(
    ("array", "match"),
    [
        (np.arange(3, dtype=np.int64), "no element type for int64"),
        (np.array(3, dtype=np.uint8), "1 to 255 dimensions"),
        (np.array(["a"]), "no element type"),
    ],
)
def test_write_rejects_what_idx_cannot_hold(tmp_path: Path, array: np.ndarray, match: str) -> None:
    with pytest.raises(DataError, match=match):
        write_idx(tmp_path / "x.idx", array)


def test_write_into_missing_directory_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no-such-dir"):
        write_idx(tmp_path / "no-such-dir" / "x.idx", np.arange(3, dtype=np.uint8))


# ---------------------------------------------------------------- corruptions

GOOD = idx_bytes(0x08, (2, 3), bytes(range(6)))


def corrupt_cases() -> dict[str, tuple[bytes, str]]:
    """name -> (file content, what the error must say)."""
    return {
        "empty": (b"", "truncated IDX header"),
        "truncated magic": (GOOD[:3], "truncated IDX header"),
        "truncated dims": (GOOD[:9], "truncated IDX header"),
        "truncated data": (GOOD[:-1], "truncated IDX data"),
        "trailing bytes": (GOOD + b"\x00", "trailing bytes"),
        "wrong magic": (b"\x89PNG" + GOOD[4:], "not an IDX file"),
        "one nonzero magic byte": (b"\x00\x01" + GOOD[2:], "not an IDX file"),
        "bad dtype code": (bytes([0, 0, 0x0A]) + GOOD[3:], "unknown IDX element type 0x0A"),
        "zero dimensions": (bytes([0, 0, 8, 0]), "0 dimensions"),
        "absurd dims": (idx_bytes(0x0E, (2**32 - 1, 2**32 - 1), b""), "more than the"),
    }


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize("case", list(corrupt_cases()))
def test_corrupt_files_raise_data_error_naming_the_file(tmp_path: Path, case: str, gz: bool) -> None:
    content, match = corrupt_cases()[case]
    path = tmp_path / "bad-file.idx"
    path.write_bytes(gzip.compress(content) if gz else content)
    with pytest.raises(DataError, match=match) as info:
        read_idx(path)
    assert "bad-file.idx" in str(info.value)


def test_a_single_byte_file_is_a_truncated_header(tmp_path: Path) -> None:
    (tmp_path / "one").write_bytes(b"\x1f")
    with pytest.raises(DataError, match="truncated IDX header"):
        read_idx(tmp_path / "one")


def gz_cases() -> dict[str, bytes]:
    packed = gzip.compress(idx_bytes(0x08, (100,), bytes(range(100))))
    bad_crc = bytearray(packed)
    bad_crc[-8] ^= 0xFF  # the CRC32 in the trailer
    bad_length = bytearray(packed)
    bad_length[-4] ^= 0x01  # the ISIZE in the trailer
    flipped = bytearray(packed)
    flipped[len(packed) // 2] ^= 0xFF
    return {
        "truncated stream": packed[: len(packed) // 2],
        "missing trailer": packed[:-8],
        "bad crc": bytes(bad_crc),
        "bad length": bytes(bad_length),
        "flipped byte": bytes(flipped),
        "only gzip magic": b"\x1f\x8b",
        "bad gzip header": b"\x1f\x8b\x09" + packed[3:],
        "trailing garbage": packed + b"garbage!",
    }


@pytest.mark.parametrize("case", list(gz_cases()))
def test_bad_gzip_raises_data_error(tmp_path: Path, case: str) -> None:
    path = tmp_path / "bad.gz"
    path.write_bytes(gz_cases()[case])
    with pytest.raises(DataError, match="bad.gz"):
        read_idx(path)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such file"):
        read_idx(tmp_path / "missing.idx")
    with pytest.raises(DataError, match="is a directory"):
        read_idx(tmp_path)
    with pytest.raises(DataError, match="no such file"):
        read_idx_header(tmp_path / "missing.idx")


def test_max_bytes_is_enforced(tmp_path: Path) -> None:
    write_idx(tmp_path / "a.idx", np.zeros(100, np.uint8))
    with pytest.raises(DataError, match="100 bytes, more than the 99 allowed"):
        read_idx(tmp_path / "a.idx", max_bytes=99)
    assert read_idx(tmp_path / "a.idx", max_bytes=100).shape == (100,)


def peak_bytes_while(fn) -> int:
    tracemalloc.start()
    try:
        fn()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzip"])
def test_lying_header_allocates_nothing_it_claims(tmp_path: Path, gz: bool) -> None:
    # Claims 1.5 GB (under the 2 GiB limit) but carries 10 bytes.
    content = idx_bytes(0x08, (50_000, 30_000), bytes(10))
    path = tmp_path / "liar.idx"
    path.write_bytes(gzip.compress(content) if gz else content)

    def read() -> None:
        with pytest.raises(DataError, match="truncated IDX data|DIGITNET_MAX_INFLATION"):
            read_idx(path)

    assert peak_bytes_while(read) < 4 * 2**20


def test_gzip_bomb_is_stopped_one_byte_past_the_declared_size(tmp_path: Path) -> None:
    # Declares 100 bytes, decompresses to 64 MB of zeros.
    z = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: a gzip container
    parts = [z.compress(idx_bytes(0x08, (100,), b""))]
    zeros = bytes(2**20)
    parts += [z.compress(zeros) for _ in range(64)]
    parts.append(z.flush())
    path = tmp_path / "bomb.gz"
    path.write_bytes(b"".join(parts))

    def read() -> None:
        with pytest.raises(DataError, match="trailing bytes"):
            read_idx(path)

    assert peak_bytes_while(read) < 4 * 2**20


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    gz=st.booleans(),
    cut=st.integers(0, 200),
    flips=st.lists(st.tuples(st.integers(0, 199), st.integers(1, 255)), max_size=3),
)
def test_damaged_files_give_an_array_or_a_data_error_and_nothing_else(
    tmp_path: Path, gz: bool, cut: int, flips: list[tuple[int, int]]
) -> None:
    raw = idx_bytes(0x0B, (3, 5), sample("int16", (3, 5)).astype(">i2").tobytes())
    content = bytearray(gzip.compress(raw) if gz else raw)
    for pos, mask in flips:
        if pos < len(content):
            content[pos] ^= mask
    path = tmp_path / "fuzz.idx"
    path.write_bytes(bytes(content[:cut]))
    try:
        out = read_idx(path)
    except DataError:
        return
    assert isinstance(out, np.ndarray)

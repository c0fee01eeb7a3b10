"""The IDX file format, in which MNIST is published, read and written safely.

An IDX file is a small header followed by the raw array, all big-endian:

    bytes 0-1   0x00 0x00
    byte  2     the element type: 0x08 uint8, 0x09 int8, 0x0B int16,
                0x0C int32, 0x0D float32, 0x0E float64
    byte  3     the number of dimensions, d
    d x 4 bytes the size of each dimension (unsigned 32-bit)
    then        the elements, in C (row-major) order

MNIST's training images are `00 00 08 03`, then 60000, 28, 28, then 47,040,000
pixels. The files are usually gzipped; `read_idx` recognises gzip by its magic
bytes (1f 8b), not by the file name.

The reader never trusts the header with memory: an uncompressed file's declared
size is compared with its real size before anything is read, and a gzipped
stream is decompressed piece by piece, stopping one byte past the declared size,
so a lying header or a gzip bomb cannot make it allocate more than the data
that is really there. Every failure is a `DataError` naming the file.
"""

from __future__ import annotations

import gzip
import io
import os
import struct
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Protocol

import numpy as np

from digitnet.errors import DataError
from digitnet.files import atomic_write, inflation_allowed, limit, open_regular

# IDX type code -> NumPy dtype as stored in the file (big-endian).
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
# The reverse lookup, keyed by kind and size so either byte order maps to its code.
_CODES: dict[tuple[str, int], int] = {(dt.kind, dt.itemsize): code for code, dt in IDX_DTYPES.items()}

GZIP_MAGIC = b"\x1f\x8b"
MAX_BYTES = 2**31  # no IDX data set we read comes near 2 GiB; $DIGITNET_MAX_IDX_BYTES lowers or raises it
_CHUNK = 1 << 20


class _Readable(Protocol):
    """A binary stream: an open file or a GzipFile."""

    def read(self, size: int = -1, /) -> bytes: ...


def _read_exact(f: _Readable, n: int) -> bytes:
    """Read up to n bytes, looping over short reads; fewer only at end of file."""
    parts = []
    while n > 0:
        part = f.read(n)
        if not part:
            break
        parts.append(part)
        n -= len(part)
    return b"".join(parts)


def _parse_header(f: _Readable, path: Path, max_bytes: int) -> tuple[np.dtype, tuple[int, ...], int, int]:
    """Read and check the header; return (file dtype, shape, data bytes, header bytes)."""
    magic = _read_exact(f, 4)
    if len(magic) < 4:
        raise DataError(
            f"{path}: truncated IDX header ({len(magic)} of 4 magic bytes). The file is incomplete; download it again."
        )
    if magic[0] != 0 or magic[1] != 0:
        raise DataError(
            f"{path}: not an IDX file (magic number {magic.hex()} does not start with 0000). "
            "Check that this is an MNIST-format file, not an image or an archive."
        )
    code, ndim = magic[2], magic[3]
    if code not in IDX_DTYPES:
        known = ", ".join(f"0x{c:02X} {IDX_DTYPES[c].name}" for c in IDX_DTYPES)
        raise DataError(f"{path}: unknown IDX element type 0x{code:02X} (known: {known}). The file is corrupt.")
    if ndim == 0:
        raise DataError(f"{path}: IDX header declares 0 dimensions; the file is corrupt.")
    raw_dims = _read_exact(f, 4 * ndim)
    if len(raw_dims) < 4 * ndim:
        raise DataError(
            f"{path}: truncated IDX header ({ndim} dimensions declared, "
            f"{len(raw_dims)} of {4 * ndim} size bytes present). The file is incomplete; download it again."
        )
    shape = struct.unpack(f">{ndim}I", raw_dims)
    dtype = IDX_DTYPES[code]
    nbytes = dtype.itemsize
    for d in shape:
        nbytes *= d
    # The other dimensions of an empty array count too: (0, 2**32 - 1, 2**32 - 1) is no shape
    # NumPy can make ("array is too big"), and no data set has it.
    extent = dtype.itemsize
    for d in shape:
        extent *= max(d, 1)
    if nbytes > max_bytes:
        raise DataError(
            f"{path}: IDX header declares shape {shape} of {dtype.name}, {nbytes:,} bytes, "
            f"more than the {max_bytes:,} allowed. The header is corrupt."
        )
    if extent > max_bytes:
        raise DataError(
            f"{path}: IDX header declares an empty array of shape {shape} whose other dimensions alone "
            f"would take {extent:,} bytes of {dtype.name}, more than the {max_bytes:,} allowed. The header is corrupt."
        )
    return dtype, shape, nbytes, 4 + 4 * ndim


def _size_error(path: Path, shape: tuple[int, ...], dtype: np.dtype, expected: int, actual: int) -> DataError:
    if actual < expected:
        return DataError(
            f"{path}: truncated IDX data: header declares shape {shape} of {dtype.name} "
            f"({expected:,} bytes) but only {actual:,} bytes follow. The file is incomplete; download it again."
        )
    return DataError(
        f"{path}: trailing bytes after the IDX data: header declares shape {shape} of {dtype.name} "
        f"({expected:,} bytes) but more follow. The file is corrupt or not what its header says; "
        "download it again."
    )


def _read_plain(f: io.BufferedReader, path: Path, max_bytes: int) -> np.ndarray:
    dtype, shape, expected, header_len = _parse_header(f, path, max_bytes)
    actual = os.fstat(f.fileno()).st_size - header_len
    if actual != expected:  # checked before allocating anything the header claims
        raise _size_error(path, shape, dtype, expected, actual)
    buf = np.empty(expected, dtype=np.uint8)
    view = buf.data  # a writable memoryview of the buffer
    got = 0
    while got < expected:
        n = f.readinto(view[got:])
        if not n:
            raise _size_error(path, shape, dtype, expected, got)  # the file shrank while we read it
        got += n
    return buf.view(dtype).reshape(shape)


def _read_gzip(f: io.BufferedReader, path: Path, max_bytes: int) -> np.ndarray:
    compressed = os.fstat(f.fileno()).st_size
    with gzip.GzipFile(fileobj=f, mode="rb") as g:
        dtype, shape, expected, _ = _parse_header(g, path, max_bytes)
        if expected > inflation_allowed(compressed):  # refused from the header, before any work
            raise DataError(
                f"{path}: IDX header declares {expected:,} bytes from {compressed:,} bytes of gzip, more than "
                f"$DIGITNET_MAX_INFLATION = {limit('DIGITNET_MAX_INFLATION')} times; real data do not compress "
                "like that (raise the variable if yours do)."
            )
        # Grow with the data actually decompressed, never past expected + 1 bytes:
        # the extra byte tells "trailing data" apart from "exactly right".
        data = bytearray()
        while len(data) <= expected:
            chunk = g.read(min(_CHUNK, expected + 1 - len(data)))
            if not chunk:
                break  # end of stream: gzip has checked the CRC and length by now
            data += chunk
    if len(data) != expected:
        raise _size_error(path, shape, dtype, expected, len(data))
    return np.frombuffer(data, dtype=dtype).reshape(shape)


@contextmanager
def _reading(path: Path) -> Iterator[None]:
    """Turn every way a read can fail into a DataError that names the file."""
    try:
        yield
    except FileNotFoundError:
        raise DataError(f"{path}: no such file. Check the path, or download the data set again.") from None
    except (OSError, EOFError, zlib.error) as e:
        # gzip.BadGzipFile is an OSError; EOFError is a gzip stream cut short.
        raise DataError(
            f"{path}: cannot read as IDX ({type(e).__name__}: {e}). "
            "The file is damaged or incomplete; download it again."
        ) from e


def _open(path: Path) -> io.BufferedReader:
    """The IDX file at ``path``, if it is a regular file (see files.open_regular)."""
    return open_regular(path, "IDX file", DataError, "no such file. Check the path, or download the data set again")  # type: ignore[return-value]


def _is_gzip(f: io.BufferedReader) -> bool:
    start = _read_exact(f, 2)
    f.seek(0)
    return start == GZIP_MAGIC


def read_idx(path: str | os.PathLike[str], *, max_bytes: int = MAX_BYTES) -> np.ndarray:
    """Read an IDX file, gzipped or not, into an array of native byte order.

    Args:
        path: the file; gzip is recognised by its first two bytes (1f 8b).
        max_bytes: refuse headers declaring more data than this (default 2 GiB).

    Returns:
        The array with the shape and element type the header declares
        (e.g. MNIST training images: (60000, 28, 28) uint8).

    Raises:
        DataError: the file is missing, unreadable, truncated, has trailing bytes,
            a bad magic number, a bad gzip stream or CRC.
    """
    path = Path(path)
    max_bytes = min(max_bytes, limit("DIGITNET_MAX_IDX_BYTES"))
    with _reading(path), _open(path) as f:
        array = _read_gzip(f, path, max_bytes) if _is_gzip(f) else _read_plain(f, path, max_bytes)
    return array.astype(array.dtype.newbyteorder("="), copy=False)


def read_idx_header(path: str | os.PathLike[str], *, max_bytes: int = MAX_BYTES) -> tuple[np.dtype, tuple[int, ...]]:
    """Read only the header of an IDX file: (native dtype, shape). Cheap even for gzip."""
    path = Path(path)
    with _reading(path), _open(path) as f:
        if _is_gzip(f):
            with gzip.GzipFile(fileobj=f, mode="rb") as g:
                dtype, shape, _, _ = _parse_header(g, path, max_bytes)
        else:
            dtype, shape, _, _ = _parse_header(f, path, max_bytes)
    return dtype.newbyteorder("="), shape


def write_idx(path: str | os.PathLike[str], array: np.ndarray) -> None:
    """Write an array as an IDX file, gzipped if the name ends in .gz.

    The file is written to a temporary name beside it and renamed into place,
    so a reader never sees half a file.

    Args:
        path: the destination.
        array: at least one dimension, each under 2**32; element type uint8, int8,
            int16, int32, float32 or float64.

    Raises:
        DataError: the array cannot be stored as IDX, or the file cannot be written.
    """
    path = Path(path)
    array = np.asarray(array)
    code = _CODES.get((array.dtype.kind, array.dtype.itemsize))
    if code is None:
        raise DataError(
            f"cannot write {path}: IDX has no element type for {array.dtype}; "
            "convert the array to uint8, int8, int16, int32, float32 or float64 first."
        )
    if not 1 <= array.ndim <= 255 or any(d >= 2**32 for d in array.shape):
        raise DataError(
            f"cannot write {path}: IDX needs 1 to 255 dimensions each below 2**32, got shape {array.shape}."
        )
    header = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    body = np.ascontiguousarray(array, dtype=IDX_DTYPES[code]).tobytes()

    def write(f: BinaryIO) -> None:
        if path.name.endswith(".gz"):
            # mtime=0 and no file name: the same array always gives the same bytes.
            with gzip.GzipFile(filename="", fileobj=f, mode="wb", mtime=0) as g:
                g.write(header)
                g.write(body)
        else:
            f.write(header)
            f.write(body)

    try:
        atomic_write(path, write, DataError)
    except OSError as e:
        raise DataError(f"cannot write {path}: {e}. Check that the directory exists and is writable.") from e

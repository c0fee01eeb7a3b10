"""An on-disk cache of decompressed IDX arrays, and the cache directory itself.

Decompressing MNIST's 47 MB of training images costs a few tenths of a second
on every run; loading the same array from a .npy file costs a few hundredths.
Each cached array is keyed by the sha256 of the .gz it came from, so a changed
source file can never be served a stale array. The cache is only a speed-up:
if its directory cannot be written, or a cached file is damaged, the data are
read from the source as if there were no cache.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from digitnet.data.idx import GZIP_MAGIC, read_idx, read_idx_header
from digitnet.errors import DataError
from digitnet.files import atomic_write, open_regular

CACHE_FORMAT = "idx-v1"  # bump if the layout of cached arrays ever changes


def cache_dir() -> Path:
    """digitnet's cache directory: $DIGITNET_CACHE_DIR, else $XDG_CACHE_HOME/digitnet, else ~/.cache/digitnet."""
    if os.environ.get("DIGITNET_CACHE_DIR"):
        return Path(os.environ["DIGITNET_CACHE_DIR"]).expanduser()
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]).expanduser() / "digitnet"
    return Path.home() / ".cache" / "digitnet"


def sha256_file(path: str | os.PathLike[str]) -> str:
    """The sha256 of a file, as 64 hex digits, read in 1 MiB pieces."""
    h = hashlib.sha256()
    with open_regular(path, "file", DataError) as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def _is_gzip(path: Path) -> bool:
    try:
        with open_regular(path, "IDX file", DataError) as f:
            return f.read(2) == GZIP_MAGIC
    except (OSError, DataError):
        return False  # let read_idx report the problem


def _load(cached: Path, source: Path) -> np.ndarray | None:
    """The cached array if it is there, intact, and of the source's dtype and shape; else None.

    The .npy header is compared with the source's dtype and shape, and the file's size with what
    they need, before the array is read: a damaged header cannot make NumPy allocate what it claims.
    """
    dtype, shape = read_idx_header(source)
    try:
        with open(cached, "rb") as f:
            version = np.lib.format.read_magic(f)
            read_header = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
            if version not in read_header:
                return None
            cached_shape, fortran_order, cached_dtype = read_header[version](f)
            if cached_shape != shape or cached_dtype != dtype or fortran_order:
                return None
            if os.fstat(f.fileno()).st_size != f.tell() + dtype.itemsize * int(np.prod(shape, dtype=np.int64)):
                return None
            f.seek(0)
            array = np.load(f, allow_pickle=False)
    except (OSError, ValueError, EOFError):
        return None
    return array if isinstance(array, np.ndarray) else None


def _save(cached: Path, array: np.ndarray) -> None:
    """Write the array to the cache atomically; give up silently if that is not possible."""
    try:
        cached.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(cached, lambda f: np.save(f, array, allow_pickle=False))
    except OSError:
        pass  # a read-only or full cache directory only costs speed


def read_idx_cached(path: str | os.PathLike[str], digest: str | None = None, *, use_cache: bool = True) -> np.ndarray:
    """Read an IDX file like `read_idx`, through the cache when the file is gzipped.

    Args:
        path: the IDX file.
        digest: the file's sha256 if the caller has already computed it.
        use_cache: False reads the file directly and leaves the cache alone.
    """
    path = Path(path)
    if not use_cache or not _is_gzip(path):
        return read_idx(path)  # an uncompressed file reads as fast as a cached one
    try:
        digest = digest or sha256_file(path)
    except OSError:
        return read_idx(path)  # raises the DataError that explains it
    cached = cache_dir() / CACHE_FORMAT / f"{digest}.npy"
    array = _load(cached, path)
    if array is None:
        array = read_idx(path)
        _save(cached, array)
    return array

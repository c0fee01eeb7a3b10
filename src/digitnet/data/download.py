"""Fetch MNIST's four .gz files from public mirrors, checking each one's checksum.

digitnet ships MNIST inside the package, so nothing needs downloading to run
the lesson; this is for a fresh copy from the source. Mirrors are tried in
order for each file; a file counts only once its md5 (the official one) or
sha256 (that of digitnet's bundled copy) matches, and it is renamed into place
only then, so the destination never holds a partial or wrong file.
Only the standard library (urllib) is used.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import BinaryIO

from digitnet.data.cache import cache_dir
from digitnet.data.mnist import _bundled_digests
from digitnet.errors import ConfigError, DataError, DownloadError
from digitnet.files import atomic_write

# The mirrors torchvision uses; the original site no longer serves the files reliably.
MIRRORS: tuple[str, ...] = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)

# The md5 of each file as published with MNIST.
MNIST_MD5: dict[str, str] = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}

MAX_FILE_BYTES = 64 * 2**20  # MNIST's largest file is 9.9 MB; stop a runaway response long before memory or disk suffer
_CHUNK = 1 << 16

Checksums = Mapping[str, str | Iterable[str]]
Progress = Callable[[str, int, int | None], None]


def default_checksums() -> dict[str, tuple[str, ...]]:
    """File name -> accepted digests: the official md5 and, if readable, the bundled copy's sha256."""
    try:
        bundled = _bundled_digests()
    except DataError:
        bundled = {}
    return {name: (md5, *([bundled[name]] if name in bundled else [])) for name, md5 in MNIST_MD5.items()}


def _accepted(name: str, digests: str | Iterable[str]) -> tuple[str, ...]:
    accepted = (digests,) if isinstance(digests, str) else tuple(digests)
    for d in accepted:
        if len(d) not in (32, 64) or any(c not in "0123456789abcdefABCDEF" for c in d):
            raise ConfigError(f"checksum {d!r} for {name} is neither an md5 (32 hex digits) nor a sha256 (64).")
    return tuple(d.lower() for d in accepted)


class _Digests:
    """md5 and sha256 computed together, as the bytes go by."""

    def __init__(self) -> None:
        self.md5 = hashlib.md5(usedforsecurity=False)
        self.sha256 = hashlib.sha256()

    def update(self, chunk: bytes) -> None:
        self.md5.update(chunk)
        self.sha256.update(chunk)

    def matches(self, accepted: tuple[str, ...]) -> bool:
        return self.md5.hexdigest() in accepted or self.sha256.hexdigest() in accepted

    def __str__(self) -> str:
        return f"md5 {self.md5.hexdigest()}, sha256 {self.sha256.hexdigest()}"


def _file_is_valid(path: Path, accepted: tuple[str, ...]) -> bool:
    digests = _Digests()
    try:
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                digests.update(chunk)
    except OSError:
        return False
    return digests.matches(accepted)


class _Failed(Exception):
    """One mirror failed for one file; the message says why."""


def _fetch(
    url: str,
    f: BinaryIO,
    *,
    accepted: tuple[str, ...],
    timeout: float,
    max_bytes: int,
    name: str,
    progress: Progress | None,
) -> None:
    """Stream url into f, hashing as it goes; raise _Failed saying why if it is not the file."""
    request = urllib.request.Request(url, headers={"User-Agent": "digitnet"})
    digests = _Digests()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            if total is not None and total > max_bytes:
                raise _Failed(f"response of {total:,} bytes is larger than the {max_bytes:,} allowed")
            got = 0
            while chunk := response.read(_CHUNK):
                got += len(chunk)
                if got > max_bytes:
                    raise _Failed(f"response is larger than the {max_bytes:,} bytes allowed")
                digests.update(chunk)
                f.write(chunk)
                if progress is not None:
                    progress(name, got, total)
    except urllib.error.HTTPError as e:
        raise _Failed(f"HTTP {e.code} {e.reason}") from e
    except urllib.error.URLError as e:
        raise _Failed(str(e.reason)) from e
    except (OSError, http.client.HTTPException, ValueError) as e:
        raise _Failed(f"{type(e).__name__}: {e}") from e
    if not digests.matches(accepted):
        raise _Failed(f"checksum mismatch ({digests}; expected {' or '.join(accepted)})")


def download_mnist(
    dest_dir: str | os.PathLike[str] | None = None,
    mirrors: Sequence[str] | None = None,
    *,
    checksums: Checksums | None = None,
    timeout: float = 30.0,
    max_bytes: int = MAX_FILE_BYTES,
    progress: Progress | None = None,
) -> Path:
    """Download MNIST's .gz files into dest_dir, skipping those already there and valid.

    Args:
        dest_dir: where to put the files; default <cache dir>/mnist.
        mirrors: base URLs tried in order for each file; default MIRRORS.
        checksums: file name -> accepted md5 or sha256 digest(s); the keys are the
            files fetched. Default: MNIST's four files with `default_checksums()`.
        timeout: seconds to wait on a silent connection.
        max_bytes: the most a single file may be.
        progress: called as progress(file name, bytes so far, total or None) while downloading.

    Returns:
        dest_dir, ready for `load_mnist(split, data_dir=dest_dir)`.

    Raises:
        DownloadError: a file could not be had from any mirror (each mirror's failure
            is listed), or dest_dir cannot be written.
    """
    dest = Path(dest_dir) if dest_dir is not None else cache_dir() / "mnist"
    mirrors = tuple(mirrors) if mirrors is not None else MIRRORS
    if not mirrors:
        raise ConfigError("no mirrors given; pass at least one base URL, or None for the default MNIST mirrors.")
    wanted = {name: _accepted(name, d) for name, d in (default_checksums() if checksums is None else checksums).items()}
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise DownloadError(f"cannot create the download directory {dest}: {e}. Choose a writable dest_dir.") from e

    for name, accepted in wanted.items():
        target = dest / name
        if target.is_file() and _file_is_valid(target, accepted):
            continue
        failures = []
        for mirror in mirrors:
            url = mirror.rstrip("/") + "/" + name
            try:
                atomic_write(
                    target,
                    partial(
                        _fetch,
                        url,
                        accepted=accepted,
                        timeout=timeout,
                        max_bytes=max_bytes,
                        name=name,
                        progress=progress,
                    ),
                    DownloadError,
                )
                break
            except _Failed as e:
                failures.append(f"{url}: {e}")
            except OSError as e:
                raise DownloadError(f"cannot write {target}: {e}. Choose a writable dest_dir.") from e
        else:
            tried = "\n  ".join(failures)
            raise DownloadError(
                f"could not download {name} from any of {len(mirrors)} mirror(s):\n  {tried}\n"
                "Check the network connection, pass other mirrors=, or copy MNIST's files into "
                f"{dest} by hand (digitnet also ships MNIST: load_mnist() with no data_dir needs no download)."
            )
    return dest

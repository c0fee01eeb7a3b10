"""Model files: a network's parameters and what is needed to rebuild it, with no pickle.

A model file is a .npz (zip) archive holding:

- ``header.json``: {"format": "digitnet-model", "version": 1, "sizes", "activation", "cost",
  "dtype", "seed", "history"} as UTF-8 JSON;
- ``W0.npy, b0.npy, W1.npy, ...``: the weights and biases, layer by layer.

It is read with ``allow_pickle=False`` and every part is checked (names, shapes, dtypes, finite
values) before a Network is built, and each member's size is checked before it is read, so a file
cannot make digitnet run code or allocate memory its header merely claims. It is written to a
temporary file beside the target, flushed to disk, then renamed over it: a crash mid-write leaves
the old file as it was (and a hidden ``.NAME.PID.*.tmp`` beside it, which the next save removes).
The zip entries carry a fixed date, and the history keeps no wall-clock times, so the same seed
and settings give byte-identical files.
"""

from __future__ import annotations

import glob
import io
import json
import os
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

import numpy as np

from .atomic_file import atomic_write
from .checks import MAX_PARAMETERS, n_parameters
from .errors import DigitNetError, ModelFileError
from .netlike import NetworkLike

N = TypeVar("N", bound=NetworkLike)


FORMAT = "digitnet-model"
VERSION = 1
_DATE = (1980, 1, 1, 0, 0, 0)
_MAX_HEADER = 16 * 1024 * 1024
# Deflate shrinks data at most 1032 to 1 (zlib's documented limit): a member declaring more than
# that for its compressed size, or a compressed size larger than the file, is lying.
_MAX_DEFLATE_RATIO = 1032
# History fields that depend on the run, not on the seed: left out of the file.
_UNSAVED = ("seconds",)


def header_of(net: NetworkLike) -> dict[str, Any]:
    """The JSON header describing ``net``."""
    return {
        "format": FORMAT,
        "version": VERSION,
        "sizes": list(net.sizes),
        "activation": net.activation,
        "cost": net.cost_name,
        "dtype": np.dtype(net.dtype).name,
        "seed": net.seed,
        "history": [{k: v for k, v in h.items() if k not in _UNSAVED} for h in net.history],
    }


def write_archive(path: str | os.PathLike, header: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    """Write header + arrays as a zip archive at ``path``, atomically (temporary file, then rename)."""
    path = Path(path)
    if path.is_dir():
        raise ModelFileError(f"cannot save to {path}: it is a directory; give a file name such as {path / 'model.npz'}")
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise ModelFileError(f"cannot save to {path}: the directory {directory} does not exist")
    _remove_stale_temporaries(directory, path.name)
    # The temporary file's name carries our process id, so a later save can tell it was left by
    # a process that was killed (SIGKILL, power cut) and remove it.
    atomic_write(path, lambda f: _write_zip(f, header, arrays), durable=True)


def _write_zip(f: BinaryIO, header: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    """header.json and one .npy per array, deflated, with a fixed date (same content, same bytes)."""
    with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        info = zipfile.ZipInfo("header.json", date_time=_DATE)
        info.compress_type = zipfile.ZIP_DEFLATED
        zf.writestr(info, json.dumps(header, sort_keys=True, allow_nan=False).encode())
        for name, a in arrays.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(a), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, buf.getvalue())


def _remove_stale_temporaries(directory: Path, name: str) -> None:
    """Delete the temporary files of earlier saves to ``name`` whose process no longer runs.

    Only on POSIX, where ``os.kill(pid, 0)`` merely asks whether process pid exists; a process of
    another user exists too (PermissionError), and its file is left alone.
    """
    if os.name != "posix":
        return
    for tmp in directory.glob(f".{glob.escape(name)}.*.tmp"):
        pid = tmp.name[len(name) + 2:].split(".", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            try:
                tmp.unlink()
            except OSError:  # gone already, or not ours to remove: the save goes on regardless
                pass
        except (OSError, OverflowError):
            pass


def save(net: NetworkLike, path: str | os.PathLike) -> None:
    """Write ``net`` to ``path`` atomically (see the module docstring)."""
    arrays: dict[str, np.ndarray] = {}
    for l, (W, b) in enumerate(zip(net.W, net.b)):
        arrays[f"W{l}"] = np.asarray(W, dtype=net.dtype)
        arrays[f"b{l}"] = np.asarray(b, dtype=net.dtype)
    for name, a in arrays.items():
        if not np.isfinite(a).all():
            raise ModelFileError(f"refusing to save to {path}: {name} holds NaN or infinite values")
    try:
        write_archive(path, header_of(net), arrays)
    except OSError as e:
        raise ModelFileError(f"cannot write model file {path}: {e.strerror or e}") from None


def read_archive(path: str | os.PathLike, format: str = FORMAT) -> tuple[dict[str, Any], zipfile.ZipFile]:
    """Open the archive at ``path`` and return its parsed header and the open ZipFile.

    format: the header's "format" the file must have (other digitnet files, such as training
    recordings, share this archive and its checks).
    """
    kind = format.removeprefix("digitnet-") + " file"
    path = Path(path)
    if not path.exists():
        raise ModelFileError(f"{kind} {path} does not exist; train one with `digitnet train`" if format == FORMAT
                             else f"{kind} {path} does not exist")
    if path.is_dir():
        raise ModelFileError(f"{path} is a directory, not a {kind}")
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as e:  # "zip file version 6.4"
        raise ModelFileError(f"{path} is not a digitnet {kind} (not a readable .npz archive: {e})") from None
    try:
        info = zf.getinfo("header.json")
    except KeyError:
        zf.close()
        raise ModelFileError(f"{path} is not a digitnet {kind}: it has no header.json") from None
    if info.file_size > _MAX_HEADER:
        zf.close()
        raise ModelFileError(f"{path}: header.json claims {info.file_size} bytes, too large for a {kind} header")
    try:
        _check_member(path, info, path.stat().st_size)
    except ModelFileError:
        zf.close()
        raise
    try:
        header = json.loads(zf.read(info).decode("utf-8"))
    except Exception as e:  # zlib, CRC, unicode and JSON errors all mean a corrupt header
        zf.close()
        raise ModelFileError(f"{path}: corrupt header ({type(e).__name__}: {e}); the file is damaged, "
                             "retrain or re-download it") from None
    if not isinstance(header, dict) or header.get("format") != format:
        zf.close()
        raise ModelFileError(f"{path} is not a digitnet {kind} (its header has no format {format!r})")
    return header, zf


def _check_member(path: str | os.PathLike, info: zipfile.ZipInfo, real_size: int) -> None:
    """Refuse a zip member whose declared sizes the file cannot back, before anything is read."""
    name = info.filename
    if info.flag_bits & 0x1:
        raise ModelFileError(f"{path}: {name} is encrypted; digitnet model files are not")
    if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        raise ModelFileError(f"{path}: {name} uses zip compression method {info.compress_type}; "
                             "digitnet model files use deflate. Save the model again with digitnet")
    stored = info.compress_type == zipfile.ZIP_STORED
    if (info.compress_size > real_size or (stored and info.file_size != info.compress_size)
            or info.file_size > _MAX_DEFLATE_RATIO * info.compress_size + 1024):
        raise ModelFileError(f"{path}: {name} declares {info.file_size:,} bytes from {info.compress_size:,} "
                             f"compressed, more than a file of {real_size:,} bytes can hold; the file is corrupt")


def _member(path: str | os.PathLike, zf: zipfile.ZipFile, name: str, shape: tuple[int, ...],
            dtype: str) -> zipfile.ZipInfo:
    """The zip entry of array ``name``, its declared sizes checked against ``shape`` and the file."""
    try:
        info = zf.getinfo(f"{name}.npy")
    except KeyError:
        raise ModelFileError(f"{path}: {name} is missing; the file is incomplete") from None
    expected_bytes = int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
    # A .npy header is at most a few hundred bytes here; anything else is not ours.
    if not expected_bytes <= info.file_size <= expected_bytes + 4096:
        raise ModelFileError(f"{path}: {name} has {info.file_size} bytes, expected about {expected_bytes} "
                             f"for shape {shape}")
    _check_member(path, info, os.fstat(zf.fp.fileno()).st_size if zf.fp is not None else 0)
    return info


def _parse_npy(raw: bytes, shape: tuple[int, ...], dtype: str) -> tuple[np.ndarray | None, str]:
    """The array in .npy bytes ``raw`` if its header says ``shape`` and ``dtype``, else (None, why).

    The header is read before any array is made, so it cannot make NumPy allocate what it claims,
    and an object (pickled) array is refused from its header alone.
    """
    f = io.BytesIO(raw)
    version = np.lib.format.read_magic(f)
    if version == (1, 0):
        declared_shape, fortran_order, declared_dtype = np.lib.format.read_array_header_1_0(f)
    elif version == (2, 0):
        declared_shape, fortran_order, declared_dtype = np.lib.format.read_array_header_2_0(f)
    else:
        return None, f".npy format version {version[0]}.{version[1]} is not supported"
    if declared_shape != tuple(shape) or declared_dtype != np.dtype(dtype):
        return None, f"it has shape {declared_shape} and dtype {declared_dtype}, expected {tuple(shape)} {dtype}"
    nbytes = int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
    if len(raw) - f.tell() != nbytes:
        return None, f"it holds {len(raw) - f.tell()} bytes of data, expected {nbytes}"
    a = np.frombuffer(raw, dtype=declared_dtype, count=int(np.prod(shape, dtype=np.int64)), offset=f.tell())
    return a.reshape(shape, order="F" if fortran_order else "C").copy(), ""


def read_array(path: str | os.PathLike, zf: zipfile.ZipFile, name: str, shape: tuple[int, ...],
               dtype: str) -> np.ndarray:
    """Read member ``name`` checking its declared size, shape, dtype and values before trusting it."""
    info = _member(path, zf, name, shape, dtype)
    try:
        a, why = _parse_npy(zf.read(info), shape, dtype)
    except Exception as e:  # corrupt deflate stream, bad CRC, bad .npy header
        raise ModelFileError(f"{path}: {name} is corrupt ({type(e).__name__}: {e}); "
                             "retrain or re-download the model") from None
    if a is None:
        raise ModelFileError(f"{path}: {name} is not what the header says: {why}")
    if not np.isfinite(a).all():
        raise ModelFileError(f"{path}: {name} holds NaN or infinite values")
    return a


def load(path: str | os.PathLike, network: Callable[..., N]) -> N:
    """Read and check a model file written by ``save``; returns the network, built by ``network``
    (the Network class) from the header's sizes, activation, cost, seed and dtype."""
    header, zf = read_archive(path)
    with zf:
        version = header.get("version")
        if not isinstance(version, int) or isinstance(version, bool) or version != VERSION:
            raise ModelFileError(f"{path}: model file version {version!r} is not supported (this digitnet reads "
                                 f"version {VERSION}); upgrade digitnet or retrain")
        sizes, dtype, seed = header.get("sizes"), header.get("dtype"), header.get("seed")
        if (not isinstance(sizes, list) or len(sizes) < 2
                or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 1 for s in sizes)):
            raise ModelFileError(f"{path}: invalid layer sizes {sizes!r} in the header")
        if n_parameters(tuple(sizes)) > MAX_PARAMETERS:
            raise ModelFileError(f"{path}: layer sizes {sizes} are larger than digitnet allows")
        if dtype not in ("float32", "float64"):
            raise ModelFileError(f"{path}: invalid dtype {dtype!r} in the header")
        if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
            raise ModelFileError(f"{path}: invalid seed {seed!r} in the header")
        history = header.get("history", [])
        if not isinstance(history, list) or not all(isinstance(h, dict) for h in history):
            raise ModelFileError(f"{path}: invalid training history in the header")
        # The header's sizes must account for every layer array in the file: a header with a layer
        # cut off would otherwise load as a different, smaller network without a word.
        layers = {f"{p}{l}.npy" for l in range(len(sizes) - 1) for p in "Wb"}
        extra = sorted(n for n in zf.namelist() if re.fullmatch(r"[Wb][0-9]+\.npy", n) and n not in layers)
        if extra:
            raise ModelFileError(f"{path}: holds {', '.join(extra)}, which the layer sizes {sizes} in its header "
                                 "have no place for; the file is inconsistent, retrain or re-download the model")
        # Every layer's arrays must be in the file, with sizes the file can back, before the
        # Network (and its memory) is made from the header's sizes.
        for l, (n, k) in enumerate(zip(sizes[:-1], sizes[1:])):
            _member(path, zf, f"W{l}", (k, n), dtype)
            _member(path, zf, f"b{l}", (k,), dtype)
        try:
            net = network(sizes, activation=header.get("activation", ""), cost=header.get("cost", ""), seed=seed,
                          dtype=dtype)
        except DigitNetError as e:
            raise ModelFileError(f"{path}: {e}") from None
        for l, (n, k) in enumerate(zip(sizes[:-1], sizes[1:])):
            net.W[l] = read_array(path, zf, f"W{l}", (k, n), dtype)
            net.b[l] = read_array(path, zf, f"b{l}", (k,), dtype)
        net.history = history
        return net

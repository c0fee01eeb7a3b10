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

import io
import json
import os
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, BinaryIO, TypeVar

import numpy as np

from .checks import MAX_PARAMETERS, n_parameters
from .errors import DigitNetError, ModelFileError
from .files import atomic_write, inflation_allowed, limit, open_regular, write_target
from .netlike import NetworkLike
from .words import plural

N = TypeVar("N", bound=NetworkLike)


FORMAT = "digitnet-model"
VERSION = 1
_DATE = (1980, 1, 1, 0, 0, 0)
_MAX_HEADER = 4 * 1024 * 1024  # 100 epochs of history take 20 KB; a recording more
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


def _compresses_too_well(a: np.ndarray) -> bool:
    """Whether ``a`` is mostly zeros or one value (momentum 0's velocities, dead weights): deflated, it could
    shrink beyond $DIGITNET_MAX_INFLATION and its own file be refused, so it is stored as it is."""
    flat = a.reshape(-1)
    return bool(a.nbytes > 2**16 and (np.count_nonzero(flat) < flat.size // 8 or (flat == flat[0]).all()))


def write_archive(path: str | os.PathLike, header: dict[str, Any], arrays: dict[str, np.ndarray]) -> Path:
    """Write header + arrays as a zip archive at ``path`` atomically (see files.atomic_write); returns the file."""

    def write(f: BinaryIO) -> None:
        with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            info = zipfile.ZipInfo("header.json", date_time=_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, json.dumps(header, sort_keys=True, allow_nan=False).encode())
            for name, a in arrays.items():
                info = zipfile.ZipInfo(f"{name}.npy", date_time=_DATE)
                info.compress_type = zipfile.ZIP_STORED if _compresses_too_well(a) else zipfile.ZIP_DEFLATED
                with zf.open(info, "w", force_zip64=a.nbytes > 2**31 - 2**20) as member:
                    np.lib.format.write_array(member, np.ascontiguousarray(a), allow_pickle=False)

    return atomic_write(path, write, ModelFileError)


def existing_model(path: str | os.PathLike) -> str | None:
    """What a save to ``path`` would replace: None if nothing, a description if a digitnet model file.

    Raises ModelFileError for anything else (a text file, a damaged file, a device, a directory):
    digitnet replaces only its own model files.
    """
    target = write_target(path, ModelFileError)
    if not target.exists():
        return None
    try:
        header, zf = read_archive(target)
        zf.close()
    except ModelFileError as e:
        raise ModelFileError(f"refusing to replace {path}: it is not a digitnet model file ({e}); "
                             "choose another name, or move the file away first") from None
    sizes, history = header.get("sizes"), header.get("history")
    epochs = len(history) if isinstance(history, list) else 0
    described = "-".join(map(str, sizes)) if isinstance(sizes, list) and len(sizes) < 20 else "many-layer"
    last = history[-1] if isinstance(history, list) and history and isinstance(history[-1], dict) else {}
    accuracy = last.get("test_accuracy")
    said = f", test accuracy {100 * accuracy:.2f}%" if isinstance(accuracy, float) and np.isfinite(accuracy) else ""
    via = f" (through the link {path})" if target != Path(path) else ""
    return f"{target}{via}: a {described} model of {plural(epochs, 'epoch')}{said}"


def save(net: NetworkLike, path: str | os.PathLike) -> Path:
    """Write ``net`` to ``path`` atomically (see the module docstring); returns the file written.

    An existing file at ``path`` is replaced only if it is a digitnet model file (see existing_model).
    """
    arrays: dict[str, np.ndarray] = {}
    for l, (W, b) in enumerate(zip(net.W, net.b)):
        arrays[f"W{l}"] = np.asarray(W, dtype=net.dtype)
        arrays[f"b{l}"] = np.asarray(b, dtype=net.dtype)
    for name, a in arrays.items():
        if not np.isfinite(a).all():
            raise ModelFileError(f"refusing to save to {path}: {name} holds NaN or infinite values")
    existing_model(path)
    try:
        return write_archive(path, header_of(net), arrays)
    except OSError as e:
        raise ModelFileError(f"cannot write model file {path}: {e.strerror or e}") from None


class _Archive(zipfile.ZipFile):
    """A ZipFile over a file digitnet opened itself: closing it closes that file too."""

    def __init__(self, file: BinaryIO) -> None:
        self._source = file
        super().__init__(file)

    def close(self) -> None:
        super().close()
        self._source.close()


def _refuse_nan(constant: str) -> Any:
    raise ValueError(f"{constant} is not a number JSON allows")


def read_archive(path: str | os.PathLike, expected: dict[str, tuple[tuple[int, ...], str]] | None = None,
                 format: str = FORMAT) -> tuple[dict[str, Any], zipfile.ZipFile]:
    """Open the archive at ``path`` and return its parsed header and the open ZipFile.

    format: the header's "format" the file must have (other digitnet files, such as training
    recordings, share this archive and its checks). The file must be a regular file, and its
    zip directory is counted from its end record before the directory is parsed, so neither a
    device nor a million-entry archive can tie digitnet up.
    """
    kind = format.removeprefix("digitnet-") + " file"
    f = open_regular(path, kind, ModelFileError, "train one with `digitnet train`" if format == FORMAT
                     else "check the path")
    try:
        _check_entries(path, f)
        zf = _Archive(f)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as e:  # "zip file version 6.4"
        f.close()
        if isinstance(e, ModelFileError):
            raise
        raise ModelFileError(f"{path} is not a digitnet {kind} (not a readable .npz archive: {e})") from None
    except BaseException:
        f.close()
        raise
    try:
        info = zf.getinfo("header.json")
    except KeyError:
        zf.close()
        raise ModelFileError(f"{path} is not a digitnet {kind}: it has no header.json") from None
    try:
        if info.file_size > _MAX_HEADER:
            raise ModelFileError(f"{path}: header.json claims {info.file_size:,} bytes, more than the "
                                 f"{_MAX_HEADER:,} a {kind} header may have")
        _check_member(path, info, os.fstat(f.fileno()).st_size)
        try:
            header = json.loads(zf.read(info).decode("utf-8"), parse_constant=_refuse_nan)
        except Exception as e:  # zlib, CRC, unicode and JSON errors all mean a corrupt header
            raise ModelFileError(f"{path}: corrupt header ({type(e).__name__}: {e}); the file is damaged, "
                                 "retrain or re-download it") from None
        if not isinstance(header, dict) or header.get("format") != format:
            raise ModelFileError(f"{path} is not a digitnet {kind} (its header has no format {format!r})")
    except BaseException:
        zf.close()
        raise
    return header, zf


def _check_entries(path: str | os.PathLike, f: BinaryIO) -> None:
    """Refuse an archive whose end record lists more entries than $DIGITNET_MAX_ZIP_ENTRIES."""
    end = zipfile._EndRecData(f)  # type: ignore[attr-defined]  # the zip end record, zip64 included
    if end is None:
        raise ModelFileError(f"{path} is not a digitnet model file (not a zip archive)")
    entries, most = end[zipfile._ECD_ENTRIES_TOTAL], limit("DIGITNET_MAX_ZIP_ENTRIES")  # type: ignore[attr-defined]
    if entries > most:
        raise ModelFileError(f"{path}: the archive lists {entries:,} entries, more than the {most:,} allowed "
                             "(raise $DIGITNET_MAX_ZIP_ENTRIES for a network of that many layers)")
    f.seek(0)


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
    if info.file_size > inflation_allowed(info.compress_size):
        raise ModelFileError(f"{path}: {name} would inflate {info.compress_size:,} bytes to {info.file_size:,}, "
                             f"more than ${'DIGITNET_MAX_INFLATION'} = {limit('DIGITNET_MAX_INFLATION')} times; "
                             "real weights do not compress like that (raise the variable if yours do)")


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


def read_array(path: str | os.PathLike, zf: zipfile.ZipFile, name: str, shape: tuple[int, ...],
               dtype: str) -> np.ndarray:
    """Read member ``name`` checking its declared size, shape, dtype and values before trusting it.

    The member is decompressed piece by piece straight into the array: reading it takes the
    array's memory once, and the .npy header is checked before that memory is taken.
    """
    info = _member(path, zf, name, shape, dtype)
    try:
        with zf.open(info) as f:
            head = f.read(min(info.file_size, 4096))
            a, offset, why = _npy_header(head, shape, dtype)
            if a is not None:
                why = _fill(f, a.reshape(-1, order="A").view(np.uint8).data, head[offset:])
    except Exception as e:  # corrupt deflate stream, bad CRC, bad .npy header
        raise ModelFileError(f"{path}: {name} is corrupt ({type(e).__name__}: {e}); "
                             "retrain or re-download the model") from None
    if a is None or why:
        raise ModelFileError(f"{path}: {name} is not what the header says: {why}")
    if not np.isfinite(a).all():
        raise ModelFileError(f"{path}: {name} holds NaN or infinite values")
    return a


def _npy_header(head: bytes, shape: tuple[int, ...], dtype: str) -> tuple[np.ndarray | None, int, str]:
    """(an empty array, where its data start in ``head``, "") if the .npy header says ``shape`` and
    ``dtype``; else (None, 0, why). An object (pickled) array is refused from its header alone."""
    f = io.BytesIO(head)
    version = np.lib.format.read_magic(f)
    if version == (1, 0):
        declared_shape, fortran_order, declared_dtype = np.lib.format.read_array_header_1_0(f)
    elif version == (2, 0):
        declared_shape, fortran_order, declared_dtype = np.lib.format.read_array_header_2_0(f)
    else:
        return None, 0, f".npy format version {version[0]}.{version[1]} is not supported"
    if declared_shape != tuple(shape) or declared_dtype != np.dtype(dtype):
        return None, 0, f"it has shape {declared_shape} and dtype {declared_dtype}, expected {tuple(shape)} {dtype}"
    return np.empty(shape, dtype=declared_dtype, order="F" if fortran_order else "C"), f.tell(), ""


def _fill(f: IO[bytes], out: memoryview, start: bytes) -> str:
    """Fill ``out`` with ``start`` then the rest of ``f``, 1 MiB at a time; "" if exactly full, else why not."""
    got = len(start)
    if got > len(out):
        return f"it holds more than the {len(out)} bytes of data expected"
    out[:got] = start
    while got < len(out):
        chunk = f.read(min(1 << 20, len(out) - got))
        if not chunk:
            return f"it holds {got} bytes of data, expected {len(out)}"
        out[got:got + len(chunk)] = chunk
        got += len(chunk)
    return f"it holds more than the {len(out)} bytes of data expected" if f.read(1) else ""


def check_history(path: str | os.PathLike, history: Any) -> list[dict[str, Any]]:
    """The training history of a header: one record per epoch, numbered 1, 2, ..., with finite numbers."""
    if not isinstance(history, list):
        raise ModelFileError(f"{path}: invalid training history in the header (not a list)")
    for i, h in enumerate(history):
        if not isinstance(h, dict) or h.get("epoch") != i + 1 or isinstance(h.get("epoch"), bool):
            raise ModelFileError(f"{path}: training history record {i + 1} is not the record of epoch {i + 1}; "
                                 "the file is damaged, retrain or re-download it")
        for key, value in h.items():
            if not (value is None or isinstance(value, str) and len(value) < 200
                    or isinstance(value, (int, float)) and not isinstance(value, bool) and np.isfinite(value)):
                raise ModelFileError(f"{path}: training history of epoch {i + 1} has {key} = {value!r}, "
                                     "not a finite number; the file is damaged")
    return history


def _check_header(path: str | os.PathLike, header: dict[str, Any], zf: zipfile.ZipFile) -> list[int]:
    """Check every field of a model header, and that the file holds the arrays it lists; returns the sizes."""
    version = header.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version != VERSION:
        raise ModelFileError(f"{path}: model file version {version!r} is not supported (this digitnet reads "
                             f"version {VERSION}); upgrade digitnet or retrain")
    sizes, dtype, seed = header.get("sizes"), header.get("dtype"), header.get("seed")
    layers_in_file = sum(1 for n in zf.namelist() if re.fullmatch(r"W[0-9]+\.npy", n))
    if not isinstance(sizes, list) or not 2 <= len(sizes) <= layers_in_file + 1:
        count = len(sizes) if isinstance(sizes, list) else 0
        raise ModelFileError(f"{path}: invalid layer sizes in the header ({count} sizes for the {layers_in_file} "
                             "weight arrays the file holds)")
    if not all(isinstance(s, int) and not isinstance(s, bool) and s >= 1 for s in sizes):
        raise ModelFileError(f"{path}: invalid layer sizes {sizes!r} in the header")
    if n_parameters(tuple(sizes)) > MAX_PARAMETERS:
        raise ModelFileError(f"{path}: layer sizes {sizes} are larger than digitnet allows")
    if dtype not in ("float32", "float64"):
        raise ModelFileError(f"{path}: invalid dtype {dtype!r} in the header")
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ModelFileError(f"{path}: invalid seed {seed!r} in the header")
    if not isinstance(header.get("activation"), str) or not isinstance(header.get("cost"), str):
        raise ModelFileError(f"{path}: the header names no activation or cost")
    check_history(path, header.get("history", []))
    # The header's sizes must account for every layer array in the file: a header with a layer
    # cut off would otherwise load as a different, smaller network without a word.
    layers = {f"{p}{l}.npy" for l in range(len(sizes) - 1) for p in "Wb"}
    extra = sorted(n for n in zf.namelist() if re.fullmatch(r"[Wb][0-9]+\.npy", n) and n not in layers)
    if extra:
        raise ModelFileError(f"{path}: holds {', '.join(extra)}, which the layer sizes {sizes} in its header "
                             "have no place for; the file is inconsistent, retrain or re-download the model")
    # Every layer's arrays must be in the file, with sizes the file can back, before any is read.
    for l, (n, k) in enumerate(zip(sizes[:-1], sizes[1:])):
        _member(path, zf, f"W{l}", (k, n), dtype)
        _member(path, zf, f"b{l}", (k,), dtype)
    return sizes


def load(path: str | os.PathLike, network: Callable[..., N]) -> N:
    """Read and check a model file written by ``save``; returns the network, built by ``network``
    (the Network class) from the header and the arrays read (no weights drawn on the way)."""
    header, zf = read_archive(path)
    with zf:
        sizes = _check_header(path, header, zf)
        dtype = header["dtype"]
        W = [read_array(path, zf, f"W{l}", (k, n), dtype) for l, (n, k) in enumerate(zip(sizes[:-1], sizes[1:]))]
        b = [read_array(path, zf, f"b{l}", (k,), dtype) for l, k in enumerate(sizes[1:])]
    try:
        net = network(sizes, activation=header["activation"], cost=header["cost"], seed=header["seed"],
                      dtype=dtype, parameters=(W, b))
    except DigitNetError as e:
        raise ModelFileError(f"{path}: {e}") from None
    net.history = header.get("history", [])
    return net

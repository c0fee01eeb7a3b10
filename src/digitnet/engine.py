"""The training and inference engine behind Network.fit and Network.predict.

Two engines compute the same thing:

- "numpy": the readable reference, ``optimizer.sgd_batches`` (one ``Network.backprop`` per mini-batch);
- "compiled": the C kernels of ``_kernels.c``, built when digitnet is installed, many mini-batches
  per call, the images shuffled by index: read as stored (uint8, float32 or float64), or packed once
  per fit (``pack``: each image's inked pixels and their values, a fifth of the bytes). The tests
  check it gives the reference's weights, to float rounding. ("numba" is its former name, still
  accepted: the kernels were Numba code before.)

"auto" picks the compiled engine when its module is there (and DIGITNET_ENGINE is not "numpy"), else
numpy. The kernels are ordinary machine code: nothing is compiled when digitnet runs.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from .checks import brightness
from .errors import ConfigError
from .optimizer import Summed, sgd_batches
from .settings import ENGINES

# Below this many images, predict with NumPy; below PARALLEL_MIN_IMAGES, on one thread.
COMPILED_MIN_IMAGES = 64
PARALLEL_MIN_IMAGES = 2000
# From this mini-batch size on, each mini-batch's examples are cut into shares of at least
# PARALLEL_MIN_BATCH examples, at most SHARES of them (see _shares), each summed into its own
# gradient, the shares then added in a fixed order; the threads (however many) work on the shares.
# The bytes depend on the mini-batch size only, never on the number of threads or cores. Every share
# costs a gradient to zero and add and a step's worth of cache traffic between the cores, so a share
# needs enough examples to pay for it.
PARALLEL_MIN_BATCH = 50
SHARES = 4
# The progress callback is called about this many times per epoch.
PROGRESS_STEPS = 20

_HIDDEN = {"sigmoid": 0, "relu": 1}
_COST = {"quadratic": 0, "cross-entropy": 1}
_IMAGES = {np.dtype(np.uint8): 0, np.dtype(np.float32): 1, np.dtype(np.float64): 2}

_kernels: Any = None  # the kernels module; False when it cannot be used; None until first asked
_thread_count: int | None = None  # set_threads' setting; None: DIGITNET_THREADS, else the cores


def compiled_available() -> bool:
    """Whether the compiled engine can be used (its module built, not disabled by DIGITNET_ENGINE=numpy)."""
    return _load_kernels() is not None


numba_available = compiled_available  # its former name


def _load_kernels() -> Any:
    global _kernels
    if _kernels is None:
        _kernels = False
        if os.environ.get("DIGITNET_ENGINE", "").lower() != "numpy":
            try:
                from . import _kernels as module
            except ImportError:
                pass
            else:
                _kernels = module
    return _kernels or None


def _resolve(name: str) -> str:
    if name not in ENGINES:
        raise ConfigError(f"unknown engine {name!r}: choose one of {', '.join(ENGINES)}")
    if name in ("compiled", "numba") and _load_kernels() is None:
        raise ConfigError("the compiled engine is not built in this install of digitnet (reinstall it with a C "
                          "compiler present: pip install digitnet), or use engine='numpy'")
    if name == "auto":
        return "compiled" if _load_kernels() is not None else "numpy"
    return "compiled" if name == "numba" else name


def threads() -> int:
    """The number of threads the compiled engine uses: set_threads' setting, else DIGITNET_THREADS,
    else the cores this process may run on that other work leaves idle (at least 1).

    Each mini-batch of shares ends in a barrier: a thread that has to wait for a core stalls them
    all, so on a machine busy with other work, fewer threads are faster. The results are the same
    bytes whatever the number (the shares are fixed), so following the machine's load is safe.
    """
    if _thread_count is not None:
        return _thread_count
    value = os.environ.get("DIGITNET_THREADS", "")
    if value.isdigit() and int(value) >= 1:
        return int(value)
    try:
        cores = max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        cores = max(1, os.cpu_count() or 1)
    return max(1, min(cores, cores - _other_runnable()))


LOAD_READS = 3  # /proc/loadavg read this many times for one choice of threads,
LOAD_READ_GAP = 0.0003  # seconds apart


def _other_runnable() -> int:
    """How many threads of other work keep a core busy now: the fewest of LOAD_READS readings of
    /proc/loadavg's "running/total" (which counts the reading thread too), LOAD_READ_GAP seconds
    apart, so that a thread that runs for an instant (a timer, a kernel worker waking) does not halve
    a whole epoch's threads; 0 where that is not known. Read back to back, the readings all caught the
    same passing thread: on an idle machine 1 call in 200 chose one thread; LOAD_READ_GAP apart, 1
    in 3,000. A reading of 1 (this thread alone) ends the count: no reading can be lower, and an
    idle machine, the common case, pays for one reading, not LOAD_READS, on each call of the engine."""
    try:
        fewest = _runnable_now()
        for _ in range(LOAD_READS - 1):
            if fewest <= 1:
                break
            time.sleep(LOAD_READ_GAP)
            fewest = min(fewest, _runnable_now())
        return max(0, fewest - 1)
    except (OSError, ValueError, IndexError):
        return 0


def _runnable_now() -> int:
    """One reading of how many threads are running or waiting for a core (Linux: /proc/loadavg)."""
    with open("/proc/loadavg") as f:
        return int(f.read().split()[3].split("/")[0])


def set_threads(n: int | None) -> None:
    """Use n threads from now on (None: back to the default). The results do not depend on it."""
    global _thread_count
    if n is not None and (not isinstance(n, int) or n < 1):
        raise ConfigError(f"the number of threads must be a whole number >= 1, got {n!r}")
    _thread_count = n


_threads = threads


# -- the network's parameters as the kernels want them ------------------------------------------------

def _padded(k: int, block: int) -> int:
    return -(-k // block) * block


# Where each of the parameter arrays starts within a 4 KB page (the kernels place their scratch the
# same way). Aligned to cache lines, and apart from one another: the CPU matches a load with earlier
# stores by the address's low 12 bits first, so arrays that started at the same place in their pages
# (as allocations often do) would make the loads of one wait on the stores into another.
PAGE_OFFSET = {"W": 0, "b": 3072, "vW": 512, "vb": 3584}


def _zeros(shape: Any, dtype: Any, page_offset: int = 0) -> np.ndarray:
    """np.zeros starting ``page_offset`` bytes into a 4 KB page (a multiple of 64: a cache line, so
    no vector load of a row straddles two lines)."""
    dtype = np.dtype(dtype)
    n = int(np.prod(shape))
    raw = np.zeros(n * dtype.itemsize + 4096, dtype=np.uint8)
    offset = (page_offset - raw.ctypes.data) % 4096
    return raw[offset:offset + n * dtype.itemsize].view(dtype).reshape(shape)


class _Packed:
    """A network's parameters in the kernels' layout (see _kernels.c): flat arrays and ``lay``.

    Layer l's W (k, n) is held transposed in blocks of 16 neurons, padded with zeros: k to KP (a
    multiple of 16) and n to ROWS (the previous layer's KP; for the first layer, a multiple of 8).
    """

    def __init__(self, net: Any, opt: Any = None) -> None:
        k = _load_kernels()
        self.B, self.GROUP = k.B, k.GROUP
        self.dtype = net.dtype
        sizes = net.sizes
        L = len(sizes) - 1
        kp = [_padded(n, self.B) for n in sizes[1:]]
        rows = [_padded(sizes[0], self.GROUP)] + kp[:-1]
        w_size = [r * n for r, n in zip(rows, kp)]
        self.lay = np.zeros((L, 5), dtype=np.int64)  # K, KP, ROWS, WO, AO
        self.lay[:, 0] = sizes[1:]
        self.lay[:, 1] = kp
        self.lay[:, 2] = rows
        self.lay[:, 3] = np.cumsum([0] + w_size[:-1])
        self.lay[:, 4] = np.cumsum([0] + kp[:-1])
        self.w_total, self.a_total = sum(w_size), sum(kp)
        self.W = self._pack_W(net.W)
        self.b = self._pack_b(net.b)
        if opt is not None and opt.momentum:
            self.vW, self.vb = self._pack_W(opt.vW, PAGE_OFFSET["vW"]), self._pack_b(opt.vb, PAGE_OFFSET["vb"])
        else:  # not read by the kernels without momentum
            self.vW, self.vb = self.W, self.b

    def _blocks(self, flat: np.ndarray, l: int) -> np.ndarray:
        """Layer l's W^T as a view into the flat array, padding included: view[i, j, p] = W[16 i + j, p],
        element (p, k) at WO + ((k // 16) * ROWS + p) * 16 + k % 16."""
        kp, rows, wo = self.lay[l, 1], self.lay[l, 2], self.lay[l, 3]
        return flat[wo:wo + kp * rows].reshape(kp // self.B, rows, self.B).transpose(0, 2, 1)

    def _get(self, flat: np.ndarray, l: int, shape: tuple[int, ...]) -> np.ndarray:
        """Layer l's W (k, n) out of the flat W^T array."""
        kp, rows = self.lay[l, 1], self.lay[l, 2]
        return self._blocks(flat, l).reshape(kp, rows)[:shape[0], :shape[1]]

    def _set(self, flat: np.ndarray, l: int, W: np.ndarray) -> None:
        """Write layer l's W (k, n) into the flat W^T array."""
        kp, rows = self.lay[l, 1], self.lay[l, 2]
        padded = np.zeros((kp, rows), dtype=self.dtype)
        padded[:W.shape[0], :W.shape[1]] = W
        self._blocks(flat, l)[...] = padded.reshape(kp // self.B, self.B, rows)

    def _pack_W(self, Ws: list[np.ndarray], page_offset: int = PAGE_OFFSET["W"]) -> np.ndarray:
        flat = _zeros(self.w_total, self.dtype, page_offset)
        for l, W in enumerate(Ws):
            self._set(flat, l, W)
        return flat

    def _pack_b(self, bs: list[np.ndarray], page_offset: int = PAGE_OFFSET["b"]) -> np.ndarray:
        flat = _zeros(self.a_total, self.dtype, page_offset)
        for l, b in enumerate(bs):
            ao = self.lay[l, 4]
            flat[ao:ao + len(b)] = b
        return flat

    def unpack(self, net: Any, opt: Any = None) -> None:
        """Copy the packed parameters back into the network (and the optimiser's velocities)."""
        pairs = [(net.W, net.b, self.W, self.b)]
        if opt is not None and opt.momentum:
            pairs.append((opt.vW, opt.vb, self.vW, self.vb))
        for Ws, bs, W_flat, b_flat in pairs:
            for l, (W, b) in enumerate(zip(Ws, bs)):
                W[...] = self._get(W_flat, l, W.shape)
                ao = self.lay[l, 4]
                b[...] = b_flat[ao:ao + len(b)]


def _kernel_inputs(net: Any, X: np.ndarray) -> tuple[np.ndarray, int]:
    """X as the kernels read it and its kind (0 uint8, 1 float32, 2 float64). uint8, float32 and
    float64 images are read as they are, converted pixel by pixel to the network's dtype (uint8 v as
    v / 255, correctly rounded): no copy (but of images not stored row after row, or of another dtype)."""
    if X.dtype not in _IMAGES:
        X = np.asarray(X, dtype=net.dtype)
    X = np.ascontiguousarray(X)
    return X, _IMAGES[X.dtype]


class Ink:
    """Images packed for SGD: image r's inked pixels (bits not all 0) are ``pix[start[r]:start[r + 1]]``,
    ascending pixel indices (uint16), with their values ``val`` alike: uint8 as stored for uint8 images
    and for float ones that are bytes / 255 (see _bytes_of), else the brightnesses in the network's dtype;
    ``kind``: the images' own (0 uint8, 1 float32, 2 float64). About 150 of MNIST's 784 pixels carry ink,
    so an epoch reads a fraction of the bytes and scans nothing; the arithmetic, and so the trained bytes,
    are the same.
    """

    def __init__(self, start: np.ndarray, pix: np.ndarray, val: np.ndarray, kind: int, n_cols: int,
                 dtype: Any) -> None:
        self.start, self.pix, self.val, self.kind, self.n_cols, self.dtype = start, pix, val, kind, n_cols, dtype

    def __len__(self) -> int:
        return len(self.start) - 1


def pack(net: Any, X: np.ndarray, engine: str = "auto") -> Any:
    """The training images X (checked) as engine ``engine``'s run reads them fastest: for the compiled
    engine, packed (Ink: uint8 images take 3 bytes per inked pixel, and so do float ones whose every
    brightness is a byte / 255, as MNIST's are; other float ones 2 + the dtype's size);
    for the NumPy engine (or images wider than a uint16 index), X as is. Packed once per fit, not per epoch."""
    if _resolve(engine) != "compiled" or X.ndim != 2 or not 0 < X.shape[1] <= 65536:
        return X
    k = _load_kernels()
    X, kind = _kernel_inputs(net, X)
    f64 = int(net.dtype == np.float64)
    n_threads = min(threads(), max(1, len(X) // PARALLEL_MIN_IMAGES))
    start = np.zeros(len(X) + 1, dtype=np.int64)
    k.ink_count(X, kind, X.shape[1], start[1:], n_threads)
    np.cumsum(start, out=start)
    pix = np.empty(start[-1], dtype=np.uint16)
    val = np.empty(start[-1], dtype=np.uint8 if kind == _IMAGES[np.dtype(np.uint8)] else net.dtype)
    k.ink_pack(X, kind, X.shape[1], start, pix, val, f64, n_threads)
    if val.dtype != np.uint8:
        as_bytes = _bytes_of(val)
        val = val if as_bytes is None else as_bytes
    return Ink(start, pix, val, kind, X.shape[1], net.dtype)


def _bytes_of(val: np.ndarray) -> np.ndarray | None:
    """Brightnesses (float, the network's dtype) as the bytes v they are, each exactly v / 255 in that
    dtype, bit for bit, as load_mnist's and any image of bytes divided by 255 are; None if one is not.
    The kernels turn a byte back into v / 255, correctly rounded, so they train on the very same
    numbers, reading a third (float32) or a fifth (float64) of the bytes each epoch."""
    out = np.empty(len(val), dtype=np.uint8)
    return out if _load_kernels().as_bytes(val, out, int(val.dtype == np.float64)) else None


# -- inference ---------------------------------------------------------------------------------------

def predict_proba(net: Any, X: np.ndarray) -> np.ndarray:
    """The output activations (m, k) for a checked mini-batch X (m, n): uint8 or float.

    A few images go through NumPy (the compiled kernel's set-up costs more than their arithmetic);
    more go through the kernel, on several threads.
    """
    if len(X) < COMPILED_MIN_IMAGES or _load_kernels() is None:
        return _predict_proba_numpy(net, X)
    return _predict_proba_compiled(net, X)


def _predict_proba_numpy(net: Any, X: np.ndarray) -> np.ndarray:
    return net.feedforward(brightness(X, net.dtype))[1][-1]


def _predict_proba_compiled(net: Any, X: np.ndarray) -> np.ndarray:
    packed = _Packed(net)
    X, kind = _kernel_inputs(net, X)
    out = np.empty((len(X), net.sizes[-1]), dtype=net.dtype)
    n_threads = min(threads(), max(1, len(X) // PARALLEL_MIN_IMAGES))
    _load_kernels().forward(X, kind, X.shape[1], _HIDDEN[net.activation], _COST[net.cost_name], packed.lay,
                            packed.W, packed.b, out, n_threads, int(net.dtype == np.float64))
    return out


# -- training ----------------------------------------------------------------------------------------

def select(name: str) -> Callable[..., Summed]:
    """The function run(net, X, Y, order, batch_size, opt, progress, keep) -> Summed, for engine ``name``.

    It runs SGD over the mini-batches ``order[i:i + batch_size]`` (X uint8 or float (N, n), or what
    ``pack`` made of it for this engine; Y one-hot
    (N, k)), updating ``net`` and the optimiser ``opt`` in place, and returns the sum over the
    mini-batches of their mean cost (before their step) times their size, and how many of their
    examples were guessed right in that same forward pass (optimizer.Summed). progress(done, total) is
    called about PROGRESS_STEPS times (without it, the whole order is one call). keep: a dict the
    caller passes again at its next call, to reuse the packed parameters (see _packed_for). chunk_costs:
    a list that gets (examples done, their chunk's summed cost) after each of those PROGRESS_STEPS
    chunks, so that a caller sees the cost fall within one call (the page's curve, stepper.py).
    """
    return _run_compiled if _resolve(name) == "compiled" else _run_numpy


def _chunk(n: int, batch_size: int) -> int:
    """Examples per call between two progress reports: whole mini-batches, about PROGRESS_STEPS calls."""
    n_batches = -(-n // batch_size)
    return max(1, -(-n_batches // PROGRESS_STEPS)) * batch_size


def _run_numpy(net, X, Y, order, batch_size, opt, progress=None, keep=None, chunk_costs=None) -> Summed:
    total, right = 0.0, 0
    chunk = _chunk(len(order), batch_size)
    for start in range(0, len(order), chunk):
        summed = sgd_batches(net, X, Y, order[start:start + chunk], batch_size, opt)
        total += summed.cost
        right += summed.right
        if chunk_costs is not None:
            chunk_costs.append((min(start + chunk, len(order)), summed.cost))
        if progress is not None:
            progress(min(start + chunk, len(order)), len(order))
    return Summed(total, right)


def _run_compiled(net, X, Y, order, batch_size, opt, progress=None, keep=None, chunk_costs=None) -> Summed:
    k = _load_kernels()
    shares = _shares(batch_size)
    packed = _packed_for(net, opt, keep)
    if isinstance(X, Ink):
        if X.kind != _IMAGES[np.dtype(np.uint8)] and X.dtype != net.dtype:
            raise ValueError(f"images packed for a {np.dtype(X.dtype).name} network, not {np.dtype(net.dtype).name}")
        ink: tuple | None = (X.start, X.pix, X.val)
        kind = _IMAGES[np.dtype(np.uint8)] if X.val.dtype == np.uint8 else X.kind  # how the kernel reads val
        n_cols = X.n_cols
        X = np.empty(0, dtype=np.uint8)
    else:
        ink = None
        X, kind = _kernel_inputs(net, X)
        n_cols = X.shape[1]
    Y = np.ascontiguousarray(Y, dtype=net.dtype)
    order = np.ascontiguousarray(order, dtype=np.int64)
    hidden, cost = _HIDDEN[net.activation], _COST[net.cost_name]
    n_threads, f64 = threads(), int(net.dtype == np.float64)

    def chunk(start: int, stop: int) -> Summed:
        summed, right = k.sgd(X, kind, n_cols, Y, order, start, stop, batch_size, float(opt.learning_rate),
                              float(opt.momentum), float(opt.weight_decay), hidden, cost, packed.lay, packed.W,
                              packed.b, packed.vW, packed.vb, shares, n_threads, f64, ink)
        return Summed(float(summed), int(right))

    n = len(order)
    total, right = 0.0, 0
    step = _chunk(n, batch_size) if progress is not None or chunk_costs is not None else max(n, 1)  # else one call
    try:
        for start in range(0, n, step):
            stop = min(start + step, n)
            summed = chunk(start, stop)
            total += summed.cost
            right += summed.right
            if chunk_costs is not None:
                chunk_costs.append((stop, summed.cost))
            if progress is not None:
                progress(stop, n)
    finally:
        packed.unpack(net, opt)  # also when interrupted (Ctrl-C between chunks): keep what was learnt
        if keep is not None:
            keep.update(packed=packed, net=net, opt=opt, written=_parameters(net, opt))
    return Summed(total, right)


def _shares(batch_size: int) -> int:
    """The shares a mini-batch of ``batch_size`` is cut into for the threads: 1 (one thread) below
    PARALLEL_MIN_BATCH, else one per PARALLEL_MIN_BATCH examples, at most SHARES."""
    return max(1, min(SHARES, batch_size // PARALLEL_MIN_BATCH))


def _parameters(net: Any, opt: Any) -> list[np.ndarray]:
    """Copies of what the kernels write back: the weights, biases and (with momentum) the velocities."""
    return [a.copy() for a in net.W + net.b + (opt.vW + opt.vb if opt.momentum else [])]


def _packed_for(net: Any, opt: Any, keep: dict | None) -> _Packed:
    """The parameters packed for the kernels.

    A caller that trains in many short calls (stepper.py) passes the same dict ``keep`` each time:
    the packed copy of its last call is used again when the network (and optimiser) still hold
    exactly what that call wrote back. Anything else, such as a weight changed in between, packs anew.
    """
    same = keep is not None and all(keep.get(key) is value for key, value in (("net", net), ("opt", opt)))
    if keep and same:
        now = net.W + net.b + (opt.vW + opt.vb if opt.momentum else [])
        if len(now) == len(keep["written"]) and all(np.array_equal(a, b) for a, b in zip(now, keep["written"])):
            return keep["packed"]
    return _Packed(net, opt)

"""The training and inference engine behind Network.fit and Network.predict.

Two engines compute the same thing:

- "numpy": the readable reference, ``optimizer.sgd_batches`` (one ``Network.backprop`` per mini-batch);
- "numba": the compiled kernels of ``kernels.py``, many mini-batches per call, the images read as
  stored (uint8) and shuffled by index. The tests check it gives the reference's weights, to
  float rounding.

"auto" picks numba when it can be imported, else numpy. Numba is imported on first use only, and
each kernel is compiled for the types it meets (uint8 or float images, float32 or float64 network,
number of layers), then cached on disk, so an unused variant costs nothing.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from .checks import brightness
from .errors import ConfigError
from .optimizer import SGD, sgd_batches
from .settings import ENGINES

# Below this many images, predict with NumPy; below PARALLEL_MIN_IMAGES, on one thread.
COMPILED_MIN_IMAGES = 64
PARALLEL_MIN_IMAGES = 2000
# From this mini-batch size on, each mini-batch's examples are cut into SHARES shares, each summed
# into its own gradient, the shares then added in a fixed order; the threads (however many) work on
# the shares. The bytes depend on SHARES only, never on the number of threads or cores.
PARALLEL_MIN_BATCH = 50
SHARES = 4
# The progress callback is called about this many times per epoch.
PROGRESS_STEPS = 20

_HIDDEN = {"sigmoid": 0, "relu": 1}
_COST = {"quadratic": 0, "cross-entropy": 1}

_kernels: Any = None  # the kernels module; False when it cannot be used; None until first asked


def numba_available() -> bool:
    """Whether the compiled engine can be used (numba importable, not disabled by DIGITNET_ENGINE=numpy)."""
    return _load_kernels() is not None


def _load_kernels() -> Any:
    global _kernels
    if _kernels is None:
        _kernels = False
        if os.environ.get("DIGITNET_ENGINE", "").lower() != "numpy":
            try:
                from . import kernels as module
            except ImportError:
                pass
            else:
                _kernels = module
    return _kernels or None


def _resolve(name: str) -> str:
    if name not in ENGINES:
        raise ConfigError(f"unknown engine {name!r}: choose one of {', '.join(ENGINES)}")
    if name == "numba" and _load_kernels() is None:
        raise ConfigError("engine 'numba' needs the numba package: pip install numba, or use engine='numpy'")
    if name == "auto":
        return "numba" if _load_kernels() is not None else "numpy"
    return name


# -- the network's parameters as the kernels want them ------------------------------------------------

def _padded(k: int, block: int) -> int:
    return -(-k // block) * block


# Where each of the kernels' arrays starts within a 4 KB page. Aligned to cache lines, and apart from
# one another: the CPU matches a load with earlier stores by the address's low 12 bits first, so
# arrays that started at the same place in their pages (as allocations often do) would make the
# loads of one wait on the stores into another. Fixed offsets also make the speed the same from run
# to run (with offsets left to the allocator, an epoch took anywhere from 0.055 to 0.075 s).
PAGE_OFFSET = {"W": 0, "G": 2048, "Wn": 1024, "b": 3072, "vW": 512, "vb": 3584, "A": 1536, "D": 2560,
               "Gb": 3328, "xv": 768, "grp": 3840}


def _zeros(shape: Any, dtype: Any, page_offset: int = 0) -> np.ndarray:
    """np.zeros starting ``page_offset`` bytes into a 4 KB page (a multiple of 64: a cache line, so
    no vector load of a row straddles two lines; the last axis is a multiple of 16 elements here,
    so every row of a 2-D array is aligned too)."""
    dtype = np.dtype(dtype)
    n = int(np.prod(shape))
    raw = np.zeros(n * dtype.itemsize + 4096, dtype=np.uint8)
    offset = (page_offset - raw.ctypes.data) % 4096
    return raw[offset:offset + n * dtype.itemsize].view(dtype).reshape(shape)


class _Packed:
    """A network's parameters in the kernels' layout (see kernels.py): flat arrays and ``lay``.

    Layer l's W (k, n) is held transposed in blocks of 16 neurons, padded with zeros: k to KP (a
    multiple of 16) and n to ROWS (the previous layer's KP; for the first layer, a multiple of 8).
    """

    def __init__(self, net: Any, opt: Any = None, training: bool = True) -> None:
        from .kernels import GROUP, B

        self.dtype = net.dtype
        sizes = net.sizes
        L = len(sizes) - 1
        kp = [_padded(k, B) for k in sizes[1:]]
        rows = [_padded(sizes[0], GROUP)] + kp[:-1]
        w_size = [r * k for r, k in zip(rows, kp)]
        wn_size = [0] + w_size[1:]
        self.lay = np.zeros((L, 6), dtype=np.int64)
        self.lay[:, 0] = sizes[1:]
        self.lay[:, 1] = kp
        self.lay[:, 2] = rows
        self.lay[:, 3] = np.cumsum([0] + w_size[:-1])
        self.lay[:, 4] = np.cumsum([0] + wn_size[:-1])
        self.lay[:, 5] = np.cumsum([0] + kp[:-1])
        self.n_in = rows[0]
        self.w_total, self.wn_total, self.a_total = sum(w_size), sum(wn_size), sum(kp)
        self.W = self._pack_W(net.W)
        self.b = self._pack_b(net.b)
        self.Wn = _zeros(self.wn_total if training else 0, self.dtype, PAGE_OFFSET["Wn"])
        for l in range(1, L if training else 1):
            self._set(self.Wn, l, net.W[l], natural=True)
        if opt is not None and opt.momentum:
            self.vW, self.vb = self._pack_W(opt.vW, PAGE_OFFSET["vW"]), self._pack_b(opt.vb, PAGE_OFFSET["vb"])
        else:  # not read by the kernels without momentum
            self.vW, self.vb = self.W, self.b

    def _blocks(self, flat: np.ndarray, l: int, natural: bool = False) -> np.ndarray:
        """Layer l's weights as a view into the flat array, padding included.

        W^T layout: view[i, j, p] = W[16 i + j, p]. Natural layout (Wn): view[i, k, j] = W[k, 16 i + j].
        """
        from .kernels import B

        k, kp, rows, wo, wno, ao = self.lay[l]
        if natural:  # Wn: element (k, p) at WNO + ((p // 16) * KP + k) * 16 + p % 16
            return flat[wno:wno + kp * rows].reshape(rows // B, kp, B)
        # W^T: element (p, k) at WO + ((k // 16) * ROWS + p) * 16 + k % 16
        return flat[wo:wo + kp * rows].reshape(kp // B, rows, B).transpose(0, 2, 1)

    def _get(self, flat: np.ndarray, l: int, shape: tuple[int, ...]) -> np.ndarray:
        """Layer l's W (k, n) out of the flat W^T array."""
        kp, rows = self.lay[l, 1], self.lay[l, 2]
        return self._blocks(flat, l).reshape(kp, rows)[:shape[0], :shape[1]]

    def _set(self, flat: np.ndarray, l: int, W: np.ndarray, natural: bool = False) -> None:
        """Write layer l's W (k, n) into the flat array, in the W^T or the natural layout."""
        from .kernels import B

        kp, rows = self.lay[l, 1], self.lay[l, 2]
        padded = np.zeros((kp, rows), dtype=self.dtype)
        padded[:W.shape[0], :W.shape[1]] = W
        if natural:
            self._blocks(flat, l, natural=True)[...] = padded.reshape(kp, rows // B, B).transpose(1, 0, 2)
        else:
            self._blocks(flat, l)[...] = padded.reshape(kp // B, B, rows)

    def _pack_W(self, Ws: list[np.ndarray], page_offset: int = PAGE_OFFSET["W"]) -> np.ndarray:
        flat = _zeros(self.w_total, self.dtype, page_offset)
        for l, W in enumerate(Ws):
            self._set(flat, l, W)
        return flat

    def _pack_b(self, bs: list[np.ndarray], page_offset: int = PAGE_OFFSET["b"]) -> np.ndarray:
        flat = _zeros(self.a_total, self.dtype, page_offset)
        for l, b in enumerate(bs):
            ao = self.lay[l, 5]
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
                ao = self.lay[l, 5]
                b[...] = b_flat[ao:ao + len(b)]

    def scratch(self, gradients: bool = True, threads: int = 0) -> dict[str, Any]:
        """Buffers for the kernels: activations, deltas, gradients and the input's inked groups.

        threads = 0: one set of 1-D arrays; else arrays (threads, ...), a row for each thread.
        """
        from .kernels import GROUP

        lead = (threads,) if threads else ()
        s = {
            "A": _zeros(lead + (self.a_total,), self.dtype, PAGE_OFFSET["A"]),
            "grp": _zeros(lead + (self.n_in // GROUP,), np.int64, PAGE_OFFSET["grp"]),
            "xv": _zeros(lead + (self.n_in,), self.dtype, PAGE_OFFSET["xv"]),
        }
        if gradients:
            s["D"] = _zeros(lead + (self.a_total,), self.dtype, PAGE_OFFSET["D"])
            s["G"] = _zeros(lead + (self.w_total,), self.dtype, PAGE_OFFSET["G"])
            s["Gb"] = _zeros(lead + (self.a_total,), self.dtype, PAGE_OFFSET["Gb"])
        return s


def _kernel_inputs(net: Any, X: np.ndarray, n_in: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """X as the kernels read it (uint8, or the network's float dtype; n_in columns, C order), its rows
    seen as 64-bit words (for testing 8 pixels at once), and the table lut[v] = dtype(v) / dtype(255)."""
    dtype = net.dtype
    lut = np.arange(256).astype(dtype) / dtype(255)
    if X.dtype != np.uint8:
        X = np.asarray(X, dtype=dtype)
    if X.shape[1] != n_in or not X.flags.c_contiguous:
        padded = np.zeros((len(X), n_in), dtype=X.dtype)  # only for images of a size not a multiple of 8
        padded[:, :X.shape[1]] = X
        X = padded
    return X, X.view(np.uint64), lut


# -- inference ---------------------------------------------------------------------------------------

def predict_proba(net: Any, X: np.ndarray) -> np.ndarray:
    """The output activations (m, k) for a checked mini-batch X (m, n): uint8 or float.

    A few images go through NumPy (the compiled kernel's set-up costs more than their arithmetic);
    more go through the kernel, on several threads.
    """
    if len(X) < COMPILED_MIN_IMAGES or _load_kernels() is None:
        return _predict_proba_numpy(net, X)
    return _predict_proba_numba(net, X)


def _predict_proba_numpy(net: Any, X: np.ndarray) -> np.ndarray:
    return net.feedforward(brightness(X, net.dtype))[1][-1]


def _predict_proba_numba(net: Any, X: np.ndarray) -> np.ndarray:
    k = _load_kernels()
    packed = _Packed(net, training=False)
    X, Xw, lut = _kernel_inputs(net, X, packed.n_in)
    m = len(X)
    out = np.empty((m, net.sizes[-1]), dtype=net.dtype)
    hidden, cost = _HIDDEN[net.activation], _COST[net.cost_name]

    def part(lo: int, hi: int) -> None:
        s = packed.scratch(gradients=False)
        k.forward(X, Xw, lo, hi, lut, hidden, cost, packed.lay, packed.W, packed.b, s["A"], s["grp"], s["xv"],
                  out)

    threads = min(_threads(), max(1, m // PARALLEL_MIN_IMAGES))
    if threads <= 1:
        part(0, m)
    else:  # the kernel releases the GIL: each thread predicts its share
        bounds = [m * t // threads for t in range(threads + 1)]
        list(_pool().map(part, bounds[:-1], bounds[1:]))
    return out


_executor: Any = None
_executor_lock = threading.Lock()


def _pool() -> Any:
    """A thread pool for predicting in parallel, started on first use."""
    global _executor
    with _executor_lock:
        if _executor is None:
            from concurrent.futures import ThreadPoolExecutor

            _executor = ThreadPoolExecutor(max(1, os.cpu_count() or 1), thread_name_prefix="digitnet-predict")
    return _executor


# -- training ----------------------------------------------------------------------------------------

def select(name: str) -> Callable[..., float]:
    """The function run(net, X, Y, order, batch_size, opt, progress, keep) -> summed cost, for engine ``name``.

    It runs SGD over the mini-batches ``order[i:i + batch_size]`` (X uint8 or float (N, n), Y one-hot
    (N, k)), updating ``net`` and the optimiser ``opt`` in place, and returns the sum over the
    mini-batches of their mean cost (before their step) times their size. progress(done, total) is
    called about PROGRESS_STEPS times (without it, the whole order is one call). keep: a dict the
    caller passes again at its next call, to reuse the packed parameters (see _packed_for). chunk_costs:
    a list that gets (examples done, their chunk's summed cost) after each of those PROGRESS_STEPS
    chunks, so that a caller sees the cost fall within one call (the page's curve, stepper.py).
    """
    return _run_numba if _resolve(name) == "numba" else _run_numpy


def _chunk(n: int, batch_size: int) -> int:
    """Examples per call between two progress reports: whole mini-batches, about PROGRESS_STEPS calls."""
    n_batches = -(-n // batch_size)
    return max(1, -(-n_batches // PROGRESS_STEPS)) * batch_size


def _run_numpy(net, X, Y, order, batch_size, opt, progress=None, keep=None, chunk_costs=None) -> float:
    total = 0.0
    chunk = _chunk(len(order), batch_size)
    for start in range(0, len(order), chunk):
        summed = sgd_batches(net, X, Y, order[start:start + chunk], batch_size, opt)
        total += summed
        if chunk_costs is not None:
            chunk_costs.append((min(start + chunk, len(order)), summed))
        if progress is not None:
            progress(min(start + chunk, len(order)), len(order))
    return total


def _threads() -> int:
    """The number of threads for the parallel kernels: Numba's setting (NUMBA_NUM_THREADS, default
    the number of cores)."""
    import numba

    return numba.get_num_threads()


def _run_numba(net, X, Y, order, batch_size, opt, progress=None, keep=None, chunk_costs=None) -> float:
    k = _load_kernels()
    threads = SHARES if batch_size >= PARALLEL_MIN_BATCH else 1  # shares of a mini-batch, run on the threads
    packed, s = _packed_for(net, opt, threads, keep)
    X, Xw, lut = _kernel_inputs(net, X, packed.n_in)
    Y = np.ascontiguousarray(Y, dtype=net.dtype)
    order = np.ascontiguousarray(order, dtype=np.int64)
    if len(order) and (order.min() < 0 or order.max() >= len(X)):  # the kernel does not check indices
        raise IndexError(f"order holds indices outside 0..{len(X) - 1}")
    hp = np.array([opt.learning_rate, opt.momentum, opt.weight_decay], dtype=net.dtype)
    hidden, cost = _HIDDEN[net.activation], _COST[net.cost_name]
    if threads > 1:
        costs = np.zeros(threads)

        def chunk(start: int, stop: int) -> float:
            costs[:] = 0.0
            k.sgd_parallel(X, Xw, Y, order, start, stop, batch_size, lut, hp, hidden, cost, packed.lay, packed.W,
                           packed.b, packed.vW, packed.vb, packed.Wn, s["A"], s["D"], s["G"], s["Gb"], s["grp"],
                           s["xv"], costs)
            return float(costs.sum())
    else:
        mark = np.zeros(packed.n_in // k.GROUP, dtype=np.bool_)
        touched = np.zeros(packed.n_in // k.GROUP, dtype=np.int64)

        def chunk(start: int, stop: int) -> float:
            return k.sgd(X, Xw, Y, order, start, stop, batch_size, lut, hp, hidden, cost, packed.lay, packed.W,
                         packed.b, packed.vW, packed.vb, packed.Wn, s["A"], s["D"], s["G"], s["Gb"], s["grp"],
                         s["xv"], mark, touched)

    n = len(order)
    total = 0.0
    step = _chunk(n, batch_size) if progress is not None or chunk_costs is not None else max(n, 1)  # else one call
    try:
        for start in range(0, n, step):
            stop = min(start + step, n)
            summed = chunk(start, stop)
            total += summed
            if chunk_costs is not None:
                chunk_costs.append((stop, summed))
            if progress is not None:
                progress(stop, n)
    finally:
        packed.unpack(net, opt)  # also when interrupted (Ctrl-C between chunks): keep what was learnt
        if keep is not None:
            keep.update(packed=packed, scratch=s, net=net, opt=opt, threads=threads, written=_parameters(net, opt))
    return total


def _parameters(net: Any, opt: Any) -> list[np.ndarray]:
    """Copies of what the kernels write back: the weights, biases and (with momentum) the velocities."""
    return [a.copy() for a in net.W + net.b + (opt.vW + opt.vb if opt.momentum else [])]


def _packed_for(net: Any, opt: Any, threads: int, keep: dict | None) -> tuple[_Packed, dict[str, Any]]:
    """The parameters packed for the kernels, and their scratch buffers.

    A caller that trains in many short calls (stepper.py) passes the same dict ``keep`` each time:
    the packed copy of its last call is used again when the network (and optimiser) still hold
    exactly what that call wrote back, which saves packing and fresh buffers at every call (about
    5% of an epoch in 12 calls). Anything else, such as a weight changed in between, packs anew.
    """
    same = keep is not None and all(keep.get(key) is value for key, value in (("net", net), ("opt", opt)))
    if keep and same and keep.get("threads") == threads:
        now = net.W + net.b + (opt.vW + opt.vb if opt.momentum else [])
        if len(now) == len(keep["written"]) and all(np.array_equal(a, b) for a, b in zip(now, keep["written"])):
            return keep["packed"], keep["scratch"]
    packed = _Packed(net, opt)
    return packed, packed.scratch(threads=threads if threads > 1 else 0)


# -- compiling ahead ---------------------------------------------------------------------------------

def warm_up(net: Any, X: np.ndarray, batch_size: int, engine: str = "auto") -> None:
    """Compile (or load from the disk cache) the kernels a run of ``net`` on images like ``X`` needs:
    SGD for this mini-batch size and the forward pass used to judge it, on a copy and a few images.

    Called before training, so that the compile time can be announced instead of looking frozen.
    """
    if _resolve(engine) != "numba":
        return
    copy = net.copy()
    opt = SGD(0.0)
    opt.init_state(copy)
    few = X[:max(batch_size, 1)]
    Y = copy.one_hot(np.zeros(len(few), dtype=np.int64), len(few))
    _run_numba(copy, few, Y, np.arange(len(few)), batch_size, opt)
    images = np.resize(X[:COMPILED_MIN_IMAGES], (COMPILED_MIN_IMAGES, X.shape[1])).astype(X.dtype)
    _predict_proba_numba(copy, images)
    _predict_proba_numba(copy, images.astype(net.dtype) / net.dtype(255) if X.dtype == np.uint8 else images)

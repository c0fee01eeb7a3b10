"""The compiled kernels (Numba) behind digitnet's fast engine: SGD and the forward pass.

The same arithmetic as ``Network.backprop`` and ``training.sgd_batches`` (their NumPy code is the
specification, and the tests compare the two), arranged for the hardware:

- A whole run of mini-batches per call: no return to Python between steps.
- The images are read as stored, uint8 0-255 (a quarter of float32's memory traffic), through a
  table ``lut[v] = dtype(v) / dtype(255)``: the very numbers the NumPy path computes. The next
  examples' images are prefetched while the current one is worked on.
- Shuffling by index: example ``order[j]`` is read in place; the data are never copied.
- The input layer skips blank pixels. MNIST is 81% zeros, and a zero pixel adds nothing to
  z = W a + b nor to dC/dW = delta a^T. Pixels are tested 8 at a time (one 64-bit word of uint8) and
  only the groups with some ink are worked on: about 40% of the pixels, the same result.
- exp is computed inline (no call to the C library), so loops of sigmoids are vector code too.
- Mini-batches of 50 and more (engine.PARALLEL_MIN_BATCH) share their examples among threads
  (sgd_parallel); smaller ones run on one thread (sgd), where starting threads would cost more.

Memory layout. All layers' parameters sit in flat arrays (W, b, ...), described by ``lay``, one
row per layer: K (neurons), KP (K padded to a multiple of 16), ROWS (inputs: the previous layer's
KP, or for the first layer the image size rounded up to a multiple of 8), and the offsets WO (of
the layer's weights in W and G), WNO (in Wn) and AO (of its biases, activations and deltas in b,
A, D, Gb). The weights are held transposed, W^T (ROWS, KP), so that "add x_p times row p" is one
contiguous vector operation, and cut into blocks of 16 neurons (16 float32 fill one AVX-512
register): element (p, k) lives at ``WO + ((k // 16) * ROWS + p) * 16 + k % 16``. The fixed row
length lets the compiler vectorise every inner loop. Wn holds the same weights untransposed, in
the same blocked form (element (k, p) at ``WNO + ((p // 16) * KP + k) * 16 + p % 16``), for the
backward pass's W^T delta. Padded activations and deltas are kept at 0, so the padding stays 0.

Per example the loop is the lesson's: forward (z = W a + b, a = sigma(z)), the output delta from the
cost, backward (delta_prev = (W^T delta) * sigma'(z_prev)), gradients summed over the mini-batch;
then one update per mini-batch, v = mu v - eta (dW + lambda W); W += v (plain SGD: W -= eta dW).

Codes: hidden activation 0 = sigmoid, 1 = relu; cost 0 = quadratic (sigmoid output),
1 = cross-entropy (softmax output).
"""

from __future__ import annotations

import math

import numba
import numpy as np
from llvmlite import ir  # type: ignore[import-untyped]
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic, overload

SIGMOID, RELU = 0, 1
QUADRATIC, CROSS_ENTROPY = 0, 1
B = 16  # neurons per block: one 512-bit register of float32
GROUP = 8  # input pixels tested together: one 64-bit word of uint8
K, KP, ROWS, WO, WNO, AO = range(6)  # the columns of ``lay``
PREFETCH_AHEAD = 3  # examples

# Offsets are computed in unsigned integers: Numba then knows they cannot be negative, skips
# Python's wrap-around of negative indices, and the loops compile to plain vector loads instead of
# gathers. (uint64 mixed with int64 gives a float in Numba, hence these constants.)
U = np.uint64
UB = U(B)

# "contract" lets a * b + c become one fused multiply-add. No re-association: the sums are
# written as balanced trees, so they do not wait on each other, and the compiler must keep them so.
# No "nnan"/"ninf": a NaN or an infinity propagates, so a diverging run is seen.
FASTMATH = {"contract", "nsz"}


def _jit(inline: str = "never", parallel: bool = False):
    """numba.njit with an on-disk cache, falling back to no cache on a read-only install.

    With cache=True Numba writes compiled code to a __pycache__ next to this file, else to the
    user's cache directory (or NUMBA_CACHE_DIR); when none is writable it refuses to decorate, and
    digitnet then compiles at each start instead of failing. The small helpers are inlined into
    the functions that call them, so that no arrays are passed or reference-counted between them.
    Each function is compiled on its first call, for the argument types of that call.
    """

    # error_model="numpy": a division by zero gives inf or NaN as in NumPy, instead of a test and an
    # exception at every division.
    options = dict(fastmath=FASTMATH, inline=inline, nogil=True, error_model="numpy", parallel=parallel)

    def decorate(fn):
        try:
            return numba.njit(cache=True, **options)(fn)
        except RuntimeError:  # "cannot cache function ...: no locator available"
            return numba.njit(cache=False, **options)(fn)

    return decorate


_helper = _jit(inline="always")


# -- reading the input: uint8 images through the table, float images as they are ---------------------

def _pixel(X, r, p, lut):  # pragma: no cover - only its compiled overload below is used
    raise NotImplementedError


@overload(_pixel, inline="always")
def _pixel_impl(X, r, p, lut):
    if X.dtype == types.uint8:
        return lambda X, r, p, lut: lut[X[r, p]]
    return lambda X, r, p, lut: X[r, p]


def _has_ink(X, Xw, r, g):  # pragma: no cover
    raise NotImplementedError


@overload(_has_ink, inline="always")
def _has_ink_impl(X, Xw, r, g):
    """Whether pixels 8g..8g+7 of example r are not all zero, read as 64-bit words (Xw: X's rows
    seen as uint64): one word for uint8 images, 4 for float32, 8 for float64. (A -0.0 counts as
    ink: it only adds 0 to the sums.)"""
    if X.dtype == types.uint8:
        return lambda X, Xw, r, g: Xw[r, g] != 0
    words = X.dtype.bitwidth // 8  # 8 pixels of 4 or 8 bytes

    def float_ink(X, Xw, r, g):
        w = 0
        for i in range(words * g, words * (g + 1)):
            w |= Xw[r, i]
        return w != 0

    return float_ink


@intrinsic
def _prefetch(typingctx, arr, i, j):
    """Start loading the cache line of arr[i, j] (llvm.prefetch): a hint, no effect on any result."""
    if not (isinstance(arr, types.Array) and arr.ndim == 2):
        return None

    def codegen(context, builder, signature, args):
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        idx = [context.cast(builder, args[1], signature.args[1], types.intp),
               context.cast(builder, args[2], signature.args[2], types.intp)]
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, idx, wraparound=False)
        i32 = ir.IntType(32)
        i8p = ir.IntType(8).as_pointer()
        ptr = builder.bitcast(ptr, i8p)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
        # read, keep in all cache levels, data cache
        builder.call(fn, [ptr, ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return types.void(arr, i, j), codegen


@_helper
def _prefetch_example(X, Y, r, row_step):
    """Prefetch image r (one element per cache line: row_step elements apart) and its target row."""
    for j in range(0, X.shape[1], row_step):
        _prefetch(X, r, j)
    _prefetch(Y, r, 0)


@_helper
def _inked_groups(X, Xw, r, lut, n_groups, grp, xv):
    """The groups of 8 pixels of example r with some ink: their indices into grp, pixels into xv.

    Returns how many there are.
    """
    ng = 0
    for g in range(n_groups):
        if _has_ink(X, Xw, r, g):
            grp[ng] = g
            p = GROUP * g
            j = GROUP * ng
            for q in range(GROUP):
                xv[j + q] = _pixel(X, r, p + q, lut)
            ng += 1
    return ng


# -- exp, written out so that loops of sigmoids compile to vector code ----------------------------------

@intrinsic
def _pow2(typingctx, n, like):
    """2.0 ** n as a float of like's type, built from its bits; n must be in the normal range."""
    if not (isinstance(like, types.Float) and isinstance(n, types.Integer)):
        return None

    def codegen(context, builder, signature, args):
        n = args[0]
        if signature.return_type.bitwidth == 32:
            itype, bias, shift, ftype = ir.IntType(32), 127, 23, ir.FloatType()
        else:
            itype, bias, shift, ftype = ir.IntType(64), 1023, 52, ir.DoubleType()
        if n.type.width > itype.width:
            n = builder.trunc(n, itype)
        elif n.type.width < itype.width:
            n = builder.sext(n, itype)
        bits = builder.shl(builder.add(n, ir.Constant(itype, bias)), ir.Constant(itype, shift))
        return builder.bitcast(bits, ftype)

    return like(n, like), codegen


def _exp(x):  # pragma: no cover - only its compiled overload below is used
    raise NotImplementedError


@overload(_exp)
def _exp_impl(x):
    """e^x within 1 ulp, in x's precision, without a call to the C library (which cannot be vectorised).

    e^x = 2^n e^r with n = round(x / ln 2) and |r| <= ln(2)/2 (ln 2 split in two parts so that r is
    exact); e^r by a polynomial: Cephes' expf for float32, the Taylor series to r^13 for float64.
    2^n is applied in two halves, so that results down to the subnormals and up to overflow are right.
    """
    if x == types.float32:
        f = np.float32

        def exp32(x):
            xc = min(max(x, f(-104.0)), f(89.0))
            n = np.floor(xc * f(1.44269504088896341) + f(0.5))  # a float32 (math.floor gives an int)
            r = (xc - n * f(0.693359375)) - n * f(-2.12194440e-4)
            y = ((((f(1.9875691500e-4) * r + f(1.3981999507e-3)) * r + f(8.3334519073e-3)) * r
                  + f(4.1665795894e-2)) * r + f(1.6666665459e-1)) * r + f(5.0000001201e-1)
            y = y * (r * r) + r + f(1)
            ni = np.int32(n)
            h = ni >> 1
            e = (y * _pow2(h, y)) * _pow2(ni - h, y)
            return x if x != x else e  # NaN stays NaN

        return exp32
    if x == types.float64:
        def exp64(x):
            xc = min(max(x, -746.0), 710.0)
            n = math.floor(xc * 1.4426950408889634 + 0.5)
            r = (xc - n * 6.93145751953125e-1) - n * 1.42860682030941723212e-6
            y = 1.0 / 6227020800.0  # 1/13!
            y = y * r + 1.0 / 479001600.0
            y = y * r + 1.0 / 39916800.0
            y = y * r + 1.0 / 3628800.0
            y = y * r + 1.0 / 362880.0
            y = y * r + 1.0 / 40320.0
            y = y * r + 1.0 / 5040.0
            y = y * r + 1.0 / 720.0
            y = y * r + 1.0 / 120.0
            y = y * r + 1.0 / 24.0
            y = y * r + 1.0 / 6.0
            y = y * r + 0.5
            y = y * r + 1.0
            y = y * r + 1.0
            ni = np.int64(n)
            h = ni >> 1
            e = (y * _pow2(h, y)) * _pow2(ni - h, y)
            return x if x != x else e

        return exp64
    return None



# -- the layers: matrix-vector products in the blocked layout --------------------------------------------

@_helper
def _rows8(o):
    """The offsets of 8 consecutive rows of a block, the first at offset o (uint64)."""
    return o, o + UB, o + U(2 * B), o + U(3 * B), o + U(4 * B), o + U(5 * B), o + U(6 * B), o + U(7 * B)


@_helper
def _add_rows8(out, oo, W, o, x0, x1, x2, x3, x4, x5, x6, x7):
    """out[oo:oo + 16] += x0 W[row 0] + ... + x7 W[row 7], the 8 rows of a block starting at offset o.

    The sum is a balanced tree, added to out once: 8 products in flight, not a chain of 8.
    """
    o0, o1, o2, o3, o4, o5, o6, o7 = _rows8(o)
    for kk in range(UB):
        out[oo + kk] += (((x0 * W[o0 + kk] + x1 * W[o1 + kk]) + (x2 * W[o2 + kk] + x3 * W[o3 + kk]))
                         + ((x4 * W[o4 + kk] + x5 * W[o5 + kk]) + (x6 * W[o6 + kk] + x7 * W[o7 + kk])))


@_helper
def _matvec(W, wo, rows, width, x, xo, out, oo):
    """out[oo:oo + width] = sum_p x[xo + p] W(p, :), p < rows (a multiple of 8): z = W a."""
    for blk in range(width // B):
        base = U(wo + blk * rows * B)
        ob = U(oo + blk * B)
        for kk in range(UB):
            out[ob + kk] = 0
        for p in range(0, rows, GROUP):
            i = xo + p
            _add_rows8(out, ob, W, base + U(p * B), x[i], x[i + 1], x[i + 2], x[i + 3], x[i + 4], x[i + 5],
                       x[i + 6], x[i + 7])


@_helper
def _add_rows16(out, oo, W, o, u, x, i):
    """out[oo:oo + 16] += sum_q x[i + q] W[row q], rows 0-7 of the block at offset o and 8-15 at u."""
    x0, x1, x2, x3, x4, x5, x6, x7 = x[i], x[i + 1], x[i + 2], x[i + 3], x[i + 4], x[i + 5], x[i + 6], x[i + 7]
    j = i + GROUP
    y0, y1, y2, y3, y4, y5, y6, y7 = x[j], x[j + 1], x[j + 2], x[j + 3], x[j + 4], x[j + 5], x[j + 6], x[j + 7]
    o0, o1, o2, o3, o4, o5, o6, o7 = _rows8(o)
    u0, u1, u2, u3, u4, u5, u6, u7 = _rows8(u)
    for kk in range(UB):
        s = (((x0 * W[o0 + kk] + x1 * W[o1 + kk]) + (x2 * W[o2 + kk] + x3 * W[o3 + kk]))
             + ((x4 * W[o4 + kk] + x5 * W[o5 + kk]) + (x6 * W[o6 + kk] + x7 * W[o7 + kk])))
        t = (((y0 * W[u0 + kk] + y1 * W[u1 + kk]) + (y2 * W[u2 + kk] + y3 * W[u3 + kk]))
             + ((y4 * W[u4 + kk] + y5 * W[u5 + kk]) + (y6 * W[u6 + kk] + y7 * W[u7 + kk])))
        out[oo + kk] += s + t


@_helper
def _matvec_inked(W, wo, rows, width, grp, xv, ng, out, oo):
    """z = W x for the input layer, from the ng inked groups only, two groups (16 pixels) per step."""
    for blk in range(width // B):
        base = U(wo + blk * rows * B)
        ob = U(oo + blk * B)
        for kk in range(UB):
            out[ob + kk] = 0
        for j in range(0, ng - 1, 2):
            _add_rows16(out, ob, W, base + U(grp[j] * (GROUP * B)), base + U(grp[j + 1] * (GROUP * B)), xv,
                        GROUP * j)
        if ng % 2 == 1:
            i = GROUP * (ng - 1)
            _add_rows8(out, ob, W, base + U(grp[ng - 1] * (GROUP * B)), xv[i], xv[i + 1], xv[i + 2], xv[i + 3],
                       xv[i + 4], xv[i + 5], xv[i + 6], xv[i + 7])


@_helper
def _add_outer8(G, o, x0, x1, x2, x3, x4, x5, x6, x7, D, do):
    """Row q of the 8 rows at offset o += x_q D[do:do + 16]: one piece of dC/dW^T += a delta^T."""
    o0, o1, o2, o3, o4, o5, o6, o7 = _rows8(o)
    for kk in range(UB):
        d = D[do + kk]
        G[o0 + kk] += x0 * d
        G[o1 + kk] += x1 * d
        G[o2 + kk] += x2 * d
        G[o3 + kk] += x3 * d
        G[o4 + kk] += x4 * d
        G[o5 + kk] += x5 * d
        G[o6 + kk] += x6 * d
        G[o7 + kk] += x7 * d


@_helper
def _outer(G, go, rows, width, x, xo, D, do):
    """dC/dW^T += a delta^T: G(p, k) += x[xo + p] D[do + k]."""
    for blk in range(width // B):
        base = U(go + blk * rows * B)
        db = U(do + blk * B)
        for p in range(0, rows, GROUP):
            i = xo + p
            _add_outer8(G, base + U(p * B), x[i], x[i + 1], x[i + 2], x[i + 3], x[i + 4], x[i + 5], x[i + 6],
                        x[i + 7], D, db)


@_helper
def _outer_inked(G, go, rows, width, grp, xv, ng, D, do):
    """dC/dW^T += x delta^T for the input layer: the rows of the inked groups only."""
    for blk in range(width // B):
        base = U(go + blk * rows * B)
        db = U(do + blk * B)
        for j in range(ng):
            i = GROUP * j
            _add_outer8(G, base + U(grp[j] * (GROUP * B)), xv[i], xv[i + 1], xv[i + 2], xv[i + 3], xv[i + 4],
                        xv[i + 5], xv[i + 6], xv[i + 7], D, db)


@_helper
def _add(out, oo, x, xo, n):
    """out[oo:oo + n] += x[xo:xo + n] (biases onto z; delta onto dC/db)."""
    for k in range(U(n)):
        out[U(oo) + k] += x[U(xo) + k]


# -- activations and costs -------------------------------------------------------------------------------

@_helper
def _sigma(A, ao, k_real, kp, hidden):
    """a = sigma(z) in place on A[ao:ao + k_real]; the padding up to kp is set to 0."""
    one = A.dtype.type(1)  # in the network's dtype, so float32 stays float32
    zero = A.dtype.type(0)
    if hidden == SIGMOID:
        for k in range(U(ao), U(ao + k_real)):
            A[k] = one / (one + _exp(-A[k]))
    else:
        for k in range(U(ao), U(ao + k_real)):
            z = A[k]
            A[k] = z if not z <= zero else zero  # max(z, 0), and a NaN stays a NaN
    for k in range(ao + k_real, ao + kp):
        A[k] = zero


@_helper
def _sigma_prime_times(D, A, ao, k_real, kp, hidden):
    """delta *= sigma'(z), from a = sigma(z): sigmoid a (1 - a); relu 1 where a > 0 (z > 0), else 0."""
    one = A.dtype.type(1)
    zero = A.dtype.type(0)
    for k in range(ao, ao + k_real):
        a = A[k]
        if hidden == SIGMOID:
            D[k] = D[k] * (a * (one - a))
        else:
            D[k] = D[k] if a > zero else zero
    for k in range(ao + k_real, ao + kp):
        D[k] = zero


@_helper
def _output(A, ao, k_real, kp, cost):
    """The output activations in place: sigmoid (quadratic cost) or softmax (cross-entropy)."""
    one = A.dtype.type(1)
    zero = A.dtype.type(0)
    end = ao + k_real
    if cost == QUADRATIC:
        for k in range(U(ao), U(end)):
            A[k] = one / (one + _exp(-A[k]))
    else:
        zmax = A[ao]
        for k in range(ao + 1, end):
            zmax = max(zmax, A[k])  # subtracted first, so no exp overflows
        s = zero
        for k in range(ao, end):
            e = _exp(A[k] - zmax)
            A[k] = e
            s += e
        for k in range(ao, end):
            A[k] = A[k] / s
    for k in range(end, ao + kp):
        A[k] = zero


@_helper
def _output_delta(Y, r, cost, A, D, ao, k_real, kp, eps):
    """The cost C_0 of example r (a float64), and the output layer's delta = dC_0/dz_L into D."""
    one = A.dtype.type(1)
    c = 0.0
    if cost == QUADRATIC:
        # C_0 = sum_j (a_j - y_j)^2; delta = 2 (a - y) sigma'(z), with sigma'(z) = a (1 - a).
        for k in range(k_real):
            a = A[ao + k]
            d = a - Y[r, k]
            c += d * d
            D[ao + k] = (d + d) * (a * (one - a))
    else:
        # C_0 = -sum_j y_j ln a_j (a clipped to [eps, 1]); with a softmax output, delta = a - y.
        for k in range(k_real):
            a = A[ao + k]
            y = Y[r, k]
            if y != 0:
                c -= y * math.log(min(max(a, eps), one))
            D[ao + k] = a - y
    for k in range(ao + k_real, ao + kp):
        D[k] = 0
    return c


# -- one example ---------------------------------------------------------------------------------------------

@_helper
def _forward(X, Xw, r, lut, hidden, cost, lay, W, b, A, grp, xv):
    """The forward pass of example r: A = every layer's activations, the output last.

    Returns the number of inked input groups (listed in grp, their pixels in xv, for the backward pass).
    """
    L = lay.shape[0]
    ng = _inked_groups(X, Xw, r, lut, lay[0, ROWS] // GROUP, grp, xv)
    _matvec_inked(W, lay[0, WO], lay[0, ROWS], lay[0, KP], grp, xv, ng, A, lay[0, AO])
    _add(A, lay[0, AO], b, lay[0, AO], lay[0, KP])
    for l in range(1, L):
        _sigma(A, lay[l - 1, AO], lay[l - 1, K], lay[l - 1, KP], hidden)
        _matvec(W, lay[l, WO], lay[l, ROWS], lay[l, KP], A, lay[l - 1, AO], A, lay[l, AO])
        _add(A, lay[l, AO], b, lay[l, AO], lay[l, KP])
    _output(A, lay[L - 1, AO], lay[L - 1, K], lay[L - 1, KP], cost)
    return ng


@_helper
def _backward(hidden, lay, Wn, A, D, G, Gb, grp, xv, ng):
    """Backpropagate the output delta (in D), adding dC_0/dW^T to G and dC_0/db to Gb."""
    L = lay.shape[0]
    for l in range(L - 1, 0, -1):
        rows, kp, ao, prev = lay[l, ROWS], lay[l, KP], lay[l, AO], lay[l - 1, AO]
        _outer(G, lay[l, WO], rows, kp, A, prev, D, ao)
        _add(Gb, ao, D, ao, kp)
        # delta_prev = (W^T delta) * sigma'(z_prev)
        _matvec(Wn, lay[l, WNO], kp, rows, D, ao, D, prev)
        _sigma_prime_times(D, A, prev, lay[l - 1, K], rows, hidden)
    _outer_inked(G, lay[0, WO], lay[0, ROWS], lay[0, KP], grp, xv, ng, D, lay[0, AO])
    _add(Gb, lay[0, AO], D, lay[0, AO], lay[0, KP])


# -- the update --------------------------------------------------------------------------------------------

@_helper
def _step(W, vW, G, lo, hi, m, hp, momentum, decay):
    """v = mu v - eta (G/m + lambda W); W += v on W[lo:hi] (plain SGD: W -= eta G/m); then G = 0."""
    eta, mu, lam = hp[0], hp[1], hp[2]
    mf = W.dtype.type(m)  # G / m in the network's dtype, as NumPy's dW / m
    zero = W.dtype.type(0)
    lo, hi = U(lo), U(hi)
    if momentum:
        for i in range(lo, hi):
            g = G[i] / mf
            if decay:
                g = g + lam * W[i]
            v = mu * vW[i] - eta * g
            vW[i] = v
            W[i] += v
            G[i] = zero
    elif decay:
        for i in range(lo, hi):
            W[i] -= eta * (G[i] / mf + lam * W[i])
            G[i] = zero
    else:
        for i in range(lo, hi):
            W[i] -= eta * (G[i] / mf)
            G[i] = zero


@_helper
def _transpose(W, wo, rows, kp, Wn, wno):
    """Wn (k, p) = W^T (p, k): the untransposed copy used by the backward pass."""
    for pb in range(rows // B):
        for k in range(kp):
            src = U(wo + ((k // B) * rows + pb * B) * B + k % B)
            dst = U(wno + (pb * kp + k) * B)
            for pp in range(UB):
                Wn[dst + pp] = W[src + pp * UB]


@_helper
def _update(lay, W, b, vW, vb, Wn, G, Gb, m, hp, touched, n_touched):
    """One step of every layer after a mini-batch of m examples.

    Plain SGD updates only the input rows of the ``touched`` groups: the other rows' inputs were all
    blank in this mini-batch, so their gradient is 0 and W -= eta 0 leaves them as they are.
    """
    momentum = hp[1] != 0
    decay = hp[2] != 0
    for l in range(lay.shape[0]):
        wo, rows, kp, ao = lay[l, WO], lay[l, ROWS], lay[l, KP], lay[l, AO]
        if l == 0 and not (momentum or decay):
            for blk in range(kp // B):
                for j in range(n_touched):
                    o = wo + (blk * rows + GROUP * touched[j]) * B
                    _step(W, vW, G, o, o + GROUP * B, m, hp, False, False)
        else:
            _step(W, vW, G, wo, wo + rows * kp, m, hp, momentum, decay)
        _step(b, vb, Gb, ao, ao + kp, m, hp, momentum, False)  # biases are not decayed
        if l > 0:
            _transpose(W, wo, rows, kp, Wn, lay[l, WNO])


# -- the entry points ----------------------------------------------------------------------------------------

@_jit()
def _examples(X, Xw, Y, order, lo, hi, stop, lut, hidden, cost, lay, W, b, Wn, A, D, G, Gb, grp, xv,
              mark, touched, n_touched):
    """Forward and backward for the examples order[lo:hi], their gradients summed into G, Gb.

    Compiled once and called by both sgd and sgd_parallel, once per mini-batch (per share of one).

    With ``mark`` not empty, also lists in touched[n_touched:] the input groups that have ink in
    some example (the rows of W^T that plain SGD's step will change). Returns the sum of the
    examples' costs C_0, and the new n_touched.
    """
    eps = W.dtype.type(1e-12)
    L = lay.shape[0]
    out_o, out_k, out_kp = lay[L - 1, AO], lay[L - 1, K], lay[L - 1, KP]
    row_step = max(1, 64 // X.itemsize)  # elements per cache line
    track = mark.shape[0] > 0
    total = 0.0
    for j in range(lo, hi):
        if j + PREFETCH_AHEAD < stop:
            _prefetch_example(X, Y, order[j + PREFETCH_AHEAD], row_step)
        r = order[j]
        ng = _forward(X, Xw, r, lut, hidden, cost, lay, W, b, A, grp, xv)
        total += _output_delta(Y, r, cost, A, D, out_o, out_k, out_kp, eps)
        _backward(hidden, lay, Wn, A, D, G, Gb, grp, xv, ng)
        if track:
            for i in range(ng):
                g = grp[i]
                if not mark[g]:
                    mark[g] = True
                    touched[n_touched] = g
                    n_touched += 1
    return total, n_touched


@_helper
def _sum_threads(G, lo, hi):
    """G[0, lo:hi] += G[t, lo:hi] for the other threads t, whose G[t] are then zeroed."""
    zero = G.dtype.type(0)
    for t in range(1, G.shape[0]):
        for i in range(U(lo), U(hi)):
            G[0, i] += G[t, i]
            G[t, i] = zero


@_jit()
def sgd(X, Xw, Y, order, start, stop, batch_size, lut, hp, hidden, cost, lay, W, b, vW, vb, Wn,
        A, D, G, Gb, grp, xv, mark, touched):
    """SGD on the mini-batches order[start:start + batch_size], ... up to order[:stop].

    X (N, n) uint8 or float images, Xw its rows seen as uint64, Y (N, k) one-hot targets, lut the
    uint8 table, hp = (eta, mu, lambda) in the network's dtype. W, b (vW, vb: momentum's velocities;
    Wn: W untransposed) are updated in place. A, D, G, Gb, grp, xv, mark, touched are scratch.
    Returns the sum over the examples of C_0, each computed before its mini-batch's step.
    """
    total = 0.0
    for s in range(start, stop, batch_size):
        e = min(s + batch_size, stop)
        c, n_touched = _examples(X, Xw, Y, order, s, e, stop, lut, hidden, cost, lay, W, b, Wn, A, D, G, Gb,
                                 grp, xv, mark, touched, 0)
        total += c
        _update(lay, W, b, vW, vb, Wn, G, Gb, e - s, hp, touched, n_touched)
        for i in range(n_touched):
            mark[touched[i]] = False
    return total


@_jit(parallel=True)
def sgd_parallel(X, Xw, Y, order, start, stop, batch_size, lut, hp, hidden, cost, lay, W, b, vW, vb, Wn,
                 A, D, G, Gb, grp, xv, costs):
    """sgd, each mini-batch's examples shared among T threads (scratch arrays (T, ...), costs (T,)).

    Each thread sums its examples' gradients into its own G[t], Gb[t]; then the threads add them up
    and take the step, each on its own slice of the weights.
    """
    T = A.shape[0]
    n_w = W.shape[0]
    no_marks = np.zeros(0, dtype=np.bool_)  # the step covers every row: no tracking
    no_marks_i = np.zeros(0, dtype=np.int64)
    for s in range(start, stop, batch_size):
        e = min(s + batch_size, stop)
        m = e - s
        for t in numba.prange(T):
            c, _ = _examples(X, Xw, Y, order, s + t * m // T, s + (t + 1) * m // T, stop, lut, hidden, cost,
                             lay, W, b, Wn, A[t], D[t], G[t], Gb[t], grp[t], xv[t], no_marks, no_marks_i, 0)
            costs[t] += c
        for t in numba.prange(T):
            lo = t * n_w // T // B * B
            hi = n_w if t == T - 1 else (t + 1) * n_w // T // B * B
            _sum_threads(G, lo, hi)
            _step(W, vW, G[0], lo, hi, m, hp, hp[1] != 0, hp[2] != 0)
        _sum_threads(Gb, 0, Gb.shape[1])
        _step(b, vb, Gb[0], 0, b.shape[0], m, hp, hp[1] != 0, False)
        for l in range(1, lay.shape[0]):
            _transpose(W, lay[l, WO], lay[l, ROWS], lay[l, KP], Wn, lay[l, WNO])
    return 0.0


@_jit()
def forward(X, Xw, lo, hi, lut, hidden, cost, lay, W, b, A, grp, xv, out):
    """out[i] = the output activations of example i, for lo <= i < hi.

    Releases the GIL (nogil), so that several Python threads can each run a share of the examples.
    """
    L = lay.shape[0]
    ao, k_real = lay[L - 1, AO], lay[L - 1, K]
    for i in range(lo, hi):
        if i + PREFETCH_AHEAD < hi:
            _prefetch(X, i + PREFETCH_AHEAD, 0)
        _forward(X, Xw, i, lut, hidden, cost, lay, W, b, A, grp, xv)
        for k in range(k_real):
            out[i, k] = A[ao + k]

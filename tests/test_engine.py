"""The compiled engine (_kernels.c) against its specification, the NumPy reference.

On the same mini-batches the compiled SGD must leave the same weights, biases and momentum
velocities as ``training.sgd_batches``, to float rounding: float64 to ~1e-10, float32 to ~1e-5
(the two sum in different orders, so float32 runs drift apart by a few units in the last place per
step). Every hidden activation x cost, momentum and weight decay, uint8 and float images, layer
sizes that need padding, the multi-threaded kernel, the forward pass, and the fallbacks.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from digitnet import Network, engine
from digitnet.errors import ConfigError, TrainingDiverged
from digitnet.optimizer import Summed
from digitnet.training import SGD, sgd_batches

# (atol as a fraction of the largest |value| of each array) after a few hundred steps
TOLERANCE = {np.float64: 1e-10, np.float32: 3e-5}


def images(n: int, dim: int, seed: int, kind: str = "uint8") -> np.ndarray:
    """n random digit-like images: mostly blank (like MNIST's 81% zeros), some ink in 0-255.

    kind: "uint8" (as stored), "float32" or "float64" (divided by 255).
    """
    rng = np.random.default_rng(seed)
    ink = rng.random((n, dim)) < 0.25
    X = np.where(ink, rng.integers(1, 256, (n, dim)), 0).astype(np.uint8)
    X[:, : dim // 10] = 0  # a blank border, as in MNIST: whole groups of 8 pixels without ink
    if kind == "uint8":
        return X
    return (X.astype(kind) / np.dtype(kind).type(255)).astype(kind)


def labels(n: int, classes: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed + 1).integers(0, classes, n)


def train_both(net: Network, X, y, batch_size: int, eta: float, mu: float = 0.0, lam: float = 0.0,
               epochs: int = 1) -> tuple[Network, Network, SGD, SGD, list[Summed], list[Summed]]:
    """The same epochs (same shuffles) through the compiled engine and through sgd_batches: the two
    networks and optimisers, and each epoch's summed costs and right guesses."""
    ref = net.copy()
    Y = net.one_hot(y, len(X))
    fast_opt, ref_opt = SGD(eta, mu, lam), SGD(eta, mu, lam)
    fast_opt.init_state(net)
    ref_opt.init_state(ref)
    run = engine.select("compiled")
    fast_costs, ref_costs = [], []
    for epoch in range(epochs):
        order = np.random.default_rng(100 + epoch).permutation(len(X))
        fast_costs.append(run(net, X, Y, order, batch_size, fast_opt))
        ref_costs.append(sgd_batches(ref, X, Y, order, batch_size, ref_opt))
    return net, ref, fast_opt, ref_opt, fast_costs, ref_costs


def assert_same(fast, ref, dtype, what: str) -> None:
    tol = TOLERANCE[dtype]
    for l, (a, b) in enumerate(zip(fast, ref)):
        assert a.dtype == b.dtype == dtype
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol * max(np.abs(b).max(), 1e-30),
                                   err_msg=f"{what} of layer {l}")


def assert_same_training(fast: Network, ref: Network, fast_opt: SGD, ref_opt: SGD, fast_costs, ref_costs,
                         dtype) -> None:
    assert_same(fast.W, ref.W, dtype, "W")
    assert_same(fast.b, ref.b, dtype, "b")
    if ref_opt.momentum:
        assert_same(fast_opt.vW, ref_opt.vW, dtype, "velocity of W")
        assert_same(fast_opt.vb, ref_opt.vb, dtype, "velocity of b")
    np.testing.assert_allclose([c.cost for c in fast_costs], [c.cost for c in ref_costs], rtol=10 * TOLERANCE[dtype])
    # the same guesses in the same forward passes: float64 exactly; float32 may see a near-tie go the
    # other way once in a while
    for fast_epoch, ref_epoch in zip(fast_costs, ref_costs):
        assert abs(fast_epoch.right - ref_epoch.right) <= (0 if dtype == np.float64 else 2)


# -- the lesson's network on MNIST ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def mnist_uint8() -> tuple[np.ndarray, np.ndarray]:
    from digitnet.data.mnist import load_mnist_uint8

    X, y = load_mnist_uint8("train")
    return X[:3005], y[:3005]  # 300 full mini-batches of 10 and a last one of 5


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_lesson_network_on_mnist_matches_reference(mnist_uint8, dtype):
    X, y = mnist_uint8
    net = Network((784, 16, 16, 10), seed=3, dtype=dtype)
    results = train_both(net, X, y, batch_size=10, eta=1.5)
    assert_same_training(*results, dtype)
    # and it learnt something: the last steps' cost is well below the first's
    assert results[4][0].cost / len(X) < 0.9


def test_over_longer_runs_as_close_as_the_reference_to_itself():
    """SGD at eta = 1.5 is chaotic: a difference of one rounding grows about tenfold every 500 steps
    (run the reference twice, one weight moved by 1e-15, and the two drift apart just so), so no two
    implementations agree to the last bit over an epoch. Over 1,500 steps the compiled engine stays
    as close to the reference as the reference stays to itself after that one-rounding nudge."""
    from digitnet.data.mnist import load_mnist_uint8

    X, y = load_mnist_uint8("train")
    X, y = X[:15000], y[:15000]
    fast = Network(seed=0, dtype=np.float64)
    ref, nudged = fast.copy(), fast.copy()
    nudged.W[0][3, 400] += 1e-15
    Y = fast.one_hot(y, len(X))
    order = np.random.default_rng(0).permutation(len(X))
    opts = [SGD(1.5) for _ in range(3)]
    for opt, net in zip(opts, (fast, ref, nudged)):
        opt.init_state(net)
    engine.select("compiled")(fast, X, Y, order, 10, opts[0])
    sgd_batches(ref, X, Y, order, 10, opts[1])
    sgd_batches(nudged, X, Y, order, 10, opts[2])
    engine_gap = max(np.abs(a - b).max() for a, b in zip(fast.W, ref.W))
    chaos_gap = max(np.abs(a - b).max() for a, b in zip(nudged.W, ref.W))
    assert 1e-14 < chaos_gap < 1e-8  # the nudge has grown, as chaos makes it
    assert engine_gap < 100 * chaos_gap


# -- every activation x cost, momentum and decay, input kinds, padded sizes ---------------------------------

SETTINGS = [  # activation, cost, learning rate, momentum, weight decay
    ("sigmoid", "quadratic", 1.0, 0.0, 0.0),
    ("sigmoid", "cross-entropy", 0.3, 0.9, 1e-3),
    ("relu", "quadratic", 0.1, 0.0, 1e-3),
    ("relu", "cross-entropy", 0.05, 0.9, 0.0),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("activation,cost,eta,mu,lam", SETTINGS)
@pytest.mark.parametrize("kind", ["uint8", "float"])
def test_matches_reference(dtype, activation, cost, eta, mu, lam, kind):
    # 60 inputs (not a multiple of 8), hidden layers of 20 and 12 (not multiples of 16: padded),
    # 10 outputs; 403 examples in mini-batches of 8 (the last one of 3); two epochs.
    X = images(403, 60, seed=1, kind="uint8" if kind == "uint8" else np.dtype(dtype).name)
    y = labels(403, 10, seed=1)
    net = Network((60, 20, 12, 10), activation=activation, cost=cost, seed=5, dtype=dtype)
    results = train_both(net, X, y, batch_size=8, eta=eta, mu=mu, lam=lam, epochs=2)
    assert_same_training(*results, dtype)


@pytest.mark.parametrize("sizes", [(64, 10), (64, 40, 3), (64, 33, 17, 9, 2)])
def test_any_depth_and_width(sizes):
    X = images(200, sizes[0], seed=2)
    y = labels(200, sizes[-1], seed=2)
    net = Network(sizes, seed=1, dtype=np.float64)
    assert_same_training(*train_both(net, X, y, batch_size=7, eta=0.5, mu=0.5), np.float64)


@pytest.mark.parametrize("batch_size", [1, 64, 500])
def test_any_batch_size(batch_size):
    X = images(300, 32, seed=4)
    y = labels(300, 4, seed=4)
    net = Network((32, 16, 4), seed=2, dtype=np.float64)
    assert_same_training(*train_both(net, X, y, batch_size=batch_size, eta=1.0), np.float64)


def test_soft_targets_as_in_the_reference():
    # one-hot rows given directly (as Network.one_hot accepts), not only integer labels
    X = images(100, 16, seed=6, kind="float64")
    Y = np.random.default_rng(0).dirichlet(np.ones(5), 100)
    net = Network((16, 16, 5), cost="cross-entropy", seed=0, dtype=np.float64)
    assert_same_training(*train_both(net, X, Y, batch_size=10, eta=0.5), np.float64)


# -- the threads --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("mu", "lam"), [(0.9, 1e-4), (0.0, 0.0)])
def test_threaded_kernel_matches_reference(monkeypatch, dtype, mu, lam):
    # The examples of each mini-batch split in SHARES shares (run on two threads where there are two);
    # each thread steps a slice of the weights from all the shares' gradients and zeroes its own shares'.
    monkeypatch.setattr(engine, "PARALLEL_MIN_BATCH", 1)
    monkeypatch.setattr(engine, "_thread_count", 2)
    X = images(405, 60, seed=7)
    y = labels(405, 10, seed=7)
    net = Network((60, 20, 12, 10), seed=8, dtype=dtype)
    results = train_both(net, X, y, batch_size=20, eta=0.5, mu=mu, lam=lam)
    assert_same_training(*results, dtype)


@pytest.mark.parametrize("threads", [2, 3, 4, 8])
@pytest.mark.parametrize("momentum", [0.0, 0.9])
@pytest.mark.parametrize("shares", [2, engine.SHARES])
def test_same_bytes_whatever_the_thread_count(threads, momentum, shares):
    # Mini-batches of PARALLEL_MIN_BATCH and more are shared among threads; the result must not depend
    # on how many there are (a run on a laptop repeats a run on a server, bit for bit).
    X = images(600, 64, seed=3)
    y = labels(600, 10, seed=3)

    def trained(n_threads: int) -> Network:
        net = Network((64, 20, 10), seed=5, dtype=np.float32)
        engine.set_threads(n_threads)
        try:
            net.fit(X, y, epochs=2, batch_size=engine.PARALLEL_MIN_BATCH * shares, learning_rate=0.5, momentum=momentum,
                    weight_decay=1e-4, engine="compiled")
        finally:
            engine.set_threads(None)
        return net

    reference, other = trained(1), trained(threads)
    for W, W_other in zip(reference.W + reference.b, other.W + other.b):
        assert W.tobytes() == W_other.tobytes()



# -- the images packed once per fit ---------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["uint8", "float32", "float64", "float32 any", "float64 any"])
@pytest.mark.parametrize("net_dtype", [np.float32, np.float64])
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("batch_size", [10, 100])
def test_packed_images_train_the_same_bytes(kind, net_dtype, threads, batch_size):
    # fit packs the inked pixels once; the kernel reading them must do the very arithmetic of reading the
    # images as stored, so every trained network keeps its bytes. Float images of bytes / 255 (as
    # load_mnist's) are packed as bytes when every value is one in the network's dtype; "any": other
    # brightnesses, packed as floats.
    X = images(700, 64, seed=4, kind=kind.split()[0])
    if kind.endswith("any"):
        X *= X.dtype.type(0.999)  # no longer bytes / 255
        X[5, 20] = -0.0  # a negative zero is ink (its bits are not 0): it adds 0
    y = labels(700, 10, seed=4)
    as_bytes = kind == "uint8" or kind == np.dtype(net_dtype).name  # float64 bytes / 255 are not float32's
    nets = []
    for packed in (False, True):
        net = Network((64, 20, 10), seed=6, dtype=net_dtype)
        opt = SGD(0.5, 0.9 if batch_size == 100 else 0.0)
        opt.init_state(net)
        Y = net.one_hot(y, len(X))
        data = engine.pack(net, X, "compiled") if packed else X
        assert isinstance(data, engine.Ink) == packed
        if packed and as_bytes:
            assert data.val.dtype == np.uint8
        engine.set_threads(threads)
        try:
            for epoch in range(2):
                engine.select("compiled")(net, data, Y, np.random.default_rng(epoch).permutation(len(X)), batch_size,
                                          opt)
        finally:
            engine.set_threads(None)
        nets.append(net)
    for a, b in zip(nets[0].W + nets[0].b, nets[1].W + nets[1].b):
        assert a.tobytes() == b.tobytes()


def test_the_packed_images_are_the_inked_pixels():
    X = images(50, 40, seed=2, kind="float64") * 0.999  # brightnesses that are not bytes / 255
    net = Network((40, 8, 3), seed=0, dtype=np.float32)
    ink = engine.pack(net, X, "compiled")
    assert len(ink) == 50 and ink.pix.dtype == np.uint16 and ink.val.dtype == np.float32
    for r in range(50):
        where = np.flatnonzero(X[r])
        assert ink.pix[ink.start[r]:ink.start[r + 1]].tolist() == where.tolist()
        assert ink.val[ink.start[r]:ink.start[r + 1]].tobytes() == X[r, where].astype(np.float32).tobytes()
    assert engine.pack(net, X, "numpy") is X


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float_images_of_bytes_are_packed_as_their_bytes_and_others_are_not(dtype):
    """Every brightness v / 255 (v = 1..255, in the network's dtype) packs as the byte v; one value that is
    not such a quotient, first or last, keeps the floats (a NaN, a negative zero, 2.0, one a bit away)."""
    net = Network((256, 8, 3), seed=0, dtype=dtype)
    v = np.arange(256, dtype=np.uint8)
    X = np.tile(v, (3, 1)).astype(dtype) / dtype(255)
    ink = engine.pack(net, X, "compiled")
    assert ink.val.dtype == np.uint8 and ink.val.tolist() == list(range(1, 256)) * 3
    assert ink.kind == engine._IMAGES[np.dtype(dtype)]
    for spoiler in (np.nan, -0.0, 2.0, np.nextafter(dtype(37) / dtype(255), dtype(1))):
        for where in ((0, 1), (2, 255)):
            Y = X.copy()
            Y[where] = spoiler
            assert engine.pack(net, Y, "compiled").val.dtype == dtype, (spoiler, where)


def test_bad_packed_images_are_refused():
    net = Network((16, 8, 3), seed=0)
    X = images(10, 16, seed=0)
    ink = engine.pack(net, X, "compiled")
    ink.start = ink.start.copy()
    ink.start[3] = ink.start[4] + 1  # not ascending
    opt = SGD(0.5)
    opt.init_state(net)
    with pytest.raises(ValueError, match="bad packed images"):
        engine.select("compiled")(net, ink, net.one_hot(labels(10, 3, 0), 10), np.arange(10), 5, opt)


def test_the_number_of_threads_is_checked():
    with pytest.raises(ConfigError, match="whole number >= 1"):
        engine.set_threads(0)


def test_the_default_threads_are_the_cores_other_work_leaves(monkeypatch):
    monkeypatch.delenv("DIGITNET_THREADS", raising=False)
    cores = len(os.sched_getaffinity(0))
    monkeypatch.setattr(engine, "_other_runnable", lambda: 0)
    assert engine.threads() == cores  # an idle machine: every core
    monkeypatch.setattr(engine, "_other_runnable", lambda: 100)
    assert engine.threads() == 1  # a busy one: this thread's core only
    monkeypatch.setenv("DIGITNET_THREADS", "3")
    assert engine.threads() == 3  # the user's choice wins
    engine.set_threads(2)
    try:
        assert engine.threads() == 2
    finally:
        engine.set_threads(None)
    assert 0 <= engine._other_runnable()


def test_a_thread_that_runs_for_an_instant_does_not_take_a_core(monkeypatch):
    readings = iter([3, 1, 1])  # a passing thread in the first reading only: this one is the 1
    monkeypatch.setattr(engine, "_runnable_now", lambda: next(readings))
    assert engine._other_runnable() == 0
    readings = iter([3, 2, 3])  # another thread runs in every reading: it keeps its core
    assert engine._other_runnable() == 1
    readings = iter([1])  # this thread alone: one reading is enough (a second would raise StopIteration)
    assert engine._other_runnable() == 0


def test_the_load_readings_are_spread_out_so_a_passing_thread_is_not_in_all_of_them(monkeypatch):
    times = []

    def reading():
        times.append(time.perf_counter())
        return 2  # something else is running in every reading: all LOAD_READS of them are taken

    monkeypatch.setattr(engine, "_runnable_now", reading)
    assert engine._other_runnable() == 1
    assert len(times) == engine.LOAD_READS
    assert min(np.diff(times)) >= engine.LOAD_READ_GAP


# -- the forward pass ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("cost", ["quadratic", "cross-entropy"])
@pytest.mark.parametrize("m", [1, 5, 300, 4100])  # NumPy below 64 images, then one and several threads
def test_predict_proba_matches_feedforward(dtype, cost, m):
    X = images(m, 50, seed=m)
    net = Network((50, 20, 10), activation="relu", cost=cost, seed=1, dtype=dtype)
    expected = net.feedforward(X.astype(dtype) / dtype(255))[1][-1]
    for X_in in (X, X.astype(dtype) / dtype(255)):
        got = engine.predict_proba(net, X_in)
        assert got.shape == (m, 10) and got.dtype == dtype
        np.testing.assert_allclose(got, expected, rtol=10 * TOLERANCE[dtype], atol=10 * TOLERANCE[dtype])


def test_network_predict_uses_the_engine_and_agrees(mnist_uint8):
    X, y = mnist_uint8
    net = Network(seed=0)
    net.fit(X, y, epochs=2, learning_rate=3.0)
    proba = net.predict_proba(X)
    np.testing.assert_allclose(proba, net.feedforward(X / np.float32(255))[1][-1], rtol=1e-4, atol=1e-5)
    assert net.accuracy(X, y) > 0.75  # 86% here; chance is 10%


def _numpy_makes_denormals() -> bool:
    """Whether this thread's float arithmetic still gives numbers below the smallest normal float."""
    return bool(np.float32(1e-38) / np.float32(10) > 0) and bool(np.float64(1e-308) / 10 > 0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_the_kernels_flush_denormals_and_leave_the_callers_arithmetic_as_it_was(dtype):
    """Denormals cost the CPU a hundred cycles an operation, and as a network learns its saturated
    neurons' numbers fall there (a plain-SGD epoch took twice as long by the twelfth): the kernels flush
    them to zero while they run. An activation below the smallest normal is 0 there (the reference
    keeps the denormal: a difference below 1e-38), and the caller's own NumPy arithmetic afterwards
    still gives denormals, in training and in prediction alike."""
    z = dtype(-88 if dtype == np.float32 else -709)
    exact = dtype(1) / (dtype(1) + np.exp(-z))  # sigma(z) = 1 / (1 + e^-z) in NumPy: a denormal
    assert 0 < exact < np.finfo(dtype).tiny
    net = Network((50, 8, 10), seed=0, dtype=dtype)
    net.W[-1][...] = 0
    net.b[-1][...] = z  # every output's z
    X = images(100, 50, seed=3)
    assert (engine.predict_proba(net, X) == 0).all()
    assert _numpy_makes_denormals()
    opt = SGD(0.1)
    opt.init_state(net)
    for batch_size in (10, 100):  # the one-thread and the threaded kernels
        engine.select("compiled")(net, X, net.one_hot(labels(100, 10, 3), 100), np.arange(100), batch_size, opt)
        assert _numpy_makes_denormals()


def test_exp_of_the_kernels_is_accurate():
    from digitnet import _kernels

    def exp_all(x):
        out = np.empty_like(x)
        _kernels.exp(x, out, int(x.dtype == np.float64))
        return out

    for dtype, span, ulps in ((np.float32, 110.0, 1.0), (np.float64, 750.0, 1.0)):
        x = np.concatenate([np.linspace(-span, span, 200_001), [0.0, -0.0, 1.0, np.log(2.0)]]).astype(dtype)
        got = exp_all(x)
        exact = np.exp(x.astype(np.longdouble))
        normal = (exact > np.finfo(dtype).tiny) & (exact < np.finfo(dtype).max)
        rel = np.abs(got[normal] - exact[normal]) / exact[normal]
        assert rel.max() <= ulps * np.finfo(dtype).eps
        assert np.all(got[exact < np.finfo(dtype).smallest_subnormal / 2] == 0)
        assert np.all(np.isinf(got[exact > 2 * np.longdouble(np.finfo(dtype).max)]))
        special = exp_all(np.array([np.nan, np.inf, -np.inf], dtype))
        assert np.isnan(special[0]) and special[1] == np.inf and special[2] == 0


@pytest.mark.parametrize("dtype", [np.uint8, np.float32, np.float64])
def test_every_version_of_the_ink_scan_finds_the_inked_pixels(dtype):
    """The kernels list each example's inked pixels with the vector scan this CPU has (AVX-512, AVX2 or
    SSE2, else plain C): each version this CPU can run must find exactly the pixels that are not 0,
    -0.0 included (it adds 0), and their values, whatever the width (whole vectors and a rest) and
    wherever the ink is."""
    from digitnet import _kernels

    rng = np.random.default_rng(7)
    bits = {1: np.uint8, 4: np.uint32, 8: np.uint64}[np.dtype(dtype).itemsize]
    versions_run = 0
    for n in [0, 1, 3, 4, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 784, 1000]:
        for density in (0.0, 0.2, 1.0):
            x = np.where(rng.random(n) < density, rng.integers(1, 256, n), 0).astype(dtype)
            if n > 5 and dtype != np.uint8:
                x[5] = -0.0
            where = np.flatnonzero(x.view(bits))
            for version in range(4):
                got = _kernels.inked(x.tobytes(), x.itemsize, version)
                if got is not None:
                    versions_run += 1
                    assert got == (where.tolist(), x.view(bits)[where].tolist()), \
                        f"version {version}, {n} pixels, density {density}"
    assert versions_run >= 18 * 3  # plain C at least, on any CPU


# -- divergence, progress, selection ------------------------------------------------------------------------

@pytest.mark.parametrize("activation", ["sigmoid", "relu"])
def test_nan_and_inf_are_not_hidden(activation):
    # The kernels are compiled without "no NaN / no inf" assumptions: a diverging run is seen.
    X = images(200, 32, seed=9, kind="float64")
    y = labels(200, 4, seed=9)
    net = Network((32, 16, 4), activation=activation, seed=0, dtype=np.float64)
    net.W[0][0, 10] = np.nan
    Y = net.one_hot(y, len(X))
    opt = SGD(0.1)
    opt.init_state(net)
    total = engine.select("compiled")(net, X, Y, np.arange(len(X)), 10, opt).cost
    assert not np.isfinite(total)
    assert not np.isfinite(net.W[0]).all()


def test_divergence_is_reported():
    X = images(200, 32, seed=9, kind="float64")
    y = labels(200, 4, seed=9)
    with pytest.raises(TrainingDiverged):
        Network((32, 16, 4), activation="relu", seed=0).fit(X, y, epochs=3, learning_rate=1e30, engine="compiled")


def test_progress_is_reported_in_whole_mini_batches() -> None:
    X = images(1000, 16, seed=10)
    y = labels(1000, 3, seed=10)
    net = Network((16, 8, 3), seed=0)
    Y = net.one_hot(y, len(X))
    opt = SGD(0.5)
    opt.init_state(net)
    calls: list[tuple[int, int]] = []
    engine.select("compiled")(net, X, Y, np.arange(1000), 30, opt, lambda done, total: calls.append((done, total)))
    done = [d for d, _ in calls]
    assert 10 <= len(calls) <= engine.PROGRESS_STEPS
    assert done == sorted(done) and done[-1] == 1000 and all(t == 1000 for _, t in calls)
    assert all(d % 30 == 0 for d in done[:-1])


@pytest.mark.parametrize("name", ["compiled", "numpy"])
def test_reporting_within_a_call_trains_the_same_weights_bit_for_bit(name) -> None:
    """Training in chunks, to report progress or each chunk's cost, is the same SGD as one call (a
    name in the chunked loop once shadowed the kernel's cost argument, and only chunked runs went wrong)."""
    X = images(1000, 16, seed=10)
    y = labels(1000, 3, seed=10)
    nets = [Network((16, 8, 3), seed=0) for _ in range(3)]
    Y = nets[0].one_hot(y, len(X))
    totals: list[Summed] = []
    chunks: list[tuple[int, float]] = []
    for i, net in enumerate(nets):
        opt = SGD(0.5)
        opt.init_state(net)
        progress = (lambda done, total: None) if i == 1 else None
        totals.append(engine.select(name)(net, X, Y, np.arange(1000), 30, opt, progress, None,
                                          chunks if i == 2 else None))
    assert all(a.tobytes() == b.tobytes() for net in nets[1:] for a, b in zip(nets[0].W + nets[0].b, net.W + net.b))
    assert totals[0] == totals[1] == totals[2]
    assert 10 <= len(chunks) <= engine.PROGRESS_STEPS and chunks[-1][0] == 1000
    np.testing.assert_allclose(sum(c for _, c in chunks), totals[0].cost, rtol=1e-6)


def test_numpy_engine_is_the_reference_loop():
    X = images(95, 16, seed=11)
    y = labels(95, 3, seed=11)
    a = Network((16, 8, 3), seed=0, dtype=np.float64)
    b = a.copy()
    Y = a.one_hot(y, len(X))
    opt_a, opt_b = SGD(0.5, 0.9), SGD(0.5, 0.9)
    opt_a.init_state(a)
    opt_b.init_state(b)
    order = np.random.default_rng(0).permutation(95)
    ca = engine.select("numpy")(a, X, Y, order, 10, opt_a, lambda d, t: None)
    cb = sgd_batches(b, X, Y, order, 10, opt_b)
    assert ca.cost == pytest.approx(cb.cost, rel=1e-12) and ca.right == cb.right
    for Wa, Wb in zip(a.W, b.W):
        np.testing.assert_array_equal(Wa, Wb)


def test_auto_is_compiled_and_unknown_engines_are_refused():
    assert engine.compiled_available()
    assert engine.select("auto") is engine.select("compiled") is engine.select("numba")  # its former name
    with pytest.raises(ConfigError, match="unknown engine 'gpu'"):
        engine.select("gpu")


def test_order_outside_the_data_is_refused():
    net = Network((16, 8, 3), seed=0)
    X = images(10, 16, seed=0)
    opt = SGD(0.5)
    opt.init_state(net)
    with pytest.raises(IndexError):
        engine.select("compiled")(net, X, net.one_hot(labels(10, 3, 0), 10), np.arange(11), 5, opt)


# -- an install without the compiled module ------------------------------------------------------------------

@pytest.mark.slow
def test_without_the_compiled_module_auto_trains_with_numpy(tmp_path):
    """A copy of digitnet whose C module was not built (no compiler at install): "auto" falls back to the
    NumPy reference and trains; asking for the compiled engine says what to do."""
    package = tmp_path / "site" / "digitnet"
    shutil.copytree(Path(engine.__file__).parent, package,
                    ignore=shutil.ignore_patterns("__pycache__", "mnist", "_kernels*.so", "_kernels*.pyd"))
    code = (
        "import numpy as np, digitnet\n"
        f"assert digitnet.__file__.startswith({str(tmp_path)!r})\n"
        "from digitnet import engine\n"
        "from digitnet.errors import ConfigError\n"
        "assert not engine.compiled_available() and engine.select('auto') is engine.select('numpy')\n"
        "rng = np.random.default_rng(0)\n"
        "X = (rng.random((200, 16)) * 255).astype(np.uint8); y = rng.integers(0, 3, 200)\n"
        "net = digitnet.Network((16, 8, 3), seed=0)\n"
        "h = net.fit(X, y, epochs=2, batch_size=10, learning_rate=1.0)\n"
        "assert h[-1]['train_cost'] < h[0]['train_cost']\n"
        "try:\n"
        "    engine.select('compiled')\n"
        "except ConfigError as e:\n"
        "    assert 'reinstall' in str(e)\n"
        "else:\n"
        "    raise AssertionError('no error')\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "DIGITNET_ENGINE"}
    env.update(PYTHONPATH=str(tmp_path / "site"), PYTHONDONTWRITEBYTECODE="1")
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr

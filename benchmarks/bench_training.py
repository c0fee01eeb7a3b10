"""Benchmark: training and using the lesson's network, digitnet against PyTorch, scikit-learn and NumPy.

The work: epochs of SGD on the 60,000 MNIST training digits for the 784-16-16-10 sigmoid network with
the quadratic cost (float32), in mini-batches of 10, 100 and 1000; then predicting the 10,000 test
digits, and one digit. Every implementation runs in this process, one after another, on the same
mini-batches (the same shuffles for all). The figure is the median of the timed epochs, after one
warm-up epoch.

    python benchmarks/bench_training.py            # the full run (a few minutes)
    python benchmarks/bench_training.py --quick    # a CI-sized run (well under a minute)

Implementations:
  digitnet            Network's compiled engine (engine="compiled", C built at install): uint8 images, their
                      inked pixels packed once as fit packs them (engine.pack), many mini-batches per call,
                      its default threads (the cores other work leaves idle, so on a loaded machine
                      possibly one).
  digitnet 1 thread   the same on one thread (differs only from mini-batches of 50 on, where the
                      examples of a mini-batch are shared among threads).
  digitnet numpy      digitnet's NumPy reference (engine="numpy": one Network.backprop per mini-batch).
  numpy vectorized    a careful plain NumPy version: float32, gathered mini-batches, BLAS matmuls,
                      in-place updates.
  pytorch             torch.nn.Sequential(Linear, Sigmoid, ...), torch.optim.SGD, the same loss; timed
                      with torch.set_num_threads(1) and (2); the faster is reported.
  scikit-learn        MLPClassifier(solver="sgd", activation="logistic"), one partial_fit per epoch.
                      scikit-learn has no quadratic cost for classifiers: its output layer is a
                      softmax with the cross-entropy cost (the same number of weights, a little more
                      arithmetic per example), and its own learning rate (0.1).
  per-example loop    Nielsen's book (network.py): float64 column vectors, backprop one example at a
                      time, summed per mini-batch. Timed on a subset and scaled to 60,000 (it says so).

digitnet, pytorch, numpy vectorized and the per-example loop start from the same weights (digitnet's
seed 0) and, but for float rounding, compute the same steps: their test accuracies agree.

Peak memory: the peak resident set size (RSS, from getrusage) of a fresh process that loads the data
and trains one epoch with mini-batches of 10 with that implementation: what it takes to train with
it, interpreter, libraries and data included. And ``digitnet train --epochs 1`` as a whole.

Writes the figures to benchmarks/results.json (or --out).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).parent
SIZES = (784, 16, 16, 10)
ETA = 1.5  # the lesson's learning rate for the quadratic cost C_0 = sum_j (a_j - y_j)^2
SKLEARN_ETA = 0.1


# -- the data ---------------------------------------------------------------------------------------------

class Data:
    """MNIST as each implementation wants it: uint8 as stored, float32 in [0, 1], one-hot targets.

    The float32 copies are made on first use, so that a process measuring its memory holds only
    what its implementation needs.
    """

    def __init__(self) -> None:
        from digitnet.data.mnist import load_mnist_uint8

        self.X_u8, self.y = load_mnist_uint8("train")  # (60000, 784) uint8
        self.X_test_u8, self.y_test = load_mnist_uint8("test")
        self.Y = np.eye(10, dtype=np.float32)[self.y]  # (60000, 10)

    @functools.cached_property
    def X(self) -> np.ndarray:
        return self.X_u8.astype(np.float32) / np.float32(255)  # (60000, 784) float32

    @functools.cached_property
    def X64(self) -> np.ndarray:
        return self.X_u8.astype(np.float64) / 255.0  # (60000, 784) float64

    @functools.cached_property
    def X_test(self) -> np.ndarray:
        return self.X_test_u8.astype(np.float32) / np.float32(255)


def initial_weights() -> tuple[list[np.ndarray], list[np.ndarray]]:
    """digitnet's initial weights for seed 0, shared by every implementation that can take them."""
    from digitnet import Network

    net = Network(SIZES, seed=0, dtype=np.float32)
    return [W.copy() for W in net.W], [b.copy() for b in net.b]


# -- the implementations ------------------------------------------------------------------------------------

class Implementation:
    """One way of training the network: ``epoch(order)`` runs SGD over the mini-batches of ``order``."""

    name = ""
    subset: int | None = None  # timed on this many examples of each shuffle, then scaled to the epoch
    note = ""

    def __init__(self, data: Data, batch_size: int) -> None:
        self.data = data
        self.batch_size = batch_size

    def epoch(self, order: np.ndarray) -> None:
        raise NotImplementedError

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The guessed digits for float32 images X (m, 784)."""
        raise NotImplementedError


class Digitnet(Implementation):
    name = "digitnet"

    def __init__(self, data: Data, batch_size: int, threads: int | None = None, engine: str = "compiled",
                 images: str = "uint8") -> None:
        from digitnet import Network
        from digitnet import engine as engines
        from digitnet.training import SGD

        super().__init__(data, batch_size)
        self.threads = threads
        self.images = images
        dtype = np.float64 if images == "float64" else np.float32
        self.net = Network(SIZES, seed=0, dtype=dtype)
        self.Y = data.Y.astype(dtype)
        self.opt = SGD(ETA)
        self.opt.init_state(self.net)
        self.run = engines.select(engine)
        self.engine = engine
        if engine == "numpy":
            self.name, self.subset = "digitnet numpy", 6000 if batch_size < 100 else None
            self.note = "engine='numpy', the reference: one Network.backprop per mini-batch"
        elif threads == 1:
            self.name = "digitnet 1 thread"
        elif images != "uint8":
            self.name = f"digitnet {images}"
            self.note = f"{images} images in [0, 1] (a {images} network for float64)"

    def epoch(self, order: np.ndarray) -> None:
        from digitnet import engine

        engine.set_threads(self.threads)
        try:
            self.run(self.net, self.packed, self.Y, order, self.batch_size, self.opt)
        finally:
            engine.set_threads(None)

    @property
    def X(self) -> np.ndarray:
        return getattr(self.data, {"uint8": "X_u8", "float32": "X", "float64": "X64"}[self.images])  # made on first use

    @functools.cached_property
    def packed(self) -> Any:
        """The images as fit hands them to the engine: their inked pixels packed once (engine.pack), in the
        warm-up epoch; for the NumPy engine, the images themselves."""
        from digitnet import engine

        return engine.pack(self.net, self.X, self.engine)

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.net.predict(X)


class DigitnetFit(Implementation):
    """The API's path, as the README's Python example runs it: one ``net.fit(X, y, epochs=E)`` on
    load_mnist's float32 images. fit shuffles with the network's own random state, checks the images
    once per call and keeps each epoch's history (cost and accuracy); an epoch's time runs from the end
    of the one before to the end of its own (fit's callback), so the first, the warm-up, also holds
    the call's checks."""

    name = "digitnet fit float32"
    note = "one Network.fit(X, y, epochs=E) on load_mnist's float32 images, per-epoch history included"

    def __init__(self, data: Data, batch_size: int) -> None:
        from digitnet import Network

        super().__init__(data, batch_size)
        self.net = Network(SIZES, seed=0, dtype=np.float32)

    def epochs(self, n: int) -> list[float]:
        ends: list[float] = []
        started = time.perf_counter()
        self.net.fit(self.data.X, self.data.y, epochs=n, batch_size=self.batch_size,
                     callback=lambda record: ends.append(time.perf_counter()))
        return [float(t) for t in np.diff([started, *ends])]

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.net.predict(X)


class NumpyVectorized(Implementation):
    """Plain NumPy, written for speed: W^T kept as (n, k) so every product is a plain BLAS call,
    float32 throughout, mini-batches gathered with np.take, updates in place."""

    name = "numpy vectorized"

    def __init__(self, data: Data, batch_size: int) -> None:
        super().__init__(data, batch_size)
        Ws, bs = initial_weights()
        self.WT = [np.ascontiguousarray(W.T) for W in Ws]  # (n, k)
        self.b = bs

    @staticmethod
    def sigmoid(z: np.ndarray) -> np.ndarray:
        np.negative(z, out=z)
        with np.errstate(over="ignore"):  # e^-z = inf for z < -88: sigma = 1 / inf = 0, as it should
            np.exp(z, out=z)
        z += np.float32(1)
        np.reciprocal(z, out=z)
        return z

    def forward(self, X: np.ndarray) -> list[np.ndarray]:
        activations = [X]
        for WT, b in zip(self.WT, self.b):
            z = activations[-1] @ WT  # (m, k)
            z += b
            activations.append(self.sigmoid(z))
        return activations

    def epoch(self, order: np.ndarray) -> None:
        X, Y, bs = self.data.X, self.data.Y, self.batch_size
        eta = np.float32(ETA)
        for start in range(0, len(order), bs):
            idx = order[start:start + bs]
            a = self.forward(np.take(X, idx, axis=0))
            y = np.take(Y, idx, axis=0)
            m = np.float32(len(idx))
            delta = (a[-1] - y) * (np.float32(2) * a[-1] * (np.float32(1) - a[-1]))  # (m, 10)
            for l in range(len(self.WT) - 1, -1, -1):
                dWT = a[l].T @ delta  # (n, k)
                db = delta.sum(axis=0)
                if l > 0:
                    delta = (delta @ self.WT[l].T) * (a[l] * (np.float32(1) - a[l]))
                self.WT[l] -= (eta / m) * dWT
                self.b[l] -= (eta / m) * db

    def predict(self, X: np.ndarray) -> np.ndarray:
        return np.argmax(self.forward(X)[-1], axis=1)


class Torch(Implementation):
    name = "pytorch"

    def __init__(self, data: Data, batch_size: int, threads: int) -> None:
        import torch

        super().__init__(data, batch_size)
        self.torch = torch
        self.threads = threads
        self.name = f"pytorch {threads} thread{'s' if threads > 1 else ''}"
        Ws, bs = initial_weights()
        layers: list[Any] = []
        for W, b in zip(Ws, bs):
            linear = torch.nn.Linear(W.shape[1], W.shape[0])
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(W))
                linear.bias.copy_(torch.from_numpy(b))
            layers += [linear, torch.nn.Sigmoid()]
        self.model = torch.nn.Sequential(*layers)
        self.opt = torch.optim.SGD(self.model.parameters(), lr=ETA)
        self.X = torch.from_numpy(data.X)
        self.Y = torch.from_numpy(data.Y)

    def epoch(self, order: np.ndarray) -> None:
        torch = self.torch
        torch.set_num_threads(self.threads)
        order_t = torch.from_numpy(order)
        for start in range(0, len(order), self.batch_size):
            idx = order_t[start:start + self.batch_size]
            a = self.model(self.X[idx])
            loss = ((a - self.Y[idx]) ** 2).sum(dim=1).mean()  # the quadratic cost C
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.opt.step()

    def predict(self, X: np.ndarray) -> np.ndarray:
        torch = self.torch
        torch.set_num_threads(self.threads)
        with torch.no_grad():
            return self.model(torch.from_numpy(X)).argmax(dim=1).numpy()


class SKLearn(Implementation):
    name = "scikit-learn"
    note = "softmax output + cross-entropy (no quadratic cost for classifiers), learning rate 0.1"

    def __init__(self, data: Data, batch_size: int) -> None:
        from sklearn.neural_network import MLPClassifier

        super().__init__(data, batch_size)
        self.model = MLPClassifier(hidden_layer_sizes=SIZES[1:-1], activation="logistic", solver="sgd",
                                   batch_size=batch_size, learning_rate_init=SKLEARN_ETA, momentum=0.0,
                                   nesterovs_momentum=False, alpha=0.0, shuffle=True, random_state=0)
        self.classes = np.arange(10)

    def epoch(self, order: np.ndarray) -> None:
        # partial_fit = one epoch, shuffled by scikit-learn itself (the same work on other mini-batches;
        # passing X[order] would add a copy of the 188 MB of images to every epoch)
        if len(order) == len(self.data.y):
            self.model.partial_fit(self.data.X, self.data.y, classes=self.classes)
        else:
            self.model.partial_fit(self.data.X[order], self.data.y[order], classes=self.classes)

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.model.predict(X)


class PerExample(Implementation):
    """Nielsen's network.py (Python 3): column vectors, one backprop per example, float64."""

    name = "per-example loop"

    def __init__(self, data: Data, batch_size: int) -> None:
        super().__init__(data, batch_size)
        Ws, bs = initial_weights()
        self.weights = [W.astype(np.float64) for W in Ws]
        self.biases = [b.astype(np.float64)[:, None] for b in bs]
        self.subset = 3000
        self.note = "Nielsen's network.py, float64; timed on 3,000 examples per epoch and scaled to 60,000"

    @staticmethod
    def sigmoid(z: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):
            return 1.0 / (1.0 + np.exp(-z))

    def backprop(self, x: np.ndarray, y: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        nabla_b = [np.zeros(b.shape) for b in self.biases]
        nabla_w = [np.zeros(w.shape) for w in self.weights]
        activation = x
        activations = [x]
        zs = []
        for b, w in zip(self.biases, self.weights):
            z = np.dot(w, activation) + b
            zs.append(z)
            activation = self.sigmoid(z)
            activations.append(activation)
        sp = activations[-1] * (1 - activations[-1])
        delta = 2 * (activations[-1] - y) * sp  # dC_0/da = 2 (a - y): digitnet's cost, no 1/2
        nabla_b[-1] = delta
        nabla_w[-1] = np.dot(delta, activations[-2].transpose())
        for layer in range(2, len(SIZES)):
            sp = activations[-layer] * (1 - activations[-layer])
            delta = np.dot(self.weights[-layer + 1].transpose(), delta) * sp
            nabla_b[-layer] = delta
            nabla_w[-layer] = np.dot(delta, activations[-layer - 1].transpose())
        return nabla_b, nabla_w

    def epoch(self, order: np.ndarray) -> None:
        X, Y = self.data.X, self.data.Y
        for start in range(0, len(order), self.batch_size):
            mini_batch = order[start:start + self.batch_size]
            nabla_b = [np.zeros(b.shape) for b in self.biases]
            nabla_w = [np.zeros(w.shape) for w in self.weights]
            for i in mini_batch:
                x = X[i].astype(np.float64)[:, None]
                y = Y[i].astype(np.float64)[:, None]
                delta_nabla_b, delta_nabla_w = self.backprop(x, y)
                nabla_b = [nb + dnb for nb, dnb in zip(nabla_b, delta_nabla_b)]
                nabla_w = [nw + dnw for nw, dnw in zip(nabla_w, delta_nabla_w)]
            eta = ETA / len(mini_batch)
            self.weights = [w - eta * nw for w, nw in zip(self.weights, nabla_w)]
            self.biases = [b - eta * nb for b, nb in zip(self.biases, nabla_b)]

    def predict(self, X: np.ndarray) -> np.ndarray:
        a = X.T.astype(np.float64)
        for b, w in zip(self.biases, self.weights):
            a = self.sigmoid(w @ a + b)
        return np.argmax(a, axis=0)


def available(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def implementations(data: Data, batch_size: int, quick: bool) -> list[Implementation]:
    impls: list[Implementation] = [Digitnet(data, batch_size)]
    from digitnet import engine

    if batch_size >= engine.PARALLEL_MIN_BATCH:
        impls.append(Digitnet(data, batch_size, threads=1))
    impls += [Digitnet(data, batch_size, images="float32"), Digitnet(data, batch_size, images="float64"),
              DigitnetFit(data, batch_size)]
    impls += [Digitnet(data, batch_size, engine="numpy"), NumpyVectorized(data, batch_size)]
    if available("torch"):
        impls += [Torch(data, batch_size, threads=1), Torch(data, batch_size, threads=2)]
    if available("sklearn"):
        impls.append(SKLearn(data, batch_size))
    impls.append(PerExample(data, batch_size))
    if quick:
        for impl in impls:
            if impl.subset:
                impl.subset = min(impl.subset, 1000)
    return impls


# -- timing ---------------------------------------------------------------------------------------------------

WARM_UP_SECONDS = 0.3


def warm_the_cores(data: Data) -> None:
    """Keep every core busy for WARM_UP_SECONDS, with a network of its own (so that no implementation
    trains for longer than the others): after the pause between two implementations, the machine's
    second core ran the next few tenths of a second slower. Seen on a 2-core virtual machine, a
    mini-batch-1000 epoch took 0.024 s instead of 0.016 s for about 0.3 s after 0.6 s of idling, which
    the 0.05 s warm-up epoch of the fastest implementations did not cover."""
    from digitnet import Network, engine
    from digitnet.training import SGD

    net, opt, run = Network(SIZES, seed=1, dtype=np.float32), SGD(ETA), engine.select("auto")
    opt.init_state(net)
    images = engine.pack(net, data.X_u8[:10_000], "auto")
    Y = data.Y[:10_000]
    until = time.perf_counter() + WARM_UP_SECONDS
    while time.perf_counter() < until:
        run(net, images, Y, np.arange(len(Y)), 1000, opt)


def time_training(data: Data, batch_size: int, rounds: int, quick: bool, seed: int) -> list[dict[str, Any]]:
    """Seconds per epoch of every implementation: after a pause and WARM_UP_SECONDS of work on every core
    (warm_the_cores), a warm-up epoch then ``rounds`` timed ones, the median.

    Every implementation trains on the same shuffles. One implementation runs all its epochs, then
    the next (after a pause): PyTorch's thread pool keeps their threads spinning for
    a while after a parallel run, so interleaving them would have each slow the other down.
    """
    impls = implementations(data, batch_size, quick)
    rng = np.random.default_rng(seed)
    orders = [rng.permutation(len(data.y)) for _ in range(rounds + 1)]  # the first: warm-up, not counted
    results = []
    for impl in impls:
        time.sleep(0.5)  # let the previous implementation's threads go to sleep
        warm_the_cores(data)
        if isinstance(impl, DigitnetFit):  # fit runs its epochs, on its own shuffles, in one call
            times = impl.epochs(len(orders))
        else:
            times = []
            for order in orders:
                part = order[:impl.subset] if impl.subset else order
                started = time.perf_counter()
                impl.epoch(part)
                times.append((time.perf_counter() - started) * len(order) / len(part))
        seconds = statistics.median(times[1:])
        accuracy = None
        if not impl.subset:  # trained on whole epochs: its accuracy means something
            accuracy = float(np.mean(impl.predict(data.X_test) == data.y_test))
        results.append({"implementation": impl.name, "batch_size": batch_size, "seconds_per_epoch": seconds,
                        "examples_per_second": len(data.y) / seconds, "epoch_seconds": times[1:],
                        "warm_up_seconds": times[0], "epochs": rounds + 1, "test_accuracy": accuracy,
                        "scaled_from": impl.subset, "note": impl.note})
    digitnet = next(r for r in results if r["implementation"] == "digitnet")["seconds_per_epoch"]
    for r in results:
        r["ratio_to_digitnet"] = r["seconds_per_epoch"] / digitnet
    return results


def best_of(f, repeats: int) -> tuple[float, float]:
    """The minimum and the median of ``repeats`` timings of f(), in seconds (after one warm-up call)."""
    f()
    ts = []
    for _ in range(repeats):
        started = time.perf_counter()
        f()
        ts.append(time.perf_counter() - started)
    return min(ts), statistics.median(ts)


def time_inference(data: Data, repeats: int) -> list[dict[str, Any]]:
    """Predicting the 10,000 test images, and one image, with trained networks."""
    from digitnet import Network, engine

    net = Network(SIZES, seed=0, dtype=np.float32)
    net.fit(data.X_u8[:10000], data.y[:10000], epochs=1)
    x = data.X_test[0]
    cases: list[tuple[str, str, Any, int]] = [
        ("digitnet Network.predict(uint8 images)", "10,000 images", lambda: net.predict(data.X_test_u8), repeats),
        ("digitnet Network.predict(float32 images)", "10,000 images", lambda: net.predict(data.X_test), repeats),
        ("digitnet engine.predict_proba(uint8, no checks)", "10,000 images",
         lambda: engine.predict_proba(net, data.X_test_u8), repeats),
        ("numpy feedforward (float32, BLAS)", "10,000 images", lambda: net.feedforward(data.X_test), repeats),
        ("digitnet Network.predict(one image)", "1 image", lambda: net.predict(x), 50 * repeats),
    ]
    if available("torch"):
        import torch

        model = Torch(data, 10, threads=1).model
        X_t, x_t = torch.from_numpy(data.X_test), torch.from_numpy(x[None])

        def torch_predict(X, threads):
            def f():
                torch.set_num_threads(threads)
                with torch.no_grad():
                    return model(X).argmax(dim=1)
            return f

        cases += [("pytorch 1 thread", "10,000 images", torch_predict(X_t, 1), repeats),
                  ("pytorch 2 threads", "10,000 images", torch_predict(X_t, 2), repeats),
                  ("pytorch (one image)", "1 image", torch_predict(x_t, 1), 50 * repeats)]
    if available("sklearn"):
        sk = SKLearn(data, 100)
        sk.epoch(np.arange(10000))
        cases += [("scikit-learn predict", "10,000 images", lambda: sk.model.predict(data.X_test), repeats),
                  ("scikit-learn predict (one image)", "1 image", lambda: sk.model.predict(x[None]), 50 * repeats)]
    results = []
    for name, what, f, n in cases:
        best, median = best_of(f, n)
        results.append({"implementation": name, "work": what, "best_seconds": best, "median_seconds": median})
    return results


# -- memory and start-up: fresh processes ---------------------------------------------------------------------

CHILD_IMPLEMENTATIONS = {
    "digitnet": lambda data: Digitnet(data, 10),
    "numpy vectorized": lambda data: NumpyVectorized(data, 10),
    "pytorch": lambda data: Torch(data, 10, threads=2),
    "scikit-learn": lambda data: SKLearn(data, 10),
}


def peak_rss_mb() -> float:
    """This process's peak resident set size in MB: VmHWM of /proc/self/status, else getrusage.

    (getrusage's ru_maxrss is inherited from the parent on Linux, so a child started from a big
    process would report the parent's size; VmHWM belongs to this process's own memory.)
    """
    try:
        status = Path("/proc/self/status").read_text()
        return int(status.split("VmHWM:")[1].split()[0]) / 1024
    except (OSError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(name: str) -> None:
    """In a fresh process: load the data, train one epoch with ``name``, print the peak RSS (MB)."""
    if name == "floor":
        return floor_child()
    data = Data()
    impl = CHILD_IMPLEMENTATIONS[name](data)
    impl.epoch(np.random.default_rng(0).permutation(len(data.y)))
    print(json.dumps({"peak_rss_mb": peak_rss_mb()}))


def measure_memory(quick: bool) -> list[dict[str, Any]]:
    names = ["digitnet"] if quick else [n for n in CHILD_IMPLEMENTATIONS
                                        if n not in ("pytorch", "scikit-learn") or available(
                                            "torch" if n == "pytorch" else "sklearn")]
    results = []
    for name in names + ["floor"]:
        out = subprocess.run([sys.executable, __file__, "--child", name], capture_output=True, text=True,
                             check=True)
        what = ("python + numpy + digitnet imported, one tiny network trained: no data" if name == "floor"
                else "load MNIST + train one epoch, mini-batches of 10")
        results.append({"implementation": "floor" if name == "floor" else name, "what": what,
                        **json.loads(out.stdout.strip().splitlines()[-1])})
    return results


CLI_CODE = ("import sys\nfrom digitnet.cli import main\n"
            "code = main(['train', '--epochs', '1', '-q', '-o', {model!r}])\n"
            "status = open('/proc/self/status').read()\n"
            "print('PEAK', int(status.split('VmHWM:')[1].split()[0]) / 1024, file=sys.stderr)\n"
            "sys.exit(code)\n")


def run_cli(model: str, env: dict[str, str] | None = None) -> tuple[float, float]:
    """One ``digitnet train --epochs 1`` in a fresh process: (wall seconds, peak RSS in MB)."""
    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", CLI_CODE.format(model=model)], capture_output=True, text=True,
                         check=True, env=env)
    return time.perf_counter() - started, float(out.stderr.split("PEAK")[-1].split()[0])


def measure_cli(runs: int) -> dict[str, Any]:
    """``digitnet train --epochs 1``: the whole process's wall time and peak RSS, cold and warm.

    Cold: an empty bytecode cache (a fresh PYTHONPYCACHEPREFIX), so that every module is compiled from
    its source, as at the first run after an install that wrote no bytecode; the engine itself is
    machine code built at install. Warm: the bytecode cached (the first warm run fills the cache and
    is not counted).
    """
    with tempfile.TemporaryDirectory() as tmp:
        model = str(Path(tmp) / "model.npz")
        cold_walls, cold_peaks = [], []
        for i in range(max(1, runs // 2)):
            env = dict(os.environ, PYTHONPYCACHEPREFIX=str(Path(tmp) / f"pycache-{i}"))
            wall, peak = run_cli(model, env)
            cold_walls.append(wall)
            cold_peaks.append(peak)
        walls, peaks = [], []
        for i in range(runs + 1):
            wall, peak = run_cli(model)
            if i:
                walls.append(wall)
                peaks.append(peak)
    return {"command": "digitnet train --epochs 1 (bundled MNIST, defaults: 784-16-16-10, batch 10)",
            "wall_seconds_median": statistics.median(walls), "wall_seconds": walls,
            "peak_rss_mb": max(peaks), "cold_wall_seconds_median": statistics.median(cold_walls),
            "cold_wall_seconds": cold_walls, "cold_peak_rss_mb": max(cold_peaks)}


def floor_child() -> None:
    """In a fresh process: the memory every digitnet process pays before any data: Python, NumPy and
    digitnet imported, a tiny network trained one step by the compiled engine."""
    from digitnet import Network

    Network((8, 4, 2), seed=0).fit(np.zeros((4, 8), np.uint8), np.zeros(4, np.int64), epochs=1, batch_size=4)
    print(json.dumps({"peak_rss_mb": peak_rss_mb()}))


# -- report ---------------------------------------------------------------------------------------------------

def machine() -> dict[str, Any]:
    from digitnet import engine

    info: dict[str, Any] = {"python": platform.python_version(), "numpy": np.__version__,
                            "cores": os.cpu_count(), "platform": platform.platform(),
                            "engine_threads": engine.threads()}
    try:
        info["cpu"] = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                           if line.startswith("model name"))
    except (OSError, StopIteration):
        info["cpu"] = platform.processor()
    for module in ("torch", "sklearn"):
        if available(module):
            info[module] = __import__(module).__version__
    info["date"] = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    info["load_average_at_start"] = list(os.getloadavg())
    return info


def print_training(results: list[dict[str, Any]]) -> None:
    print(f"\nTraining, mini-batches of {results[0]['batch_size']}: seconds per epoch of 60,000 (median)")
    print(f"  {'implementation':20s} {'s/epoch':>9s} {'examples/s':>12s} {'x digitnet':>10s} {'test acc.':>9s}")
    for r in results:
        acc = f"{100 * r['test_accuracy']:.2f}%" if r["test_accuracy"] is not None else "-"
        scaled = f"  (timed on {r['scaled_from']:,} examples, scaled)" if r["scaled_from"] else ""
        print(f"  {r['implementation']:20s} {r['seconds_per_epoch']:9.4f} {r['examples_per_second']:12,.0f} "
              f"{r['ratio_to_digitnet']:10.1f} {acc:>9s}{scaled}")


def seconds(results: list[dict[str, Any]], name: str, batch_size: int) -> float | None:
    return next((r["seconds_per_epoch"] for r in results
                 if r["implementation"] == name and r["batch_size"] == batch_size), None)


def targets(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's targets, each with the figure measured in this run (ratios from side-by-side timings)."""
    tr, out = report["training"], []

    def ratio(slow: str, fast: str, b: int) -> float | None:
        s, f = seconds(tr, slow, b), seconds(tr, fast, b)
        return s / f if s and f else None

    def check(what: str, value: float | None, goal: float, at_most: bool = False) -> None:
        met = value is not None and (value <= goal if at_most else value >= goal)
        out.append({"target": what, "measured": value, "goal": goal, "met": met})

    for b in sorted({r["batch_size"] for r in tr}):
        check(f"B={b}: uint8 images' time / float32 images' time, same engine (float32 within 10% of uint8)",
              ratio("digitnet", "digitnet float32", b), 1 / 1.1)
        check(f"B={b}: float32 engine time / float64 engine time (float64 within 2x)",
              ratio("digitnet float32", "digitnet float64", b), 0.5)
        if b == 10:
            check("B=10: float32 fit path x PyTorch 1 thread", ratio("pytorch 1 thread", "digitnet fit float32", b), 60)
            check("B=10: float32 fit path x careful NumPy", ratio("numpy vectorized", "digitnet fit float32", b), 10)
        else:
            check(f"B={b}: digitnet x careful NumPy", ratio("numpy vectorized", "digitnet", b), 4)
            check(f"B={b}: float32 fit path x careful NumPy", ratio("numpy vectorized", "digitnet fit float32", b), 4)
    cli = report.get("cli", {})
    check("cold start: first digitnet train --epochs 1, whole process (s)", cli.get("cold_wall_seconds_median"), 6,
          at_most=True)
    check("peak memory of the default digitnet train (MB)", cli.get("peak_rss_mb"), 180, at_most=True)
    return out


def print_targets(rows: list[dict[str, Any]]) -> None:
    print("\nTargets (measured in this run)")
    for r in rows:
        value = "-" if r["measured"] is None else f"{r['measured']:.3g}"
        print(f"  {'met ' if r['met'] else 'NOT '} {r['target']}: {value} (goal {r['goal']:.3g})")


def readme_table(report: dict[str, Any]) -> str:
    """The README's speed table (markdown), from a results file."""
    tr = report["training"]
    cols = [("digitnet uint8", "digitnet"), ("digitnet float32", "digitnet float32"),
            ("digitnet float64", "digitnet float64"), ("`net.fit` float32", "digitnet fit float32"),
            ("careful NumPy", "numpy vectorized"), ("PyTorch 1 thread", "pytorch 1 thread"),
            ("scikit-learn", "scikit-learn")]
    lines = ["| mini-batch | " + " | ".join(c for c, _ in cols) + " |", "| --- " * (len(cols) + 1) + "|"]
    for b in sorted({r["batch_size"] for r in tr}):
        base = seconds(tr, "digitnet fit float32", b)
        cells = []
        for _, name in cols:
            t = seconds(tr, name, b)
            ratio = f" ({t / base:.1f}x)" if t and base and name not in ("digitnet fit float32",) else ""
            cells.append("-" if t is None else f"{t:.3f}{ratio}")
        lines.append(f"| {b} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a CI-sized run: fewer rounds, small subsets")
    parser.add_argument("--batch-sizes", default="10,100,1000", help="mini-batch sizes (default: 10,100,1000)")
    parser.add_argument("--rounds", type=int, default=None,
                        help="timed epochs per implementation (default 5; 2 with --quick)")
    parser.add_argument("--out", default=str(HERE / "results.json"), help="where to write the figures as JSON")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--table", metavar="RESULTS", help="print the README speed table from a results file")
    args = parser.parse_args(argv)
    if args.table:
        print(readme_table(json.loads(Path(args.table).read_text())))
        return 0
    if args.child:
        child(args.child)
        return 0
    rounds = args.rounds or (2 if args.quick else 5)
    data = Data()
    report: dict[str, Any] = {"machine": machine(), "settings": {
        "sizes": SIZES, "activation": "sigmoid", "cost": "quadratic", "dtype": "float32", "learning_rate": ETA,
        "rounds": rounds, "quick": args.quick}, "training": [], "inference": [], "memory": []}
    print(f"{report['machine']['cpu']}, {report['machine']['cores']} cores; numpy {np.__version__}, "
          f"torch {report['machine'].get('torch', '-')}, "
          f"scikit-learn {report['machine'].get('sklearn', '-')}")
    for batch_size in [int(b) for b in args.batch_sizes.split(",")]:
        results = time_training(data, batch_size, rounds, args.quick, args.seed)
        report["training"] += results
        print_training(results)

    print("\nPredicting (best of several; median in the JSON)")
    report["inference"] = time_inference(data, 5 if args.quick else 20)
    for r in report["inference"]:
        unit, scale = ("ms", 1e3) if r["work"] != "1 image" else ("us", 1e6)
        print(f"  {r['implementation']:48s} {r['work']:>14s} {scale * r['best_seconds']:9.2f} {unit}")

    print("\nPeak memory (RSS of a fresh process: load MNIST, train one epoch, mini-batches of 10)")
    report["memory"] = measure_memory(args.quick)
    for r in report["memory"]:
        print(f"  {r['implementation']:20s} {r['peak_rss_mb']:8.0f} MB")
    report["cli"] = measure_cli(1 if args.quick else 3)
    print(f"  digitnet train --epochs 1 (whole process): {report['cli']['peak_rss_mb']:.0f} MB, "
          f"{report['cli']['wall_seconds_median']:.2f} s wall (bytecode cached)")

    print(f"  first digitnet train --epochs 1 after install (no bytecode cache): "
          f"{report['cli']['cold_wall_seconds_median']:.2f} s wall, {report['cli']['cold_peak_rss_mb']:.0f} MB")
    report["machine"]["load_average_at_end"] = list(os.getloadavg())
    report["targets"] = targets(report)
    print_targets(report["targets"])
    Path(args.out).write_text(json.dumps(report, indent=1) + "\n")
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

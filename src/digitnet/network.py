"""The network of the lessons: layers of neurons, a' = sigma(W a + b), learning by backpropagation.

Notation (kept everywhere in digitnet):

- ``sizes = (784, 16, 16, 10)``: neurons per layer, the input layer first.
- Layer l (l = 0 for the first hidden layer) has weights ``W[l]`` of shape (k, n), k neurons each fed
  by the n neurons before, and biases ``b[l]`` of shape (k,). For one example ``a`` (n,),
  ``a' = sigma(W @ a + b)``, exactly as in the lesson.
- A mini-batch of m examples is a matrix with one example per row, so the same step reads
  ``A' = sigma(A @ W.T + b)`` (m, k).
- ``z`` is the weighted sum before the activation, ``a`` the activation after it; ``delta`` is dC/dz.
- Hidden layers use ``activation`` (sigmoid or relu); the output layer's activation goes with the
  cost: sigmoid for the lesson's quadratic cost, softmax for cross-entropy (see costs.py).
- The network's cost is the mean over the examples of the per-example cost C_0.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from .activations import get_activation
from .costs import get_cost
from .errors import ConfigError, ShapeError

# Largest network digitnet accepts: a guard against typos such as --sizes 784,1600000,10.
MAX_PARAMETERS = 100_000_000


class Network:
    """A fully connected feed-forward network, trained by stochastic gradient descent.

    >>> net = Network((784, 16, 16, 10), seed=0)
    >>> [W.shape for W in net.W]
    [(16, 784), (16, 16), (10, 16)]
    """

    def __init__(
        self,
        sizes: Sequence[int] = (784, 16, 16, 10),
        activation: str = "sigmoid",
        cost: str = "quadratic",
        seed: int | None = None,
        dtype: Any = np.float32,
    ) -> None:
        self.sizes = _check_sizes(sizes)
        self.activation = get_activation(activation).name
        self.cost_name = get_cost(cost).name
        self.dtype = _check_dtype(dtype)
        if seed is None:
            seed = int(np.random.SeedSequence().generate_state(1)[0])
        if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
            raise ConfigError(f"seed must be a non-negative integer, got {seed!r}")
        self.seed = int(seed)
        # One generator for the initial weights and then the shuffling of every epoch, so the same
        # seed and data give the same network bit for bit.
        self.rng = np.random.default_rng(self.seed)
        self.W: list[np.ndarray] = []
        self.b: list[np.ndarray] = []
        for n, k in zip(self.sizes[:-1], self.sizes[1:]):
            # Weights drawn with standard deviation 1/sqrt(n) (sigmoid) or sqrt(2/n) (relu), so
            # each z starts with a variance near 1 and no neuron starts saturated; biases start at 0.
            scale = np.sqrt(2.0 / n) if self.activation == "relu" else 1.0 / np.sqrt(n)
            self.W.append((self.rng.standard_normal((k, n)) * scale).astype(self.dtype))  # (k, n)
            self.b.append(np.zeros(k, dtype=self.dtype))  # (k,)
        self.history: list[dict[str, Any]] = []

    # -- the parts of the network ---------------------------------------------------------------

    @property
    def sigma(self):
        """The hidden layers' activation function sigma."""
        return get_activation(self.activation).fn

    @property
    def sigma_prime(self):
        """sigma', the derivative of the hidden layers' activation."""
        return get_activation(self.activation).prime

    @property
    def cost_function(self):
        """The Cost object (per-example C_0, the output delta and the output activation)."""
        return get_cost(self.cost_name)

    @property
    def n_parameters(self) -> int:
        """How many weights and biases the network has (13,002 for the lesson's 784-16-16-10)."""
        return sum(W.size + b.size for W, b in zip(self.W, self.b))

    def __repr__(self) -> str:
        sizes = "-".join(map(str, self.sizes))
        return (
            f"Network({sizes}, activation={self.activation!r}, cost={self.cost_name!r}, "
            f"dtype={np.dtype(self.dtype).name}, seed={self.seed})"
        )

    # -- forward ----------------------------------------------------------------------------------

    def feedforward(self, X: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Every layer's weighted sums ``zs`` and activations ``activations`` for a mini-batch X (m, n).

        ``activations[0]`` is X itself; ``zs[l]`` and ``activations[l + 1]`` have shape (m, k_l).
        """
        sigma, output = self.sigma, self.cost_function.output
        a = X
        zs, activations = [], [a]
        last = len(self.W) - 1
        for l, (W, b) in enumerate(zip(self.W, self.b)):
            z = a @ W.T + b  # (m, k)
            a = output(z) if l == last else sigma(z)  # (m, k)
            zs.append(z)
            activations.append(a)
        return zs, activations

    def forward(self, X: np.ndarray) -> list[np.ndarray]:
        """The activations of every layer, the input first: ``[X, a_1, ..., a_L]``.

        X is one image (784,) or a mini-batch (m, 784) of brightnesses in [0, 1] (uint8 images
        0-255 are scaled by 1/255). The activations have the same leading shape as X.
        """
        X, single = self._check_input(X)
        activations = self.feedforward(X)[1]
        return [a[0] for a in activations] if single else activations

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """The output layer's activations, (m, 10) for (m, 784) images or (10,) for one."""
        from . import engine  # the fast path; imported lazily so the lesson's code stays plain

        X, single = self._check_input(X, keep_uint8=True)
        a = engine.predict_proba(self, X)
        return a[0] if single else a

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The guess for each image: the index of the brightest output neuron, (m,) or a scalar."""
        return np.argmax(self.predict_proba(X), axis=-1)

    def accuracy(self, X: np.ndarray, y: np.ndarray) -> float:
        """The fraction of images whose guess equals the label y (m,)."""
        X, _, _ = self._check_examples(X, y, keep_uint8=True)
        y = self._check_labels(y, len(X))
        return float(np.mean(self.predict(X) == y))

    # -- cost and backpropagation -------------------------------------------------------------------

    def cost(self, X: np.ndarray, Y: np.ndarray) -> float:
        """The network's cost: the mean over the examples of C_0(a_L, y).

        Y is one-hot (m, 10) or integer labels (m,).
        """
        X, Y, _ = self._check_examples(X, Y)
        a_L = self.feedforward(X)[1][-1]
        return float(np.mean(self.cost_function.fn(a_L, Y)))

    def backprop(self, X: np.ndarray, Y: np.ndarray) -> tuple[float, list[np.ndarray], list[np.ndarray]]:
        """The mean cost over the mini-batch and its gradient (dW, db), by backpropagation.

        X (m, n) and one-hot Y (m, k) are assumed checked. Going backwards from the output,
        delta = dC_0/dz for each example; dC/dW = mean over examples of delta a_prev^T.
        """
        m = len(X)
        zs, activations = self.feedforward(X)
        cost = self.cost_function
        delta = cost.delta(zs[-1], activations[-1], Y)  # (m, 10): dC_0/dz_L
        dW: list[np.ndarray] = [np.empty(0)] * len(self.W)
        db: list[np.ndarray] = [np.empty(0)] * len(self.b)
        for l in range(len(self.W) - 1, -1, -1):
            dW[l] = (delta.T @ activations[l]) / m  # (k, n): dC/dW[l]
            db[l] = delta.sum(axis=0) / m  # (k,): dC/db[l]
            if l > 0:
                # delta of the layer before: dC/da_prev = delta W, then times sigma'(z_prev).
                delta = (delta @ self.W[l]) * self.sigma_prime(zs[l - 1])  # (m, n)
        mean_cost = float(np.mean(cost.fn(activations[-1], Y)))
        return mean_cost, dW, db

    def gradients(self, X: np.ndarray, Y: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """The gradient (dW, db) of the mean cost over the mini-batch X, Y, shaped like (W, b)."""
        X, Y, _ = self._check_examples(X, Y)
        _, dW, db = self.backprop(X, Y)
        return dW, db

    def input_gradient(self, X: np.ndarray, Y: np.ndarray) -> np.ndarray:
        """dC/dX: the gradient of the mean cost with respect to the input images, shaped like X.

        Backpropagation carried one layer further, down to the input: what each pixel would have
        to do to lower the cost (and, with the sign flipped, to raise it).
        """
        X, Y, single = self._check_examples(X, Y)
        zs, activations = self.feedforward(X)
        delta = self.cost_function.delta(zs[-1], activations[-1], Y)  # (m, 10)
        for l in range(len(self.W) - 1, 0, -1):
            delta = (delta @ self.W[l]) * self.sigma_prime(zs[l - 1])
        dX = (delta @ self.W[0]) / len(X)  # (m, 784)
        return dX[0] if single else dX

    def step(self, X: np.ndarray, Y: np.ndarray, learning_rate: float) -> float:
        """One step of gradient descent on one mini-batch: W -= eta dW, b -= eta db.

        Returns the mini-batch's mean cost before the step.
        """
        learning_rate = check_learning_rate(learning_rate)
        X, Y, _ = self._check_examples(X, Y)
        cost, dW, db = self.backprop(X, Y)
        for l in range(len(self.W)):
            self.W[l] -= (learning_rate * dW[l]).astype(self.W[l].dtype)
            self.b[l] -= (learning_rate * db[l]).astype(self.b[l].dtype)
        return cost

    # -- training ----------------------------------------------------------------------------------

    def fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        epochs: int = 30,
        batch_size: int = 10,
        learning_rate: float = 1.5,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        validation_data: tuple[np.ndarray, np.ndarray] | None = None,
        callback=None,
        **options: Any,
    ) -> list[dict[str, Any]]:
        """Stochastic gradient descent on mini-batches shuffled each epoch; see training.fit.

        Returns the history, one dict per epoch (also kept in ``self.history``).
        """
        from .training import fit

        return fit(
            self, X, y, epochs=epochs, batch_size=batch_size, learning_rate=learning_rate,
            momentum=momentum, weight_decay=weight_decay, validation_data=validation_data,
            callback=callback, **options,
        )

    # -- files --------------------------------------------------------------------------------------

    def save(self, path: str | os.PathLike) -> None:
        """Write the network to ``path`` (a .npz with a JSON header; no pickle), atomically."""
        from .model_file import save

        save(self, path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Network:
        """Read a network written by ``save``, checking every part of the file."""
        from .model_file import load

        return load(path)

    def to_onnx(self, path: str | os.PathLike) -> None:
        """Write the network as an ONNX model (input "image" (N, 784), output "probabilities")."""
        from .onnx_export import export

        export(self, path)

    def copy(self) -> Network:
        """An independent copy: same parameters, history and random state."""
        other = object.__new__(Network)
        other.__dict__.update(self.__dict__)
        other.W = [W.copy() for W in self.W]
        other.b = [b.copy() for b in self.b]
        other.history = [dict(h) for h in self.history]
        other.rng = np.random.default_rng()
        other.rng.bit_generator.state = self.rng.bit_generator.state
        return other

    # -- checking inputs ------------------------------------------------------------------------------

    def _check_input(self, X: Any, keep_uint8: bool = False) -> tuple[np.ndarray, bool]:
        """X as a 2-D array of this network's dtype, and whether it was a single image.

        keep_uint8: uint8 images stay uint8 (the engine reads them as stored, a quarter of the memory).
        """
        X = np.asarray(X)
        if X.dtype == np.uint8:
            if not keep_uint8:
                X = X.astype(self.dtype) / self.dtype(255)
        elif X.dtype.kind not in "fiub":
            raise ShapeError(f"images must be numbers, got an array of dtype {X.dtype}")
        n = self.sizes[0]
        if X.ndim not in (1, 2) or X.shape[-1] != n:
            raise ShapeError(
                f"expected one image of shape ({n},) or a batch of shape (m, {n}), got shape "
                f"{X.shape}; flatten each {_side(n)} image into {n} brightnesses in [0, 1]"
            )
        if X.dtype != np.uint8:  # uint8 pixels are always finite
            X = X.astype(self.dtype, copy=False)
            if not np.isfinite(X).all():
                raise ShapeError("images contain NaN or infinite values; brightnesses must be finite, in [0, 1]")
        single = X.ndim == 1
        return (X[None, :] if single else X), single

    def _check_examples(self, X: Any, Y: Any, keep_uint8: bool = False) -> tuple[np.ndarray, np.ndarray, bool]:
        """X as in _check_input, Y as one-hot rows: at least one example, since costs are means over them."""
        X, single = self._check_input(X, keep_uint8)
        if len(X) == 0:
            raise ShapeError(f"no images (shape {X.shape}): the cost, its gradient and the accuracy are means "
                             "over the examples, so they need at least one")
        return X, self.one_hot(Y, len(X)), single

    def _check_labels(self, y: Any, m: int) -> np.ndarray:
        y = np.asarray(y)
        k = self.sizes[-1]
        if y.ndim == 2 and y.shape[1] == k:
            y = np.argmax(y, axis=1)
        if y.ndim != 1 or len(y) != m:
            raise ShapeError(f"expected {m} labels (one per image), got an array of shape {y.shape}")
        if y.dtype.kind == "f":
            bad = ~np.isfinite(y) | (y != np.round(y))
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise ShapeError(f"labels must be whole numbers 0..{k - 1}, got {float(y[i])!r} at position {i}")
            y = y.astype(np.int64)
        if y.dtype.kind not in "iub":
            raise ShapeError(f"labels must be integers 0..{k - 1}, got dtype {y.dtype}")
        if m and (y.min() < 0 or y.max() >= k):
            raise ShapeError(f"labels must be in 0..{k - 1}, got values from {y.min()} to {y.max()}")
        return y.astype(np.int64, copy=False)

    def one_hot(self, Y: Any, m: int) -> np.ndarray:
        """Y as one-hot rows (m, k) of the network's dtype: integer labels are expanded, one-hot checked."""
        Y = np.asarray(Y)
        k = self.sizes[-1]
        if Y.ndim == 2:
            if Y.shape != (m, k):
                raise ShapeError(f"expected targets of shape ({m}, {k}), got {Y.shape}")
            if Y.dtype.kind not in "fiub":
                raise ShapeError(f"targets must be numbers (one-hot rows), got an array of dtype {Y.dtype}")
            if not np.isfinite(Y).all():
                raise ShapeError("targets contain NaN or infinite values")
            if self.cost_name == "cross-entropy":
                # The output delta a - y (costs.py) is the gradient only for rows of y that are
                # probabilities: one-hot, or soft labels such as 0.9 / 0.1 that sum to 1.
                sums = Y.sum(axis=1, dtype=np.float64)
                bad = np.flatnonzero((Y < 0).any(axis=1) | (np.abs(sums - 1.0) > 1e-5))
                if len(bad):
                    i = int(bad[0])
                    raise ShapeError(f"cross-entropy targets must be probabilities (each row >= 0, summing to 1), "
                                     f"but row {i} is {Y[i].tolist()} and sums to {sums[i]:g}")
            return Y.astype(self.dtype, copy=False)
        y = self._check_labels(Y, m)
        out: np.ndarray = np.zeros((m, k), dtype=self.dtype)
        out[np.arange(m), y] = 1
        return out


def check_learning_rate(learning_rate: Any) -> float:
    """The learning rate eta as a float, or a ConfigError unless it is finite and > 0."""
    try:
        eta = float(learning_rate)
    except (TypeError, ValueError):
        raise ConfigError(f"learning rate must be a number > 0, got {learning_rate!r}") from None
    if not np.isfinite(eta) or eta <= 0:
        raise ConfigError(f"learning rate must be a finite number > 0, got {learning_rate!r}; try 0.1 to 3")
    return eta


def _check_sizes(sizes: Any) -> tuple[int, ...]:
    try:
        sizes = tuple(sizes)
    except TypeError:
        raise ConfigError(f"sizes must be a list of layer sizes such as (784, 16, 16, 10), got {sizes!r}") from None
    if len(sizes) < 2:
        raise ConfigError(f"a network needs at least an input and an output layer, got sizes {sizes!r}")
    for s in sizes:
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 1:
            raise ConfigError(f"every layer size must be a whole number >= 1, got {s!r} in {sizes!r}")
    sizes = tuple(int(s) for s in sizes)
    n_params = sum(k * n + k for n, k in zip(sizes[:-1], sizes[1:]))
    if n_params > MAX_PARAMETERS:
        raise ConfigError(f"sizes {sizes} give {n_params:,} parameters, "
                          f"more than digitnet's limit of {MAX_PARAMETERS:,}")
    return sizes


def _check_dtype(dtype: Any) -> type:
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise ConfigError(f"dtype must be float32 or float64, got {dtype!r}") from None
    if dt not in (np.float32, np.float64):
        raise ConfigError(f"dtype must be float32 or float64, got {dt}")
    return dt.type


def _side(n: int) -> str:
    r = int(round(np.sqrt(n)))
    return f"{r}x{r}" if r * r == n else f"{n}-pixel"

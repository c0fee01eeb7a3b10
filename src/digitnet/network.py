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
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import checks, engine, model_file, onnx_export
from .activations import get_activation
from .checks import MAX_PARAMETERS
from .checks import learning_rate as check_learning_rate
from .costs import get_cost
from .settings import TrainingSettings

__all__ = ["Network", "MAX_PARAMETERS", "check_learning_rate"]


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
        *,
        parameters: tuple[list[np.ndarray], list[np.ndarray]] | None = None,
    ) -> None:
        """``parameters=(W, b)`` gives the weights and biases instead of drawing them (a loaded file)."""
        self.sizes = checks.sizes(sizes)
        self.activation = get_activation(activation).name
        self.cost_name = get_cost(cost).name
        self.dtype = checks.dtype(dtype)
        if seed is None:
            seed = int(np.random.SeedSequence().generate_state(1)[0])
        self.seed = checks.seed(seed)
        # One generator for the initial weights and then the shuffling of every epoch, so the same
        # seed and data give the same network bit for bit.
        self.rng = np.random.default_rng(self.seed)
        self.W: list[np.ndarray] = list(parameters[0]) if parameters else []
        self.b: list[np.ndarray] = list(parameters[1]) if parameters else []
        for n, k in zip(self.sizes[:-1], self.sizes[1:]) if parameters is None else ():
            # Weights drawn with standard deviation 1/sqrt(n) (sigmoid) or sqrt(2/n) (relu), so
            # each z starts with a variance near 1 and no neuron starts saturated; biases start at 0.
            scale = get_activation(self.activation).init_scale(n)
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
        X, single = checks.images(self, X)
        activations = self.feedforward(X)[1]
        return [a[0] for a in activations] if single else activations

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """The output layer's activations, (m, 10) for (m, 784) images or (10,) for one.

        Many images go through the compiled engine (faster for the 10,000 test images, slower for
        one: see benchmarks/bench_predict.py), a few through ``feedforward``.
        """
        X, single = checks.images(self, X, keep_uint8=True)
        a = engine.predict_proba(self, X)
        return a[0] if single else a

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The guess for each image: the index of the brightest output neuron, (m,) or a scalar."""
        return np.argmax(self.predict_proba(X), axis=-1)

    def accuracy(self, X: np.ndarray, y: np.ndarray) -> float:
        """The fraction of images whose guess equals the label y (m,)."""
        from .evaluation import accuracy

        return accuracy(self, X, y)

    # -- cost and backpropagation -------------------------------------------------------------------

    def cost(self, X: np.ndarray, Y: np.ndarray) -> float:
        """The network's cost: the mean over the examples of C_0(a_L, y).

        Y is one-hot (m, 10) or integer labels (m,).
        """
        X, Y, _ = checks.examples(self, X, Y)
        a_L = self.feedforward(X)[1][-1]
        return float(np.mean(self.cost_function.fn(a_L, Y)))

    def output_delta(self, zs: list[np.ndarray], activations: list[np.ndarray], Y: np.ndarray) -> np.ndarray:
        """delta_L = dC_0/dz_L for each example (m, k): dC_0/da * sigma'(z_L), as the cost gives it."""
        return self.cost_function.delta(zs[-1], activations[-1], Y)

    def backward(self, zs: list[np.ndarray], delta_L: np.ndarray) -> list[np.ndarray]:
        """Backpropagation: every layer's delta = dC/dz, from the output's delta_L back to the first layer.

        delta_{l-1} = (delta_l W_l) * sigma'(z_{l-1}): each neuron collects the deltas of the layer
        after it, weighted by its weights into them, times how much its own z moves its a.
        Returns [delta_1, ..., delta_L], shaped like ``zs``. Any delta_L works: dC_0/dz_L for the
        cost, or d a_j/dz_L to ask what moves one output.
        """
        deltas = [delta_L]
        for l in range(len(self.W) - 1, 0, -1):
            deltas.insert(0, (deltas[0] @ self.W[l]) * self.sigma_prime(zs[l - 1]))  # (m, n)
        return deltas

    def backprop(self, X: np.ndarray, Y: np.ndarray) -> tuple[float, list[np.ndarray], list[np.ndarray]]:
        """The mean cost over the mini-batch and its gradient (dW, db), by backpropagation.

        X (m, n) and one-hot Y (m, k) are assumed checked: dC/dW = mean over examples of delta a_prev^T.
        """
        zs, activations = self.feedforward(X)
        return self.backprop_from(zs, activations, Y)

    def backprop_from(self, zs: list[np.ndarray], activations: list[np.ndarray],
                      Y: np.ndarray) -> tuple[float, list[np.ndarray], list[np.ndarray]]:
        """``backprop`` from a forward pass already made (``feedforward``'s zs and activations, the
        input first): the mean cost and the gradient (dW, db), without computing the forward pass twice."""
        m = len(activations[0])
        deltas = self.backward(zs, self.output_delta(zs, activations, Y))
        dW = [(delta.T @ a) / m for delta, a in zip(deltas, activations)]  # (k, n): dC/dW[l]
        db = [delta.sum(axis=0) / m for delta in deltas]  # (k,): dC/db[l]
        mean_cost = float(np.mean(self.cost_function.fn(activations[-1], Y)))
        return mean_cost, dW, db

    def gradients(self, X: np.ndarray, Y: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """The gradient (dW, db) of the mean cost over the mini-batch X, Y, shaped like (W, b)."""
        X, Y, _ = checks.examples(self, X, Y)
        _, dW, db = self.backprop(X, Y)
        return dW, db

    def input_gradient(self, X: np.ndarray, Y: np.ndarray) -> np.ndarray:
        """dC/dX: the gradient of the mean cost with respect to the input images, shaped like X.

        Backpropagation carried one layer further, down to the input: what each pixel would have
        to do to lower the cost (and, with the sign flipped, to raise it).
        """
        X, Y, single = checks.examples(self, X, Y)
        zs, activations = self.feedforward(X)
        dX = (self.backward(zs, self.output_delta(zs, activations, Y))[0] @ self.W[0]) / len(X)  # (m, 784)
        return dX[0] if single else dX

    def step(self, X: np.ndarray, Y: np.ndarray, learning_rate: float) -> float:
        """One step of gradient descent on one mini-batch: W -= eta dW, b -= eta db.

        Returns the mini-batch's mean cost before the step.
        """
        learning_rate = check_learning_rate(learning_rate)
        X, Y, _ = checks.examples(self, X, Y)
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
        callback: Callable[[dict[str, Any]], Any] | None = None,
        learning_rate_decay: float = 1.0,
        settings: TrainingSettings | None = None,
        **options: Any,
    ) -> list[dict[str, Any]]:
        """Stochastic gradient descent on mini-batches shuffled each epoch; see training.fit.

        The settings are the keyword arguments, or ``settings`` (a TrainingSettings) instead.
        Returns the history, one dict per epoch (also kept in ``self.history``).
        """
        from .training import fit

        if settings is None:
            settings = TrainingSettings(epochs, batch_size, learning_rate, momentum, weight_decay,
                                        learning_rate_decay)
        return fit(self, X, y, settings, validation_data=validation_data, callback=callback, **options)

    # -- files --------------------------------------------------------------------------------------

    def save(self, path: str | os.PathLike) -> None:
        """Write the network to ``path`` (a .npz with a JSON header; no pickle), atomically."""
        model_file.save(self, path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Network:
        """Read a network written by ``save``, checking every part of the file."""
        return model_file.load(path, cls)

    def to_onnx(self, path: str | os.PathLike) -> None:
        """Write the network as an ONNX model (input "image" (N, 784), output "probabilities")."""
        onnx_export.export(self, path)

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

    def one_hot(self, Y: Any, m: int) -> np.ndarray:
        """Y as one-hot rows (m, k) of the network's dtype: integer labels are expanded, one-hot checked."""
        return checks.one_hot(self, Y, m)

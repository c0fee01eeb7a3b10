"""The gradient as nudges (lessons 2 and 3): what each example wishes for, and what the batch decides.

Lesson 3 says each training example, through backpropagation, "wishes" every weight and bias a
nudge: -dC_k/dw, the direction that would lower its own cost C_k. One step of stochastic gradient
descent averages those wishes over the m examples of a mini-batch,

    dC/dw = (1/m) sum_k dC_k/dw,

and moves every parameter by -eta times it. Lesson 2 reads the gradient's 13,002 entries as a
ranking: the largest ones are the changes that matter most right now.

- ``nudges``: for one weight or bias, each example's -dC_k/dw, their average (the step's gradient
  entry, negated), each example's cost and guess;
- ``ranked_gradient``: the batch gradient's entries sorted by size, the share of the total the top
  ones carry, and the first layer's gradient as 28x28 images.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import checks
from .errors import ConfigError
from .network import Network


@dataclass(frozen=True)
class Parameter:
    """One weight or bias: W[layer][row, col] (row: the neuron fed, col: the one feeding it) or b[layer][row]."""

    layer: int
    kind: str  # "W" or "b"
    row: int
    col: int | None = None

    def value(self, net: Network) -> float:
        return float(net.W[self.layer][self.row, self.col] if self.kind == "W" else net.b[self.layer][self.row])

    def __str__(self) -> str:
        return f"W{self.layer}[{self.row}, {self.col}]" if self.kind == "W" else f"b{self.layer}[{self.row}]"


def parameter(net: Network, layer: int, kind: str, row: int, col: int | None = None) -> Parameter:
    """A checked Parameter of ``net``: a ConfigError names the index that does not exist."""
    L = len(net.W)
    if isinstance(layer, bool) or not isinstance(layer, (int, np.integer)) or not 0 <= layer < L:
        raise ConfigError(f"layer must be 0..{L - 1} (layers of weights), got {layer!r}")
    k, n = net.W[layer].shape
    if kind not in ("W", "b"):
        raise ConfigError(f"kind must be 'W' (a weight) or 'b' (a bias), got {kind!r}")
    if isinstance(row, bool) or not isinstance(row, (int, np.integer)) or not 0 <= row < k:
        raise ConfigError(f"neuron (row) must be 0..{k - 1} in layer {layer}, got {row!r}")
    if kind == "b":
        if col is not None:
            raise ConfigError(f"a bias b{layer}[{row}] has no column; leave col out")
        return Parameter(int(layer), "b", int(row))
    if isinstance(col, bool) or not isinstance(col, (int, np.integer)) or not 0 <= col < n:
        raise ConfigError(f"input (col) of W{layer} must be 0..{n - 1}, got {col!r}")
    return Parameter(int(layer), "W", int(row), int(col))


def example_deltas(net: Network, X: np.ndarray, Y: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Backpropagation kept per example: delta[l] = dC_k/dz of layer l (m, k_l) and the activations.

    Network.backprop averages delta[l].T @ a[l] over the examples at once; here each row stays
    the wish of its own example, so dC_k/dW[l][i, j] = delta[l][k, i] a[l][k, j] and dC_k/db[l][i] = delta[l][k, i].
    """
    zs, activations = net.feedforward(X)
    return net.backward(zs, net.output_delta(zs, activations, Y)), activations


@dataclass
class Nudges:
    """One parameter's nudges over a mini-batch of m examples."""

    parameter: Parameter
    value: float  # the parameter's current value
    nudge: np.ndarray  # (m,): -dC_k/dw, what example k wishes
    average: float  # the mean of ``nudge``: -dC/dw, the step's direction for this parameter
    cost: np.ndarray  # (m,): each example's cost C_k
    guess: np.ndarray  # (m,): each example's guess (brightest output)
    label: np.ndarray  # (m,): each example's label


def nudges(net: Network, X: np.ndarray, y: np.ndarray, param: Parameter) -> Nudges:
    """Each example's wished-for nudge -dC_k/dw to ``param`` and their average over the batch X (m, 784).

    The average is -1 times the entry of ``net.gradients(X, y)`` for ``param``.
    """
    X, Y, _ = checks.examples(net, X, y)
    deltas, activations = example_deltas(net, X, Y)
    d = deltas[param.layer][:, param.row]  # (m,): dC_k/dz of the parameter's neuron
    grad = d * activations[param.layer][:, param.col] if param.kind == "W" else d  # (m,): dC_k/dw
    a_L = activations[-1]
    return Nudges(param, param.value(net), -grad, float(-grad.mean()),
                  net.cost_function.fn(a_L, Y), np.argmax(a_L, axis=1), np.argmax(Y, axis=1))


@dataclass
class RankedGradient:
    """The batch gradient dC/dw over all the network's parameters, ranked by size."""

    top: list[tuple[Parameter, float]]  # the largest entries |dC/dw| first: (parameter, dC/dw)
    norm: float  # |grad C|, the length of the whole gradient
    share: dict[int, float]  # n -> share of |grad C|^2 carried by the n largest entries
    n_parameters: int
    first_layer: np.ndarray  # (k, 28, 28): dC/dW[0] for each first-layer neuron, over the input image


def ranked_gradient(net: Network, X: np.ndarray, y: np.ndarray, top: int = 20) -> RankedGradient:
    """The gradient of the batch's cost, its ``top`` largest entries and the share they carry.

    The share is of |grad C|^2 = sum_i (dC/dw_i)^2, the rate at which a step along -grad C lowers
    the cost: a step moving only the n largest entries keeps that share of the first-order decrease.
    """
    from .inspect import image_side

    if isinstance(top, bool) or not isinstance(top, (int, np.integer)) or top < 1:
        raise ConfigError(f"top must be a whole number >= 1, got {top!r}")
    dW, db = net.gradients(X, y)
    params: list[tuple[int, str, np.ndarray]] = []
    for l in range(len(dW)):
        params += [(l, "W", dW[l]), (l, "b", db[l])]
    flat = np.concatenate([g.ravel() for _, _, g in params]).astype(np.float64)  # (13002,)
    order = np.argsort(-np.abs(flat), kind="stable")
    squares = np.cumsum(flat[order] ** 2)
    total = squares[-1] if len(squares) else 0.0
    share = {n: float(squares[n - 1] / total) if total > 0 else 0.0
             for n in (1, 10, 100, 1000, top) if n <= len(flat)}
    starts = np.cumsum([0] + [g.size for _, _, g in params])
    entries = []
    for i in order[:top]:
        p = int(np.searchsorted(starts, i, side="right") - 1)
        l, kind, g = params[p]
        index = np.unravel_index(int(i - starts[p]), g.shape)
        param = Parameter(l, kind, int(index[0]), int(index[1]) if kind == "W" else None)
        entries.append((param, float(flat[i])))
    side = image_side(net)
    return RankedGradient(entries, float(np.sqrt(total)), share, len(flat), dW[0].reshape(-1, side, side))

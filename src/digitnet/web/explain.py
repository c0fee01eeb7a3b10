"""What the web page shows, computed: the network thinking (lesson 1) and learning (lesson 3).

- ``forward``: every layer's weighted sums z and activations a for one image.
- ``strongest_connections``: the weights with the largest |w| into each layer, the lines drawn.
- ``neuron``: one neuron's incoming weights, its bias, and z = w . a + b, a = sigma(z).
- ``backprop``: lesson 3's picture of one training example. The cost C_0 wants each output
  activation to move by -dC_0/da (for the lesson's quadratic cost, 2 (y - a): up for the right
  digit, down for the others). Each hidden neuron receives the sum of those wishes, weighted by
  the weights between them: -dC_0/da_prev = -delta W, delta = dC_0/dz. The weights one gradient
  step changes most are those with the largest |eta dC_0/dw| = |eta delta a_prev|.
- ``weight_images``: first-layer weights as 28x28 pictures, compressed for streaming.

All functions take one image x (784,) already checked by the request schemas, and return plain
Python lists (rounded to 6 decimals: JSON for the page, not numerics to compute with).
"""

from __future__ import annotations

import base64
from typing import Any

import numpy as np

from ..costs import EPS
from ..network import Network

DIGITS = 6


def floats(a: np.ndarray, digits: int = DIGITS) -> list[float]:
    """A float array as a list of Python floats rounded to ``digits`` decimals (compact JSON)."""
    return np.round(np.asarray(a, dtype=np.float64), digits).ravel().tolist()


def _row(net: Network, x: np.ndarray) -> np.ndarray:
    return np.asarray(x, dtype=net.dtype).reshape(1, -1)  # (1, 784)


def forward(net: Network, x: np.ndarray) -> dict[str, Any]:
    """z and a of every layer for the image x (784,), the guess, and whether x is blank."""
    X = _row(net, x)
    zs, activations = net.feedforward(X)
    output = activations[-1][0]
    return {
        "input": floats(X[0]),
        "layers": [{"z": floats(z[0]), "a": floats(a[0])} for z, a in zip(zs, activations[1:])],
        "output": floats(output),
        "guess": int(np.argmax(output)),
        "blank": not bool(np.any(X > 0)),
    }


def strongest_connections(net: Network, top: int) -> list[dict[str, Any]]:
    """For each layer l = 1..L, the ``top`` weights into it with the largest |w|, strongest first."""
    layers = []
    for l, W in enumerate(net.W):  # W (k, n)
        flat = np.abs(W).ravel()
        n_top = min(top, flat.size)
        idx = np.argpartition(flat, flat.size - n_top)[flat.size - n_top:]
        idx = idx[np.argsort(flat[idx])[::-1]]
        to, frm = np.unravel_index(idx, W.shape)
        layers.append({"layer": l + 1, "to": to.tolist(), "from": frm.tolist(),
                       "weight": floats(W[to, frm]), "max_abs": float(flat.max(initial=0.0))})
    return layers


def neuron(net: Network, layer: int, index: int, x: np.ndarray | None) -> dict[str, Any]:
    """Neuron ``index`` of layer ``layer`` (1..L): its weights w, bias b, and z = w . a + b, a = sigma(z)."""
    W, b = net.W[layer - 1], net.b[layer - 1]  # (k, n), (k,)
    out: dict[str, Any] = {
        "layer": layer, "index": index, "weights": floats(W[index]), "bias": float(b[index]),
        "image_side": 28 if W.shape[1] == 784 else None, "z": None, "a": None, "inputs": None,
    }
    if x is not None:
        zs, activations = net.feedforward(_row(net, x))
        out["z"] = float(zs[layer - 1][0, index])
        out["a"] = float(activations[layer][0, index])
        out["inputs"] = floats(activations[layer - 1][0])
    return out


def output_dC_da(cost: str, a: np.ndarray, y: np.ndarray) -> np.ndarray:
    """dC_0/da for the output activations a and one-hot targets y (m, 10).

    quadratic: C_0 = sum (a - y)^2, so 2 (a - y). cross-entropy: C_0 = -sum y ln a, so -y / a
    (a clipped away from 0 as in the cost itself).
    """
    if cost == "quadratic":
        return 2.0 * (a - y)
    if cost == "cross-entropy":
        return -y / np.clip(a, EPS, 1.0)
    raise ValueError(f"unknown cost {cost!r}")


def backprop(net: Network, x: np.ndarray, label: int, learning_rate: float, top: int) -> dict[str, Any]:
    """Lesson 3 for one example: the cost, each neuron's wanted change -dC_0/da, the biggest weight changes."""
    X = _row(net, x)  # (1, 784)
    Y = net.one_hot(np.array([label]), 1)  # (1, 10)
    zs, activations = net.feedforward(X)
    cost = net.cost_function
    L = len(net.W)
    dC_da: list[np.ndarray] = [np.empty(0)] * L
    dC_dW: list[np.ndarray] = [np.empty(0)] * L
    dC_da[L - 1] = output_dC_da(net.cost_name, activations[-1], Y)  # (1, 10)
    delta = cost.delta(zs[-1], activations[-1], Y)  # (1, 10): dC_0/dz_L
    for l in range(L - 1, -1, -1):
        dC_dW[l] = delta.T @ activations[l]  # (k, n): dC_0/dW = delta a_prev^T
        if l > 0:
            dC_da[l - 1] = delta @ net.W[l]  # (1, n): each neuron before collects the wishes, weighted
            delta = dC_da[l - 1] * net.sigma_prime(zs[l - 1])  # (1, n): dC_0/dz of that layer
    return {
        "label": int(label),
        "cost": float(cost.fn(activations[-1], Y)[0]),
        "output": floats(activations[-1][0]),
        "target": floats(Y[0]),
        "wants": [floats(-g[0]) for g in dC_da],
        "weight_changes": biggest_changes(net, [-learning_rate * g for g in dC_dW], top),
    }


def biggest_changes(net: Network, changes: list[np.ndarray], top: int) -> list[dict[str, Any]]:
    """The ``top`` weights with the largest |change| over all layers, largest first."""
    sizes = [c.size for c in changes]
    flat = np.concatenate([np.abs(c).ravel() for c in changes])
    n_top = min(top, flat.size)
    idx = np.argpartition(flat, flat.size - n_top)[flat.size - n_top:]
    idx = idx[np.argsort(flat[idx], kind="stable")[::-1]]
    offsets = np.cumsum([0] + sizes)
    result = []
    for i in idx:
        l = int(np.searchsorted(offsets, i, side="right") - 1)
        to, frm = np.unravel_index(i - offsets[l], changes[l].shape)
        result.append({"layer": l + 1, "to": int(to), "from": int(frm),
                       "weight": float(net.W[l][to, frm]), "change": float(changes[l][to, frm])})
    return result


def step(net: Network, x: np.ndarray, label: int, learning_rate: float) -> dict[str, Any]:
    """One gradient step on this one example, in place on ``net``: the outputs and cost before and after."""
    X = _row(net, x)
    Y = net.one_hot(np.array([label]), 1)
    before = net.feedforward(X)[1][-1][0]
    cost_before = net.step(X, Y, learning_rate)
    after = net.feedforward(X)[1][-1][0]
    cost_after = float(net.cost_function.fn(after[None, :], Y)[0])
    return {"before": floats(before), "after": floats(after), "cost_before": float(cost_before),
            "cost_after": cost_after, "guess_before": int(np.argmax(before)), "guess_after": int(np.argmax(after))}


def weight_images(net: Network, count: int = 32) -> dict[str, Any]:
    """The first layer's weights of up to ``count`` neurons, each scaled to int8 by its largest |w|."""
    W = np.asarray(net.W[0][:count], dtype=np.float64)  # (count, 784)
    scale = np.abs(W).max(axis=1)
    scale[scale == 0] = 1.0
    q = np.round(W / scale[:, None] * 127).astype(np.int8)
    return {"neurons": int(net.W[0].shape[0]), "scale": floats(scale),
            "data": [base64.b64encode(row.tobytes()).decode("ascii") for row in q]}

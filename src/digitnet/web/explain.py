"""What the web page shows, computed: the network thinking (lesson 1) and learning (lesson 3).

- ``forward``: every layer's weighted sums z and activations a for one image.
- ``strongest_connections``: the weights with the largest |w| into each layer, the lines drawn.
- ``neuron``: one neuron's incoming weights, its bias, and z = w . a + b, a = sigma(z).
- ``backprop``: lesson 3's picture of one training example (``inspect.wished_changes``): each
  neuron's wanted change -dC_0/da and the weights one gradient step changes most; ``scales``
  the fixed scales they are drawn on (``inspect.wish_scales``).
- ``weight_images``: first-layer weights as 28x28 pictures, compressed for streaming.
- The lessons' pictures, as ``digitnet show`` draws them: ``templates`` (layer 2 seen through layer
  1), ``confusion`` and ``misread`` (the confusion matrix and the images of one cell), ``dreams``
  (the image each output likes most) and ``noise`` (random noise answered with confidence).

The maths is in ``digitnet.inspect`` and the network; this module only turns it into JSON. All
functions take one image x (784,) already checked by the request schemas, and return plain
Python lists (rounded to 6 decimals: JSON for the page, not numerics to compute with).
"""

from __future__ import annotations

import base64
from typing import Any

import numpy as np

from .. import inspect
from ..checks import brightness
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
        "layers": _layers(zs, activations),
        "output": floats(output),
        "guess": int(np.argmax(output)),
        "blank": not bool(np.any(X > 0)),
    }


def strongest_connections(net: Network, top: int) -> list[dict[str, Any]]:
    """For each layer l = 1..L, the ``top`` weights into it with the largest |w|, strongest first."""
    return [{"layer": l + 1, "to": to.tolist(), "from": frm.tolist(), "weight": floats(w),
             "max_abs": float(np.abs(W).max(initial=0.0))}
            for l, ((to, frm, w), W) in enumerate(zip(inspect.strongest_weights(net, top), net.W))]


def neuron(net: Network, layer: int, index: int, x: np.ndarray | None) -> dict[str, Any]:
    """Neuron ``index`` of layer ``layer`` (1..L): its weights w, bias b, and z = w . a + b, a = sigma(z)."""
    W, b = net.W[layer - 1], net.b[layer - 1]  # (k, n), (k,)
    out: dict[str, Any] = {
        "layer": layer, "index": index, "weights": floats(W[index]), "bias": float(b[index]),
        "image_side": 28 if W.shape[1] == 784 else None, "z": None, "a": None, "inputs": None,
        "curve": None, "slope": None, "saturated": None,
    }
    if x is not None:
        zs, activations = net.feedforward(_row(net, x))
        out["z"] = float(zs[layer - 1][0, index])
        out["a"] = float(activations[layer][0, index])
        out["inputs"] = floats(activations[layer - 1][0])
        c = inspect.activation_curve(net, _row(net, x), layer, index)
        out.update(curve={"z": floats(c.zs), "a": floats(c.curve)}, slope=c.slope, saturated=c.saturated)
    return out


def backprop(net: Network, x: np.ndarray, label: int, learning_rate: float, top: int) -> dict[str, Any]:
    """Lesson 3 for one example: the cost, each neuron's wanted change -dC_0/da, the biggest weight changes."""
    w = inspect.wished_changes(net, _row(net, x), label, learning_rate)
    return {
        "label": int(label),
        "cost": w.cost,
        "output": floats(w.output),
        "target": floats(w.target),
        "wants": [floats(g) for g in w.wants],
        "layers": layers(net, x),
        "output_z": floats(w.z_output),
        "output_delta": floats(w.delta_output, 9),
        "weight_changes": [{"layer": l + 1, "to": to, "from": frm, "weight": float(net.W[l][to, frm]),
                            "change": float(w.changes[l][to, frm])}
                           for l, to, frm in inspect.biggest_changes(w.changes, top)],
    }


def scales(net: Network, X: np.ndarray, labels: np.ndarray) -> dict[str, Any]:
    """The fixed scales of the backprop picture for ``net``, from the test images X with ``labels``:
    -dC/da of each layer, and dC/dw (times eta, the page's weight changes)."""
    wants, dw = inspect.wish_scales(net, X, labels)
    return {"wants_scale": wants, "gradient_scale": dw}


def layers(net: Network, x: np.ndarray) -> list[dict[str, list[float]]]:
    """z and a of every layer 1..L for the image x (784,)."""
    return _layers(*net.feedforward(_row(net, x)))


def _layers(zs: list[np.ndarray], activations: list[np.ndarray]) -> list[dict[str, list[float]]]:
    return [{"z": floats(z[0]), "a": floats(a[0])} for z, a in zip(zs, activations[1:])]


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
    q, scale = inspect.int8_images(net.W[0][:count])
    return {"neurons": int(net.W[0].shape[0]), "scale": floats(scale),
            "data": [base64.b64encode(row.tobytes()).decode("ascii") for row in q]}


def images_int8(A: np.ndarray) -> dict[str, Any]:
    """Rows of A (k, 784) as int8 pictures, each scaled by its largest |value| (``inspect.int8_images``)."""
    q, scale = inspect.int8_images(np.asarray(A).reshape(len(A), -1))
    return {"scale": floats(scale, 12), "images": [base64.b64encode(row.tobytes()).decode("ascii") for row in q]}


def images_uint8(X: np.ndarray) -> list[str]:
    """Images (m, 784) of brightnesses in [0, 1] as bytes 0-255, base64, one string per image."""
    X = np.asarray(X, dtype=np.float64)
    q = np.round(np.clip(X, 0, 1) * 255).astype(np.uint8).reshape(len(X), X[0].size if len(X) else 0)
    return [base64.b64encode(row.tobytes()).decode("ascii") for row in q]


def templates(net: Network, count: int = 32) -> dict[str, Any]:
    """Up to ``count`` second-layer neurons seen through the first layer (``inspect.templates``)."""
    T = inspect.templates(net)
    return {"neurons": len(T), **images_int8(T[:count])}


def confusion(net: Network, X: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """The confusion matrix on (X, y): counts[label][guess], and the accuracy it implies."""
    counts = inspect.confusion_matrix(net, X, y)
    return {"counts": counts.tolist(), "total": int(counts.sum()),
            "accuracy": float(np.trace(counts) / max(1, counts.sum()))}


def misread(net: Network, X: np.ndarray, y: np.ndarray, label: int, guess: int, n: int) -> dict[str, Any]:
    """The images labelled ``label`` read as ``guess`` (``inspect.misread``), the most confident first."""
    cell = inspect.misread(net, X, y, label, guess, len(X))  # the whole cell, to count it
    index, confidence = cell.index[:n], cell.confidence[:n]
    return {"label": label, "guess": guess, "count": len(cell.index), "index": index.tolist(),
            "confidence": floats(confidence), "images": images_uint8(brightness(X[index], np.float64))}


def dreams(net: Network, digits: list[int], steps: int, start: str, seed: int) -> dict[str, Any]:
    """For each digit, gradient ascent on the input (``inspect.dream``): the image and a_D along the way."""
    out = []
    for d in digits:
        dream = inspect.dream(net, d, start, steps=steps, seed=seed)
        out.append({"digit": d, "image": images_uint8(dream.image[None, :])[0],
                    "start": floats(dream.activation[:1])[0], "activation": floats(dream.activation[-1:])[0],
                    "steps": len(dream.activation) - 1, "guess": int(np.argmax(net.predict_proba(dream.image)))})
    return {"dreams": out}


def noise(net: Network, X_test: np.ndarray, n: int, seed: int, shown: int = 8) -> dict[str, Any]:
    """n images of random noise (``inspect.noise_images``) against the test digits: how confident the
    network is on each (``inspect.confidence``), as histograms over [0, 1], and the guesses for noise."""
    side = inspect.image_side(net)
    X = inspect.noise_images(n, side, seed)
    conf_noise, guess_noise = inspect.confidence(net, X)
    conf_digits, _ = inspect.confidence(net, X_test)
    bins = np.linspace(0, 1, 11)
    return {
        "n": n, "digits": len(X_test), "bins": floats(bins),
        "noise_histogram": np.histogram(conf_noise, bins)[0].tolist(),
        "digit_histogram": np.histogram(conf_digits, bins)[0].tolist(),
        "noise_median": float(np.median(conf_noise)), "digit_median": float(np.median(conf_digits)),
        "noise_guesses": np.bincount(guess_noise, minlength=net.sizes[-1]).tolist(),
        "images": images_uint8(X[:shown]), "guesses": guess_noise[:shown].tolist(),
        "confidences": floats(conf_noise[:shown]),
    }

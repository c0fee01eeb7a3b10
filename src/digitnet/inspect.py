"""Looking inside a trained network: the numbers behind the lessons' pictures.

Lesson 1 hopes the hidden neurons pick up edges and loops, and then shows that they don't: their
weights look like noise. Lesson 2 asks why the network answers random noise with confidence, and
what it "thinks" a digit looks like. This module computes the answers for any trained Network;
``digitnet.plots`` draws them. Only NumPy here, so the web page can use it without matplotlib.

- ``weight_images``: each first-layer neuron's 784 weights as a 28x28 image.
- ``templates``: second-layer neurons seen through the first layer, ``W[1] @ W[0]``: a linear
  approximation that ignores the first layer's sigma and biases.
- ``confusion_matrix`` and ``confident_mistakes``: which digits get confused, and the worst errors;
  ``misread``: the images of one cell of the matrix (one label read as one guess).
- ``confidence``, ``noise_images``: the largest output activation, for digits and for noise.
- ``output_gradient``: d a_j / dX, backpropagation carried down to the input, from output j.
- ``dream``: gradient ascent on the input, the image that makes one output most active
  (climbing ``score``, which rises with a_j, along ``score_gradient``).
- ``activation_curve``: one neuron's a = sigma(z) as its z varies, its slope sigma'(z) here, and
  whether it is saturated (so backpropagation passes almost nothing through it).
- ``network_state``: the activations and strongest connections of the lesson's network picture.
- ``strongest_weights``: the weights with the largest |w| into each layer.
- ``wished_changes``: lesson 3 for one example: the change -dC_0/da each neuron's activation
  wants, and the weight changes -eta dC_0/dW of one gradient step; ``biggest_changes`` ranks them.
  ``wish_scales``: fixed scales to draw them on, from many examples, so that one example's
  wishes look as large or as small as they are.
- ``int8_images``: weights as 8-bit pictures, each scaled by its largest |w|.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import checks
from .activations import Activation, get_activation
from .errors import ConfigError, ShapeError
from .network import Network


def image_side(net: Network) -> int:
    """The side of the square input image (28 for MNIST's 784 inputs), or a ShapeError."""
    n = net.sizes[0]
    side = int(round(np.sqrt(n)))
    if side * side != n:
        raise ShapeError(f"the network's {n} inputs are not a square image, so they cannot be drawn as one")
    return side


def weight_images(net: Network) -> np.ndarray:
    """The first layer's weights W[0] (k, 784) as k images (k, 28, 28): what each neuron looks for."""
    side = image_side(net)
    return net.W[0].reshape(-1, side, side)


def templates(net: Network) -> np.ndarray:
    """Second-layer neurons seen through the first layer: (W[1] @ W[0]) as images (k2, 28, 28).

    A linear approximation: neuron i of layer 2 gets z = sum_j W1[i, j] sigma(W0[j] . x + b0[j]) + b1[i];
    dropping sigma and the biases leaves z ~ (W1 @ W0)[i] . x, one 784-pixel template per neuron.
    """
    if len(net.W) < 2:
        raise ConfigError(f"{net!r} has a single layer of weights, so it has no second layer to draw")
    side = image_side(net)
    return (net.W[1] @ net.W[0]).reshape(-1, side, side)  # (k2, k1) @ (k1, 784)


def confidence(net: Network, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each image in X (m, 784): the largest output activation (m,) and the guess (m,).

    For the quadratic cost the outputs are sigmoids, each in (0, 1) on its own; for cross-entropy
    they are a softmax, summing to 1. Either way the largest is how sure the network looks.
    """
    a = np.atleast_2d(net.predict_proba(X))  # (m, 10)
    return a.max(axis=1), a.argmax(axis=1)


def confusion_matrix(net: Network, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Counts (k, k) of the network's guesses: row = true label, column = guess.

    The diagonal holds the correct answers, so its sum over the total is the accuracy.
    """
    k = net.sizes[-1]
    y = checks.labels(net, y, len(np.atleast_2d(X)))
    guess = np.atleast_1d(net.predict(X))
    return np.bincount(y * k + guess, minlength=k * k).reshape(k, k)


@dataclass
class Mistakes:
    """The most confidently wrong images: their indices in X, labels, guesses and confidences (n,)."""

    index: np.ndarray
    label: np.ndarray
    guess: np.ndarray
    confidence: np.ndarray


def confident_mistakes(net: Network, X: np.ndarray, y: np.ndarray, n: int = 16) -> Mistakes:
    """The n wrong guesses with the largest output activation, the most confident first."""
    y = checks.labels(net, y, len(np.atleast_2d(X)))
    conf, guess = confidence(net, X)
    wrong = np.flatnonzero(guess != y)
    worst = wrong[np.argsort(-conf[wrong], kind="stable")][:n]
    return Mistakes(worst, y[worst], guess[worst], conf[worst])


def misread(net: Network, X: np.ndarray, y: np.ndarray, label: int, guess: int, n: int = 24) -> Mistakes:
    """The images of X with this ``label`` that the network reads as ``guess`` (one cell of the
    confusion matrix), the most confident first, at most n: their indices, labels, guesses, confidences."""
    y = checks.labels(net, y, len(np.atleast_2d(X)))
    label, guess = checks.output_neuron(net, label), checks.output_neuron(net, guess)
    conf, guesses = confidence(net, X)
    cell = np.flatnonzero((y == label) & (guesses == guess))
    first = cell[np.argsort(-conf[cell], kind="stable")][:n]
    return Mistakes(first, y[first], guesses[first], conf[first])


def noise_images(n: int, side: int = 28, seed: int = 0) -> np.ndarray:
    """n images (n, side*side) of random noise: every pixel uniform in [0, 1], independently."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ConfigError(f"the number of noise images must be a whole number >= 1, got {n!r}")
    return np.random.default_rng(seed).random((n, side * side), dtype=np.float32)


def output_gradient(net: Network, X: np.ndarray, j: int) -> np.ndarray:
    """d a_j / dX: how much each pixel raises output neuron j, shaped like X (784,) or (m, 784).

    Backpropagation as in Network.input_gradient, started from a_j instead of the cost:
    delta_L = d a_j / dz_L, the output activation's chain rule applied to e_j (sigma'(z_j) e_j for
    a sigmoid output, a_j (e_j - a) for a softmax). One gradient per image, not averaged.
    """
    j = checks.output_neuron(net, j)
    X, single = checks.images(net, X)
    zs, activations = net.feedforward(X)
    a = activations[-1]  # (m, 10)
    delta = net.cost_function.output_activation.backward(zs[-1], a, _unit(a, j))  # (m, 10)
    dX = net.backward(zs, delta)[0] @ net.W[0]  # (m, 784)
    return dX[0] if single else dX


def score(net: Network, X: np.ndarray, j: int) -> np.ndarray:
    """The score of output j that ``dream`` climbs: z_j for a sigmoid output, ln a_j for a softmax.

    Each rises exactly when a_j does (a_j = sigma(z_j); a_j = e^z_j / sum_k e^z_k), but unlike a_j
    it does not flatten out as a_j nears 1, so the climb keeps its direction. (m,) or a scalar.
    """
    j = checks.output_neuron(net, j)
    X, single = checks.images(net, X)
    zs, _ = net.feedforward(X)
    s = net.cost_function.output_activation.score(zs[-1])[:, j]
    return s[0] if single else s


def score_gradient(net: Network, X: np.ndarray, j: int) -> np.ndarray:
    """d score_j / dX, shaped like X: the uphill direction for ``dream``.

    delta_L = d score_j / dz_L is e_j for a sigmoid output (score z_j) and e_j - a for a softmax
    (score ln a_j), then backpropagation down to the input as for the cost.
    """
    j = checks.output_neuron(net, j)
    X, single = checks.images(net, X)
    zs, activations = net.feedforward(X)
    a = activations[-1]  # (m, 10)
    delta = net.cost_function.output_activation.score_backward(a, _unit(a, j))  # (m, 10)
    dX = net.backward(zs, delta)[0] @ net.W[0]  # (m, 784)
    return dX[0] if single else dX


def _unit(a: np.ndarray, j: int) -> np.ndarray:
    """e_j for every row of a (m, k): 1 at output j, 0 elsewhere."""
    e_j = np.zeros_like(a)
    e_j[:, j] = 1
    return e_j


@dataclass
class Dream:
    """The result of gradient ascent on the input: where it started, where it ended, and a_D on the way."""

    digit: int
    start: np.ndarray  # (784,) the starting image
    image: np.ndarray  # (784,) the image after the ascent, pixels in [0, 1]
    activation: np.ndarray  # a_D of the start and after each step taken, rising


def dream(net: Network, digit: int, start: str | np.ndarray = "noise", steps: int = 200,
          noise_level: float = 0.25, seed: int = 0) -> Dream:
    """The image that makes output ``digit`` most active: gradient ascent on the input pixels.

    Each step moves the pixels uphill on ``score`` (which rises with a_D), x <- clip(x + t g / max|g|,
    0, 1), so the pixel that matters most moves by t. The step t is found by backtracking: halved
    until the score rises, then lengthened for the next step. The gradient's size varies a
    thousandfold between images (saturated sigmoids pass almost nothing), so a fixed learning
    rate would crawl in one place and overshoot in another. Pixels pinned at 0 or 1 and pushed
    further out are left alone. The ascent stops after ``steps`` steps or at a local maximum.

    start: "noise", pixels uniform in [0, noise_level] from ``seed``; "blank", all 0 (the sigmoids'
    gradient is not 0 there, so it moves); or an image (784,). The default noise is faint, about
    as much ink as a digit: bright noise drives the lesson's first-layer sigmoids so far into
    saturation (|z| ~ 35, sigma' ~ 1e-15) that the ascent can barely move from it.
    """
    digit = checks.output_neuron(net, digit)
    side = image_side(net)
    if isinstance(start, str):
        if start == "noise":
            if not 0 < noise_level <= 1:
                raise ConfigError(f"noise level must be in (0, 1], got {noise_level!r}")
            x = noise_images(1, side, seed)[0] * noise_level
        elif start == "blank":
            x = np.zeros(side * side)
        else:
            raise ConfigError(f"unknown start {start!r} for a dream: use 'noise', 'blank' or an image")
    else:
        x, _ = checks.images(net, start)
        if len(x) != 1:
            raise ShapeError(f"a dream starts from one image ({side * side},), got shape {np.shape(start)}")
        x = np.clip(x[0], 0, 1)
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ConfigError(f"steps must be a whole number >= 0, got {steps!r}")
    # In float64: the trained sigmoids are often saturated, and float32 rounds sigma' to 0 from
    # |z| > 17 where float64 keeps it until |z| > 37; a zero gradient would end the climb.
    net = _float64(net)
    x = np.asarray(x, dtype=np.float64)
    first = x.copy()
    s = score(net, x, digit)
    trace = [float(net.predict_proba(x)[digit])]
    t = 0.05
    for _ in range(steps):
        g = score_gradient(net, x, digit)  # (784,)
        g[((x >= 1) & (g > 0)) | ((x <= 0) & (g < 0))] = 0
        largest = np.abs(g).max()
        if largest == 0:
            break
        while t >= 1e-4:
            x_new = np.clip(x + t * g / largest, 0, 1)
            s_new = score(net, x_new, digit)
            if s_new > s:
                break
            t /= 2
        else:
            break  # no step raises the score: a local maximum
        x, s = x_new, s_new
        t = min(1.5 * t, 1.0)
        trace.append(float(net.predict_proba(x)[digit]))
    return Dream(digit, first, x, np.array(trace))


# A neuron is saturated when its slope sigma'(z) is under this share of its curve's steepest: a change
# of z then barely moves a, so backpropagation passes (almost) nothing back through it.
SATURATED = 0.01


@dataclass
class Curve:
    """Neuron ``index`` of layer ``layer`` for one image: its z and a, the slope da/dz = sigma'(z) there,
    and its activation as its own z alone varies (``zs``, ``curve``), which covers this z."""

    z: float
    a: float
    slope: float
    zs: np.ndarray
    curve: np.ndarray
    saturated: bool


def layer_activation(net: Network, layer: int) -> Activation:
    """The activation of layer ``layer`` (1 = first hidden, L = output): sigma, or the cost's output one."""
    return net.cost_function.output_activation if layer == len(net.W) else get_activation(net.activation)


def activation_curve(net: Network, x: np.ndarray, layer: int, index: int, points: int = 121) -> Curve:
    """What sigma does to neuron ``index`` of layer ``layer`` (1..L) for the image x (784,).

    The curve samples a as this neuron's z alone runs over [-h, h], h covering every z of its layer,
    the others held (so a softmax output's curve is a_j as z_j varies). Its slope da/dz comes from the
    activation's chain rule, ``Activation.backward`` of e_j: sigma'(z_j), or a_j (1 - a_j) for a softmax.
    ``saturated``: the slope is under ``SATURATED`` times the steepest slope on the curve.
    """
    if not 1 <= layer <= len(net.W):
        raise ConfigError(f"the network has layers 1 to {len(net.W)}; no layer {layer!r}")
    if not 0 <= index < net.sizes[layer]:
        raise ConfigError(f"layer {layer} has {net.sizes[layer]} neurons; no neuron {index!r}")
    X, _ = checks.images(net, x)
    if len(X) != 1:
        raise ShapeError(f"a neuron's curve is for one image ({net.sizes[0]},), got shape {np.shape(x)}")
    net = _float64(net)
    z = net.feedforward(X)[0][layer - 1][0]  # (k,)
    act = layer_activation(net, layer)
    half = max(6.0, 1.25 * float(np.abs(z).max()))
    Z = np.repeat(z[None, :], points + 1, axis=0)  # row 0: this image; then the curve's samples
    Z[1:, index] = np.linspace(-half, half, points)
    A = act.fn(Z)
    e_j = np.zeros_like(Z)
    e_j[:, index] = 1
    slopes = act.backward(Z, A, e_j)[:, index]  # da_j/dz_j at each row
    slope = float(slopes[0])
    steepest = float(max(slopes.max(), slope))
    return Curve(float(z[index]), float(A[0, index]), slope, Z[1:, index], A[1:, index],
                 saturated=steepest > 0 and slope < SATURATED * steepest)


@dataclass
class NetworkState:
    """What the lesson's picture of the network shows for one input image.

    activations: every layer's activations, the input first: [x (784,), a_1, ..., a_L].
    shown: for each layer after the input, the indices of the neurons drawn (all of them, or the
        most active ones of a wide layer).
    edges: for each layer of weights l, arrays (source, target, weight) of the connections drawn:
        source indexes layer l's neurons (pixels for l = 0), target indexes layer l + 1's.
    """

    activations: list[np.ndarray]
    shown: list[np.ndarray]
    edges: list[tuple[np.ndarray, np.ndarray, np.ndarray]]


def network_state(net: Network, x: np.ndarray, max_neurons: int = 40, per_neuron: int = 4) -> NetworkState:
    """The activations of image x (784,) and, for each drawn neuron, its ``per_neuron`` strongest inputs.

    A connection's strength is how much it adds to the neuron's weighted sum for this image,
    |w a| (w its weight, a the activation feeding it), so unlit pixels draw no lines. Layers wider
    than ``max_neurons`` show only their ``max_neurons`` most active neurons.
    """
    x = np.asarray(x)
    if x.ndim != 1:
        raise ShapeError(f"the network picture is drawn for one image ({net.sizes[0]},), got shape {x.shape}")
    activations = net.forward(x)
    shown = []
    for a in activations[1:]:
        if len(a) <= max_neurons:
            shown.append(np.arange(len(a)))
        else:
            shown.append(np.sort(np.argsort(-a, kind="stable")[:max_neurons]))
    edges = []
    for l, W in enumerate(net.W):
        sources = np.arange(len(activations[l])) if l == 0 else shown[l - 1]
        targets = shown[l]
        contribution = np.abs(W[np.ix_(targets, sources)] * activations[l][sources])  # (targets, sources)
        k = min(per_neuron, len(sources))
        best = np.argsort(-contribution, axis=1, kind="stable")[:, :k]  # (targets, k)
        src, tgt = sources[best].ravel(), np.repeat(targets, k)
        keep = contribution[np.repeat(np.arange(len(targets)), k), best.ravel()] > 0
        edges.append((src[keep], tgt[keep], W[tgt[keep], src[keep]]))
    return NetworkState(activations, shown, edges)


def _float64(net: Network) -> Network:
    """``net`` itself if it computes in float64, else a float64 copy of it."""
    if net.dtype == np.float64:
        return net
    copy = net.copy()
    copy.W = [W.astype(np.float64) for W in net.W]
    copy.b = [b.astype(np.float64) for b in net.b]
    copy.dtype = np.float64
    return copy


def strongest_weights(net: Network, top: int) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """For each layer of weights W (k, n): the ``top`` entries with the largest |w|, strongest first,
    as (to, from, w): neuron ``to`` of the layer fed by neuron ``from`` of the layer before."""
    layers = []
    for W in net.W:
        flat = np.abs(W).ravel()
        to, frm = np.unravel_index(_largest(flat, top), W.shape)
        layers.append((to, frm, W[to, frm]))
    return layers


@dataclass
class Wishes:
    """Lesson 3 for one training example (x, y).

    cost: C_0. output, target: a_L and y. wants[l]: -dC_0/da of layer l + 1's neurons (l = 0 the
    first hidden layer, the last the output): how each activation would have to move to lower the
    cost. changes[l]: -eta dC_0/dW[l], the weight changes of one gradient step on this example.
    z_output, delta_output: the output layer's z_L and delta_L = dC_0/dz_L, which is small when
    the output's sigma is flat there (saturated), however wrong a_L is.
    """

    cost: float
    output: np.ndarray
    target: np.ndarray
    wants: list[np.ndarray]
    changes: list[np.ndarray]
    z_output: np.ndarray
    delta_output: np.ndarray


def _wishes(net: Network, X: np.ndarray, Y: np.ndarray) -> tuple[list, list, list, list]:
    """Backpropagation for the examples X (m, n), Y (m, k): zs, activations, deltas and dC_0/da of layers 1..L."""
    zs, activations = net.feedforward(X)
    deltas = net.backward(zs, net.output_delta(zs, activations, Y))
    dC_da = [delta @ W for delta, W in zip(deltas[1:], net.W[1:])] + [net.cost_function.dC_da(activations[-1], Y)]
    return zs, activations, deltas, dC_da


def wished_changes(net: Network, x: np.ndarray, label: int, learning_rate: float) -> Wishes:
    """What the example (x (784,), label) asks of every neuron and weight: backpropagation for one example.

    The output layer wants dC_0/da from the cost; each layer before collects the wishes of the next,
    weighted by the weights between them: dC_0/da_prev = delta W, delta = dC_0/dz.
    """
    X, _ = checks.images(net, x)
    if len(X) != 1:
        raise ShapeError(f"the wished-for changes are for one image ({net.sizes[0]},), got shape {np.shape(x)}")
    Y = net.one_hot(np.array([label]), 1)  # (1, 10)
    zs, activations, deltas, dC_da = _wishes(net, X, Y)
    return Wishes(
        cost=float(net.cost_function.fn(activations[-1], Y)[0]),
        output=activations[-1][0],
        target=Y[0],
        wants=[-g[0] for g in dC_da],
        changes=[-learning_rate * (delta.T @ a) for delta, a in zip(deltas, activations)],  # (k, n) each
        z_output=zs[-1][0],
        delta_output=deltas[-1][0],
    )


SCALE_QUANTILE = 0.9


def wish_scales(net: Network, X: np.ndarray, labels: np.ndarray) -> tuple[list[float], float]:
    """Fixed scales for the wishes of single examples, from the examples X (m, n) with ``labels`` (m,):
    for each layer 1..L the largest |dC_0/da| of an example, and the largest |dC_0/dw| of an example
    (|dC_0/dw_jk| = |delta_j| |a_k|: at most max |delta| max |a|), each as the value that only one
    example in ten exceeds (SCALE_QUANTILE), so a few extreme examples do not flatten the rest.
    """
    X, _ = checks.images(net, X)
    Y = net.one_hot(np.asarray(labels), len(X))
    _, activations, deltas, dC_da = _wishes(net, X, Y)
    wants = [float(np.quantile(np.abs(g).max(axis=1), SCALE_QUANTILE)) for g in dC_da]
    per_example = np.max([np.abs(d).max(axis=1) * np.abs(a).max(axis=1) for d, a in zip(deltas, activations)],
                         axis=0)
    return wants, float(np.quantile(per_example, SCALE_QUANTILE))


def biggest_changes(changes: list[np.ndarray], top: int) -> list[tuple[int, int, int]]:
    """The ``top`` entries with the largest |change| over all layers, largest first: (layer, to, from)."""
    flat = np.concatenate([np.abs(c).ravel() for c in changes])
    offsets = np.cumsum([0] + [c.size for c in changes])
    result = []
    for i in _largest(flat, top, stable=True):
        l = int(np.searchsorted(offsets, i, side="right") - 1)
        to, frm = np.unravel_index(i - offsets[l], changes[l].shape)
        result.append((l, int(to), int(frm)))
    return result


def int8_images(W: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows of W (k, n) as int8 (k, n), each scaled by its largest |w| to -127..127, and the scales (k,)."""
    W = np.asarray(W, dtype=np.float64)
    scale = np.abs(W).max(axis=1)
    scale[scale == 0] = 1.0
    return np.round(W / scale[:, None] * 127).astype(np.int8), scale


def _largest(flat: np.ndarray, top: int, stable: bool = False) -> np.ndarray:
    """Indices of the ``top`` largest values of ``flat``, largest first."""
    n_top = min(top, flat.size)
    idx = np.argpartition(flat, flat.size - n_top)[flat.size - n_top:]
    return idx[np.argsort(flat[idx], kind="stable" if stable else None)[::-1]]

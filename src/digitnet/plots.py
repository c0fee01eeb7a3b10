"""The lessons' pictures of a trained network, drawn with matplotlib (the one module that imports it).

Each function takes a Network (or a model file's path) and returns a matplotlib Figure: save it
with ``fig.savefig("weights.png")``, or leave it as the last line of a Jupyter cell to see it.
The numbers behind each picture come from ``digitnet.inspect``, which needs only NumPy.

- ``plot_weights``: every first-layer neuron's weights as a 28x28 image (blue positive, red
  negative, white 0), and the second layer seen through the first (a linear approximation).
- ``plot_history``: the cost and accuracy after each epoch of training.
- ``plot_confusion``: the confusion matrix on the test set and the most confident mistakes.
- ``plot_network``: the lesson's network picture for one image: neurons lit by their activation.
- ``plot_noise``: how confident the network is on random noise, next to real digits.
- ``plot_dream``: the input that makes one output most active, found by gradient ascent.

The figures are not registered with pyplot, so a notebook shows each one once (as the cell's
value) and nothing is kept alive after it is dropped.
"""

from __future__ import annotations

import io
import os
import textwrap
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib import colormaps
from matplotlib.cm import ScalarMappable
from matplotlib.collections import LineCollection
from matplotlib.colors import LogNorm, Normalize, to_rgb
from matplotlib.figure import Figure
from matplotlib.patches import Circle, Rectangle
from matplotlib.ticker import PercentFormatter

from . import inspect
from .activations import get_activation
from .checks import brightness
from .errors import ConfigError, ModelFileError
from .network import Network

# The lessons' colours for weights: red negative, white 0, blue positive ("bwr" reversed).
WEIGHT_CMAP = "bwr_r"
BLUE, RED = "#2f6fd6", "#d6402f"  # connections with positive and negative weights
DIGIT_CMAP = "gray"  # images as MNIST stores them: ink 1 is white on a black background
DARK = "#111418"  # the background of the network picture, as in the lessons' animations
HIGHLIGHT = "#ffcc33"


class LessonFigure(Figure):
    """A matplotlib Figure that a notebook shows as a PNG even when pyplot was never imported."""

    def _repr_png_(self) -> bytes:
        buf = io.BytesIO()
        self.savefig(buf, format="png", dpi=self.dpi)
        return buf.getvalue()


def load_network(net: Network | str | os.PathLike[str]) -> Network:
    """``net`` itself, or the Network saved in the model file at that path."""
    if isinstance(net, Network):
        return net
    if isinstance(net, (str, os.PathLike)):
        return Network.load(net)
    raise ModelFileError(f"expected a Network or the path of a model file, got {type(net).__name__}")


def describe(net: Network) -> str:
    """A one-line name for a network, e.g. '784-16-16-10 sigmoid, quadratic cost'."""
    return f"{'-'.join(map(str, net.sizes))} {net.activation}, {net.cost_name} cost"


# -- 1. weights -------------------------------------------------------------------------------------


def plot_weights(net: Network | str | os.PathLike[str], max_neurons: int = 64) -> Figure:
    """Each first-layer neuron's 784 weights as a 28x28 image, and layer 2 through layer 1.

    Each image has its own symmetric colour scale, -max|w| (red) to +max|w| (blue), so white is
    exactly 0. The images are AxesImages with gid "weights-<layer>-<neuron>" (layer 1 or 2).
    Layers wider than ``max_neurons`` show their first ``max_neurons`` neurons.
    """
    net = load_network(net)
    rows = [("weights-1", inspect.weight_images(net), net.b[0],
             f"Layer 1: each neuron's {net.sizes[0]} weights, one per pixel")]
    if len(net.W) >= 2:
        rows.append(("weights-2", inspect.templates(net), net.b[1],
                     f"Layer 2 seen through layer 1: W[1] @ W[0], a linear approximation "
                     f"(ignores layer 1's {net.activation} and biases)"))
    # Axes placed by hand, in inches: a layout engine takes seconds over a hundred small images.
    ncols, cell, row_h, header, top = 8, 1.06, 1.22, 0.45, 0.62
    width = 0.2 + ncols * cell + 1.7  # room for the colour bar and its two-line label
    nrows = [int(np.ceil(min(len(images), max_neurons) / ncols)) for _, images, _, _ in rows]
    height = top + sum(header + n * row_h for n in nrows) + 0.1
    fig = LessonFigure(figsize=(width, height))
    fig.suptitle(f"What each neuron looks for: {describe(net)}\n"
                 "blue: weight > 0 (ink there raises z), red: weight < 0, white: 0", fontsize=11, y=1 - 0.12 / height)
    y = top  # inches from the top
    for (gid, images, biases, title), n in zip(rows, nrows):
        shown = min(len(images), max_neurons)
        if shown < len(images):
            title += f"; the first {shown} of {len(images)} neurons"
        fig.text(0.5 * (0.2 + ncols * cell) / width, 1 - (y + 0.2) / height, title, ha="center", va="center",
                 fontsize=10)
        y += header
        side = 0.92
        for i in range(shown):
            r, c = divmod(i, ncols)
            left = 0.2 + c * cell + (cell - side) / 2
            bottom = height - (y + r * row_h + 0.22 + side)
            ax = fig.add_axes((left / width, bottom / height, side / width, side / height))
            ax.set_axis_off()
            m = float(np.abs(images[i]).max()) or 1.0
            im = ax.imshow(images[i], cmap=WEIGHT_CMAP, norm=Normalize(-m, m), interpolation="nearest")
            im.set_gid(f"{gid}-{i}")
            ax.set_title(f"{i}: b={biases[i]:+.2f}", fontsize=8, pad=2)
        bar_h = min(n * row_h - 0.3, 2.4)
        cax = fig.add_axes(((0.2 + ncols * cell + 0.25) / width,
                            1 - (y + (n * row_h + bar_h) / 2) / height, 0.16 / width, bar_h / height))
        bar = fig.colorbar(ScalarMappable(Normalize(-1, 1), WEIGHT_CMAP), cax=cax, ticks=[-1, 0, 1])
        bar.ax.set_yticklabels(["-max|w|", "0", "+max|w|"], fontsize=8)
        bar.set_label("weight, each image\non its own scale", fontsize=8)
        y += n * row_h
    return fig


# -- 2. history -------------------------------------------------------------------------------------


def plot_history(net: Network | str | os.PathLike[str] | Sequence[dict[str, Any]]) -> Figure:
    """The training and test cost, and accuracy, after each epoch, from the model's saved history.

    Lines are labelled "train cost", "test cost", "train accuracy", "test accuracy"; each line's
    data is (epoch, value) from the history, accuracies as fractions shown in percent.
    """
    if isinstance(net, (Network, str, os.PathLike)):
        net = load_network(net)
        history, name = net.history, describe(net)
    else:
        history, name = list(net), "the network"
    if not history:
        raise ModelFileError("the model holds no training history: it was saved before any epoch "
                             "was trained; train it (digitnet train) and save it again")
    fig = LessonFigure(figsize=(10, 4), layout="constrained")
    fig.suptitle(f"Training {name}: after each epoch", fontsize=11)
    ax_cost, ax_acc = fig.subplots(1, 2)
    for ax, key, label in ((ax_cost, "cost", "cost (mean over the examples)"),
                           (ax_acc, "accuracy", "accuracy")):
        for split, style in (("train", "-o"), ("test", "--s")):
            points = [(h["epoch"], h[f"{split}_{key}"]) for h in history
                      if h.get(f"{split}_{key}") is not None]
            if points:
                epochs, values = zip(*points)
                ax.plot(epochs, values, style, label=f"{split} {key}", markersize=4)
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend()
        ax.xaxis.get_major_locator().set_params(integer=True)
    ax_cost.set_title("Cost: lower is better", fontsize=10)
    ax_acc.set_title("Accuracy: fraction of images guessed right", fontsize=10)
    ax_acc.yaxis.set_major_formatter(PercentFormatter(xmax=1))
    return fig


# -- 3. confusion -----------------------------------------------------------------------------------


def plot_confusion(net: Network | str | os.PathLike[str], X: np.ndarray | None = None,
                   y: np.ndarray | None = None, class_names: Sequence[str] | None = None,
                   n_mistakes: int = 16) -> Figure:
    """The confusion matrix on (X, y) (default: the MNIST test set), and the most confident mistakes.

    The matrix is the AxesImage with gid "confusion" (row = true label, column = guess); each
    mistake is an AxesImage with gid "mistake-<rank>".
    """
    net = load_network(net)
    X, y = _test_set(X, y)
    names = _names(net, class_names)
    counts = inspect.confusion_matrix(net, X, y)
    mistakes = inspect.confident_mistakes(net, X, y, n_mistakes)
    total, correct = int(counts.sum()), int(np.trace(counts))

    fig = LessonFigure(figsize=(13, 6), layout="constrained")
    fig.suptitle(f"Which digits get confused: {describe(net)}, {total:,} test images, "
                 f"accuracy {correct / total:.2%}", fontsize=11)
    grid = fig.add_gridspec(1, 2, width_ratios=[1.15, 1])
    left, right = fig.add_subfigure(grid[0]), fig.add_subfigure(grid[1])

    ax = left.subplots()
    k = len(counts)
    cmap = colormaps["Blues"].with_extremes(bad="white")
    # A log scale: the diagonal holds ~1000 per cell, the mistakes a handful, and both should show.
    im = ax.imshow(np.ma.masked_equal(counts, 0), cmap=cmap, norm=LogNorm(1, max(counts.max(), 2)))
    im.set_gid("confusion")
    for i in range(k):
        for j in range(k):
            if counts[i, j]:
                dark = counts[i, j] > counts.max() ** 0.6
                ax.text(j, i, str(counts[i, j]), ha="center", va="center", fontsize=7 if k <= 10 else 5,
                        color="white" if dark else "black")
    ax.set_xticks(range(k), names, rotation=90 if max(map(len, names)) > 2 else 0)
    ax.set_yticks(range(k), names)
    ax.set_xlabel("the network's guess")
    ax.set_ylabel("true label")
    ax.set_title("Confusion matrix: row = true label, column = guess", fontsize=10)
    left.colorbar(im, ax=ax, shrink=0.8, label="number of test images (log scale)")

    right.suptitle(f"The {len(mistakes.index)} most confident mistakes "
                   "(confidence = the largest output)", fontsize=10)
    ncols = 4
    nrows = max(1, int(np.ceil(len(mistakes.index) / ncols)))
    side = inspect.image_side(net)
    for rank, ax in enumerate(right.subplots(nrows, ncols, squeeze=False).flat):
        ax.set_axis_off()
        if rank >= len(mistakes.index):
            continue
        i = mistakes.index[rank]
        im = ax.imshow(np.asarray(X[i], dtype=np.float32).reshape(side, side) / _scale(X), cmap=DIGIT_CMAP,
                       vmin=0, vmax=1)
        im.set_gid(f"mistake-{rank}")
        ax.set_title(f"label {names[mistakes.label[rank]]}\nguess {names[mistakes.guess[rank]]} "
                     f"({mistakes.confidence[rank]:.2f})", fontsize=8, pad=2)
    return fig


# -- 4. network -------------------------------------------------------------------------------------


def plot_network(net: Network | str | os.PathLike[str], image: np.ndarray, label: int | None = None,
                 class_names: Sequence[str] | None = None, max_neurons: int = 40, per_neuron: int = 4) -> Figure:
    """The lesson's picture of the network for one image (784,): every neuron lit by its activation.

    Lines show each drawn neuron's ``per_neuron`` strongest inputs for this image (largest |w a|),
    blue for positive weights and red for negative. Neurons are Circles with gid
    "neuron-<layer>-<index>" (layer 1 = first hidden layer); the guess's label has gid "guess".
    """
    net = load_network(net)
    names = _names(net, class_names)
    x = brightness(np.asarray(image), np.float32)
    state = inspect.network_state(net, x, max_neurons=max_neurons, per_neuron=per_neuron)
    side = inspect.image_side(net)
    L = len(net.W)
    out = state.activations[-1]
    guess = int(np.argmax(out))

    fig = LessonFigure(figsize=(3.2 + 2.4 * L, 6.6), layout="constrained", facecolor=DARK)
    ax = fig.subplots()
    ax.set_facecolor(DARK)
    ax.set_axis_off()
    ax.set_aspect("equal")
    title = f"{describe(net)}: guess {names[guess]}"
    if label is not None:
        title += f", label {names[int(label)]}" + (" (right)" if int(label) == guess else " (wrong)")
    ax.set_title(title, color="white", fontsize=11)

    # The input: the image itself, 4 units wide, centred on y = 0.
    ax.imshow(x.reshape(side, side), cmap=DIGIT_CMAP, vmin=0, vmax=1, extent=(0, 4, -2, 2),
              interpolation="nearest", zorder=2).set_gid("input")
    ax.add_patch(_frame((0, -2), 4, 4))
    ax.text(2, -5.0, f"input\n{side}x{side} pixels", color="white", ha="center", va="top", fontsize=9)

    def pixel_xy(p: np.ndarray) -> np.ndarray:
        r, c = np.divmod(p, side)
        return np.column_stack([(c + 0.5) * 4 / side, 2 - (r + 0.5) * 4 / side])

    positions = []  # for each layer after the input: neuron index -> (x, y)
    radius = []
    for l in range(1, L + 1):
        n = len(state.shown[l - 1])
        spacing = min(0.62, 9.6 / max(n - 1, 1))
        ys = (np.arange(n)[::-1] - (n - 1) / 2) * spacing
        positions.append({int(i): (5.5 + 3.0 * (l - 1), y) for i, y in zip(state.shown[l - 1], ys)})
        radius.append(min(0.24, 0.42 * spacing))

    _draw_connections(ax, state, positions, pixel_xy)

    _draw_neurons(ax, net, state, positions, radius, guess)

    # The output neurons' labels: class name and activation, the guess highlighted.
    for i, (px, py) in positions[-1].items():
        is_guess = i == guess
        t = ax.text(px + 0.45, py, f"{names[i]}  {out[i]:.2f}", va="center", fontsize=10,
                    color=HIGHLIGHT if is_guess else "white", fontweight="bold" if is_guess else "normal")
        if is_guess:
            t.set_gid("guess")
    ax.set_xlim(-0.3, 5.5 + 3.0 * (L - 1) + 2.6)
    ax.set_ylim(-6.8, 5.0)
    bar = fig.colorbar(ScalarMappable(Normalize(0, 1), DIGIT_CMAP), ax=ax, shrink=0.5, aspect=20, pad=0.01)
    bar.set_label("activation (neuron brightness)", color="white")
    bar.ax.tick_params(colors="white")
    ax.text(-0.3, -6.6, f"lines: each neuron's {per_neuron} strongest inputs for this image (largest |w a|);"
            " blue: weight > 0, red: weight < 0", color="0.8", fontsize=8, va="bottom")
    return fig


def _draw_connections(ax: Any, state: inspect.NetworkState, positions: list[dict[int, tuple[float, float]]],
                      pixel_xy: Any) -> None:
    """The network picture's lines: each drawn neuron's strongest inputs, blue > 0, red < 0."""
    for l, (src, tgt, w) in enumerate(state.edges):
        if not len(src):  # e.g. a blank image: no pixel adds anything to any neuron
            continue
        start = pixel_xy(src) if l == 0 else np.array([positions[l - 1][int(s)] for s in src])
        end = np.array([positions[l][int(t)] for t in tgt])
        strength = np.abs(w * state.activations[l][src])
        rel = strength / strength.max()
        colors = [(*_rgb(BLUE if wi > 0 else RED), 0.25 + 0.7 * r) for wi, r in zip(w, rel)]
        segments = list(np.stack([start, end], axis=1))  # one ((x0, y0), (x1, y1)) per connection
        ax.add_collection(LineCollection(segments, colors=colors, linewidths=0.4 + 1.6 * rel, zorder=1))


def _draw_neurons(ax: Any, net: Network, state: inspect.NetworkState, positions: list[dict[int, tuple[float, float]]],
                  radius: list[float], guess: int) -> None:
    """The network picture's neurons, lit by their activations, and each layer's caption."""
    L = len(net.W)
    grey = colormaps[DIGIT_CMAP]
    for l in range(1, L + 1):
        a = state.activations[l]
        output = l == L
        relu_layer = not output and not get_activation(net.activation).bounded
        scale = float(a.max()) if relu_layer and a.max() > 0 else 1.0
        for i, (px, py) in positions[l - 1].items():
            c = Circle((px, py), radius[l - 1], facecolor=grey(min(a[i] / scale, 1.0)),
                       edgecolor=HIGHLIGHT if output and i == guess else "0.55",
                       linewidth=2.2 if output and i == guess else 0.8, zorder=3)
            c.set_gid(f"neuron-{l}-{i}")
            ax.add_patch(c)
        n, k = len(state.shown[l - 1]), len(a)
        caption = "output" if output else f"layer {l}"
        caption += f"\n{k} neurons" if n == k else f"\nthe {n} most active\nof {k} shown"
        if relu_layer:
            caption += f"\nbrightness a/{scale:.2g}"
        ax.text(5.5 + 3.0 * (l - 1), -5.0, caption, color="white", ha="center", va="top", fontsize=9)


# -- 5. noise ---------------------------------------------------------------------------------------


def plot_noise(net: Network | str | os.PathLike[str], X: np.ndarray | None = None, n: int = 5000,
               seed: int = 0, class_names: Sequence[str] | None = None) -> Figure:
    """How sure the network is (its largest output) on n random-noise images and on real digits X.

    Histograms of the largest output for the test digits and the noise (bar containers labelled
    "hist-digits" and "hist-noise": counts of images per bin); a bar chart of the guesses for
    noise ("noise-guesses"); and a few noise images with their guesses.
    """
    net = load_network(net)
    if X is None:
        X, _ = _test_set(None, None)
    names = _names(net, class_names)
    side = inspect.image_side(net)
    noise = inspect.noise_images(n, side, seed)
    conf_noise, guess_noise = inspect.confidence(net, noise)
    conf_digits, _ = inspect.confidence(net, X)

    fig = LessonFigure(figsize=(12, 6), layout="constrained")
    fig.suptitle(f"How sure is the network? Real test digits against random noise: {describe(net)}", fontsize=11)
    grid = fig.add_gridspec(1, 2, width_ratios=[1.3, 1])
    left, right = fig.add_subfigure(grid[0]), fig.add_subfigure(grid[1])
    ax_d, ax_n = left.subplots(2, 1, sharex=True)
    bins = np.linspace(0, 1, 21)
    for ax, values, what, color, gid in ((ax_d, conf_digits, "test digits", "#4a78b5", "hist-digits"),
                                         (ax_n, conf_noise, "random-noise images", "#b5574a", "hist-noise")):
        _, _, bars = ax.hist(np.clip(values, 0, 1), bins=bins, color=color, edgecolor="white")
        bars.set_label(gid)
        ax.set_title(f"{len(values):,} {what}: median confidence {np.median(values):.2f}", fontsize=10)
        ax.set_ylabel("number of images")
        ax.grid(axis="y", alpha=0.3)
    ax_n.set_xlabel("confidence: the largest output activation")
    ax_n.set_xlim(0, 1)

    column = right.add_gridspec(2, 1, height_ratios=[1, 1.6])
    top, bottom = right.add_subfigure(column[0]), right.add_subfigure(column[1])
    top.suptitle("Noise images (every pixel uniform in [0, 1]) and guesses", fontsize=10)
    for i, ax in enumerate(top.subplots(1, 4)):
        ax.imshow(noise[i].reshape(side, side), cmap=DIGIT_CMAP, vmin=0, vmax=1, interpolation="nearest")
        ax.set_title(f"guess {names[guess_noise[i]]} ({conf_noise[i]:.2f})", fontsize=8)
        ax.set_axis_off()
    ax_g = bottom.subplots()
    k = net.sizes[-1]
    counts = np.bincount(guess_noise, minlength=k)
    ax_g.bar(range(k), counts, color="#b5574a", label="noise-guesses")
    ax_g.set_xticks(range(k), names, rotation=90 if max(map(len, names)) > 2 else 0)
    ax_g.set_xlabel("the network's guess")
    ax_g.set_ylabel("number of noise images")
    ax_g.set_title(f"What it guesses for {n:,} noise images", fontsize=10)
    ax_g.grid(axis="y", alpha=0.3)
    return fig


# -- 6. dream ---------------------------------------------------------------------------------------


def plot_dream(net: Network | str | os.PathLike[str], digits: int | Sequence[int] | None = None,
               steps: int = 200, noise_level: float = 0.25, seed: int = 0,
               class_names: Sequence[str] | None = None) -> Figure:
    """What the network "thinks" each digit looks like: the input that makes output D most active.

    For each digit D, gradient ascent on the pixels (``inspect.dream``) from random noise and from
    a blank image. The images are AxesImages with gid "start-<noise|blank>" and
    "dream-<noise|blank>-<D>"; each title gives a_D for that image.
    """
    net = load_network(net)
    names = _names(net, class_names)
    k = net.sizes[-1]
    if digits is None:
        digits = list(range(k))
    elif isinstance(digits, (int, np.integer)):
        digits = [int(digits)]
    else:
        digits = list(digits)
    side = inspect.image_side(net)
    starts = ("noise", "blank")
    width = 1.35 * (len(digits) + 1) + 0.8  # a column per digit, after the starting image
    fig = LessonFigure(figsize=(width, 4.6), layout="constrained")
    # The title wrapped to the figure's width, so that a narrow figure (one digit) shows all of it.
    title = (f"The image that makes output D most active: gradient ascent on the pixels, {steps} steps. "
             f"{describe(net)}; a_D = output D's activation")
    fig.suptitle(textwrap.fill(title, width=max(28, int(width * 11))), fontsize=9)
    axes = fig.subplots(2, len(digits) + 1, squeeze=False)
    for row, start in enumerate(starts):
        results = [inspect.dream(net, d, start, steps=steps, noise_level=noise_level, seed=seed) for d in digits]
        ax = axes[row, 0]
        ax.imshow(results[0].start.reshape(side, side), cmap=DIGIT_CMAP, vmin=0, vmax=1,
                  interpolation="nearest").set_gid(f"start-{start}")
        # The noise start is faint (see inspect.dream): say how faint, so it is not taken for show noise's.
        ax.set_title(f"start: noise\nin [0, {noise_level:g}]" if start == "noise" else "start: blank", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_ylabel(f"from {start}", fontsize=10)
        for col, r in enumerate(results, start=1):
            ax = axes[row, col]
            a_end = float(net.predict_proba(r.image.astype(net.dtype))[r.digit])
            ax.imshow(r.image.reshape(side, side), cmap=DIGIT_CMAP, vmin=0, vmax=1,
                      interpolation="nearest").set_gid(f"dream-{start}-{r.digit}")
            ax.set_title(f"{names[r.digit]}: a={r.activation[0]:.2f}\u2192{a_end:.2f}", fontsize=8)
            ax.set_axis_off()
    return fig


# -- helpers ----------------------------------------------------------------------------------------


def _test_set(X: np.ndarray | None, y: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    if X is None:
        from .data import load_mnist

        return load_mnist("test")
    if y is None:
        raise ConfigError("give the labels y with the images X")
    return X, y


def _names(net: Network, class_names: Sequence[str] | None) -> list[str]:
    k = net.sizes[-1]
    names = [str(i) for i in range(k)] if class_names is None else list(class_names)
    if len(names) < k:
        raise ConfigError(f"{len(names)} class names for a network with {k} outputs; give one name per output")
    return names


def _scale(X: np.ndarray) -> float:
    return 255.0 if np.asarray(X).dtype == np.uint8 else 1.0


def _frame(xy: tuple[float, float], width: float, height: float) -> Rectangle:
    """A thin grey frame around the input image."""
    return Rectangle(xy, width, height, fill=False, edgecolor="0.55", linewidth=0.8, zorder=3)


def _rgb(color: str) -> tuple[float, float, float]:
    return to_rgb(color)

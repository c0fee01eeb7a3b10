"""The lessons' pictures: each figure shows the numbers it claims to, checked against an independent
computation (the weights' colours, the confusion matrix's counts, the history's values, the noise
histograms, the dream's rise), and the gradients behind the dream match finite differences."""

from __future__ import annotations

import io

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.image import AxesImage
from matplotlib.patches import Circle
from PIL import Image

from digitnet import Network, plots
from digitnet import inspect as di
from digitnet.errors import ConfigError, ModelFileError

PAIRS = [("sigmoid", "quadratic"), ("relu", "cross-entropy"), ("sigmoid", "cross-entropy"), ("relu", "quadratic")]


@pytest.fixture(scope="module")
def lesson_net(mnist) -> Network:
    """The lesson's 784-16-16-10 sigmoid network with the quadratic cost, trained briefly on 5000 digits."""
    net = Network((784, 16, 16, 10), seed=0)
    net.fit(mnist["X"], mnist["y"], epochs=3, batch_size=10, learning_rate=1.5, engine="numpy",
            validation_data=(mnist["X_test"][:1000], mnist["y_test"][:1000]))
    return net


@pytest.fixture(scope="module")
def relu_net(mnist) -> Network:
    """A wider ReLU network with the cross-entropy cost: 784-48-24-10 (layer 1 wider than 40)."""
    net = Network((784, 48, 24, 10), activation="relu", cost="cross-entropy", seed=1)
    net.fit(mnist["X"], mnist["y"], epochs=2, batch_size=10, learning_rate=0.05, engine="numpy")
    return net


def images_by_gid(fig) -> dict[str, AxesImage]:
    return {im.get_gid(): im for ax in fig.axes for im in ax.images if im.get_gid()}


def central_difference(f, x: np.ndarray, eps: float = 1e-5) -> np.ndarray:
    """(f(x + eps e_i) - f(x - eps e_i)) / 2 eps for every coordinate i of x (1-D)."""
    grad = np.empty_like(x)
    for i in range(len(x)):
        up, down = x.copy(), x.copy()
        up[i] += eps
        down[i] -= eps
        grad[i] = (f(up) - f(down)) / (2 * eps)
    return grad


# -- the gradients with respect to the input -----------------------------------------------------


@pytest.mark.parametrize("activation,cost", PAIRS)
def test_input_gradients_equal_central_differences(activation, cost):
    net = Network((12, 7, 5, 4), activation=activation, cost=cost, seed=3, dtype=np.float64)
    for b in net.b:
        b += 0.1  # ReLU inputs away from its kink at 0
    rng = np.random.default_rng(0)
    x = rng.uniform(0.1, 0.9, 12)
    y = 2
    for j in range(4):
        a_j = lambda v, j=j: net.forward(v)[-1][j]  # noqa: E731
        np.testing.assert_allclose(di.output_gradient(net, x, j), central_difference(a_j, x), rtol=1e-6, atol=1e-9)
        s_j = lambda v, j=j: di.score(net, v, j)  # noqa: E731
        np.testing.assert_allclose(di.score_gradient(net, x, j), central_difference(s_j, x), rtol=1e-6, atol=1e-9)
    cost_of = lambda v: net.cost(v[None, :], np.array([y]))  # noqa: E731
    np.testing.assert_allclose(net.input_gradient(x[None, :], np.array([y]))[0], central_difference(cost_of, x),
                               rtol=1e-6, atol=1e-9)
    # One gradient per image, not averaged: a batch gives each row its own image's gradient.
    X = rng.uniform(0.1, 0.9, (3, 12))
    batch = di.output_gradient(net, X, 1)
    np.testing.assert_allclose(batch[2], di.output_gradient(net, X[2], 1), rtol=1e-12)


def test_score_rises_with_the_output_activation(lesson_net, relu_net, mnist):
    X = mnist["X_test"][:200]
    for net in (lesson_net, relu_net):
        a = net.predict_proba(X)[:, 3].astype(np.float64)
        s = di.score(net.copy(), X, 3)
        order = np.argsort(s)
        assert np.all(np.diff(a[order]) >= -1e-6)
        if net.cost_name == "cross-entropy":
            np.testing.assert_allclose(s, np.log(a), rtol=1e-4, atol=1e-5)


# -- weights ----------------------------------------------------------------------------------------


def test_weight_images_are_the_weights_in_the_lessons_colours(lesson_net):
    fig = plots.plot_weights(lesson_net)
    images = images_by_gid(fig)
    W0 = lesson_net.W[0]
    assert len([g for g in images if g.startswith("weights-1-")]) == 16
    for i in range(16):
        im = images[f"weights-1-{i}"]
        w = W0[i].reshape(28, 28)
        np.testing.assert_array_equal(im.get_array(), w)
        m = np.abs(w).max()
        assert im.norm.vmin == pytest.approx(-m) and im.norm.vmax == pytest.approx(m)  # symmetric: white is 0
        rgba = im.to_rgba(im.get_array())  # what is drawn: (28, 28, 4)
        red, blue = rgba[..., 0], rgba[..., 2]
        strong = np.abs(w) > 0.05 * m
        assert np.all(blue[strong & (w > 0)] > red[strong & (w > 0)])
        assert np.all(red[strong & (w < 0)] > blue[strong & (w < 0)])
    np.testing.assert_allclose(images["weights-1-0"].to_rgba(np.zeros((1, 1)))[0, 0, :3], 1.0, atol=0.01)
    templates = lesson_net.W[1] @ lesson_net.W[0]
    for i in range(16):
        np.testing.assert_allclose(images[f"weights-2-{i}"].get_array(), templates[i].reshape(28, 28), rtol=1e-6)
    text = " ".join(t.get_text() for t in fig.texts)
    assert "W[1] @ W[0]" in text and "linear approximation" in text


def test_weight_colours_on_the_rendered_png(lesson_net):
    """The PNG itself: the most positive weight's pixel is blue, the most negative one's is red."""
    fig = plots.plot_weights(lesson_net)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    pixels = np.asarray(canvas.buffer_rgba())[..., :3].astype(int)  # (H, W, 3), row 0 at the top
    height = pixels.shape[0]
    for i in (0, 5, 11):
        im = images_by_gid(fig)[f"weights-1-{i}"]
        w = lesson_net.W[0][i].reshape(28, 28)
        for flat, want in ((np.argmax(w), "blue"), (np.argmin(w), "red")):
            row, col = divmod(int(flat), 28)
            x, y = im.axes.transData.transform((col, row))
            r, g, b = pixels[height - 1 - int(round(y)), int(round(x))]
            assert (b > r + 100) if want == "blue" else (r > b + 100), (i, want, (r, g, b))


def test_weights_of_a_wide_layer_show_the_first_neurons_and_say_so(relu_net):
    fig = plots.plot_weights(relu_net, max_neurons=32)
    images = images_by_gid(fig)
    assert sorted(int(g.rsplit("-", 1)[1]) for g in images if g.startswith("weights-1-")) == list(range(32))
    assert any("first 32 of 48" in t.get_text() for t in fig.texts)
    np.testing.assert_allclose(images["weights-2-23"].get_array(), (relu_net.W[1] @ relu_net.W[0])[23].reshape(28, 28),
                               rtol=1e-5)


# -- history ----------------------------------------------------------------------------------------


def test_history_lines_are_the_saved_history(lesson_net, tmp_path):
    path = tmp_path / "m.npz"
    lesson_net.save(path)
    fig = plots.plot_history(path)  # from the model file, as the CLI does
    lines = {line.get_label(): line for ax in fig.axes for line in ax.get_lines()}
    assert set(lines) == {"train cost", "test cost", "train accuracy", "test accuracy"}
    for label, line in lines.items():
        split, key = label.split()
        np.testing.assert_array_equal(line.get_xdata(), [h["epoch"] for h in lesson_net.history])
        np.testing.assert_allclose(line.get_ydata(), [h[f"{split}_{key}"] for h in lesson_net.history])


def test_history_without_test_data_or_without_any_epoch():
    fig = plots.plot_history([{"epoch": 1, "train_cost": 0.3, "train_accuracy": None},
                              {"epoch": 2, "train_cost": 0.2, "train_accuracy": 0.9}])
    lines = {line.get_label(): line for ax in fig.axes for line in ax.get_lines()}
    assert set(lines) == {"train cost", "train accuracy"}
    np.testing.assert_array_equal(lines["train accuracy"].get_xdata(), [2])
    with pytest.raises(ModelFileError, match="no training history"):
        plots.plot_history(Network((784, 10), seed=0))


# -- confusion --------------------------------------------------------------------------------------


def test_confusion_matrix_counts_every_test_image(lesson_net, mnist):
    X, y = mnist["X_test"], mnist["y_test"]
    counts = di.confusion_matrix(lesson_net, X, y)
    guess = lesson_net.predict(X)
    expected = np.zeros((10, 10), dtype=int)
    for t, g in zip(y, guess):
        expected[t, g] += 1
    np.testing.assert_array_equal(counts, expected)
    assert counts.sum() == 10_000
    assert np.trace(counts) == round(lesson_net.accuracy(X, y) * 10_000)
    np.testing.assert_array_equal(counts.sum(axis=1), np.bincount(y, minlength=10))

    fig = plots.plot_confusion(lesson_net, X, y)
    drawn = images_by_gid(fig)["confusion"].get_array()
    np.testing.assert_array_equal(np.ma.filled(drawn, 0), counts)
    assert f"accuracy {np.trace(counts) / 100:.2f}%" in fig.get_suptitle()


def test_the_mistakes_shown_are_the_most_confident_wrong_guesses(lesson_net, mnist):
    X, y = mnist["X_test"], mnist["y_test"]
    a = lesson_net.predict_proba(X)
    wrong = np.flatnonzero(a.argmax(1) != y)
    m = di.confident_mistakes(lesson_net, X, y, n=12)
    assert len(m.index) == 12
    assert np.all(a[m.index].argmax(1) != y[m.index])
    np.testing.assert_array_equal(m.guess, a[m.index].argmax(1))
    np.testing.assert_allclose(m.confidence, a[m.index].max(1))
    assert np.all(np.diff(m.confidence) <= 0)
    others = np.setdiff1d(wrong, m.index)
    assert a[others].max(1).max() <= m.confidence.min()

    fig = plots.plot_confusion(lesson_net, X, y, n_mistakes=12)
    images = images_by_gid(fig)
    for rank, i in enumerate(m.index):
        np.testing.assert_array_equal(images[f"mistake-{rank}"].get_array(), X[i].reshape(28, 28))
        title = images[f"mistake-{rank}"].axes.get_title()
        assert f"label {y[i]}" in title and f"guess {m.guess[rank]}" in title


def test_confusion_uses_class_names(lesson_net, mnist):
    names = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    fig = plots.plot_confusion(lesson_net, mnist["X_test"][:300], mnist["y_test"][:300], class_names=names,
                               n_mistakes=4)
    ax = images_by_gid(fig)["confusion"].axes
    assert [t.get_text() for t in ax.get_yticklabels()] == names
    with pytest.raises(ConfigError, match="class names"):
        plots.plot_confusion(lesson_net, mnist["X_test"][:10], mnist["y_test"][:10], class_names=["a", "b"])


# -- noise ------------------------------------------------------------------------------------------


def test_noise_histograms_count_every_image(lesson_net, mnist):
    X = mnist["X_test"][:2000]
    fig = plots.plot_noise(lesson_net, X, n=3000, seed=5)
    bars = {c.get_label(): c for ax in fig.axes for c in ax.containers}
    heights = {k: np.array([p.get_height() for p in c.patches]) for k, c in bars.items()}
    assert heights["hist-noise"].sum() == 3000
    assert heights["hist-digits"].sum() == 2000
    conf, guess = di.confidence(lesson_net, di.noise_images(3000, seed=5))
    np.testing.assert_array_equal(heights["hist-noise"], np.histogram(conf, bins=np.linspace(0, 1, 21))[0])
    np.testing.assert_array_equal(heights["noise-guesses"], np.bincount(guess, minlength=10))
    np.testing.assert_allclose(di.confidence(lesson_net, X[:5])[0], lesson_net.forward(X[:5])[-1].max(1), rtol=1e-5)


def test_noise_images_are_uniform_and_seeded():
    a = di.noise_images(2000, seed=1)
    assert a.shape == (2000, 784) and a.min() >= 0 and a.max() < 1
    assert abs(a.mean() - 0.5) < 0.01
    np.testing.assert_array_equal(a, di.noise_images(2000, seed=1))
    with pytest.raises(ConfigError):
        di.noise_images(0)


# -- dream ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["lesson", "relu"])
@pytest.mark.parametrize("start", ["noise", "blank"])
def test_dream_raises_the_chosen_output(which, start, lesson_net, relu_net):
    net = lesson_net if which == "lesson" else relu_net
    for digit in (1, 5):
        d = di.dream(net, digit, start, steps=60)
        a_start = net.predict_proba(d.start.astype(np.float32))[digit]
        a_end = net.predict_proba(d.image.astype(np.float32))[digit]
        assert a_end > a_start + 0.05 or a_end > 0.99, (digit, a_start, a_end)
        assert d.image.min() >= 0 and d.image.max() <= 1
        assert np.all(np.diff(d.activation) >= -1e-9)  # every step taken rose
        if start == "blank":
            assert d.start.max() == 0 and d.image.max() > 0  # the blank start moves


def test_dream_figure_shows_the_dreams(lesson_net):
    fig = plots.plot_dream(lesson_net, [3, 7], steps=40)
    images = images_by_gid(fig)
    assert set(images) == {"start-noise", "start-blank", "dream-noise-3", "dream-noise-7", "dream-blank-3",
                           "dream-blank-7"}
    for start in ("noise", "blank"):
        x0 = np.asarray(images[f"start-{start}"].get_array()).reshape(-1).astype(np.float32)
        for digit in (3, 7):
            x = np.asarray(images[f"dream-{start}-{digit}"].get_array()).reshape(-1).astype(np.float32)
            assert lesson_net.predict_proba(x)[digit] > lesson_net.predict_proba(x0)[digit]
            np.testing.assert_allclose(x, di.dream(lesson_net, digit, start, steps=40).image, atol=1e-6)
    assert np.asarray(images["start-noise"].get_array()).max() <= 0.25
    assert "[0, 0.25]" in images["start-noise"].axes.get_title()


def test_dream_rejects_bad_requests(lesson_net):
    with pytest.raises(ConfigError, match="0..9"):
        di.dream(lesson_net, 10)
    with pytest.raises(ConfigError, match="start"):
        di.dream(lesson_net, 1, "gray")
    with pytest.raises(ConfigError, match="noise level"):
        di.dream(lesson_net, 1, noise_level=0)


# -- the network picture ----------------------------------------------------------------------------


def test_network_picture_lights_each_neuron_by_its_activation(lesson_net, mnist):
    x, label = mnist["X_test"][0], int(mnist["y_test"][0])
    fig = plots.plot_network(lesson_net, x, label=label)
    activations = lesson_net.forward(x)
    circles = {p.get_gid(): p for ax in fig.axes for p in ax.patches if isinstance(p, Circle)}
    assert len(circles) == 16 + 16 + 10
    for l in (1, 2, 3):
        for i, a in enumerate(activations[l]):
            r, g, b, _ = circles[f"neuron-{l}-{i}"].get_facecolor()
            assert r == pytest.approx(a, abs=0.01) and g == pytest.approx(r) and b == pytest.approx(r)
    guess = int(np.argmax(activations[-1]))
    texts = {t.get_gid(): t for ax in fig.axes for t in ax.texts if t.get_gid()}
    assert texts["guess"].get_text().split()[0] == str(guess)
    assert circles[f"neuron-3-{guess}"].get_linewidth() > circles[f"neuron-3-{(guess + 1) % 10}"].get_linewidth()
    np.testing.assert_array_equal(images_by_gid(fig)["input"].get_array(), x.reshape(28, 28))


def test_network_picture_of_a_wide_layer_draws_its_most_active_neurons(relu_net, mnist):
    x = mnist["X_test"][1]
    fig = plots.plot_network(relu_net, x, max_neurons=40)
    a1 = relu_net.forward(x)[1]
    drawn = sorted(int(p.get_gid().split("-")[2]) for ax in fig.axes for p in ax.patches
                   if isinstance(p, Circle) and p.get_gid().startswith("neuron-1-"))
    assert len(drawn) == 40
    assert a1[drawn].min() >= np.delete(a1, drawn).max()
    assert any("40 most active" in t.get_text() and "of 48" in t.get_text() for ax in fig.axes for t in ax.texts)


def test_network_state_keeps_each_neurons_strongest_inputs(lesson_net, mnist):
    x = mnist["X_test"][2]
    state = di.network_state(lesson_net, x, per_neuron=3)
    acts = lesson_net.forward(x)
    for l, (src, tgt, w) in enumerate(state.edges):
        np.testing.assert_array_equal(w, lesson_net.W[l][tgt, src])
        for t in np.unique(tgt):
            contribution = np.abs(lesson_net.W[l][t] * acts[l])
            expected = set(np.argsort(-contribution)[:3]) if contribution.max() > 0 else set()
            assert set(src[tgt == t]) == {i for i in expected if contribution[i] > 0}


# -- notebooks ---------------------------------------------------------------------------------------


def test_figures_display_in_notebooks_as_png(lesson_net):
    fig = plots.plot_history(lesson_net)
    png = fig._repr_png_()
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size[0] > 300

"""The network: backpropagation against central differences of an independent forward pass, one
SGD step worked out by hand, batches against single examples, and the checks on what users pass."""

from __future__ import annotations

import math

import numpy as np
import pytest

from digitnet import Network
from digitnet.errors import ConfigError, ShapeError

COMBINATIONS = [(act, cost) for act in ("sigmoid", "relu") for cost in ("quadratic", "cross-entropy")]


# -- an independent reference: the lesson's equations, one example at a time -------------------------

def reference_forward(W, b, x, activation, cost):
    """Every layer's z for one example x (n,), and the output a_L, from the equations alone."""
    zs, a = [], x
    for l in range(len(W)):
        z = W[l] @ a + b[l]
        zs.append(z)
        if l < len(W) - 1:
            a = 1.0 / (1.0 + np.exp(-z)) if activation == "sigmoid" else np.maximum(z, 0.0)
        elif cost == "quadratic":
            a = 1.0 / (1.0 + np.exp(-z))  # sigmoid output layer
        else:
            e = np.exp(z - z.max())  # softmax output layer
            a = e / e.sum()
    return zs, a


def reference_cost(W, b, X, Y, activation, cost):
    """The mean over examples of C_0 = sum (a - y)^2 (quadratic) or -sum y ln a (cross-entropy)."""
    total = 0.0
    for x, y in zip(X, Y):
        a = reference_forward(W, b, x, activation, cost)[1]
        total += np.sum((a - y) ** 2) if cost == "quadratic" else -np.sum(y * np.log(a))
    return total / len(X)


def numeric_gradient(f, theta, indices, eps=1e-5):
    """(f(theta + eps) - f(theta - eps)) / 2 eps for each index of the array theta (changed in place, restored)."""
    g = np.zeros(len(indices))
    for i, idx in enumerate(indices):
        old = theta[idx]
        theta[idx] = old + eps
        up = f()
        theta[idx] = old - eps
        down = f()
        theta[idx] = old
        g[i] = (up - down) / (2 * eps)
    return g


def make_case(sizes, activation, cost, m, margin=1e-2):
    """A float64 network with random weights and biases, m random images and labels.

    For ReLU, the seed is the first whose every hidden z is at least ``margin`` away from the
    kink at 0: a perturbation of eps = 1e-5 then cannot cross it, so the cost is smooth there.
    """
    for seed in range(100):
        rng = np.random.default_rng(seed)
        net = Network(sizes, activation=activation, cost=cost, seed=seed, dtype=np.float64)
        for l in range(len(net.b)):
            net.b[l] = rng.normal(0.0, 0.5, size=net.b[l].shape)
        X = rng.random((m, sizes[0]))
        y = rng.integers(0, sizes[-1], size=m)
        Y = np.eye(sizes[-1])[y]
        hidden_z = [z for x in X for z in reference_forward(net.W, net.b, x, activation, cost)[0][:-1]]
        if activation == "sigmoid" or min(np.abs(z).min() for z in hidden_z) > margin:
            return net, X, y, Y
    raise AssertionError(f"no seed below 100 keeps ReLU inputs away from 0 for sizes {sizes}")


def check_gradients(net, X, y, Y, rng, sample=None):
    """Compare net.gradients with central differences of reference_cost, every parameter or a sample."""
    dW, db = net.gradients(X, y)
    f = lambda: reference_cost(net.W, net.b, X, Y, net.activation, net.cost_name)  # noqa: E731
    for params, grads in ((net.W, dW), (net.b, db)):
        for theta, g in zip(params, grads):
            assert g.shape == theta.shape and g.dtype == np.float64
            indices = list(np.ndindex(theta.shape))
            if sample is not None and len(indices) > sample:
                indices = [indices[i] for i in rng.choice(len(indices), size=sample, replace=False)]
            numeric = numeric_gradient(f, theta, indices)
            analytic = np.array([g[idx] for idx in indices])
            # The cost is O(1), so central differences are good to ~1e-10 absolute.
            np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-9)
            scale = np.linalg.norm(analytic) + np.linalg.norm(numeric)
            assert np.linalg.norm(analytic - numeric) < 1e-6 * scale  # relative error of the whole gradient
        assert max(np.abs(g).max() for g in grads) > 1e-4  # the check compared something non-trivial


# -- the gradient: backpropagation against central differences ------------------------------------------

@pytest.mark.parametrize("activation, cost", COMBINATIONS)
@pytest.mark.parametrize("sizes", [(4, 3, 2), (5, 4, 3, 3), (6, 7, 5, 4, 3)])
def test_gradients_equal_central_differences_for_every_parameter(sizes, activation, cost):
    net, X, y, Y = make_case(sizes, activation, cost, m=3)
    check_gradients(net, X, y, Y, rng=None)


@pytest.mark.parametrize("activation, cost", COMBINATIONS)
def test_gradients_equal_central_differences_with_784_inputs(activation, cost):
    net, X, y, Y = make_case((784, 16, 12, 10), activation, cost, m=2)
    check_gradients(net, X, y, Y, rng=np.random.default_rng(0), sample=60)


@pytest.mark.parametrize("activation, cost", COMBINATIONS)
def test_cost_and_backprop_cost_equal_the_reference(activation, cost):
    net, X, y, Y = make_case((6, 5, 4), activation, cost, m=5)
    expected = reference_cost(net.W, net.b, X, Y, activation, cost)
    np.testing.assert_allclose(net.cost(X, y), expected, rtol=1e-12)
    np.testing.assert_allclose(net.cost(X, Y), expected, rtol=1e-12)  # one-hot targets work too
    np.testing.assert_allclose(net.backprop(X, Y)[0], expected, rtol=1e-12)


@pytest.mark.parametrize("activation, cost", COMBINATIONS)
def test_input_gradient_equals_central_differences(activation, cost):
    net, X, y, Y = make_case((6, 5, 4), activation, cost, m=3)
    dX = net.input_gradient(X, y)
    assert dX.shape == X.shape
    f = lambda: reference_cost(net.W, net.b, X, Y, activation, cost)  # noqa: E731
    numeric = numeric_gradient(f, X, list(np.ndindex(X.shape)))
    np.testing.assert_allclose(dX.ravel(), numeric, rtol=1e-6, atol=1e-9)
    assert np.abs(dX).max() > 1e-4


@pytest.mark.parametrize("activation, cost", COMBINATIONS)
def test_input_gradient_of_one_image(activation, cost):
    net, X, y, Y = make_case((784, 10, 10), activation, cost, m=1)
    x = X[0]  # (784,)
    dx = net.input_gradient(x, y)
    assert dx.shape == (784,)
    f = lambda: reference_cost(net.W, net.b, x[None, :], Y, activation, cost)  # noqa: E731
    pixels = list(range(0, 784, 13))
    numeric = numeric_gradient(f, x, pixels)
    np.testing.assert_allclose(dx[pixels], numeric, rtol=1e-6, atol=1e-9)


# -- one step of gradient descent, by hand ------------------------------------------------------------------

def test_one_sgd_step_of_a_3_2_1_sigmoid_network_by_hand():
    net = Network((3, 2, 1), activation="sigmoid", cost="quadratic", seed=0, dtype=np.float64)
    net.W = [np.array([[0.1, -0.2, 0.3], [0.4, 0.5, -0.6]]), np.array([[0.7, -0.8]])]
    net.b = [np.array([0.1, -0.1]), np.array([0.2])]
    x = np.array([[1.0, 0.5, 0.25]])
    y = np.array([[1.0]])  # target for the single output neuron
    eta = 0.5
    s = lambda z: 1.0 / (1.0 + math.exp(-z))  # noqa: E731

    # Forward:
    #   z1 = W0 x + b0 = [0.1 - 0.1 + 0.075 + 0.1, 0.4 + 0.25 - 0.15 - 0.1] = [0.175, 0.4]
    #   a1 = sigma(z1) = [0.5436386872, 0.5986876601]
    #   z2 = 0.7 a1_0 - 0.8 a1_1 + 0.2 = 0.1015969530,  a2 = sigma(z2) = 0.5253774133
    #   C0 = (a2 - 1)^2 = 0.2252665998
    z1 = [0.1 * 1.0 - 0.2 * 0.5 + 0.3 * 0.25 + 0.1, 0.4 * 1.0 + 0.5 * 0.5 - 0.6 * 0.25 - 0.1]
    a1 = [s(z) for z in z1]
    a2 = s(0.7 * a1[0] - 0.8 * a1[1] + 0.2)
    np.testing.assert_allclose(z1, [0.175, 0.4], rtol=1e-14)
    np.testing.assert_allclose([a1[0], a1[1], a2], [0.5436386872, 0.5986876601, 0.5253774133], rtol=1e-9)
    # Backward:
    #   delta2 = 2 (a2 - 1) sigma'(z2) = -0.9492451734 * 0.2493559869 = -0.2366999670
    #   dW1 = delta2 a1 = [-0.1286792593, -0.1417093494],  db1 = delta2
    #   delta1 = W1^T delta2 * sigma'(z1) = [0.7 * -0.2367 * 0.2480956650, -0.8 * -0.2367 * 0.2402607457]
    #          = [-0.0411069650, 0.0454957685]
    #   dW0 = delta1 x^T,  db0 = delta1
    d2 = 2 * (a2 - 1.0) * a2 * (1 - a2)
    d1 = [0.7 * d2 * a1[0] * (1 - a1[0]), -0.8 * d2 * a1[1] * (1 - a1[1])]
    np.testing.assert_allclose([d2, d1[0], d1[1]], [-0.2366999670, -0.0411069650, 0.0454957685], rtol=1e-9)
    # Step W -= eta dW, b -= eta db with eta = 0.5:
    #   W1 = [0.7 + 0.5 * 0.1286792593, -0.8 + 0.5 * 0.1417093494] = [0.7643396297, -0.7291453253]
    #   b1 = 0.2 + 0.5 * 0.2366999670 = 0.3183499835
    #   W0 = [[0.1205534825, -0.1897232587, 0.3051383706], [0.3772521158, 0.4886260579, -0.6056869711]]
    #   b0 = [0.1205534825, -0.1227478842]
    cost = net.step(x, y, eta)

    np.testing.assert_allclose(cost, 0.2252665998, rtol=1e-9)
    np.testing.assert_allclose(net.W[1], [[0.7643396297, -0.7291453253]], rtol=1e-9)
    np.testing.assert_allclose(net.b[1], [0.3183499835], rtol=1e-9)
    np.testing.assert_allclose(net.W[0], [[0.1205534825, -0.1897232587, 0.3051383706],
                                          [0.3772521158, 0.4886260579, -0.6056869711]], rtol=1e-9)
    np.testing.assert_allclose(net.b[0], [0.1205534825, -0.1227478842], rtol=1e-9)
    # The same numbers from the plain-Python arithmetic above, to full precision.
    np.testing.assert_allclose(net.W[1][0], [0.7 - eta * d2 * a1[0], -0.8 - eta * d2 * a1[1]], rtol=1e-13)
    np.testing.assert_allclose(net.W[0], [[w - eta * d * xi for w, xi in zip(row, x[0])]
                                          for row, d in zip([[0.1, -0.2, 0.3], [0.4, 0.5, -0.6]], d1)], rtol=1e-13)


def test_one_sgd_step_of_a_2_2_2_relu_softmax_cross_entropy_network_by_hand():
    net = Network((2, 2, 2), activation="relu", cost="cross-entropy", seed=0, dtype=np.float64)
    net.W = [np.array([[0.5, -0.5], [-0.3, 0.8]]), np.array([[1.0, -1.0], [-0.5, 0.5]])]
    net.b = [np.array([0.1, -0.2]), np.array([0.1, -0.1])]
    x = np.array([[1.0, 0.5]])
    label = np.array([1])  # y = [0, 1]
    eta = 1.0

    # Forward:
    #   z1 = [0.5 - 0.25 + 0.1, -0.3 + 0.4 - 0.2] = [0.35, -0.1];  a1 = relu(z1) = [0.35, 0]
    #   z2 = [0.35 + 0.1, -0.175 - 0.1] = [0.45, -0.275]
    #   a2 = softmax(z2) = [e^0.45, e^-0.275] / (e^0.45 + e^-0.275) = [0.6737070995, 0.3262929005]
    #   C0 = -ln a2_1 = 1.1199598331
    e = [math.exp(0.45), math.exp(-0.275)]
    a2 = [v / sum(e) for v in e]
    np.testing.assert_allclose(a2, [0.6737070995, 0.3262929005], rtol=1e-9)
    # Backward (softmax with cross-entropy): delta2 = a2 - y = [0.6737070995, -0.6737070995]
    #   dW1 = delta2 a1^T = [[0.2357974848, 0], [-0.2357974848, 0]]  (a1_1 = 0: its column gets nothing)
    #   delta1 = W1^T delta2 * relu'(z1) = [1.0 * 0.6737 + (-0.5)(-0.6737), ...] * [1, 0]
    #          = [1.5 * 0.6737070995, 0] = [1.0105606492, 0]   (neuron 1 is off: no gradient)
    d2 = [a2[0], a2[1] - 1.0]
    d1 = 1.0 * d2[0] - 0.5 * d2[1]
    np.testing.assert_allclose(d1, 1.0105606492, rtol=1e-9)
    # Step with eta = 1:
    #   W1 = [[1 - 0.2357974848, -1], [-0.5 + 0.2357974848, 0.5]] = [[0.7642025152, -1], [-0.2642025152, 0.5]]
    #   b1 = [0.1 - 0.6737070995, -0.1 + 0.6737070995] = [-0.5737070995, 0.5737070995]
    #   W0 = [[0.5 - 1.0105606492, -0.5 - 0.5 * 1.0105606492], [-0.3, 0.8]]
    #      = [[-0.5105606492, -1.0052803246], [-0.3, 0.8]]   (row 1: neuron 1 was off)
    #   b0 = [0.1 - 1.0105606492, -0.2] = [-0.9105606492, -0.2]
    cost = net.step(x, label, eta)

    np.testing.assert_allclose(cost, 1.1199598331, rtol=1e-9)
    np.testing.assert_allclose(cost, -math.log(a2[1]), rtol=1e-13)
    np.testing.assert_allclose(net.W[1], [[0.7642025152, -1.0], [-0.2642025152, 0.5]], rtol=1e-9)
    np.testing.assert_allclose(net.b[1], [-0.5737070995, 0.5737070995], rtol=1e-9)
    np.testing.assert_allclose(net.W[0], [[-0.5105606492, -1.0052803246], [-0.3, 0.8]], rtol=1e-9)
    np.testing.assert_allclose(net.b[0], [-0.9105606492, -0.2], rtol=1e-9)
    np.testing.assert_allclose(net.W[0][0], [0.5 - eta * d1 * 1.0, -0.5 - eta * d1 * 0.5], rtol=1e-13)


# -- batches and single examples --------------------------------------------------------------------------

@pytest.mark.parametrize("activation, cost", COMBINATIONS)
def test_batched_backprop_equals_the_mean_of_per_example_backprops(activation, cost):
    net, X, y, Y = make_case((7, 6, 5, 4), activation, cost, m=6)
    total_cost, dW, db = net.backprop(X, Y)
    singles = [net.backprop(X[i:i + 1], Y[i:i + 1]) for i in range(len(X))]
    np.testing.assert_allclose(total_cost, np.mean([s[0] for s in singles]), rtol=1e-12)
    for l in range(len(net.W)):
        np.testing.assert_allclose(dW[l], np.mean([s[1][l] for s in singles], axis=0), rtol=1e-10, atol=1e-15)
        np.testing.assert_allclose(db[l], np.mean([s[2][l] for s in singles], axis=0), rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_of_one_image_equals_its_row_of_the_batch(dtype):
    net = Network((784, 16, 16, 10), seed=5, dtype=dtype)
    X = np.random.default_rng(5).random((8, 784)).astype(dtype)
    batch = net.forward(X)
    one = net.forward(X[3])
    assert len(batch) == len(one) == 4
    assert [a.shape for a in batch] == [(8, 784), (8, 16), (8, 16), (8, 10)]
    assert [a.shape for a in one] == [(784,), (16,), (16,), (10,)]
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    for a_one, a_batch in zip(one, batch):
        assert a_one.dtype == dtype
        np.testing.assert_allclose(a_one, a_batch[3], rtol=rtol, atol=1e-7)
    np.testing.assert_allclose(net.predict_proba(X[3]), net.predict_proba(X)[3], rtol=rtol, atol=1e-7)
    np.testing.assert_allclose(net.predict_proba(X), batch[-1], rtol=rtol, atol=1e-7)
    assert net.predict(X[3]).shape == () and net.predict(X).shape == (8,)
    assert net.predict(X[3]) == net.predict(X)[3]


def test_forward_matches_the_reference_and_outputs_are_probabilities():
    for activation, cost in COMBINATIONS:
        net, X, y, Y = make_case((6, 5, 4), activation, cost, m=4)
        out = net.forward(X)[-1]
        for x, a in zip(X, out):
            np.testing.assert_allclose(a, reference_forward(net.W, net.b, x, activation, cost)[1], rtol=1e-12)
        assert ((out > 0) & (out < 1)).all()
        if cost == "cross-entropy":
            np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-12)


def test_uint8_images_are_scaled_to_0_1():
    net = Network((784, 16, 10), seed=1)
    images = np.random.default_rng(1).integers(0, 256, size=(3, 784), dtype=np.uint8)
    np.testing.assert_allclose(net.predict_proba(images), net.predict_proba(images / 255.0), rtol=1e-6)
    np.testing.assert_allclose(net.forward(images[0])[-1], net.forward(images[0] / 255.0)[-1], rtol=1e-6)


def test_accuracy_is_the_fraction_of_correct_guesses():
    net, X, y, Y = make_case((6, 5, 4), "sigmoid", "cross-entropy", m=12)
    guesses = net.predict(X)
    labels = guesses.copy()
    labels[:3] = (labels[:3] + 1) % 4  # exactly 3 of 12 wrong
    np.testing.assert_allclose(net.accuracy(X, labels), 0.75)
    np.testing.assert_allclose(net.accuracy(X, np.eye(4)[labels]), 0.75)  # one-hot labels too


# -- construction ----------------------------------------------------------------------------------------

def test_the_lessons_network():
    net = Network()
    assert net.sizes == (784, 16, 16, 10)
    assert (net.activation, net.cost_name, net.dtype) == ("sigmoid", "quadratic", np.float32)
    assert net.n_parameters == 13_002  # 784*16 + 16 + 16*16 + 16 + 16*10 + 10
    assert [W.shape for W in net.W] == [(16, 784), (16, 16), (10, 16)]
    assert [b.shape for b in net.b] == [(16,), (16,), (10,)]
    assert all(W.dtype == np.float32 for W in net.W) and all(b.dtype == np.float32 for b in net.b)
    assert isinstance(net.seed, int) and net.seed >= 0  # drawn, and recorded so the run can be repeated


@pytest.mark.parametrize("activation, scale", [("sigmoid", 1 / 28), ("relu", math.sqrt(2 / 784))])
def test_initial_weights_have_the_documented_spread_and_zero_biases(activation, scale):
    net = Network((784, 100, 10), activation=activation, seed=0, dtype=np.float64)
    # 78,400 draws: the sample standard deviation is off by about 1/sqrt(2 * 78400) = 0.25%, so 2% is
    # a wide margin, yet far below the factor sqrt(2) between the sigmoid and ReLU scales.
    np.testing.assert_allclose(net.W[0].std(), scale, rtol=0.02)
    np.testing.assert_allclose(net.W[0].mean(), 0.0, atol=scale * 0.02)
    np.testing.assert_allclose(net.W[1].std(), scale * math.sqrt(784 / 100), rtol=0.1)
    assert all(not b.any() for b in net.b)


def test_same_seed_same_network_different_seed_different_network():
    a, b, c = Network(seed=42), Network(seed=42), Network(seed=43)
    for Wa, Wb, Wc in zip(a.W, b.W, c.W):
        np.testing.assert_array_equal(Wa, Wb)  # bit for bit: the same draws
        assert not np.allclose(Wa, Wc)


def test_copy_is_independent_and_continues_the_same_random_stream():
    net = Network((4, 3, 2), seed=7)
    net.history.append({"epoch": 1})
    other = net.copy()
    other.W[0][0, 0] += 1.0
    other.b[1][0] += 1.0
    other.history[0]["epoch"] = 99
    assert not np.allclose(net.W[0][0, 0], other.W[0][0, 0])
    assert not np.allclose(net.b[1][0], other.b[1][0])
    assert net.history == [{"epoch": 1}]
    np.testing.assert_array_equal(other.rng.permutation(50), net.rng.permutation(50))


def test_step_keeps_float32():
    net = Network((4, 3, 2), seed=0)
    net.step(np.full((2, 4), 0.5), [0, 1], 0.1)
    assert all(W.dtype == np.float32 for W in net.W) and all(b.dtype == np.float32 for b in net.b)


# -- what users can get wrong --------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, names", [
    ({"activation": "tanh"}, "'tanh'"),
    ({"cost": "mse"}, "'mse'"),
    ({"sizes": (784,)}, "(784,)"),
    ({"sizes": (784, 0, 10)}, "0"),
    ({"sizes": (784, 2.5, 10)}, "2.5"),
    ({"sizes": (784, True, 10)}, "True"),
    ({"sizes": 784}, "784"),
    ({"sizes": (784, 1_600_000, 10)}, "1600000"),
    ({"dtype": np.int32}, "int32"),
    ({"dtype": "float16"}, "float16"),
    ({"seed": -1}, "-1"),
    ({"seed": 1.5}, "1.5"),
    ({"seed": "0"}, "'0'"),
])
def test_bad_settings_are_config_errors_naming_the_value(kwargs, names):
    with pytest.raises(ConfigError) as e:
        Network(**kwargs)
    assert names in str(e.value)


@pytest.mark.parametrize("lr", [0, -0.1, float("nan"), float("inf"), "fast", None])
def test_step_rejects_a_bad_learning_rate(lr):
    net = Network((4, 3, 2), seed=0)
    before = [W.copy() for W in net.W]
    with pytest.raises(ConfigError) as e:
        net.step(np.zeros((1, 4)), [0], lr)
    assert repr(lr) in str(e.value)
    for W, W0 in zip(net.W, before):
        np.testing.assert_array_equal(W, W0)


@pytest.mark.parametrize("X, names", [
    (np.zeros(783), "(783,)"),
    (np.zeros((2, 783)), "(2, 783)"),
    (np.zeros((2, 28, 28)), "(2, 28, 28)"),
    (np.zeros((1, 2, 784)), "(1, 2, 784)"),
    (np.zeros(()), "()"),
    (np.array(["a"] * 784), "<U1"),
])
def test_images_of_the_wrong_shape_or_type_are_shape_errors(X, names):
    net = Network(seed=0)
    for call in (net.forward, net.predict, net.predict_proba):
        with pytest.raises(ShapeError) as e:
            call(X)
        assert names in str(e.value)


def test_nan_or_infinite_images_are_shape_errors():
    net = Network(seed=0)
    for bad in (np.nan, np.inf):
        X = np.zeros((3, 784))
        X[1, 100] = bad
        with pytest.raises(ShapeError, match="NaN or infinite"):
            net.predict(X)
        with pytest.raises(ShapeError, match="NaN or infinite"):
            net.gradients(X, [0, 1, 2])


@pytest.mark.parametrize("y, names", [
    ([0, 10, 2], "10"),
    ([0, -1, 2], "-1"),
    ([0, 1], "(2,)"),
    ([0, 1, 2, 3], "(4,)"),
    ([[0, 1, 2]], "(1, 3)"),
    ([0.0, 1.5, 2.0], "1.5"),
    ([0.0, np.nan, 2.0], "nan"),
    (["0", "1", "2"], "<U1"),
])
def test_bad_labels_are_shape_errors_naming_the_value(y, names):
    net = Network((784, 16, 10), seed=0)
    X = np.zeros((3, 784))
    for call in (net.cost, net.gradients, net.input_gradient, net.accuracy):
        with pytest.raises(ShapeError) as e:
            call(X, y)
        assert names in str(e.value)


def test_one_hot_targets_of_the_wrong_shape_or_with_nan_are_shape_errors():
    net = Network((784, 16, 10), seed=0)
    X = np.zeros((3, 784))
    with pytest.raises(ShapeError, match=r"\(3, 10\).*\(3, 9\)"):
        net.gradients(X, np.zeros((3, 9)))
    Y = np.eye(10)[[0, 1, 2]]
    Y[0, 0] = np.nan
    with pytest.raises(ShapeError, match="NaN"):
        net.step(X, Y, 0.1)
    for Y in (np.full((3, 10), "0"), np.full((3, 10), None), np.eye(10)[[0, 1, 2]] + 0j):
        with pytest.raises(ShapeError, match=str(Y.dtype)):
            net.gradients(X, Y)


def test_an_empty_batch_has_no_mean_cost_and_changes_nothing():
    net = Network((4, 3, 2), seed=0)
    before = [a.copy() for a in net.W + net.b]
    X, y = np.zeros((0, 4)), np.zeros(0, dtype=np.int64)
    for call in (net.cost, net.gradients, net.input_gradient, net.accuracy, lambda X, y: net.step(X, y, 0.1)):
        with pytest.raises(ShapeError, match=r"no images \(shape \(0, 4\)\)"):
            call(X, y)
    for a, b in zip(before, net.W + net.b):
        np.testing.assert_array_equal(a, b)  # not NaN: a step on nothing used to divide 0 by 0
    # Predictions for no images are simply empty.
    assert net.predict_proba(X).shape == (0, 2) and net.predict(X).shape == (0,)
    assert [a.shape for a in net.forward(X)] == [(0, 4), (0, 3), (0, 2)]


def test_cross_entropy_takes_soft_targets_that_sum_to_1_and_refuses_others():
    # delta_L = a - y (softmax with cross-entropy) holds when each row of y sums to 1, so
    # label-smoothed targets get the right gradient; other targets would get a wrong one.
    net, X, y, Y = make_case((6, 5, 4), "relu", "cross-entropy", m=3)
    soft = 0.9 * Y + 0.1 / 4
    check_gradients(net, X, soft, soft, rng=None)
    negative = 1.5 * Y - 0.5 * np.roll(Y, 1, axis=1)  # sums to 1, but a probability of -0.5
    for bad, names in ((2 * Y, "sums to 2"), (np.zeros_like(Y), "sums to 0"), (negative, "-0.5")):
        with pytest.raises(ShapeError, match="cross-entropy") as e:
            net.gradients(X, bad)
        assert names in str(e.value)
    # The quadratic cost takes any targets: its delta has no such condition.
    net, X, y, Y = make_case((6, 5, 4), "sigmoid", "quadratic", m=3)
    check_gradients(net, X, 0.5 * Y, 0.5 * Y, rng=None)

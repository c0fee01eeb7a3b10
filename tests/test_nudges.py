"""Each example's nudge is its own gradient (checked by central differences), their average over
the mini-batch is Network.gradients' entry, and the ranked gradient is the batch gradient sorted."""

from __future__ import annotations

import numpy as np
import pytest

from digitnet import Network
from digitnet.errors import ConfigError
from digitnet.nudges import nudges, parameter, ranked_gradient


@pytest.fixture(params=[("sigmoid", "quadratic"), ("relu", "cross-entropy")])
def net(request) -> Network:
    activation, cost = request.param
    return Network((16, 6, 5, 3), activation=activation, cost=cost, seed=3, dtype=np.float64)


def batch(m=8, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((m, 16)), rng.integers(0, 3, m)


def entry(net, grads, p):
    dW, db = grads
    return dW[p.layer][p.row, p.col] if p.kind == "W" else db[p.layer][p.row]


@pytest.mark.parametrize("where", [(0, "W", 2, 7), (1, "W", 4, 0), (2, "W", 1, 3), (0, "b", 5, None),
                                   (2, "b", 2, None)])
def test_the_average_nudge_is_minus_the_batch_gradient_entry(net, where):
    X, y = batch()
    p = parameter(net, *where)
    n = nudges(net, X, y, p)
    np.testing.assert_allclose(n.average, -entry(net, net.gradients(X, y), p), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(n.average, n.nudge.mean())
    for k in range(len(X)):  # each example's wish is the gradient of that example alone
        np.testing.assert_allclose(n.nudge[k], -entry(net, net.gradients(X[k:k + 1], y[k:k + 1]), p),
                                   rtol=1e-12, atol=1e-15)


def test_a_nudge_is_the_slope_of_that_examples_cost(net):
    X, y = batch(4, seed=1)
    p = parameter(net, 1, "W", 3, 2)
    n = nudges(net, X, y, p)
    eps = 1e-5
    for k in range(len(X)):
        plus, minus = net.copy(), net.copy()
        plus.W[1][3, 2] += eps
        minus.W[1][3, 2] -= eps
        slope = (plus.cost(X[k:k + 1], y[k:k + 1]) - minus.cost(X[k:k + 1], y[k:k + 1])) / (2 * eps)
        np.testing.assert_allclose(n.nudge[k], -slope, rtol=1e-5, atol=1e-9)


def test_costs_guesses_and_labels_are_each_examples(net):
    X, y = batch()
    n = nudges(net, X, y, parameter(net, 0, "b", 0))
    np.testing.assert_allclose(n.cost, [net.cost(X[k:k + 1], y[k:k + 1]) for k in range(len(X))])
    np.testing.assert_array_equal(n.guess, net.predict(X))
    np.testing.assert_array_equal(n.label, y)
    assert n.value == net.b[0][0]


def test_parameters_out_of_range_are_refused_by_name(net):
    for args, match in [((3, "W", 0, 0), "layer"), ((0, "x", 0, 0), "kind"), ((0, "W", 6, 0), "row"),
                        ((0, "W", 0, 16), "col"), ((0, "b", 0, 1), "no column")]:
        with pytest.raises(ConfigError, match=match):
            parameter(net, *args)


def test_the_ranked_gradient_is_the_batch_gradient_sorted_by_size(net):
    X, y = batch(10, seed=2)
    r = ranked_gradient(net, X, y, top=25)
    dW, db = net.gradients(X, y)
    flat = np.concatenate([g.ravel() for pair in zip(dW, db) for g in pair])
    assert r.n_parameters == net.n_parameters == len(flat)
    sizes = np.sort(np.abs(flat))[::-1]
    np.testing.assert_allclose([abs(v) for _, v in r.top], sizes[:25])
    for p, v in r.top:  # each entry names the parameter it is the gradient of
        np.testing.assert_allclose(entry(net, (dW, db), p), v, rtol=0, atol=0)
    np.testing.assert_allclose(r.norm, np.linalg.norm(flat))
    np.testing.assert_allclose(r.share[10], (sizes[:10] ** 2).sum() / (flat ** 2).sum())
    assert 0 < r.share[1] <= r.share[10] <= r.share[25] <= 1
    np.testing.assert_array_equal(r.first_layer.reshape(6, 16), dW[0])


def test_the_lessons_network_has_13002_nudges_and_first_layer_images_over_the_digit():
    net = Network(seed=0)
    X = np.random.default_rng(0).random((10, 784)).astype(np.float32)
    r = ranked_gradient(net, X, np.arange(10), top=100)
    assert r.n_parameters == 13_002 and r.first_layer.shape == (16, 28, 28)
    assert set(r.share) == {1, 10, 100, 1000}

"""The cost surface is the network's own cost at the parameters it names: at the origin the cost
on the sample, at any grid point the cost of the network moved there; its directions are the
documented ones; the path is projected onto them."""

from __future__ import annotations

import numpy as np
import pytest

from digitnet import Network
from digitnet.errors import ConfigError
from digitnet.surface import cost_surface, flatten, gradient_directions, path_directions, unflatten


def moved(net: Network, theta: np.ndarray) -> Network:
    other = net.copy()
    W, b = unflatten(net, theta)
    other.W, other.b = [w.copy() for w in W], [v.copy() for v in b]
    return other


@pytest.fixture
def trained(blobs):
    """A small float64 network and its path: the parameters after each of 4 epochs, oldest first."""
    net = Network((20, 7, 5, 3), seed=0, dtype=np.float64)
    path = [flatten(net.W, net.b)]
    for _ in range(4):
        net.fit(blobs["X"], blobs["y"], epochs=1, learning_rate=0.5, engine="numpy")
        path.append(flatten(net.W, net.b))
    return net, path[:-1]


@pytest.mark.parametrize("activation,cost", [("sigmoid", "quadratic"), ("relu", "cross-entropy")])
def test_every_grid_value_is_the_cost_of_the_network_moved_there(blobs, activation, cost):
    net = Network((20, 7, 5, 3), activation=activation, cost=cost, seed=1, dtype=np.float64)
    X, y = blobs["X_test"], blobs["y_test"]
    s = cost_surface(net, X, y, resolution=7, span=0.5, seed=3)
    np.testing.assert_allclose(s.origin_cost, net.cost(X, y), rtol=1e-12)
    d1, d2 = gradient_directions(net, X.astype(np.float64), net.one_hot(y, len(y)), seed=3)
    theta = flatten(net.W, net.b)
    for i, j in [(0, 0), (1, 5), (6, 2), (3, 6)]:
        expected = moved(net, theta + s.alpha[j] * d1 + s.beta[i] * d2).cost(X, y)
        np.testing.assert_allclose(s.cost[i, j], expected, rtol=1e-10)


def test_the_gradient_directions_are_downhill_and_a_filter_normalised_random_one(blobs):
    net = Network((20, 7, 3), seed=2, dtype=np.float64)
    X, y = blobs["X"], blobs["y"]
    d1, d2 = gradient_directions(net, X.astype(np.float64), net.one_hot(y, len(y)), seed=0)
    dW, db = net.gradients(X, y)
    g = flatten(dW, db)
    np.testing.assert_allclose(d1 @ -g / (np.linalg.norm(d1) * np.linalg.norm(g)), 1.0)
    np.testing.assert_allclose(d1 @ d2, 0.0, atol=1e-9 * (d1 @ d1))
    np.testing.assert_allclose(np.linalg.norm(d1), np.linalg.norm(d2))
    # Before it is made orthogonal to d1, each neuron's row of d2 has the length of its row in W:
    # the length of d2 is therefore the length of all of W.
    np.testing.assert_allclose(np.linalg.norm(d2), np.sqrt(sum((W ** 2).sum() for W in net.W)))
    s = cost_surface(net, X, y, resolution=5, span=1e-3)
    mid = 2
    assert s.cost[mid, mid + 1] < s.origin_cost < s.cost[mid, mid - 1]  # downhill along +alpha


def test_the_path_directions_hold_most_of_the_path_and_it_is_projected_on_them(blobs, trained):
    net, path = trained
    s = cost_surface(net, blobs["X_test"], blobs["y_test"], directions="path", path=path, resolution=9)
    theta = flatten(net.W, net.b)
    d1, d2, explained = path_directions(theta, np.array(path))
    np.testing.assert_allclose([np.linalg.norm(d1), np.linalg.norm(d2), d1 @ d2], [1, 1, 0], atol=1e-12)
    M = np.array(path) - theta
    np.testing.assert_allclose(s.path, np.stack([M @ d1, M @ d2], axis=1), atol=1e-9)
    assert s.path[0, 0] < 0 and s.path[0, 1] < 0  # the start lies bottom left
    assert 0.8 < explained <= 1.0 and s.explained == explained
    assert s.alpha[-1] >= np.abs(s.path).max()  # the whole path is on the picture
    np.testing.assert_allclose(s.origin_cost, net.cost(blobs["X_test"], blobs["y_test"]), rtol=1e-12)


def test_float32_networks_give_their_own_cost_at_the_origin(blobs):
    net = Network((20, 7, 3), seed=5)
    s = cost_surface(net, blobs["X"], blobs["y"], resolution=3)
    np.testing.assert_allclose(s.origin_cost, net.cost(blobs["X"], blobs["y"]), rtol=1e-6)


def test_bad_requests_are_refused(blobs, trained):
    net, path = trained
    X, y = blobs["X"], blobs["y"]
    with pytest.raises(ConfigError, match="directions"):
        cost_surface(net, X, y, directions="random")
    with pytest.raises(ConfigError, match="resolution"):
        cost_surface(net, X, y, resolution=500)
    with pytest.raises(ConfigError, match="at least 3 snapshots"):
        cost_surface(net, X, y, directions="path", path=path[:1])
    with pytest.raises(ConfigError, match="span"):
        cost_surface(net, X, y, span=float("nan"))

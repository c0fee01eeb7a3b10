"""Costs: the lesson's quadratic cost (no 1/2), cross-entropy, their output deltas against finite
differences, and finite values at the edges a = 0 and a = 1."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from digitnet.activations import sigmoid, softmax
from digitnet.costs import COSTS, EPS, cross_entropy, cross_entropy_delta, get_cost, quadratic, quadratic_delta
from digitnet.errors import ConfigError


def test_quadratic_cost_is_the_lessons_sum_of_squares_without_a_half():
    a = np.array([[0.2, 0.7, 0.1], [1.0, 0.0, 0.5]])
    y = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    # Row 0: 0.2^2 + 0.3^2 + 0.1^2 = 0.04 + 0.09 + 0.01 = 0.14
    # Row 1: 1^2 + 0^2 + 0.5^2 = 1.25
    np.testing.assert_allclose(quadratic(a, y), [0.14, 1.25], rtol=1e-14)


def test_cross_entropy_cost():
    a = np.array([[0.2, 0.7, 0.1], [0.25, 0.25, 0.5]])
    y = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    np.testing.assert_allclose(cross_entropy(a, y), [-math.log(0.7), math.log(2.0)], rtol=1e-14)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_costs_are_finite_at_a_equal_0_and_1(dtype):
    a = np.array([[0.0, 1.0], [1.0, 0.0], [0.0, 0.0], [1.0, 1.0]], dtype=dtype)
    y = np.array([[0.0, 1.0], [0.0, 1.0], [0.0, 1.0], [0.0, 1.0]], dtype=dtype)
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        q = quadratic(a, y)
        c = cross_entropy(a, y)
    np.testing.assert_allclose(q, [0.0, 2.0, 1.0, 1.0], atol=1e-7)
    # The right answer is 0 wherever the true class has a = 1; where it has a = 0 the cost is
    # large (-ln of the clip EPS) but finite, so a mean over a batch stays a number.
    big = -math.log(EPS)
    np.testing.assert_allclose(c, [0.0, big, big, 0.0], rtol=1e-6, atol=1e-7)
    assert np.isfinite(q).all() and np.isfinite(c).all()


def numeric_delta(C0, output, z, y, eps=1e-5):
    """dC_0/dz by central differences, one z_j at a time: the independent reference."""
    d = np.zeros_like(z)
    for i in range(z.shape[0]):
        for j in range(z.shape[1]):
            zp, zm = z.copy(), z.copy()
            zp[i, j] += eps
            zm[i, j] -= eps
            d[i, j] = (C0(output(zp[i:i + 1]), y[i:i + 1])[0] - C0(output(zm[i:i + 1]), y[i:i + 1])[0]) / (2 * eps)
    return d


def test_quadratic_delta_is_dC_dz_through_a_sigmoid_output():
    rng = np.random.default_rng(3)
    z = rng.normal(0, 2, size=(4, 5))
    y = np.eye(5)[[0, 3, 4, 1]]
    a = sigmoid(z)
    numeric = numeric_delta(quadratic, sigmoid, z, y)
    np.testing.assert_allclose(quadratic_delta(z, a, y), numeric, rtol=1e-7, atol=1e-9)
    # and the formula written out: 2 (a - y) a (1 - a)
    np.testing.assert_allclose(quadratic_delta(z, a, y), 2 * (a - y) * a * (1 - a), rtol=1e-12)


def test_cross_entropy_delta_is_dC_dz_through_a_softmax_output():
    rng = np.random.default_rng(4)
    z = rng.normal(0, 2, size=(4, 5))
    y = np.eye(5)[[2, 2, 0, 4]]
    a = softmax(z)
    numeric = numeric_delta(cross_entropy, softmax, z, y)
    np.testing.assert_allclose(cross_entropy_delta(z, a, y), numeric, rtol=1e-7, atol=1e-9)


def test_each_cost_brings_its_output_activation():
    assert set(COSTS) == {"quadratic", "cross-entropy"}
    q, c = get_cost("quadratic"), get_cost("cross-entropy")
    assert (q.fn, q.delta, q.output, q.output_name) == (quadratic, quadratic_delta, sigmoid, "sigmoid")
    assert (c.fn, c.delta, c.output, c.output_name) == (cross_entropy, cross_entropy_delta, softmax, "softmax")


@pytest.mark.parametrize("name", ["mse", "cross_entropy", "Quadratic", None, {}])
def test_unknown_cost_is_a_config_error_naming_it_and_the_choices(name):
    with pytest.raises(ConfigError) as e:
        get_cost(name)
    assert repr(name) in str(e.value)
    assert "quadratic" in str(e.value) and "cross-entropy" in str(e.value)

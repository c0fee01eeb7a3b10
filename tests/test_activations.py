"""Activations: values against the textbook formulas, derivatives against finite differences,
no overflow at extreme z, dtypes kept, arguments untouched, names looked up safely."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from digitnet.activations import ACTIVATIONS, get_activation, relu, relu_prime, sigmoid, sigmoid_prime, softmax
from digitnet.errors import ConfigError

Z = np.array([-30.0, -12.5, -3.0, -1.0, -0.25, 0.0, 0.1, 0.5, 2.0, 7.0, 30.0])


def test_sigmoid_equals_the_textbook_formula():
    expected = [1.0 / (1.0 + math.exp(-z)) for z in Z]
    # Absolute accuracy: sigmoid is computed through tanh, exact to within rounding of 1.
    np.testing.assert_allclose(sigmoid(Z), expected, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(sigmoid(0.0), 0.5, rtol=1e-15)  # one half: the middle of the S


def test_sigmoid_prime_equals_the_formula_and_central_differences():
    expected = [math.exp(-z) / (1.0 + math.exp(-z)) ** 2 for z in Z]
    np.testing.assert_allclose(sigmoid_prime(Z), expected, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(sigmoid_prime(np.array([0.0])), [0.25], rtol=1e-15)  # sigma'(0) = 1/4
    z, eps = np.linspace(-5, 5, 21), 1e-5
    numeric = (sigmoid(z + eps) - sigmoid(z - eps)) / (2 * eps)
    np.testing.assert_allclose(sigmoid_prime(z), numeric, rtol=1e-9)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_at_plus_minus_1000_is_finite_and_warns_nothing(dtype):
    z = np.array([-1000.0, -100.0, 100.0, 1000.0], dtype=dtype)
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        s = sigmoid(z)
        sp = sigmoid_prime(z)
    assert s.dtype == dtype and sp.dtype == dtype
    np.testing.assert_allclose(s, [0.0, 0.0, 1.0, 1.0], atol=1e-30)
    np.testing.assert_allclose(sp, [0.0, 0.0, 0.0, 0.0], atol=1e-30)


def test_relu_and_its_derivative():
    z = np.array([-2.0, -1e-9, 0.0, 1e-9, 3.5])
    np.testing.assert_allclose(relu(z), [0.0, 0.0, 0.0, 1e-9, 3.5], rtol=0, atol=0)
    # ReLU'(0) is taken as 0 (the kink); a test of gradients keeps z away from it.
    np.testing.assert_allclose(relu_prime(z), [0.0, 0.0, 0.0, 1.0, 1.0], rtol=0, atol=0)
    eps = 1e-6
    away = np.array([-3.0, -0.5, 0.5, 4.0])
    np.testing.assert_allclose(relu_prime(away), (relu(away + eps) - relu(away - eps)) / (2 * eps), rtol=1e-9)


@pytest.mark.parametrize("fn", [sigmoid, sigmoid_prime, relu, relu_prime, softmax])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_activations_keep_dtype_and_shape_and_leave_z_alone(fn, dtype):
    z = np.random.default_rng(0).standard_normal((4, 5)).astype(dtype)
    before = z.copy()
    out = fn(z)
    assert out.dtype == dtype
    assert out.shape == z.shape
    assert out is not z
    np.testing.assert_array_equal(z, before)  # pure functions: the argument is not modified


def test_softmax_equals_the_textbook_formula():
    z = np.array([[1.0, 2.0, 3.0], [-1.0, 0.0, 0.5]])
    expected = [[math.exp(v) / sum(math.exp(u) for u in row) for v in row] for row in z.tolist()]
    np.testing.assert_allclose(softmax(z), expected, rtol=1e-14)
    np.testing.assert_allclose(softmax(z).sum(axis=1), [1.0, 1.0], rtol=1e-15)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_of_large_z_is_finite(dtype):
    z = np.array([[1000.0, 1001.0, 1002.0], [-1000.0, 0.0, 1000.0], [3e4, 3e4, 3e4]], dtype=dtype)
    # Underflow of exp(-2000) to 0 is the right answer; overflow or NaN would be a bug.
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        a = softmax(z)
    assert a.dtype == dtype
    e = [math.exp(-2), math.exp(-1), 1.0]
    np.testing.assert_allclose(a[0], [v / sum(e) for v in e], rtol=1e-6)  # same as softmax([0, 1, 2])
    np.testing.assert_allclose(a[1], [0.0, 0.0, 1.0], atol=1e-30)
    np.testing.assert_allclose(a[2], [1 / 3, 1 / 3, 1 / 3], rtol=1e-6)


def test_activations_are_looked_up_by_name():
    assert set(ACTIVATIONS) == {"sigmoid", "relu"}
    assert get_activation("sigmoid").fn is sigmoid and get_activation("sigmoid").prime is sigmoid_prime
    assert get_activation("relu").fn is relu and get_activation("relu").prime is relu_prime


@pytest.mark.parametrize("name", ["tanh", "Sigmoid", "", None, ["relu"]])
def test_unknown_activation_is_a_config_error_naming_it_and_the_choices(name):
    with pytest.raises(ConfigError) as e:
        get_activation(name)
    assert repr(name) in str(e.value)
    assert "relu" in str(e.value) and "sigmoid" in str(e.value)

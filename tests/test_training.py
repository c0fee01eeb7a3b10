"""The SGD loop: it is the plain algorithm (checked against steps taken by hand), with momentum,
weight decay and learning-rate decay as documented; same seed, same result bit for bit; divergence
and bad settings are reported, never silently trained through; it learns MNIST."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from digitnet import Network
from digitnet.errors import ConfigError, ShapeError, TrainingDiverged

KEYS = {"epoch", "learning_rate", "train_cost", "train_accuracy", "test_cost", "test_accuracy", "seconds"}


def small_net(seed=0, dtype=np.float32, **kwargs) -> Network:
    return Network((20, 8, 3), seed=seed, dtype=dtype, **kwargs)


def batches(order, batch_size):
    return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]


def manual_sgd(net, X, y, epochs, batch_size, eta, mu=0.0, lam=0.0, decay=1.0):
    """SGD written out from the documentation, with Network.gradients for dW, db:
    shuffle with the network's generator, then per mini-batch v = mu v - eta (dW + lam W), W += v
    (biases: no lam), and eta multiplied by ``decay`` after each epoch. Returns the mean costs."""
    vW = [np.zeros_like(W) for W in net.W]
    vb = [np.zeros_like(b) for b in net.b]
    costs = []
    for epoch in range(epochs):
        lr = eta * decay ** epoch
        order = net.rng.permutation(len(X))
        total = 0.0
        for idx in batches(order, batch_size):
            total += net.cost(X[idx], y[idx]) * len(idx)
            dW, db = net.gradients(X[idx], y[idx])
            for l in range(len(net.W)):
                vW[l] = mu * vW[l] - lr * (dW[l] + lam * net.W[l])
                vb[l] = mu * vb[l] - lr * db[l]
                net.W[l] = net.W[l] + vW[l]
                net.b[l] = net.b[l] + vb[l]
        costs.append(total / len(X))
    return costs


def params(net):
    return [a.copy() for a in net.W + net.b]


def assert_same_params(a, b, **tol):
    for p, q in zip(params(a) if isinstance(a, Network) else a, params(b) if isinstance(b, Network) else b):
        if tol:
            np.testing.assert_allclose(p, q, **tol)
        else:
            np.testing.assert_array_equal(p, q)


# -- the algorithm --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("batch_size", [1, 7, 10, 300, 1000])
def test_fit_is_plain_sgd_on_shuffled_mini_batches(blobs, batch_size):
    X, y = blobs["X"].astype(np.float64), blobs["y"]
    net = small_net(dtype=np.float64)
    reference = net.copy()  # same weights and the same random generator, so the same shuffles
    history = net.fit(X, y, epochs=2, batch_size=batch_size, learning_rate=0.7, engine="numpy")
    costs = manual_sgd(reference, X, y, epochs=2, batch_size=batch_size, eta=0.7)
    assert_same_params(net, reference, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose([h["train_cost"] for h in history], costs, rtol=1e-10)


def test_the_default_engine_agrees_with_the_numpy_reference(blobs):
    a, b = small_net(seed=4), small_net(seed=4)
    a.fit(blobs["X"], blobs["y"], epochs=2, learning_rate=0.5, engine="numpy")
    b.fit(blobs["X"], blobs["y"], epochs=2, learning_rate=0.5)
    assert_same_params(a, b, rtol=1e-4, atol=1e-5)  # float32: the order of sums may differ


@pytest.mark.parametrize("mu, lam", [(0.9, 0.0), (0.0, 0.05), (0.5, 0.02)])
def test_momentum_and_weight_decay_follow_the_documented_update(blobs, mu, lam):
    X, y = blobs["X"].astype(np.float64), blobs["y"]
    net = small_net(seed=1, dtype=np.float64, activation="relu", cost="cross-entropy")
    reference = net.copy()
    net.fit(X, y, epochs=2, batch_size=10, learning_rate=0.1, momentum=mu, weight_decay=lam, engine="numpy")
    manual_sgd(reference, X, y, epochs=2, batch_size=10, eta=0.1, mu=mu, lam=lam)
    assert_same_params(net, reference, rtol=1e-9, atol=1e-12)


def test_weight_decay_keeps_the_weights_smaller(blobs):
    plain, decayed = small_net(seed=2), small_net(seed=2)
    plain.fit(blobs["X"], blobs["y"], epochs=4, learning_rate=1.0)
    decayed.fit(blobs["X"], blobs["y"], epochs=4, learning_rate=1.0, weight_decay=0.05)
    for Wp, Wd in zip(plain.W, decayed.W):
        assert np.linalg.norm(Wd) < 0.9 * np.linalg.norm(Wp)


def test_momentum_speeds_up_learning(blobs):
    # With mu = 0.9 the steps add up to about 10x eta: far lower cost after the same epochs
    # (here about 0.19 of plain SGD's).
    kwargs = dict(seed=3, activation="relu", cost="cross-entropy")
    plain, heavy = small_net(**kwargs), small_net(**kwargs)
    plain.fit(blobs["X"], blobs["y"], epochs=2, learning_rate=0.05, engine="numpy")
    heavy.fit(blobs["X"], blobs["y"], epochs=2, learning_rate=0.05, momentum=0.9, engine="numpy")
    assert heavy.history[-1]["train_cost"] < 0.5 * plain.history[-1]["train_cost"]


def test_learning_rate_decay(blobs):
    X, y = blobs["X"].astype(np.float64), blobs["y"]
    net = small_net(seed=5, dtype=np.float64)
    reference = net.copy()
    history = net.fit(X, y, epochs=3, learning_rate=2.0, learning_rate_decay=0.5, engine="numpy")
    np.testing.assert_allclose([h["learning_rate"] for h in history], [2.0, 1.0, 0.5], rtol=1e-15)
    manual_sgd(reference, X, y, epochs=3, batch_size=10, eta=2.0, decay=0.5)
    assert_same_params(net, reference, rtol=1e-10, atol=1e-13)


def test_uint8_images_train_like_their_float_brightnesses(blobs):
    images = np.round(blobs["X"] * 255).astype(np.uint8)
    a, b = small_net(seed=6), small_net(seed=6)
    a.fit(images, blobs["y"], epochs=2, learning_rate=1.0)
    b.fit(images.astype(np.float32) / np.float32(255), blobs["y"], epochs=2, learning_rate=1.0)
    assert_same_params(a, b, rtol=1e-5, atol=1e-6)


# -- the history -------------------------------------------------------------------------------------------------

def test_history_records_every_epoch_and_the_validation(blobs):
    net = small_net(seed=7)
    history = net.fit(blobs["X"], blobs["y"], epochs=3, learning_rate=1.5,
                      validation_data=(blobs["X_test"], blobs["y_test"]))
    assert history is net.history and len(history) == 3
    for i, record in enumerate(history):
        assert set(record) == KEYS
        assert record["epoch"] == i + 1
        np.testing.assert_allclose(record["learning_rate"], 1.5)
        assert np.isfinite(record["train_cost"]) and record["train_cost"] > 0
        assert 0 <= record["train_accuracy"] <= 1 and 0 <= record["test_accuracy"] <= 1
        assert record["seconds"] >= 0
    # The last record's validation describes the network as fit left it (train_* are the epoch's
    # running figures: see the next test).
    last = history[-1]
    np.testing.assert_allclose(last["test_accuracy"], net.accuracy(blobs["X_test"], blobs["y_test"]))
    np.testing.assert_allclose(last["test_cost"], net.cost(blobs["X_test"], blobs["y_test"]), rtol=1e-5)
    # and training learned: three blobs are easy
    assert history[-1]["train_cost"] < history[0]["train_cost"]
    assert last["test_accuracy"] > 0.95


@pytest.mark.parametrize("engine", ["compiled", "numpy"])
@pytest.mark.parametrize("batch_size", [10, 100])  # 100: mini-batches shared among the threads
def test_train_cost_and_accuracy_are_the_epochs_running_figures(blobs, engine, batch_size):
    """train_accuracy is the share of the training examples whose brightest output is their label in
    the forward pass of their own mini-batch's step, before that step, and train_cost the mean of
    those passes' costs (Keras' running figures; no second pass over the training set). Replayed
    independently: the same shuffles, each mini-batch guessed by Network.predict, costed by
    Network.cost, then stepped by Network.step."""
    X, y = blobs["X"], blobs["y"]
    net = small_net(seed=8, dtype=np.float64)
    replay = net.copy()
    history = net.fit(X, y, epochs=3, batch_size=batch_size, learning_rate=1.5, engine=engine)
    for record in history:
        order = replay.rng.permutation(len(X))
        right, cost = 0, 0.0
        for idx in batches(order, batch_size):
            right += int(np.sum(replay.predict(X[idx]) == y[idx]))
            cost += replay.cost(X[idx], y[idx]) * len(idx)
            replay.step(X[idx], y[idx], 1.5)
        assert record["train_accuracy"] == right / len(X)
        np.testing.assert_allclose(record["train_cost"], cost / len(X), rtol=1e-9)
    assert 0.5 < history[0]["train_accuracy"] < history[-1]["train_accuracy"]  # above chance, and learning


def test_history_without_validation_data_has_no_test_figures(blobs):
    record = small_net().fit(blobs["X"], blobs["y"], epochs=1)[0]
    assert record.get("test_cost") is None and record.get("test_accuracy") is None


def test_one_hot_labels_train_like_integer_labels(blobs):
    a, b = small_net(seed=8), small_net(seed=8)
    a.fit(blobs["X"], blobs["y"], epochs=1)
    b.fit(blobs["X"], np.eye(3)[blobs["y"]], epochs=1)
    assert_same_params(a, b)


def test_a_callback_returning_true_stops_training(blobs):
    seen = []

    def stop_after_two(record):
        seen.append(record)
        return record["epoch"] == 2

    net = small_net()
    history = net.fit(blobs["X"], blobs["y"], epochs=10, callback=stop_after_two)
    assert len(history) == 2 and seen == history


def test_a_callback_returning_nothing_lets_training_run(blobs):
    seen = []
    history = small_net().fit(blobs["X"], blobs["y"], epochs=3, callback=seen.append)
    assert len(history) == 3 and seen == history


def test_zero_epochs_changes_nothing(blobs):
    net = small_net()
    before = params(net)
    assert net.fit(blobs["X"], blobs["y"], epochs=0) == []
    assert_same_params(before, net)


# -- reproducibility ---------------------------------------------------------------------------------------------

def test_same_seed_gives_identical_weights_and_byte_identical_model_files(blobs, tmp_path):
    nets = [small_net(seed=21, activation="relu", cost="cross-entropy") for _ in range(3)]
    nets[2] = small_net(seed=22, activation="relu", cost="cross-entropy")
    for net in nets:
        net.fit(blobs["X"], blobs["y"], epochs=3, learning_rate=0.3, momentum=0.5,
                validation_data=(blobs["X_test"], blobs["y_test"]))
    assert_same_params(nets[0], nets[1])  # bit for bit
    for i, net in enumerate(nets):
        net.save(tmp_path / f"{i}.npz")
    assert (tmp_path / "0.npz").read_bytes() == (tmp_path / "1.npz").read_bytes()
    # A different seed: different weights, a different file.
    assert not np.allclose(nets[0].W[0], nets[2].W[0])
    assert (tmp_path / "0.npz").read_bytes() != (tmp_path / "2.npz").read_bytes()


def test_training_in_two_calls_continues_the_same_shuffles(blobs):
    once, twice = small_net(seed=9), small_net(seed=9)
    once.fit(blobs["X"], blobs["y"], epochs=2)
    twice.fit(blobs["X"], blobs["y"], epochs=1)
    twice.fit(blobs["X"], blobs["y"], epochs=1)
    assert_same_params(once, twice)


# -- divergence ----------------------------------------------------------------------------------------------------

def test_divergence_raises_and_keeps_the_last_finite_epoch(blobs):
    net = small_net(seed=0, activation="relu", cost="cross-entropy")
    net.fit(blobs["X"], blobs["y"], epochs=1, learning_rate=0.5)
    after_epoch_1 = params(net)
    rng_state = net.rng.bit_generator.state
    with pytest.raises(TrainingDiverged, match="diverged in epoch 1") as e:
        net.fit(blobs["X"], blobs["y"], epochs=3, learning_rate=1e20)
    assert "1e+20" in str(e.value)  # names the learning rate that was too large
    assert_same_params(after_epoch_1, net)
    assert all(np.isfinite(a).all() for a in net.W + net.b)
    assert len(net.history) == 1
    assert net.rng.bit_generator.state == rng_state
    # The network is usable afterwards: it trains on with a sensible learning rate.
    net.fit(blobs["X"], blobs["y"], epochs=1, learning_rate=0.5)
    assert len(net.history) == 2 and np.isfinite(net.history[-1]["train_cost"])


def test_divergence_is_reported_even_when_numpy_warnings_are_errors(blobs):
    # Overflow on the way to divergence is expected; it must not escape as a RuntimeWarning or
    # FloatingPointError from the middle of an epoch, leaving a half-updated network behind.
    # (Underflow is left at NumPy's default, ignore: exp(-800) = 0 is a right answer.)
    net = small_net(seed=0, activation="relu", cost="cross-entropy")
    before = params(net)
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        with pytest.raises(TrainingDiverged):
            net.fit(blobs["X"], blobs["y"], epochs=2, learning_rate=1e20)
    assert_same_params(before, net)


# -- bad settings and data -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("setting, value", [
    ("learning_rate", 0), ("learning_rate", -1.5), ("learning_rate", float("nan")),
    ("learning_rate", float("inf")), ("learning_rate", "fast"),
    ("batch_size", 0), ("batch_size", -10), ("batch_size", 2.5), ("batch_size", "10"), ("batch_size", True),
    ("epochs", -1), ("epochs", 1.5), ("epochs", "3"),
    ("momentum", 1.0), ("momentum", -0.1), ("momentum", float("nan")),
    ("weight_decay", -0.01), ("weight_decay", float("inf")),
    ("learning_rate_decay", 0.0), ("learning_rate_decay", 1.5),
    ("engine", "gpu"),
])
def test_bad_settings_are_config_errors_naming_the_value(blobs, setting, value):
    net = small_net()
    before = params(net)
    with pytest.raises(ConfigError) as e:
        net.fit(blobs["X"], blobs["y"], **{"epochs": 1, setting: value})
    assert repr(value) in str(e.value)
    assert_same_params(before, net)
    assert net.history == []


@pytest.mark.parametrize("make, names", [
    (lambda X, y: (X[:, :19], y), "(300, 19)"),
    (lambda X, y: (X[0], y), "expected 1 labels"),  # one image, 300 labels
    (lambda X, y: (X.reshape(300, 4, 5), y), "(300, 4, 5)"),
    (lambda X, y: (np.zeros((300, 19), np.uint8), y), "(300, 19)"),
    (lambda X, y: (np.where(np.arange(20) == 7, np.nan, X), y), "NaN"),
    (lambda X, y: (X, np.where(np.arange(300) == 5, 3, y)), "3"),
    (lambda X, y: (X, np.where(np.arange(300) == 5, -1, y)), "-1"),
    (lambda X, y: (X, y[:299]), "(299,)"),
    (lambda X, y: (X[:299], y), "(300,)"),
    (lambda X, y: (X, np.eye(4)[y]), "(300, 4)"),
    (lambda X, y: (X[:0], y[:0]), "no training images"),
])
def test_bad_training_data_is_a_shape_error_naming_it(blobs, make, names):
    X, y = make(np.array(blobs["X"]), np.array(blobs["y"]))
    net = small_net()
    with pytest.raises(ShapeError) as e:
        net.fit(X, y, epochs=1)
    assert names in str(e.value)
    assert net.history == []


@pytest.mark.parametrize("make, error, names", [
    (lambda X, y: (X[:, :10], y), ShapeError, "(150, 10)"),
    (lambda X, y: (X, y[:10]), ShapeError, "(10,)"),
    (lambda X, y: (X, y + 3), ShapeError, "3"),
    (lambda X, y: (X,), ConfigError, "validation"),
    (lambda X, y: X, ConfigError, "validation"),
])
def test_bad_validation_data_is_refused_before_training(blobs, make, error, names):
    net = small_net()
    before = params(net)
    with pytest.raises(error) as e:
        net.fit(blobs["X"], blobs["y"], epochs=1, validation_data=make(blobs["X_test"], blobs["y_test"]))
    assert names in str(e.value)
    assert_same_params(before, net)


# -- MNIST ---------------------------------------------------------------------------------------------------------

def test_the_lessons_network_learns_mnist(mnist):
    # 5000 training images, 3 epochs, the lesson's settings: chance is 10%; this reaches ~87%.
    net = Network((784, 16, 16, 10), seed=0)
    net.fit(mnist["X"], mnist["y"], epochs=3, batch_size=10, learning_rate=1.5)
    assert net.accuracy(mnist["X_test"], mnist["y_test"]) > 0.8


def test_a_huge_learning_rate_on_mnist_diverges_and_keeps_the_network_finite(mnist):
    net = Network((784, 16, 16, 10), activation="relu", cost="cross-entropy", seed=0)
    before = params(net)
    with pytest.raises(TrainingDiverged):
        net.fit(mnist["X"][:1000], mnist["y"][:1000], epochs=2, learning_rate=1e6)
    assert_same_params(before, net)
    assert net.history == []

"""Stepping SGD a chosen number of mini-batches at a time takes exactly the steps of Network.fit:
the same shuffles, the same mini-batches, the same weights bit for bit, with either engine."""

from __future__ import annotations

import numpy as np
import pytest

from digitnet import Network
from digitnet.errors import ConfigError, TrainingDiverged
from digitnet.stepper import Settings, Stepper


def same_bytes(a: Network, b: Network) -> bool:
    return all(p.tobytes() == q.tobytes() for p, q in zip(a.W + a.b, b.W + b.b))


@pytest.mark.parametrize("engine", ["compiled", "numpy"])
@pytest.mark.parametrize("batch_size,momentum", [(10, 0.0), (7, 0.9), (60, 0.0)])
def test_stepping_in_uneven_pieces_gives_fits_weights_bit_for_bit(blobs, engine, batch_size, momentum):
    X, y = blobs["X"], blobs["y"]
    fitted = Network((20, 8, 3), seed=4)
    fitted.fit(X, y, epochs=3, batch_size=batch_size, learning_rate=0.5, momentum=momentum, engine=engine)
    stepped = Network((20, 8, 3), seed=4)
    stepper = Stepper(stepped, X, y, Settings(epochs=3, batch_size=batch_size, learning_rate=0.5,
                                                momentum=momentum, engine=engine))
    pieces = [1, 2, 5, 3, 1]
    i = 0
    while not stepper.done:
        stepper.run(pieces[i % len(pieces)])
        i += 1
    assert stepper.step == stepper.total_steps == 3 * -(-len(X) // batch_size)
    assert same_bytes(fitted, stepped)
    assert fitted.rng.bit_generator.state == stepped.rng.bit_generator.state


def test_the_next_mini_batch_is_fits_slice_of_the_epochs_shuffle(blobs):
    X, y = blobs["X"], blobs["y"]
    net = Network((20, 8, 3), seed=2)
    expected_order = np.random.default_rng(2)
    expected_order.standard_normal((8, 20)), expected_order.standard_normal((3, 8))  # the initial weights' draws
    order = expected_order.permutation(len(X))
    stepper = Stepper(net, X, y, Settings(epochs=1, batch_size=10))
    np.testing.assert_array_equal(stepper.batch(), order[:10])
    stepper.run(3)
    np.testing.assert_array_equal(stepper.batch(), order[30:40])


def test_a_step_is_the_lessons_step_on_that_mini_batch(blobs):
    X, y = blobs["X"].astype(np.float64), blobs["y"]
    net = Network((20, 8, 3), seed=1, dtype=np.float64)
    stepper = Stepper(net, X, y, Settings(epochs=1, batch_size=10, learning_rate=0.5, engine="numpy"))
    idx = stepper.batch()
    by_hand = net.copy()
    cost = by_hand.step(X[idx], y[idx], 0.5)  # W -= eta dW on the same mini-batch
    stepper.run(1)
    assert same_bytes(net, by_hand)
    np.testing.assert_allclose(stepper.last_cost, cost)


def test_run_stops_at_the_end_of_each_epoch_and_the_position_counts_epochs(blobs):
    X, y = blobs["X"], blobs["y"]
    stepper = Stepper(Network((20, 8, 3), seed=0), X, y, Settings(epochs=2, batch_size=100))
    assert stepper.run(10) == 3 and stepper.epoch == 1 and stepper.position == 1.0
    assert stepper.run(1) == 1 and stepper.position == pytest.approx(4 / 3)
    assert stepper.run(10) == 2 and stepper.done and stepper.run(5) == 0
    with pytest.raises(ConfigError, match="over"):
        stepper.batch()


def test_bad_steps_and_settings_are_refused(blobs):
    X, y = blobs["X"], blobs["y"]
    stepper = Stepper(Network((20, 8, 3), seed=0), X, y, Settings(epochs=1))
    for bad in (-1, 1.5, True):
        with pytest.raises(ConfigError, match="steps"):
            stepper.run(bad)
    with pytest.raises(ConfigError, match="step to"):
        stepper.run_to(10_000)
    with pytest.raises(ConfigError, match="batch size"):
        Settings(batch_size=0)
    with pytest.raises(ConfigError, match="engine"):
        Settings(engine="gpu")


def test_divergence_is_reported(blobs):
    X, y = blobs["X"], blobs["y"]
    stepper = Stepper(Network((20, 8, 3), activation="relu", cost="cross-entropy", seed=0), X, y,
                      Settings(epochs=1, learning_rate=1e30))
    with pytest.raises(TrainingDiverged, match="smaller"):
        stepper.run(30)


def test_a_weight_changed_between_two_calls_is_trained_from_not_the_engines_old_copy(blobs):
    from digitnet import engine
    from digitnet.training import SGD

    X, y = blobs["X"], blobs["y"]
    results = []
    for keep in ({}, None):
        net = Network((20, 8, 3), seed=1)
        opt = SGD(0.5)
        opt.init_state(net)
        Y = net.one_hot(y, len(y))
        run = engine.select("compiled")
        run(net, X, Y, np.arange(100), 10, opt, None, keep)
        net.W[0][2, 3] += 1.0  # as a learner's edit, or a loaded network, would
        run(net, X, Y, np.arange(100, 200), 10, opt, None, keep)
        results.append(net)
    assert same_bytes(*results)


@pytest.mark.parametrize("engine", ["compiled", "numpy"])
def test_the_costs_within_one_call_are_each_stretchs_mini_batches_cost_before_their_steps(blobs, engine):
    """run(within=True) reports the cost of stretches of its mini-batches (each one's mean over its
    examples, before its step, as an independent stepping one mini-batch at a time sees them),
    with the same weights bit for bit as without."""
    X, y = blobs["X"], blobs["y"]
    settings = Settings(epochs=2, batch_size=7, learning_rate=0.5, engine=engine)
    one = Stepper(Network((20, 8, 3), seed=4), X, y, settings)
    whole = Stepper(Network((20, 8, 3), seed=4), X, y, settings)
    assert whole.run(40, within=True) == 40
    assert 1 < len(whole.last_costs) <= 20 and whole.last_costs[-1][0] == 40
    per_batch = []
    while one.step < 40:
        one.run(1)
        per_batch.append((one.step, one.last_cost))
    start = 0
    for end, cost in whole.last_costs:
        stretch = [c for s, c in per_batch if start < s <= end]
        np.testing.assert_allclose(cost, np.mean(stretch), rtol=1e-5)
        start = end
    assert same_bytes(one.net, whole.net)
    whole.run(3)
    assert whole.last_costs == []  # only when asked for

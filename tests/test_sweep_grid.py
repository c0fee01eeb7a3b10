"""The trials of a sweep: the grid's product, random draws within their ranges, TOML specs, errors."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from digitnet.errors import ConfigError
from digitnet.sweep import grid


def test_the_grid_is_the_product_of_the_values_and_the_rest_are_train_s_defaults() -> None:
    trials = grid.trials(grid.values_of({"hidden": ["16,16", "32"], "learning_rate": ["0.5", "1.5", "3"],
                                         "seed": ["0", "1"]}))
    assert len(trials) == 12
    assert {t["hidden"] for t in trials} == {(16, 16), (32,)}
    assert {t["learning_rate"] for t in trials} == {0.5, 1.5, 3.0}
    assert all(t["epochs"] == 30 and t["batch_size"] == 10 and t["limit"] is None for t in trials)
    assert len({grid.trial_id(t) for t in trials}) == 12


def test_random_draws_stay_in_their_ranges_are_seeded_and_cross_every_seed() -> None:
    values = grid.values_of({"learning_rate": ["0.01:3:log"], "batch_size": ["10:100"], "seed": ["0", "1", "2"]})
    trials = grid.trials(values, random=20, random_seed=4)
    assert len(trials) == 60
    rates = [t["learning_rate"] for t in trials]
    assert all(0.01 <= r <= 3 for r in rates) and all(10 <= t["batch_size"] <= 100 for t in trials)
    assert min(rates) < 0.1 < max(rates)  # log-uniform: a tenth of the draws below 0.036 on average
    assert all(isinstance(t["batch_size"], int) for t in trials)
    assert trials == grid.trials(values, random=20, random_seed=4)  # the same command, the same trials
    assert all(math.isfinite(r) for r in rates)


def test_a_spec_file_gives_the_same_trials_as_the_options(tmp_path: Path) -> None:
    spec = tmp_path / "sweep.toml"
    spec.write_text('[sweep]\nhidden = ["16,16", [32]]\nlearning_rate = [0.5, 1.5]\nepochs = 3\n')
    from_spec = grid.trials(grid.values_of(grid.read_spec(spec)))
    from_options = grid.trials(grid.values_of({"hidden": ["16,16", "32"], "learning_rate": ["0.5", "1.5"],
                                               "epochs": ["3"]}))
    assert [grid.trial_id(t) for t in from_spec] == [grid.trial_id(t) for t in from_options]


@pytest.mark.parametrize("given, message", [
    ({"learning_rate": ["0.01:3"]}, "needs --random"),
    ({"learning_rate": ["3:1"]}, "LOW < HIGH"),
    ({"activation": ["tanh"]}, "sigmoid, relu"),
    ({"hidden": ["16,0"]}, ">= 1"),
    ({"epochs": ["2.5"]}, "whole number"),
])
def test_bad_values_are_config_errors_naming_the_option(given: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        grid.trials(grid.values_of(given))


def test_the_trials_with_the_most_work_are_submitted_first() -> None:
    """Epochs x images x weights, the biggest first, so that a sweep does not end on a long trial alone."""
    import numpy as np

    from digitnet.run import TrainingData
    from digitnet.sweep.runner import longest_first

    data = TrainingData(np.zeros((1000, 784), np.uint8), np.zeros(1000, np.int64), np.zeros((10, 784), np.float32),
                        np.zeros(10, np.int64), tuple("0123456789"))
    todo = grid.trials(grid.values_of({"hidden": ["8", "64", "16,16"], "epochs": [1, 3], "limit": [None, 100]}))
    ordered = longest_first(todo, data)

    def work(s: dict) -> int:
        sizes = [784, *s["hidden"], 10]
        return s["epochs"] * (s["limit"] or 1000) * sum(a * b for a, b in zip(sizes, sizes[1:]))

    assert sorted(map(grid.trial_id, ordered)) == sorted(map(grid.trial_id, todo))  # the same trials
    assert [work(s) for s in ordered] == sorted((work(s) for s in todo), reverse=True)
    assert ordered[0]["hidden"] == (64,) and ordered[0]["epochs"] == 3 and ordered[0]["limit"] is None
    same = grid.trials(grid.values_of({"seed": ["0", "1", "2"]}))
    assert longest_first(same, data) == same  # equal work: the sweep's own order

"""DigitNetClassifier: scikit-learn's own estimator checks, and the same training as digitnet's."""

from __future__ import annotations

import importlib
import importlib.util
import os
from pathlib import Path

# scikit-learn's array-API check runs only when SciPy was imported with this set; it then checks
# that the classifier works, unchanged, with array-API dispatch switched on.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from digitnet import Network  # noqa: E402


def _require(name: str):
    """The optional module ``name``; in CI (CI=true) its absence is a failure, locally a visible skip."""
    if os.environ.get("CI") == "true":
        return importlib.import_module(name)
    return pytest.importorskip(name, reason=f"{name} is not installed (pip install 'digitnet[sklearn]')")


_require("sklearn")

from sklearn.base import clone  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from digitnet.sklearn import DigitNetClassifier  # noqa: E402

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


@parametrize_with_checks([
    DigitNetClassifier(),  # the lesson's settings
    DigitNetClassifier(hidden_layer_sizes=8, activation="relu", cost="cross-entropy", learning_rate=0.1,
                       momentum=0.9, weight_decay=1e-4, epochs=20, random_state=3),
])
def test_passes_scikit_learns_estimator_checks(estimator, check):
    check(estimator)


def test_sizes_the_network_from_the_data_and_keeps_string_labels(blobs):
    labels = np.array(["cat", "dog", "emu"])
    clf = DigitNetClassifier(hidden_layer_sizes=(7,), epochs=15, random_state=0)
    clf.fit(blobs["X"], labels[blobs["y"]])
    assert clf.network_.sizes == (20, 7, 3) and clf.n_features_in_ == 20
    np.testing.assert_array_equal(clf.classes_, labels)
    assert clf.n_iter_ == 15 and len(clf.network_.history) == 15
    # predict is the brightest output neuron, named by classes_
    np.testing.assert_array_equal(clf.predict(blobs["X_test"]), labels[clf.network_.predict(blobs["X_test"])])
    assert clf.score(blobs["X_test"], labels[blobs["y_test"]]) > 0.9


def test_predict_proba_is_the_output_layer_normalised(blobs):
    for cost in ("quadratic", "cross-entropy"):
        clf = DigitNetClassifier(cost=cost, epochs=3, random_state=1).fit(blobs["X"], blobs["y"])
        a = clf.network_.predict_proba(blobs["X_test"])  # (150, 3)
        expected = a if cost == "cross-entropy" else a / a.sum(axis=1, keepdims=True)
        np.testing.assert_allclose(clf.predict_proba(blobs["X_test"]), expected, rtol=1e-12)
        np.testing.assert_allclose(clf.predict_proba(blobs["X_test"]).sum(axis=1), 1.0, rtol=1e-12)


def test_trains_exactly_as_digitnet_does(blobs):
    """Same seed and settings: the classifier's network equals a digitnet Network trained directly."""
    settings = dict(epochs=4, batch_size=7, learning_rate=0.8, momentum=0.5, weight_decay=1e-3)
    clf = DigitNetClassifier(hidden_layer_sizes=(9, 5), activation="relu", cost="cross-entropy",
                             dtype="float32", random_state=11, **settings).fit(blobs["X"], blobs["y"])
    net = Network((20, 9, 5, 3), "relu", "cross-entropy", seed=11, dtype=np.float32)
    net.fit(blobs["X"], blobs["y"], **settings)
    for W_clf, W_net in zip(clf.network_.W + clf.network_.b, net.W + net.b):
        np.testing.assert_array_equal(W_clf, W_net)


def test_partial_fit_epoch_by_epoch_equals_fit(blobs):
    clf = DigitNetClassifier(epochs=3, momentum=0.9, learning_rate=0.3, learning_rate_decay=0.9, random_state=2)
    clf.fit(blobs["X"], blobs["y"])
    step = clone(clf)
    for _ in range(3):
        step.partial_fit(blobs["X"], blobs["y"], classes=[0, 1, 2])
    assert step.n_iter_ == 3
    for W_fit, W_step in zip(clf.network_.W + clf.network_.b, step.network_.W + step.network_.b):
        np.testing.assert_array_equal(W_fit, W_step)


def test_partial_fit_needs_every_class_first_and_no_new_ones_later(blobs):
    clf = DigitNetClassifier(random_state=0)
    with pytest.raises(ValueError, match="classes"):
        clf.partial_fit(blobs["X"], blobs["y"])
    clf.partial_fit(blobs["X"][:5], blobs["y"][:5], classes=[0, 1, 2, 3])
    assert clf.network_.sizes[-1] == 4
    with pytest.raises(ValueError, match="not among the classes"):
        clf.partial_fit(blobs["X"][:5], np.full(5, 7))
    with pytest.raises(ValueError, match="features"):
        clf.partial_fit(blobs["X"][:5, :10], blobs["y"][:5])


def test_reads_pixels_as_given_so_scale_them_first(mnist):
    """On MNIST (brightnesses in [0, 1]) the lesson's network learns; uint8 would not be divided by 255."""
    clf = DigitNetClassifier(epochs=3, dtype="float32", random_state=0)
    clf.fit(mnist["X"][:3000], mnist["y"][:3000])
    assert clf.network_.sizes == (784, 16, 16, 10)
    assert clf.score(mnist["X_test"][:2000], mnist["y_test"][:2000]) > 0.75
    pixels = (mnist["X_test"][:5] * 255).round().astype(np.uint8)
    as_given = clf.network_.predict_proba(pixels.astype(np.float32))  # not divided by 255
    np.testing.assert_allclose(clf.predict_proba(pixels), as_given / as_given.sum(axis=1, keepdims=True), rtol=1e-6)


@pytest.mark.slow  # trains for real
def test_the_pipeline_example_runs_on_a_small_subset(capsys):
    spec = importlib.util.spec_from_file_location("sklearn_pipeline", EXAMPLES / "sklearn_pipeline.py")
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    search = example.main(["--train", "600", "--test", "1000", "--epochs", "3"])
    out = capsys.readouterr().out
    assert "test accuracy" in out and len(search.cv_results_["params"]) == 8
    assert search.best_score_ > 0.5  # 10 classes: chance is 0.1
    assert search.best_estimator_.named_steps["net"].n_features_in_ in (50, 784)

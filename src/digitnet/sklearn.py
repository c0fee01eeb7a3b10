"""digitnet as a scikit-learn classifier: the lesson's network behind fit / predict / score.

    from digitnet.sklearn import DigitNetClassifier
    clf = DigitNetClassifier(hidden_layer_sizes=(16, 16), epochs=30, random_state=0)
    clf.fit(X_train, y_train).score(X_test, y_test)

The network is sized by the data: its input layer has one neuron per feature (``n_features_in_``)
and its output layer one neuron per class (``classes_``, any labels: numbers or strings), so
``hidden_layer_sizes=(16, 16)`` on MNIST gives the lesson's 784-16-16-10. Training is digitnet's
SGD (``digitnet.training.fit``) and the fitted ``digitnet.Network`` is ``network_``.

Where scikit-learn's conventions differ from the rest of digitnet:

- Features are taken as given: uint8 pixels are not divided by 255 here, since a scikit-learn
  estimator cannot tell an image from a count. Scale them first (``X / 255``, or a scaler in a
  Pipeline).
- The default dtype is float64, as in scikit-learn, so predictions on any subset of rows equal
  the predictions on all of them to the last digit; ``dtype="float32"`` trains about twice as fast.
- ``predict_proba`` must give rows that sum to 1. With the cross-entropy cost the softmax output
  already does; with the lesson's quadratic cost the sigmoid outputs are divided by their sum.

This module needs scikit-learn (``pip install 'digitnet[sklearn]'``).
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, check_random_state, validate_data

from .network import Network
from .optimizer import SGD
from .settings import TrainingSettings
from .training import fit as train

__all__ = ["DigitNetClassifier"]


class DigitNetClassifier(ClassifierMixin, BaseEstimator):
    """A digitnet network trained by stochastic gradient descent, as a scikit-learn classifier.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(16, 16)
        Neurons in each hidden layer (an int for one hidden layer). The input and output layers
        come from the data: ``(n_features_in_, *hidden_layer_sizes, n_classes)``.
    activation : {"sigmoid", "relu"}, default="sigmoid"
        The hidden layers' activation sigma.
    cost : {"quadratic", "cross-entropy"}, default="quadratic"
        The lesson's C_0 = sum_j (a_j - y_j)^2 with a sigmoid output layer, or cross-entropy with
        a softmax output layer.
    epochs : int, default=30
        Passes over the training data in ``fit`` (``partial_fit`` makes one pass per call).
    batch_size : int, default=10
        Examples per mini-batch, one gradient step each.
    learning_rate : float, default=1.5
        eta in W -= eta dW.
    momentum : float, default=0.0
        mu in v = mu v - eta dW; W += v (0 is plain SGD).
    weight_decay : float, default=0.0
        lambda of the L2 penalty lambda/2 |W|^2.
    learning_rate_decay : float, default=1.0
        eta is multiplied by this after every epoch.
    dtype : {"float64", "float32"}, default="float64"
        The network's floating-point type.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights and the shuffling. An int n >= 0 gives the same network as
        ``digitnet.Network(sizes, seed=n)``.

    Attributes
    ----------
    network_ : digitnet.Network
        The trained network; its ``history`` holds one record per epoch.
    classes_ : ndarray of shape (n_classes,)
        The class labels; output neuron j stands for ``classes_[j]``.
    n_features_in_ : int
        Features seen in ``fit``: the size of the input layer.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Column names, when X was a DataFrame with string column names.
    n_iter_ : int
        Epochs trained so far.
    """

    def __init__(
        self,
        hidden_layer_sizes: Any = (16, 16),
        activation: str = "sigmoid",
        cost: str = "quadratic",
        epochs: int = 30,
        batch_size: int = 10,
        learning_rate: float = 1.5,
        momentum: float = 0.0,
        weight_decay: float = 0.0,
        learning_rate_decay: float = 1.0,
        dtype: str = "float64",
        random_state: Any = None,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.cost = cost
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.learning_rate_decay = learning_rate_decay
        self.dtype = dtype
        self.random_state = random_state

    # -- training -------------------------------------------------------------------------------

    def fit(self, X: Any, y: Any) -> DigitNetClassifier:
        """Build a new network for X (n_samples, n_features) and labels y (n_samples,), train it
        for ``epochs`` epochs, and return self."""
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32])
        check_classification_targets(y)
        self.classes_, labels = np.unique(y, return_inverse=True)
        self._start()
        self._train(X, labels, self.epochs)
        return self

    def partial_fit(self, X: Any, y: Any, classes: Any = None) -> DigitNetClassifier:
        """One epoch of SGD over (X, y), continuing from the network so far; returns self.

        The first call builds the network and needs ``classes``, every label that will ever be
        seen (one output neuron each); later calls may leave it out.
        """
        first = not hasattr(self, "network_")
        X, y = validate_data(self, X, y, dtype=[np.float64, np.float32], reset=first)
        check_classification_targets(y)
        if first:
            if classes is None:
                raise ValueError(
                    "the first call to partial_fit needs classes=, every label the data can have "
                    "(the network gets one output neuron per class), e.g. classes=np.unique(y_all)"
                )
            self.classes_ = np.unique(np.asarray(classes))
            self._start()
        elif classes is not None and not np.array_equal(np.unique(np.asarray(classes)), self.classes_):
            raise ValueError(f"classes={classes!r} differ from the classes of the first call, {self.classes_!r}")
        unknown = np.setdiff1d(y, self.classes_)
        if unknown.size:
            raise ValueError(f"labels {unknown!r} are not among the classes {self.classes_!r} given to partial_fit")
        labels = np.searchsorted(self.classes_, y)
        self._train(X, labels, self.n_iter_ + 1)
        return self

    def _start(self) -> None:
        """A fresh network (n_features_in_, *hidden_layer_sizes, n_classes) and optimiser state."""
        hidden = self.hidden_layer_sizes
        hidden = (hidden,) if isinstance(hidden, numbers.Integral) else tuple(hidden)
        self.network_ = Network(
            (self.n_features_in_, *hidden, len(self.classes_)),
            activation=self.activation,
            cost=self.cost,
            seed=_seed(self.random_state),
            dtype=self.dtype,
        )
        self._optimizer = SGD.from_settings(self._settings(self.epochs))
        self.n_iter_ = 0

    def _settings(self, epochs: int) -> TrainingSettings:
        """The estimator's parameters as digitnet's training settings (checked here, at fit time)."""
        return TrainingSettings(epochs, self.batch_size, self.learning_rate, self.momentum, self.weight_decay,
                                self.learning_rate_decay)

    def _train(self, X: np.ndarray, labels: np.ndarray, until_epoch: int) -> None:
        """Train network_ from epoch n_iter_ to until_epoch (labels are class indices)."""
        history = train(self.network_, X, labels, self._settings(until_epoch), start_epoch=self.n_iter_,
                        optimizer=self._optimizer)
        self.n_iter_ = len(history)

    # -- predicting ------------------------------------------------------------------------------

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities (n_samples, n_classes): the output layer, rows summing to 1."""
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        a = self.network_.predict_proba(X)  # (m, n_classes)
        if self.network_.cost_function.output_activation.sums_to_one:
            return a  # a softmax: already sums to 1
        total = a.sum(axis=1, keepdims=True)  # (m, 1)
        # Sigmoids can all round to 0 far from the data: then no class is preferred.
        return np.divide(a, total, out=np.full_like(a, 1.0 / a.shape[1]), where=total > 0)

    def predict(self, X: Any) -> np.ndarray:
        """The label of the brightest output neuron for each row of X: (n_samples,)."""
        proba = self.predict_proba(X)  # checks that the classifier is fitted
        return self.classes_[np.argmax(proba, axis=1)]


def _seed(random_state: Any) -> int | None:
    """A digitnet seed from scikit-learn's random_state: None, an int, or a RandomState to draw from."""
    if random_state is None:
        return None
    if isinstance(random_state, numbers.Integral) and int(random_state) >= 0:
        return int(random_state)
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))

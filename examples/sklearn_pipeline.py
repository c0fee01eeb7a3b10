"""digitnet inside scikit-learn: a Pipeline whose settings GridSearchCV chooses by cross-validation.

    pip install 'digitnet[sklearn]'
    python examples/sklearn_pipeline.py                 # 10,000 training images, ~2 minutes
    python examples/sklearn_pipeline.py --train 2000 --epochs 5

The pipeline turns MNIST's uint8 pixels into brightnesses in [0, 1] (the lesson's input
activations), optionally projects them onto their first principal components (the network's
input layer then has that many neurons instead of 784), and trains the lesson's network on
them. GridSearchCV tries each combination of settings with 3-fold cross-validation, refits the
best one on all the training images and scores it on the 10,000 test images.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import numpy as np
from sklearn.decomposition import PCA
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from digitnet.data import load_mnist_uint8
from digitnet.sklearn import DigitNetClassifier


def brightness(pixels: np.ndarray) -> np.ndarray:
    """uint8 pixels 0-255 -> brightnesses in [0, 1], as the lesson's input layer reads them."""
    return np.asarray(pixels, dtype=np.float32) / 255.0


def build_search(epochs: int, seed: int = 0, n_jobs: int | None = None) -> GridSearchCV:
    """The pipeline (pixels -> brightness -> [PCA] -> network) and the grid of settings to try."""
    pipeline = Pipeline([
        ("brightness", FunctionTransformer(brightness)),
        ("pca", "passthrough"),
        ("net", DigitNetClassifier(epochs=epochs, random_state=seed)),
    ])
    grid = {
        "pca": ["passthrough", PCA(n_components=50, random_state=seed)],
        "net__hidden_layer_sizes": [(16, 16), (64,)],
        "net__learning_rate": [0.5, 1.5],
    }
    return GridSearchCV(pipeline, grid, cv=3, n_jobs=n_jobs)


def main(argv: Sequence[str] | None = None) -> GridSearchCV:
    """Run the search on the first --train images; print the best settings and the test accuracy."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--train", type=int, default=10_000, help="training images to use (default 10000)")
    parser.add_argument("--test", type=int, default=10_000, help="test images to score on (default 10000)")
    parser.add_argument("--epochs", type=int, default=10, help="epochs per fit (default 10)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=None, help="fits to run in parallel (default 1)")
    args = parser.parse_args(argv)

    X, y = load_mnist_uint8("train")
    X_test, y_test = load_mnist_uint8("test")
    X, y = X[:args.train], y[:args.train]
    X_test, y_test = X_test[:args.test], y_test[:args.test]

    search = build_search(args.epochs, args.seed, args.jobs)
    search.fit(X, y)
    for params, score in zip(search.cv_results_["params"], search.cv_results_["mean_test_score"]):
        pca = "784 pixels" if params["pca"] == "passthrough" else f"PCA {params['pca'].n_components}"
        print(f"  {pca:>11}, hidden {params['net__hidden_layer_sizes']!s:>8}, "
              f"eta {params['net__learning_rate']}: cross-validated accuracy {score:.3f}")
    net = search.best_estimator_.named_steps["net"].network_
    print(f"best: {search.best_params_} (network {'-'.join(map(str, net.sizes))})")
    print(f"test accuracy: {search.score(X_test, y_test):.4f} on {len(X_test):,} images")
    return search


if __name__ == "__main__":
    main()

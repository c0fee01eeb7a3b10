"""How closely onnxruntime, running digitnet's ONNX export, gives digitnet's outputs on MNIST's test set.

For random networks of several shapes, and the lesson's network trained 30 epochs (the lesson's plain
SGD, the defaults of ``Network.fit``): the largest |onnxruntime - digitnet| over the 10,000 test
images' outputs, and on how many images the two guess the same digit; for the trained network, also
the largest weight and how far each float32 forward pass is from a float64 computation of the same
network. Writes docs/figures/onnx.json for scripts/readme_figures.py.

    pip install '.[onnx]' && python benchmarks/onnx_agreement.py
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
NETWORKS = [  # (sizes, activation, cost): the README's rows, random weights
    ((784, 16, 16, 10), "sigmoid", "quadratic"),
    ((784, 100, 10), "sigmoid", "cross-entropy"),
    ((784, 30, 10), "relu", "quadratic"),
    ((784, 300, 100, 10), "relu", "cross-entropy"),
]
NAMES = {"relu": "ReLU", "sigmoid": "sigmoid"}


def float64_outputs(net, X: np.ndarray) -> np.ndarray:
    """A sigmoid network's outputs in float64 from its own weights, layer by layer: a' = sigma(W a + b)."""
    a = X.astype(np.float64)
    for W, b in zip(net.W, net.b):
        a = 1 / (1 + np.exp(-(a @ W.astype(np.float64).T + b.astype(np.float64))))
    return a


def agreement(net, X: np.ndarray, tmp: Path) -> tuple[float, int, np.ndarray]:
    """(largest |onnxruntime - digitnet|, images guessed alike, onnxruntime's outputs)."""
    import onnxruntime as ort

    net.to_onnx(tmp / "model.onnx")
    session = ort.InferenceSession(str(tmp / "model.onnx"), providers=["CPUExecutionProvider"])
    (out,) = session.run(["probabilities"], {"image": X})
    ours = net.predict_proba(X)
    return float(np.max(np.abs(out - ours))), int(np.sum(out.argmax(1) == ours.argmax(1))), out


def main() -> int:
    from digitnet import Network
    from digitnet.data import load_mnist

    X, y = load_mnist("train")
    X_test, y_test = load_mnist("test")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for sizes, activation, cost in NETWORKS:
            net = Network(sizes, activation, cost, seed=0, dtype=np.float32)
            worst, same, _ = agreement(net, X_test, Path(tmp))
            name = f"{'-'.join(map(str, sizes))} {NAMES[activation]}, {cost} (random weights)"
            rows.append([name, f"{worst:.1e}", f"{same:,} of {len(X_test):,}"])
            print(rows[-1], flush=True)
        net = Network((784, 16, 16, 10), seed=0, dtype=np.float32)
        net.fit(X, y, epochs=30)
        worst, same, out = agreement(net, X_test, Path(tmp))
        exact = float64_outputs(net, X_test)
        accuracy = net.accuracy(X_test, y_test)
        rows.append([f"784-16-16-10 sigmoid, quadratic, trained 30 epochs ({100 * accuracy:.1f}%)",
                     f"{worst:.1e}", f"{same:,} of {len(X_test):,}"])
        print(rows[-1], flush=True)
    note = (f"the trained network's largest weight is {np.max([np.abs(W).max() for W in net.W]):.0f} in size; "
            f"its float32 outputs are {np.max(np.abs(net.predict_proba(X_test) - exact)):.1e} (digitnet) and "
            f"{np.max(np.abs(out - exact)):.1e} (onnxruntime) from a float64 computation of the same network")
    result = {"machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
              "date": datetime.date.today().isoformat(), "command": "python benchmarks/onnx_agreement.py",
              "note": note, "columns": ["network", "max \\|onnxruntime - digitnet\\|", "same guesses"], "rows": rows}
    path = ROOT / "docs" / "figures" / "onnx.json"
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

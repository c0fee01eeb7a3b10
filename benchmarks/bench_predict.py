"""Benchmark: does Network.predict_proba need the compiled engine? NumPy's feedforward against the engine.

The lesson's 784-16-16-10 network (float32, seed 0) predicts the MNIST test digits as stored (uint8):
one image and all 10,000, through ``engine._predict_proba_numpy`` (Network.feedforward) and
``engine._predict_proba_compiled`` (the compiled kernel, on its threads). The figure is the median
of the timed repeats, after a warm-up call (so compiling is not counted).

    python benchmarks/bench_predict.py            # writes benchmarks/results/predict.json
"""

from __future__ import annotations

import argparse
import datetime
import json
import statistics
import time
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).parent


def median_ms(f: Any, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        f()
        times.append(time.perf_counter() - started)
    return 1000 * statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(HERE / "results" / "predict.json"))
    args = parser.parse_args()

    from bench_training import machine

    import digitnet
    from digitnet import engine

    net = digitnet.Network((784, 16, 16, 10), seed=0)
    X, _ = digitnet.data.load_mnist_uint8("test")
    rows: list[dict[str, Any]] = []
    for m, repeats in ((1, 5000), (len(X), 200)):
        Xm = X[:m]
        np.testing.assert_allclose(engine._predict_proba_numpy(net, Xm), engine._predict_proba_compiled(net, Xm),
                                   rtol=1e-4, atol=1e-6)  # the same answer, and the kernel compiled
        row = {"images": m,
               "numpy_ms": median_ms(partial(engine._predict_proba_numpy, net, Xm), repeats),
               "engine_ms": median_ms(partial(engine._predict_proba_compiled, net, Xm), repeats),
               "predict_proba_ms": median_ms(partial(net.predict_proba, Xm), repeats)}
        rows.append(row)
        print(f"{m:>6} images: numpy {row['numpy_ms']:.3f} ms, engine {row['engine_ms']:.3f} ms, "
              f"Network.predict_proba {row['predict_proba_ms']:.3f} ms")
    report = {"machine": machine(), "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
              "network": "784-16-16-10 sigmoid, quadratic cost, float32, uint8 MNIST test images", "rows": rows}
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()

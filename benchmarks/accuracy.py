"""Train the README's networks with `digitnet train` and write their test accuracy and time.

Each row is one whole `digitnet train` process (so its time includes start-up and loading the
data; the engine is compiled before the first row). Accuracies are deterministic; times depend on
how busy the machine is. Writes docs/figures/accuracy.json for scripts/readme_figures.py; with
``--fashion``, the Fashion-MNIST table (docs/figures/fashion.json), with how many shirts and
trousers each network gets right.

    python benchmarks/accuracy.py
    python benchmarks/accuracy.py --fashion   # needs Debian's dataset-fashion-mnist
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = [
    ("the lesson's 784-16-16-10, sigmoid, quadratic cost (the default)", ""),
    ("the same, plain SGD at a constant rate (the lesson as told)", "--lr-decay 1 --weight-decay 0"),
    ("the same sizes, cross-entropy cost (softmax outputs)",
     "--cost cross-entropy --learning-rate 0.5 --lr-decay 0.96 --weight-decay 1e-4 --epochs 60"),
    ("784-128-64-10, ReLU, cross-entropy, momentum",
     "--hidden 128,64 --activation relu --cost cross-entropy --batch-size 20 --learning-rate 0.05 --momentum 0.9 "
     "--lr-decay 0.9 --weight-decay 1e-4"),
]

FASHION = Path("/usr/share/datasets/fashion-mnist")
FASHION_RUNS = [
    ("784-16-16-10 sigmoid, quadratic, eta 1.5 (the lesson's, the defaults)", "", [0, 1, 2]),
    ("784-100-10 sigmoid, quadratic, eta 1.5", "--hidden 100", [0]),
    ("784-100-10 sigmoid, quadratic, eta 0.3", "--hidden 100 --learning-rate 0.3", [0]),
    ("784-100-10 sigmoid, cross-entropy, eta 0.1", "--hidden 100 --cost cross-entropy --learning-rate 0.1", [0]),
    ("784-100-10 ReLU, cross-entropy, eta 0.05",
     "--hidden 100 --activation relu --cost cross-entropy --learning-rate 0.05", [0]),
    ("784-300-100-10 ReLU, cross-entropy, eta 0.05",
     "--hidden 300,100 --activation relu --cost cross-entropy --learning-rate 0.05", [0]),
]
SHIRT, TROUSER = 6, 1  # Fashion-MNIST's class numbers


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:  # Linux names the CPU model
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}"


def train(options: str, out: Path) -> float:
    """Run one whole `digitnet train` process with ``options``; its wall time in seconds."""
    argv = [sys.executable, "-m", "digitnet", "train", *options.split(), "-q", "--out", str(out)]
    start = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True)
    return time.perf_counter() - start


def fashion() -> int:
    """The Fashion-MNIST table: test accuracy per seed, and shirts and trousers right."""
    from digitnet import Network
    from digitnet.data import load_mnist
    from digitnet.evaluation import evaluate

    X_test, y_test = load_mnist("test", data_dir=str(FASHION))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "m.npz"
        for network, options, seeds in FASHION_RUNS:
            accuracies, shirts, trousers = [], [], []
            for seed in seeds:
                train(f"--data {FASHION} --seed {seed} {options}", out)
                result = evaluate(Network.load(out), X_test, y_test)
                accuracies.append(f"{100 * result.accuracy:.2f}%")
                shirts.append(f"{100 * (result.per_class[SHIRT][1] or 0):.0f}%")
                trousers.append(f"{100 * (result.per_class[TROUSER][1] or 0):.0f}%")
            command = f"`{options}`" if options else "*(none)*"
            if len(seeds) > 1:
                command += ", seeds " + ", ".join(map(str, seeds))
            rows.append([network, command, ", ".join(accuracies), ", ".join(shirts), ", ".join(trousers)])
            print(rows[-1], flush=True)
    return write("fashion", {
        "command": "python benchmarks/accuracy.py --fashion",
        "note": "30 epochs on Fashion-MNIST's 60,000 training images, mini-batches of 10, judged on its 10,000 "
                "test images (Debian's dataset-fashion-mnist); deterministic",
        "columns": ["network", "command options", "test accuracy", "shirts right", "trousers right"],
        "rows": rows})


def write(name: str, result: dict) -> int:
    result = {"machine": machine(), "date": datetime.date.today().isoformat(), **result}
    path = ROOT / "docs" / "figures" / f"{name}.json"
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {path}")
    return 0


def main() -> int:
    from digitnet import Network

    if sys.argv[1:] == ["--fashion"]:
        return fashion()

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "m.npz"
        for i, (network, options) in enumerate([RUNS[0], *RUNS]):
            seconds = train(options, out)
            if i == 0:
                continue  # compiles the engine (once): not a figure
            accuracy = Network.load(out).history[-1]["test_accuracy"]
            command = f"`digitnet train {options}`" if options else "`digitnet train`"
            rows.append([network, command, f"**{100 * accuracy:.2f}%**", f"{seconds:.1f} s"])
            print(rows[-1], flush=True)
    return write("accuracy", {
        "command": "python benchmarks/accuracy.py",
        "note": "the bundled MNIST; accuracies are deterministic, times are whole processes on a machine shared "
                "with other work, so they vary with its load",
        "columns": ["network", "command", "test accuracy", "time (whole process)"], "rows": rows})


if __name__ == "__main__":
    sys.exit(main())

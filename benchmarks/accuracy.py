"""Train the README's networks with `digitnet train` and write their test accuracy and time.

Each row is one whole `digitnet train` process (so its time includes start-up and loading the
data; the engine is compiled before the first row). Accuracies are deterministic; times depend on
how busy the machine is. Writes docs/figures/accuracy.json for scripts/readme_figures.py.

    python benchmarks/accuracy.py
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


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:  # Linux names the CPU model
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}"


def main() -> int:
    from digitnet import Network

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "m.npz"
        for i, (network, options) in enumerate([RUNS[0], *RUNS]):
            argv = [sys.executable, "-m", "digitnet", "train", *options.split(), "-q", "--out", str(out)]
            start = time.perf_counter()
            subprocess.run(argv, check=True, capture_output=True)
            seconds = time.perf_counter() - start
            if i == 0:
                continue  # compiles the engine (once): not a figure
            accuracy = Network.load(out).history[-1]["test_accuracy"]
            command = f"`digitnet train {options}`" if options else "`digitnet train`"
            rows.append([network, command, f"**{100 * accuracy:.2f}%**", f"{seconds:.1f} s"])
            print(rows[-1], flush=True)
    result = {"machine": machine(), "date": datetime.date.today().isoformat(),
              "command": "python benchmarks/accuracy.py",
              "note": "the bundled MNIST; accuracies are deterministic, times are whole processes on a machine shared "
                      "with other work, so they vary with its load",
              "columns": ["network", "command", "test accuracy", "time (whole process)"], "rows": rows}
    path = ROOT / "docs" / "figures" / "accuracy.json"
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

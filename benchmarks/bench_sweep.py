"""Trials per minute: a sweep on the local Dask cluster against the same trials one after another.

    PYTHONPATH=src python benchmarks/bench_sweep.py [--trials 24] [--epochs 30] [--limit N]

The serial run calls digitnet.sweep.trial.run_trial in this process (one thread, as each worker
trains); the sweep runs digitnet.sweep.run with its defaults (one worker per core). The overhead per trial is the sweep's wall time on
the cluster minus the trials' own training seconds (as measured on the workers), per trial and
worker. Writes benchmarks/results/bench_sweep.json with the machine and date.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=24, help="trials (seeds of the 16-16 network)")
    parser.add_argument("--epochs", type=int, default=30, help="epochs per trial (default: the lesson's 30)")
    parser.add_argument("--limit", type=int, default=None, help="training images per trial (default: all 60,000)")
    parser.add_argument("--json", default=str(HERE / "results" / "bench_sweep.json"))
    args = parser.parse_args()

    from digitnet import run as training_run
    from digitnet.sweep import grid, run, trial
    from digitnet.sweep.runner import cores

    values = grid.values_of({"seed": [str(s) for s in range(args.trials)], "epochs": args.epochs,
                             "limit": args.limit})
    settings = grid.trials(values)
    for s in settings:
        s["data"] = None
    data = training_run.load_data(None)
    trial.run_trial({**settings[0], "seed": 10_000}, data)  # warm the engine (and its disk cache)

    started = time.perf_counter()
    for s in settings:
        trial.run_trial(s, data)
    serial = time.perf_counter() - started

    with tempfile.TemporaryDirectory() as tmp:
        kwargs = {"seed": [s["seed"] for s in settings], "epochs": args.epochs, "limit": args.limit}
        run(Path(tmp) / "warm.db", seed=[10_000, 10_001], epochs=1, limit=100, progress=False)  # workers' cache
        started = time.perf_counter()
        rows = run(Path(tmp) / "bench.db", progress=False, **kwargs)
        swept = time.perf_counter() - started
    records = rows.to_dict("records") if hasattr(rows, "to_dict") else rows
    workers = cores()
    training = sum(r["seconds"] for r in records)
    result = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "trials": len(settings), "epochs": args.epochs, "limit": args.limit, "workers": workers,
        "serial_seconds": round(serial, 2), "sweep_seconds": round(swept, 2),
        "serial_trials_per_minute": round(60 * len(settings) / serial, 1),
        "sweep_trials_per_minute": round(60 * len(settings) / swept, 1),
        "speedup": round(serial / swept, 2),
        "overhead_seconds_per_trial": round((swept * workers - training) / len(settings), 3),
        "note": "the sweep's time includes starting the local cluster and scattering the data",
    }
    print(json.dumps(result, indent=2))
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()

"""Trials per minute: a sweep on the local Dask cluster against the same trials one after another.

    PYTHONPATH=src python benchmarks/bench_sweep.py [--trials 8] [--rounds 3] [--epochs 30] [--limit N]

Each round runs the same ``--trials`` trials twice: one after another in this process (calling
digitnet.sweep.trial.run_trial, on one thread as each worker trains), and as a sweep,
digitnet.sweep.run, on a local cluster of one worker per core (its client, the scatter of the data
and the database included). The two alternate, round after round, in turns (AB, BA, ...), so that a
machine whose speed drifts over minutes slows both alike; the speedup is the median of the rounds'
own ratios. The cluster is started once, and its start is reported apart. The overhead per trial is
the sweep's wall time times its workers, less the trials' own seconds on the workers. Writes
benchmarks/results/bench_sweep.json with the machine and date.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def serially(settings: list[dict[str, Any]], data: Any) -> float:
    """Seconds to run the trials one after another in this process."""
    from digitnet.sweep import trial

    started = time.perf_counter()
    for s in settings:
        trial.run_trial({**s, "data": None}, data)
    return time.perf_counter() - started


def swept(db: Path, address: str, seeds: list[int], epochs: int, limit: int | None) -> tuple[float, float]:
    """Seconds of the same trials as a sweep on the cluster at ``address``, and the trials' own seconds."""
    from digitnet.sweep import run

    started = time.perf_counter()
    rows = run(db, scheduler=address, seed=seeds, epochs=epochs, limit=limit, progress=False)
    seconds = time.perf_counter() - started
    records: list[dict[str, Any]] = rows.to_dict("records") if hasattr(rows, "to_dict") else rows
    assert all(r["status"] == "done" for r in records), records
    return seconds, sum(r["seconds"] for r in records)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=8, help="trials per round (seeds of the 16-16 network)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=30, help="epochs per trial (default: the lesson's 30)")
    parser.add_argument("--limit", type=int, default=None, help="training images per trial (default: all 60,000)")
    parser.add_argument("--json", default=str(HERE / "results" / "bench_sweep.json"))
    args = parser.parse_args()

    from digitnet import run as training_run
    from digitnet.sweep import grid, run, trial
    from digitnet.sweep.runner import cores, dask_client

    data = training_run.load_data(None)
    workers = cores()
    serial_s: list[float] = []
    sweep_s: list[float] = []
    training = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        with dask_client(None, workers) as client:
            start_s = time.perf_counter() - started
            address = client.scheduler.address
            run(Path(tmp) / "warm.db", scheduler=address, seed=[10_000, 10_001], epochs=1, limit=100, progress=False)
            trial.run_trial({**grid.trials(grid.values_of({"seed": ["10000"], "epochs": 1, "limit": 100}))[0],
                             "data": None}, data)  # this process warm too
            for r in range(args.rounds):
                seeds = [r * args.trials + s for s in range(args.trials)]
                settings = grid.trials(grid.values_of({"seed": [str(s) for s in seeds], "epochs": args.epochs,
                                                       "limit": args.limit}))
                for arm in (("serial", "sweep") if r % 2 == 0 else ("sweep", "serial")):
                    if arm == "serial":
                        serial_s.append(serially(settings, data))
                    else:
                        seconds, own = swept(Path(tmp) / f"round{r}.db", address, seeds, args.epochs, args.limit)
                        sweep_s.append(seconds)
                        training += own
    trials = args.rounds * args.trials
    ratios = [s / w for s, w in zip(serial_s, sweep_s)]
    result = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "trials": trials, "rounds": args.rounds, "epochs": args.epochs, "limit": args.limit, "workers": workers,
        "load_average_1min": round(os.getloadavg()[0], 2),
        "serial_seconds": [round(s, 2) for s in serial_s], "sweep_seconds": [round(s, 2) for s in sweep_s],
        "cluster_start_seconds": round(start_s, 2),
        "serial_trials_per_minute": round(60 * trials / sum(serial_s), 1),
        "sweep_trials_per_minute": round(60 * trials / sum(sweep_s), 1),
        "speedup": round(statistics.median(ratios), 2), "speedup_by_round": [round(x, 2) for x in ratios],
        "overhead_seconds_per_trial": round((sum(sweep_s) * workers - training) / trials, 3),
        "note": f"{args.rounds} rounds of {args.trials} trials, the two ways in turns, the median of the rounds' "
                f"ratios; the sweep's time includes its client, the data's scatter and the database, not the "
                f"cluster's start ({start_s:.1f} s, once)",
    }
    print(json.dumps(result, indent=2))
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()

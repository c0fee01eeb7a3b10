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


def serially(settings: list[dict[str, Any]], data: Any) -> tuple[float, float]:
    """Seconds to run the trials one after another in this process, and this thread's CPU seconds."""
    from digitnet.sweep import trial

    started, cpu = time.perf_counter(), time.thread_time()
    for s in settings:
        trial.run_trial({**s, "data": None}, data)
    return time.perf_counter() - started, time.thread_time() - cpu


def swept(db: Path, address: str, seeds: list[int], epochs: int, limit: int | None,
          workers: list[Any]) -> tuple[float, float, float]:
    """Seconds of the same trials as a sweep on the cluster at ``address``, the trials' own seconds,
    and the CPU seconds of the ``workers`` (psutil processes) meanwhile."""
    from digitnet.sweep import run

    started, cpu = time.perf_counter(), _cpu(workers)
    rows = run(db, scheduler=address, seed=seeds, epochs=epochs, limit=limit, progress=False)
    seconds, cpu = time.perf_counter() - started, _cpu(workers) - cpu
    records: list[dict[str, Any]] = rows.to_dict("records") if hasattr(rows, "to_dict") else rows
    assert all(r["status"] == "done" for r in records), records
    return seconds, sum(r["seconds"] for r in records), cpu


def _cpu(processes: list[Any]) -> float:
    """The CPU seconds (user and system) the processes have used so far."""
    return sum(t.user + t.system for t in (p.cpu_times() for p in processes))


def _others(own: list[Any]) -> float:
    """The CPU seconds the machine has spent so far on other work than the processes ``own``."""
    import psutil

    t = psutil.cpu_times()
    busy = sum(getattr(t, name, 0.0) for name in ("user", "nice", "system", "irq", "softirq", "steal"))
    return busy - _cpu(own)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=8, help="trials per round (seeds of the 16-16 network)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=30, help="epochs per trial (default: the lesson's 30)")
    parser.add_argument("--limit", type=int, default=None, help="training images per trial (default: all 60,000)")
    parser.add_argument("--json", default=str(HERE / "results" / "bench_sweep.json"))
    args = parser.parse_args()

    import psutil  # a dependency of distributed

    from digitnet import run as training_run
    from digitnet.sweep import grid, run, trial
    from digitnet.sweep.runner import cores, dask_client

    load_at_start = os.getloadavg()[0]  # other work on the machine slows the sweep's two workers more
    data = training_run.load_data(None)
    workers = cores()
    serial_s: list[float] = []
    sweep_s: list[float] = []
    serial_cpu = sweep_cpu = training = 0.0
    others: dict[str, float] = {"serial": 0.0, "sweep": 0.0}  # CPU seconds of other work during each way
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        with dask_client(None, workers) as client:
            start_s = time.perf_counter() - started
            address = client.scheduler.address
            processes = [psutil.Process(pid) for pid in client.run(os.getpid).values()]
            own = [psutil.Process(), *processes]  # this process holds the scheduler and the nannies too
            run(Path(tmp) / "warm.db", scheduler=address, seed=[10_000, 10_001], epochs=1, limit=100, progress=False)
            trial.run_trial({**grid.trials(grid.values_of({"seed": ["10000"], "epochs": 1, "limit": 100}))[0],
                             "data": None}, data)  # this process warm too
            for r in range(args.rounds):
                seeds = [r * args.trials + s for s in range(args.trials)]
                settings = grid.trials(grid.values_of({"seed": [str(s) for s in seeds], "epochs": args.epochs,
                                                       "limit": args.limit}))
                for arm in (("serial", "sweep") if r % 2 == 0 else ("sweep", "serial")):
                    other_cpu = _others(own)
                    if arm == "serial":
                        seconds, cpu = serially(settings, data)
                        serial_s.append(seconds)
                        serial_cpu += cpu
                    else:
                        seconds, own_seconds, cpu = swept(Path(tmp) / f"round{r}.db", address, seeds,
                                                          args.epochs, args.limit, processes)
                        sweep_s.append(seconds)
                        training += own_seconds
                        sweep_cpu += cpu
                    others[arm] += _others(own) - other_cpu
    trials = args.rounds * args.trials
    ratios = [s / w for s, w in zip(serial_s, sweep_s)]
    result = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "trials": trials, "rounds": args.rounds, "epochs": args.epochs, "limit": args.limit, "workers": workers,
        "load_average_1min_at_start": round(load_at_start, 2), "load_average_1min": round(os.getloadavg()[0], 2),
        "serial_seconds": [round(s, 2) for s in serial_s], "sweep_seconds": [round(s, 2) for s in sweep_s],
        "cluster_start_seconds": round(start_s, 2),
        "serial_trials_per_minute": round(60 * trials / sum(serial_s), 1),
        "sweep_trials_per_minute": round(60 * trials / sum(sweep_s), 1),
        "speedup": round(statistics.median(ratios), 2), "speedup_by_round": [round(x, 2) for x in ratios],
        "overhead_seconds_per_trial": round((sum(sweep_s) * workers - training) / trials, 3),
        "serial_cpu_seconds_per_trial": round(serial_cpu / trials, 3),
        "worker_cpu_seconds_per_trial": round(sweep_cpu / trials, 3),
        "other_work_cores": {"serial": round(max(0.0, others["serial"] / sum(serial_s)), 2),  # none: a hair below 0
                             "sweep": round(max(0.0, others["sweep"] / sum(sweep_s)), 2)},
        "note": f"{args.rounds} rounds of {args.trials} trials, the two ways in turns, the median of the rounds' "
                f"ratios; the sweep's time includes its client, the data's scatter and the database, not the "
                f"cluster's start ({start_s:.1f} s, once)",
    }
    print(json.dumps(result, indent=2))
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()

"""``digitnet sweep``: many trainings at once on a Dask cluster, their results in a SQLite file.

    digitnet sweep --hidden 16,16 32 64,32 --learning-rate 0.5 1.5 3 --batch-size 10 100 \\
                   --seed 0 1 2 --epochs 10 --out sweep.db
    digitnet sweep --random 50 --learning-rate 0.01:3:log --hidden 16 32 64 --out random.db
    digitnet sweep --spec sweep.toml --scheduler tcp://HOST:8786
    digitnet sweep sweep.db --top 10

Every option of ``digitnet train`` takes one or more values; the sweep trains their product (or,
with ``--random N``, N draws). Running the same command again finishes what is missing.
"""

from __future__ import annotations

import argparse
import signal
from typing import Any

from ..run import DEFAULTS
from ..words import plural
from ._common import READ_FILE, WRITE_DIR, WRITE_FILE, add_data_option

# `--save-models` given without a directory: DB's name + "-models". Not a string, so that argparse
# does not check it as a path (an empty one is refused).
DEFAULT_MODELS_DIR = object()

# The options of `digitnet train` that a sweep varies: (option, setting, help).
OPTIONS = [
    ("--hidden", "hidden", "hidden layer sizes, e.g. 16,16 32 64,32 (three networks)"),
    ("--activation", "activation", "sigmoid and/or relu"),
    ("--cost", "cost", "quadratic and/or cross-entropy"),
    ("--epochs", "epochs", "passes over the training data"),
    ("--batch-size", "batch_size", "examples per mini-batch"),
    ("--learning-rate", "learning_rate", "step sizes eta, or a range LOW:HIGH[:log] with --random"),
    ("--momentum", "momentum", "momentum mu"),
    ("--weight-decay", "weight_decay", "L2 weight decay lambda"),
    ("--lr-decay", "learning_rate_decay", "learning-rate factor per epoch"),
    ("--seed", "seed", "random seeds (the spread over seeds is the luck of the draw)"),
    ("--dtype", "dtype", "float32 and/or float64"),
    ("--engine", "engine", "auto, compiled or numpy"),
    ("--limit", "limit", "train on the first N training images only"),
]


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "sweep", help="train many networks at once on a Dask cluster; results in SQLite",
        description="Train every combination of the given settings (each option of `digitnet train` may take "
                    "several values) on a Dask cluster: a local one by default, one worker per core. Results go "
                    "to a SQLite file as trials finish; running the same command again finishes what is missing.")
    p.add_argument("db", nargs="?", default=None, metavar="DB", type=WRITE_FILE,
                   help="the sweep database (same as --out)")
    p.add_argument("-o", "--out", default=None, type=WRITE_FILE, help="the SQLite file of results (default: sweep.db)")
    for option, setting, text in OPTIONS:
        default = DEFAULTS.get(setting, "auto" if setting == "engine" else "all")
        if isinstance(default, tuple):
            default = ",".join(map(str, default))
        p.add_argument(option, dest=setting, nargs="+", default=None, metavar="V",
                       help=f"{text} (default: {default}, as for train)")
    add_data_option(p)
    p.add_argument("--random", type=int, default=None, metavar="N",
                   help="draw N combinations (each with every --seed) instead of the whole grid")
    p.add_argument("--random-seed", type=int, default=None, metavar="N", help="seed of the --random draws (default: 0)")
    p.add_argument("--spec", metavar="FILE", default=None, type=READ_FILE,
                   help="a TOML file with the settings under [sweep]; options given here override it")
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT", default=None,
                   help="run on this existing Dask cluster (default: start a local one)")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="local cluster: worker processes (default: one per core)")
    p.add_argument("--save-models", nargs="?", const=DEFAULT_MODELS_DIR, default=None, metavar="DIR", type=WRITE_DIR,
                   help="keep each trial's model file in DIR (default DIR: DB name + -models)")
    p.add_argument("--retry-failed", action="store_true", help="run failed trials again (diverged ones stay)")
    p.add_argument("--top", type=int, default=None, metavar="N", help="print the N best trials of DB and stop")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..errors import ConfigError

    if args.db and args.out and args.db != args.out:
        raise ConfigError(f"two databases given, {args.db} and --out {args.out}; give one")
    out = args.db or args.out or "sweep.db"
    if args.top is not None:
        return _print_top(out, args.top)
    given: dict[str, Any] = {}
    if args.spec:
        from ..sweep.grid import read_spec

        given = read_spec(args.spec)
    given.update({setting: getattr(args, setting) for _, setting, _ in OPTIONS if getattr(args, setting) is not None})
    for name, value in (("data", args.data), ("random", args.random), ("random_seed", args.random_seed)):
        if value is not None:
            given[name] = value
    save_models = None
    if args.save_models is not None:
        save_models = (args.save_models if args.save_models is not DEFAULT_MODELS_DIR
                       else (out[:-3] if out.endswith(".db") else out) + "-models")
    return _sweep(out, given, args, save_models)


def _sweep(out: str, given: dict[str, Any], args: argparse.Namespace, save_models: str | None) -> int:
    from .. import sweep

    def on_sigterm(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, on_sigterm)  # `kill`: stop like Ctrl-C, shutting the cluster down
    try:
        rows = sweep.run(out, scheduler=args.scheduler, workers=args.workers, save_models=save_models,
                         retry_failed=args.retry_failed, progress=not args.quiet, **given)
    except KeyboardInterrupt:
        print(f"interrupted: finished trials are in {out}; run the same command again to do the rest")
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)
    records = rows.to_dict("records") if hasattr(rows, "to_dict") else rows
    states = {s: sum(r["status"] == s for r in records) for s in ("done", "diverged", "failed")}
    print(f"{plural(len(records), 'trial')} in {out}: " + ", ".join(f"{n} {s}" for s, n in states.items()))
    if records:
        _print_top(out, 5)
    return 0


def _print_top(path: str, n: int) -> int:
    """Print the ``n`` best finished trials of the sweep database ``path`` as a table."""
    from ..errors import ConfigError
    from ..sweep import db

    if n < 1:
        raise ConfigError(f"--top must be >= 1, got {n}")
    con = db.connect(path, create=False)
    try:
        best, counts = db.top(con, n), db.counts(con)
    finally:
        con.close()
    print(f"{path}: " + ", ".join(f"{counts[s]} {s}" for s in sorted(counts)))
    header = f"{'accuracy':>8}  {'cost':>7}  {'hidden':<10} {'act':<7} {'cost fn':<13} {'eta':>7} {'batch':>5} " \
             f"{'epochs':>6} {'seed':>4} {'params':>7} {'seconds':>7}  id"
    print(header)
    for r in best:
        print(f"{100 * r['test_accuracy']:7.2f}%  {r['test_cost']:7.4f}  {r['hidden']:<10} {r['activation']:<7} "
              f"{r['cost']:<13} {r['learning_rate']:7.3g} {r['batch_size']:>5} {r['epochs']:>6} {r['seed']:>4} "
              f"{r['n_parameters']:>7} {r['seconds']:7.1f}  {r['id']}")
    return 0

"""Running a sweep on Dask distributed: a local cluster by default, or an existing one.

The client loads the training data once and scatters it to every worker (broadcast), then submits
one task per trial still to do. Each worker is a long-lived process, reused by all its trials.
Results are written to the database as they arrive; a task whose worker is lost is rerun elsewhere by the scheduler, and
the database records each trial once (db.record updates only a pending row).
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .. import run as training_run
from ..errors import ConfigError, DigitNetError
from ..words import plural
from . import db, grid
from .trial import run_trial


class MissingDask(DigitNetError, ImportError):
    """Dask distributed is not installed."""


def import_distributed() -> Any:
    """The distributed module, or MissingDask saying how to install it."""
    try:
        import distributed
    except ImportError:
        raise MissingDask("digitnet sweep runs on Dask distributed, which is not installed; "
                          "install it with: pip install 'digitnet[sweep]'") from None
    return distributed


def cores() -> int:
    """The cores this process may use: the local cluster's number of workers."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


# The local cluster's Dask configuration, over Dask's defaults, for workers that each train trial
# after trial on a core of their own:
LOCAL_CLUSTER_CONFIG: dict[str, Any] = {
    # Dask's nanny starts each worker with MALLOC_TRIM_THRESHOLD_=65536, so that freed memory goes
    # back to the system at once. In glibc, setting it also fixes the mmap threshold at 128 KB: every
    # larger array of a trial (each epoch's shuffle of the 60,000 training images, the test set's
    # outputs and the temporaries of its cost) is then mapped afresh and unmapped again, thousands
    # of page faults an epoch where a plain process reuses its memory, and more CPU time per trial
    # (see README). None: not set. Dask's other variables (OMP_NUM_THREADS=1 and the like, one BLAS
    # thread per worker) stay, and a variable set in the environment digitnet runs in still wins.
    "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
    # Each worker's statistical profiler samples the running task every 10 ms on the worker's event
    # loop, for a dashboard that the local cluster does not start.
    "distributed.worker.profile.enabled": False,
    # The rest of Dask's housekeeping, also for that dashboard or for programs whose tasks take
    # milliseconds, runs on every process's event loop many times a second: an idle local cluster of
    # two workers took 7% of a core (the trials' own cores), 1.5% with these. The event loops' health
    # check every 20 ms (a warning when one was blocked for seconds), the system monitor's readings
    # every 0.5 s, the memory monitor's every 0.1 s (pausing a worker near its memory limit, or
    # restarting it: a trial's memory does not grow that fast), and the GIL's every 1 ms where
    # gilknocker is installed.
    "distributed.admin.tick.interval": "1s",
    "distributed.admin.tick.cycle": "5s",
    "distributed.admin.system-monitor.interval": "5s",
    "distributed.admin.system-monitor.gil.enabled": False,
    "distributed.worker.memory.monitor-interval": "1s",
}


@contextmanager
def dask_client(scheduler: str | None = None, workers: int | None = None) -> Iterator[Any]:
    """A Dask client: of the scheduler at ``scheduler`` (tcp://HOST:PORT), else of a new local cluster.

    The local cluster has one single-threaded worker process per core (``workers`` to choose), each
    started with LOCAL_CLUSTER_CONFIG, and is shut down on leaving, also on Ctrl-C.
    """
    distributed = import_distributed()
    if scheduler:
        try:
            client = distributed.Client(scheduler, timeout="20s")
        except (OSError, TimeoutError) as e:
            raise ConfigError(f"--scheduler {scheduler}: cannot reach a Dask scheduler there ({e}); "
                              f"start one with `dask scheduler` or check the address") from None
        try:
            yield client
        finally:
            client.close()
        return
    if workers is not None and workers < 1:
        raise ConfigError(f"--workers must be >= 1, got {workers}")
    import dask

    with dask.config.set(LOCAL_CLUSTER_CONFIG):  # read as the workers' nannies start, passed on to the workers
        cluster = distributed.LocalCluster(n_workers=workers or cores(), threads_per_worker=1, processes=True,
                                           dashboard_address=None, silence_logs=logging.ERROR)
    client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def plan(values: Mapping[str, Sequence[Any]], random: int | None, random_seed: int,
         data: str | None) -> list[dict[str, Any]]:
    """Every trial's settings, each checked as `digitnet train` would check it (ConfigError at once)."""
    trials = grid.trials(values, random, random_seed)
    for settings in trials:
        settings["data"] = data
        training_run.checked(settings)
    return trials


def execute(client: Any, out: Any, todo: list[dict[str, Any]], data: training_run.TrainingData,
            models: Path | None, on_result: Callable[[dict[str, Any]], None], retry_failed: bool = False) -> int:
    """Run the trials ``todo`` on ``client``'s cluster, recording each as it finishes; returns how many recorded."""
    distributed = import_distributed()
    shared = client.scatter(data, broadcast=True, hash=False)  # once per worker, not once per trial
    settings_of = {f"trial-{grid.trial_id(s)}": s for s in longest_first(todo, data)}  # submitted in this order
    futures = [client.submit(run_trial, s, shared, models is not None, key=key, pure=False)
               for key, s in settings_of.items()]
    written = 0
    try:
        for future in distributed.as_completed(futures):
            result = _result_of(future, settings_of[future.key])
            future.release()
            if result.get("model") is not None and models is not None:
                result["model_path"] = str(_store_model(models, result["id"], result.pop("model")))
            if db.record(out, result, retry_failed):
                written += 1
                on_result(result)
    finally:
        for future in futures:
            future.cancel()
    return written


def longest_first(todo: list[dict[str, Any]], data: training_run.TrainingData) -> list[dict[str, Any]]:
    """The trials, the most work first: epochs x training images x weights (equal ones in their order).

    Dask starts the trials in the order they were submitted, so the last to start are short: no
    worker then waits long at the end of a sweep while another still trains a big network.
    """
    def work(settings: Mapping[str, Any]) -> int:
        sizes = training_run.sizes_for(settings, data)
        images = len(data.training(settings.get("limit"))[0])
        return int(settings["epochs"]) * images * sum(n * k for n, k in zip(sizes, sizes[1:]))

    return sorted(todo, key=work, reverse=True)


def _result_of(future: Any, settings: Mapping[str, Any]) -> dict[str, Any]:
    """The trial's result, or a failed row when the cluster gave up on it (e.g. it killed worker after worker)."""
    try:
        return dict(future.result())
    except Exception as e:
        return {"id": grid.trial_id(settings), "status": "failed", "history": [],
                "message": f"{type(e).__name__}: {e}"}


def _store_model(models: Path, trial: str, content: bytes) -> Path:
    """Write a trial's model file as models/ID.npz (atomically: temporary file, then rename)."""
    path = models / f"{trial}.npz"
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(content)
    os.replace(tmp, path)
    return path


def run(out: str | os.PathLike[str] = "sweep.db", *, scheduler: str | None = None, workers: int | None = None,
        data: str | None = None, random: int | None = None, random_seed: int = 0,
        save_models: str | os.PathLike[str] | None = None, retry_failed: bool = False, progress: bool = True,
        **settings: Any) -> Any:
    """Run a sweep into the SQLite file ``out``; its rows as a pandas DataFrame (a list of dicts without pandas).

    ``settings`` are `digitnet train`'s settings (hidden, activation, cost, epochs, batch_size,
    learning_rate, momentum, weight_decay, learning_rate_decay, seed, dtype, engine, limit), each
    a value or a list of values; the sweep trains their product, or ``random`` draws (ranges as
    "0.01:3:log"). Trials already finished in ``out`` are not run again.
    """
    unknown = sorted(set(settings) - set(grid.SETTINGS))
    if unknown:
        raise ConfigError(f"unknown setting(s) {', '.join(unknown)}; known: {', '.join(grid.SETTINGS)}")
    trials = plan(grid.values_of(settings), random, random_seed, data)
    models = _models_dir(save_models)
    con = db.connect(out)
    try:
        db.add_pending(con, trials)
        done = db.finished_ids(con, retry_failed)
        todo = [s for s in trials if grid.trial_id(s) not in done]
        report = _Progress(len(trials), len(trials) - len(todo), enabled=progress)
        if todo:
            data_set = training_run.load_data(data)
            with dask_client(scheduler, workers) as client:
                report.start(client)
                try:
                    execute(client, con, todo, data_set, models, report.update, retry_failed)
                finally:
                    report.close()
        ids = {grid.trial_id(s) for s in trials}
        return frame([r for r in db.rows(con) if r["id"] in ids])
    finally:
        con.close()


def _models_dir(save_models: str | os.PathLike[str] | None) -> Path | None:
    if save_models is None:
        return None
    path = Path(save_models)
    if path.exists() and not path.is_dir():
        raise ConfigError(f"--save-models {path} is a file; give a directory for the trials' model files")
    path.mkdir(parents=True, exist_ok=True)
    return path


def frame(rows: list[dict[str, Any]]) -> Any:
    """Rows as a pandas DataFrame when pandas is installed, else the list itself."""
    try:
        import pandas  # type: ignore[import-untyped]
    except ImportError:
        return rows
    return pandas.DataFrame(rows)


class _Progress:
    """A progress bar over trials with an ETA (tqdm), or a line per trial when stderr is not a terminal."""

    def __init__(self, total: int, done: int, enabled: bool) -> None:
        self.total, self.done, self.enabled = total, done, enabled
        self.bar: Any = None
        self.best = 0.0
        self.started = time.perf_counter()

    def start(self, client: Any) -> None:
        if not self.enabled:
            return
        workers = len(client.scheduler_info().get("workers", {}))
        print(f"sweep: {plural(self.total, 'trial')}, {self.done} already done, {self.total - self.done} to run "
              f"on {plural(workers, 'Dask worker')} ({client.scheduler.address})", file=sys.stderr)
        if sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=self.total, initial=self.done, unit="trial", file=sys.stderr, dynamic_ncols=True)

    def update(self, result: dict[str, Any]) -> None:
        self.done += 1
        if result.get("status") == "done" and result.get("test_accuracy") is not None:
            self.best = max(self.best, result["test_accuracy"])
        if self.bar is not None:
            self.bar.set_postfix_str(f"best {100 * self.best:.2f}%", refresh=False)
            self.bar.update(1)
        elif self.enabled:
            acc = result.get("test_accuracy")
            what = f"{100 * acc:.2f}%" if result.get("status") == "done" and acc is not None else result["status"]
            print(f"[{self.done}/{self.total}] trial {result['id']}: {what} in {result.get('seconds') or 0:.1f} s "
                  f"on {result.get('worker')}", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()

"""The local cluster `digitnet sweep` starts by default: how its workers are started."""

from __future__ import annotations

import os

import pytest

pytest.importorskip("distributed", reason="digitnet sweep needs dask[distributed] (the sweep extra)")


def _environ(names: tuple[str, ...]) -> dict[str, str | None]:
    return {name: os.environ.get(name) for name in names}


def test_the_local_cluster_s_workers_start_without_dask_s_malloc_trim_threshold(monkeypatch) -> None:
    """Dask's nanny would start each worker with MALLOC_TRIM_THRESHOLD_=65536, which in glibc fixes the
    mmap threshold: every array of a trial above 128 KB is then mapped and unmapped afresh, epoch
    after epoch. The local cluster's workers start without it, and keep Dask's one BLAS thread each."""
    from digitnet.sweep.runner import dask_client

    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)  # as in a shell that does not set it
    names = ("MALLOC_TRIM_THRESHOLD_", "OMP_NUM_THREADS")
    with dask_client(None, 1) as client:
        seen = list(client.run(_environ, names).values())
    assert seen == [{"MALLOC_TRIM_THRESHOLD_": None, "OMP_NUM_THREADS": "1"}]
    assert "MALLOC_TRIM_THRESHOLD_" not in os.environ  # nor set in this process for later workers


def test_a_malloc_trim_threshold_set_in_the_environment_still_reaches_the_workers(monkeypatch) -> None:
    """Whoever sets the variable themselves gets it, as Dask gives the environment precedence."""
    from digitnet.sweep.runner import dask_client

    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "131072")
    with dask_client(None, 1) as client:
        seen = list(client.run(_environ, ("MALLOC_TRIM_THRESHOLD_",)).values())
    assert seen == [{"MALLOC_TRIM_THRESHOLD_": "131072"}]


def _profiling() -> bool:
    import dask

    return bool(dask.config.get("distributed.worker.profile.enabled"))


def test_the_local_cluster_s_workers_do_not_profile_the_trials() -> None:
    """The statistical profiler feeds a dashboard the local cluster does not start; off, it costs nothing."""
    from digitnet.sweep.runner import dask_client

    with dask_client(None, 1) as client:
        assert list(client.run(_profiling).values()) == [False]


def _callback_ms(dask_worker=None, dask_scheduler=None) -> dict[str, float]:
    server = dask_worker or dask_scheduler
    return {name: pc.callback_time for name, pc in server.periodic_callbacks.items()}


def test_the_local_cluster_s_housekeeping_leaves_the_cores_to_the_trials() -> None:
    """Dask's event-loop health check (every 20 ms), system monitor (0.5 s) and memory monitor (0.1 s)
    would wake each worker and the scheduler many times a second, beside the trials on every core:
    in the local cluster none of a worker's periodic tasks runs more than once a second, nor the
    scheduler's tick and monitor."""
    from digitnet.sweep.runner import dask_client

    with dask_client(None, 1) as client:
        (worker,) = client.run(_callback_ms).values()
        scheduler = client.run_on_scheduler(_callback_ms)
    assert {"tick", "monitor", "memory_monitor"} <= set(worker)
    assert min(worker.values()) >= 1000, worker
    assert min(scheduler["tick"], scheduler["monitor"]) >= 1000, scheduler

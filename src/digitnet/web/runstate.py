"""The states of a training run on the page, written once: the trainer sets them, the routes test
them, the schemas list them. A ``RunState`` is a ``str``, so it compares and serialises as its name.
"""

from __future__ import annotations

from enum import Enum


class RunState(str, Enum):
    """Where a training run is: idle (none yet), loading, running, paused, stopping, or over."""

    IDLE = "idle"
    LOADING = "loading"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPING = "stopping"
    FINISHED = "finished"
    STOPPED = "stopped"
    FAILED = "failed"

    def __str__(self) -> str:
        return self.value


ACTIVE = (RunState.LOADING, RunState.RUNNING, RunState.PAUSED, RunState.STOPPING)
"""A run in one of these is going: no second run may start, and its network is not final."""

"""Many trainings at once: ``digitnet sweep`` on a Dask cluster, its results in SQLite.

    import digitnet.sweep
    df = digitnet.sweep.run("sweep.db", hidden=[(16, 16), (32,)], learning_rate=[0.5, 1.5], seed=[0, 1],
                            epochs=5, limit=10000)

grid.py: the trials; trial.py: one trial, as a worker runs it; db.py: the SQLite file and its
schema; runner.py: the Dask client and cluster; pictures.py: the sweep's pictures.
"""

from __future__ import annotations

from typing import Any

from .runner import MissingDask, run

__all__ = ["MissingDask", "load", "run"]


def load(path: str) -> Any:
    """The rows of the sweep database ``path``: a pandas DataFrame when pandas is installed, else a list."""
    from . import db
    from .runner import frame

    con = db.connect(path, create=False)
    try:
        return frame(db.rows(con))
    finally:
        con.close()

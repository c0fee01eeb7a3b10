"""The sweep's results: a SQLite file with one row per trial, written as trials finish.

Table ``trials`` (one row per trial; ``id`` is a hash of the settings, see grid.trial_id):

=================  =======  ==========================================================================
column             type     meaning
=================  =======  ==========================================================================
id                 TEXT     primary key: the hash of the trial's settings
settings           TEXT     the settings as JSON (every option of ``digitnet train``, and ``data``)
hidden             TEXT     hidden layer sizes, e.g. ``16,16``
activation, cost,  TEXT     the settings, one column each, for SQL queries
dtype, engine
epochs,            INTEGER
batch_size, seed,
train_limit
learning_rate,     REAL
momentum,
weight_decay,
learning_rate_decay
n_parameters       INTEGER  weights and biases of the network
status             TEXT     ``pending``, ``done``, ``diverged`` or ``failed``
test_accuracy      REAL     after the last epoch trained (for diverged: the last finite one)
test_cost          REAL
train_cost         REAL
epochs_done        INTEGER  whole epochs trained
seconds            REAL     the trial's training time on its worker
history            TEXT     JSON list: per epoch, learning_rate, train_cost, train_accuracy
                            (the epoch's running figures: see training.fit), test_cost,
                            test_accuracy, seconds
model_path         TEXT     the model file, with ``--save-models`` (NULL otherwise)
message            TEXT     why a trial diverged or failed (NULL when done)
worker             TEXT     the Dask worker that ran it
finished_at        TEXT     UTC time the row was written (ISO 8601)
=================  =======  ==========================================================================

A trial's row is inserted as ``pending`` when the sweep starts and updated once, from pending, when
its result arrives; a re-run skips every row that is not pending. Writes are single transactions
(SQLite's journal), so killing the sweep loses only the trials in flight.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .grid import canonical, trial_id

FINISHED = ("done", "diverged", "failed")
COLUMNS = ("hidden", "activation", "cost", "dtype", "engine", "epochs", "batch_size", "seed", "train_limit",
           "learning_rate", "momentum", "weight_decay", "learning_rate_decay")
SCHEMA = """
CREATE TABLE IF NOT EXISTS trials (
    id TEXT PRIMARY KEY,
    settings TEXT NOT NULL,
    hidden TEXT NOT NULL, activation TEXT NOT NULL, cost TEXT NOT NULL, dtype TEXT NOT NULL,
    engine TEXT NOT NULL, epochs INTEGER NOT NULL, batch_size INTEGER NOT NULL, seed INTEGER NOT NULL,
    train_limit INTEGER, learning_rate REAL NOT NULL, momentum REAL NOT NULL, weight_decay REAL NOT NULL,
    learning_rate_decay REAL NOT NULL,
    n_parameters INTEGER,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'diverged', 'failed')),
    test_accuracy REAL, test_cost REAL, train_cost REAL, epochs_done INTEGER, seconds REAL,
    history TEXT, model_path TEXT, message TEXT, worker TEXT, finished_at TEXT
);
CREATE INDEX IF NOT EXISTS trials_status ON trials (status);
"""
RESULT_COLUMNS = ("n_parameters", "status", "test_accuracy", "test_cost", "train_cost", "epochs_done", "seconds",
                  "history", "model_path", "message", "worker")


def connect(path: str | os.PathLike[str], create: bool = True) -> sqlite3.Connection:
    """Open (and with ``create``, make) the sweep database at ``path``."""
    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"--out {path} is a directory; give a file name such as {path / 'sweep.db'}")
    if not create and not path.is_file():
        raise ConfigError(f"{path}: no such sweep database; run `digitnet sweep ... --out {path}` first")
    if not (path.parent if str(path.parent) else Path(".")).is_dir():
        raise ConfigError(f"--out {path}: the directory {path.parent} does not exist; create it first")
    try:
        con = sqlite3.connect(path, timeout=30)
        con.row_factory = sqlite3.Row
        if create:
            con.executescript(SCHEMA)
        else:
            con.execute("SELECT id FROM trials LIMIT 1")
    except sqlite3.DatabaseError as e:
        raise ConfigError(f"{path}: not a digitnet sweep database ({e})") from None
    return con


def _setting_columns(settings: Mapping[str, Any]) -> tuple[Any, ...]:
    values = dict(settings)
    values["hidden"] = ",".join(map(str, settings["hidden"]))
    values["train_limit"] = settings.get("limit")
    return tuple(values[c] for c in COLUMNS)


def add_pending(con: sqlite3.Connection, trials: Iterable[Mapping[str, Any]]) -> None:
    """Insert each trial as pending, unless a row for it exists already."""
    rows = [(trial_id(s), canonical(s), *_setting_columns(s)) for s in trials]
    with con:
        con.executemany(f"INSERT OR IGNORE INTO trials (id, settings, {', '.join(COLUMNS)}) "
                        f"VALUES ({', '.join('?' * (len(COLUMNS) + 2))})", rows)


def finished_ids(con: sqlite3.Connection, retry_failed: bool = False) -> set[str]:
    """The ids of trials that need not run again (failed ones too, unless ``retry_failed``)."""
    states = ("done", "diverged") if retry_failed else FINISHED
    marks = ", ".join("?" * len(states))
    return {r[0] for r in con.execute(f"SELECT id FROM trials WHERE status IN ({marks})", states)}


def record(con: sqlite3.Connection, result: Mapping[str, Any], retry_failed: bool = False) -> bool:
    """Write a trial's result into its row if it is still to do; True if written (so: recorded once)."""
    values = {c: result.get(c) for c in RESULT_COLUMNS}
    values["history"] = json.dumps(values["history"] or [], allow_nan=False)
    allowed = ("pending", "failed") if retry_failed else ("pending",)
    with con:
        cursor = con.execute(
            f"UPDATE trials SET {', '.join(f'{c} = ?' for c in values)}, finished_at = ? "
            f"WHERE id = ? AND status IN ({', '.join('?' * len(allowed))})",
            (*values.values(), datetime.now(timezone.utc).isoformat(timespec="seconds"), result["id"], *allowed))
    return cursor.rowcount == 1


def rows(con: sqlite3.Connection, status: str | None = None) -> list[dict[str, Any]]:
    """Every trial as a dict (history parsed), in the order they were added."""
    query = "SELECT * FROM trials" + (" WHERE status = ?" if status else "") + " ORDER BY rowid"
    out = []
    for r in con.execute(query, (status,) if status else ()):
        row = dict(r)
        row["history"] = json.loads(row["history"]) if row["history"] else []
        out.append(row)
    return out


def top(con: sqlite3.Connection, n: int) -> list[dict[str, Any]]:
    """The ``n`` finished trials with the best final test accuracy."""
    cursor = con.execute("SELECT * FROM trials WHERE status = 'done' ORDER BY test_accuracy DESC, seconds LIMIT ?",
                         (n,))
    return [dict(r) for r in cursor]


def counts(con: sqlite3.Connection) -> dict[str, int]:
    """How many trials are in each status."""
    return {r[0]: r[1] for r in con.execute("SELECT status, COUNT(*) FROM trials GROUP BY status")}

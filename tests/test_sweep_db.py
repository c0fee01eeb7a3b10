"""The sweep database: a trial recorded once, --top in order of accuracy, and `digitnet show sweep`'s pictures."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from digitnet.cli import main
from digitnet.sweep import db, grid


def _fill(path: Path) -> list[dict]:
    trials = grid.trials(grid.values_of({"hidden": ["16,16", "32"], "learning_rate": ["0.5", "1.5"],
                                         "seed": ["0", "1"]}))
    con = db.connect(path)
    db.add_pending(con, trials)
    rng = np.random.default_rng(0)
    for t in trials:
        result = {"id": grid.trial_id(t), "status": "done", "test_accuracy": float(rng.uniform(0.8, 0.95)),
                  "test_cost": 0.1, "train_cost": 0.1, "seconds": 1.0, "history": [],
                  "n_parameters": 100 * len(t["hidden"]),
                  "worker": "w"}
        assert db.record(con, result) is True
        assert db.record(con, result) is False  # a second result for the same trial is not recorded
    rows = db.rows(con)
    con.close()
    return rows


def test_top_prints_the_best_trials_in_order(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = _fill(tmp_path / "s.db")
    assert main(["sweep", str(tmp_path / "s.db"), "--top", "3"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()[2:]
    best = sorted(rows, key=lambda r: -r["test_accuracy"])[:3]
    assert [line.split()[-1] for line in lines] == [r["id"] for r in best]


def test_show_sweep_writes_both_pictures(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fill(tmp_path / "s.db")
    monkeypatch.chdir(tmp_path)
    assert main(["show", "sweep", "s.db", "--x", "learning_rate", "--y", "hidden"]) == 0
    for name in ("s-heatmap.png", "s-sizes.png"):
        with Image.open(tmp_path / name) as image:
            assert image.size[0] > 300 and image.size[1] > 200


def test_a_missing_database_is_a_config_error(tmp_path: Path) -> None:
    assert main(["sweep", str(tmp_path / "none.db"), "--top", "3"]) == 2

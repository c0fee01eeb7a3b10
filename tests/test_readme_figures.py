"""Every table of figures in the README is generated from its results file, and must agree with it."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("readme_figures", ROOT / "scripts" / "readme_figures.py")
assert spec is not None and spec.loader is not None
readme_figures = importlib.util.module_from_spec(spec)
spec.loader.exec_module(readme_figures)

README = (ROOT / "README.md").read_text(encoding="utf-8")
NAMES = [m.group(2) for m in readme_figures.REGION.finditer(README)]


def test_the_readme_has_generated_figures():
    assert "accuracy" in NAMES


@pytest.mark.parametrize("name", NAMES)
def test_each_results_file_says_machine_date_and_command(name):
    result = json.loads((ROOT / "docs" / "figures" / f"{name}.json").read_text())
    assert result["machine"] and result["command"]
    assert len(result["date"]) == 10 and result["date"][4] == "-"
    assert all(len(row) == len(result["columns"]) for row in result["rows"])


def test_the_readme_figures_are_those_of_their_files():
    assert readme_figures.main(["--check"]) == 0


def test_a_figure_changed_by_hand_is_caught(tmp_path, capsys):
    name = NAMES[0]
    rows = json.loads((ROOT / "docs" / "figures" / f"{name}.json").read_text())["rows"]
    cell = str(rows[0][-1])
    stale = tmp_path / "README.md"
    start = README.index(f"<!-- figures:{name} -->")
    assert cell in README[start:]
    stale.write_text(README[:start] + README[start:].replace(cell, cell + "0", 1))
    assert readme_figures.main(["--check", "--readme", str(stale)]) == 1
    assert name in capsys.readouterr().err

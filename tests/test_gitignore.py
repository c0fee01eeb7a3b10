"""What digitnet and its install write into a clone by default is ignored by git; nothing tracked is."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from digitnet.cli import build_parser
from digitnet.cli.train import DEFAULT_OUT

ROOT = Path(__file__).resolve().parent.parent


def _subcommand(name: str) -> argparse.ArgumentParser:
    commands = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return commands.choices[name]


def default_outputs() -> list[str]:
    """The files `pip install .`, `train`, `show`, `sweep` and `export` (as the README runs it) leave behind."""
    model = Path(DEFAULT_OUT)
    show = next(a for a in _subcommand("show")._actions if isinstance(a, argparse._SubParsersAction))
    pictures = [f"{model.stem}-{what}.png" for what in show.choices if what != "sweep"]
    return ["build/lib/digitnet/__init__.py", "src/digitnet.egg-info/PKG-INFO", DEFAULT_OUT,
            f"{model.stem}.checkpoint.npz", *pictures, "sweep.db", "sweep-heatmap.png", "sweep-sizes.png",
            "model.onnx"]


def test_the_defaults_are_listed():
    assert "digitnet-model-weights.png" in default_outputs() and "digitnet-model-dream.png" in default_outputs()


def test_the_default_outputs_are_ignored(tmp_path):
    shutil.copy(ROOT / ".gitignore", tmp_path / ".gitignore")
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    paths = default_outputs()
    proc = subprocess.run(["git", "check-ignore", "--no-index", "--stdin"], cwd=tmp_path, input="\n".join(paths),
                          capture_output=True, text=True)
    ignored = set(proc.stdout.split())
    assert [p for p in paths if p not in ignored] == []


def test_no_tracked_file_is_ignored():
    if not (ROOT / ".git").exists() and os.environ.get("CI") != "true":
        pytest.skip("not a git checkout")
    proc = subprocess.run(["git", "ls-files", "-ci", "--exclude-standard"], cwd=ROOT, capture_output=True,
                          text=True, check=True)
    assert proc.stdout.split() == []

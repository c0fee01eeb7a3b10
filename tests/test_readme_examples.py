"""The README's Python examples run as written, each in a fresh interpreter, as a reader pastes them."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from digitnet import Network

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```python\n(.*?)```", README, flags=re.S)


def test_the_readme_has_python_examples():
    assert len(BLOCKS) >= 3


@pytest.mark.slow
@pytest.mark.parametrize("block", BLOCKS, ids=[b.splitlines()[0] for b in BLOCKS])
def test_each_python_example_runs_as_written(block, tmp_path):
    needs = [m for m in ("onnxruntime", "sklearn") if re.search(rf"\b(import|from) {m}\b|digitnet\.{m}\b", block)]
    for module in needs:
        if importlib.util.find_spec(module) is None and os.environ.get("CI") != "true":
            pytest.skip(f"{module} is not installed")
    # What the README's commands before it leave in the directory: the quick start's model, exported to ONNX.
    Network(seed=0).save(tmp_path / "digitnet-model.npz")
    if "onnxruntime" in needs:
        subprocess.run([sys.executable, "-m", "digitnet", "export", "digitnet-model.npz", "model.onnx"],
                       cwd=tmp_path, check=True, capture_output=True)
    code = block.replace("epochs=30", "epochs=1")  # the same calls, one epoch of training instead of 30
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, env=env,
                          timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]

"""The README's quick start, command 1, as a new user runs it: in a fresh virtual environment."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def quick_start_command() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quick start", 1)[1]
    block = re.search(r"```bash\n(.*?)```", section, flags=re.S)
    assert block is not None
    return next(line for line in block.group(1).splitlines() if line.strip() and not line.startswith("#"))


def install_warnings(output: str) -> list[str]:
    """The lines of an install's output that warn of a deprecation or a project set-up setuptools dislikes."""
    return [line for line in output.splitlines()
            if re.search(r"deprecat|SetuptoolsWarning|will no longer be supported", line, flags=re.I)]


def test_install_warnings_are_found():
    # what setuptools printed for a license written as a TOML table
    seen = ("  !!\n  ********\n  Please use a simple string containing a SPDX expression for `project.license`.\n"
            "  SetuptoolsDeprecationWarning: `project.license` as a TOML table is deprecated\n"
            "  By 2027-Feb-18, you need to update your project and remove deprecated calls\n"
            "  or your builds will no longer be supported.\n  running egg_info\n")
    assert len(install_warnings(seen)) == 3
    clean = "  running egg_info\n  copying src/digitnet/py.typed\nSuccessfully installed digitnet\n"
    assert install_warnings(clean) == []


@pytest.mark.slow
def test_quick_start_command_1_installs_activates_and_trains(tmp_path):
    command = quick_start_command()
    assert ". .venv/bin/activate" in command
    clone = tmp_path / "digitnet"
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    for name in files:  # the tracked files, as a clone has them
        if (ROOT / name).is_file():
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, clone / name)
    # The same command, with pip's whole output (-v) and a short training (1 epoch), then a later README
    # command in the same shell, and the editable install the test set-up makes.
    assert "pip install . " in command
    short = command.replace("pip install .", "pip install -v .").replace("digitnet train",
                                                                        "digitnet train --epochs 1 --limit 2000")
    script = f"set -e\n{short}\ndigitnet evaluate digitnet-model.npz\npip install -v --no-deps -e .\n"
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if Path(sys.prefix) not in
                                  Path(p).parents)
    proc = subprocess.run(["bash", "-c", script], cwd=clone, capture_output=True, text=True, env=env, timeout=1500)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert install_warnings(proc.stdout + proc.stderr) == []
    assert "test accuracy" in proc.stdout and "class" in proc.stdout
    assert (clone / "digitnet-model.npz").is_file()

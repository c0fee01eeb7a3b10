"""Figures measured by the reliability tests (cases fuzzed, kills survived...), for the README.

Written only when the environment variable DIGITNET_FIGURES names a JSON file; each test merges
its own entry into it:

    DIGITNET_FIGURES=reliability.json pytest tests/test_fuzz_files.py tests/test_kill_during_save.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def record(name: str, value: Any) -> None:
    """Store ``value`` under ``name`` in the $DIGITNET_FIGURES file, if that variable is set."""
    target = os.environ.get("DIGITNET_FIGURES")
    if not target:
        return
    path = Path(target)
    figures = json.loads(path.read_text()) if path.exists() else {}
    figures[name] = value
    path.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")

"""Writing a file atomically: to a temporary name beside it, then renamed into place.

A reader (or a second run) then sees either the old file or the whole new one,
never half of it, even if the writer is interrupted.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def atomic_write(path: Path, write: Callable[[BinaryIO], None], durable: bool = False) -> None:
    """Call write(f) on a temporary file beside path, then rename it to path.

    If write raises, the temporary file is removed and path is left as it was.
    The new file gets the usual permissions (0666 less the umask). The temporary file is named
    ``.NAME.PID.RANDOM.tmp``: the writer's process id tells a later writer whether one left
    behind by a killed process can go. durable: flushed to disk before the rename, so a power
    cut leaves the old file or the whole new one.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with open(fd, "wb") as f:
            write(f)
            if durable:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise

"""Ctrl-C and SIGTERM over a whole command: an interrupt, never a traceback, and never mid-save.

``install`` (the first thing ``main`` does) makes SIGTERM (e.g. ``kill``) act like Ctrl-C: a
KeyboardInterrupt, which ``main`` turns into one line and exit code 130. ``deferred`` holds both
back while finished work is written: the save completes, then the caller says where it is.

A signal that lands while a compiled extension is being imported may come out as another
exception (NumPy turns it into an ImportError); ``by_signal`` tells such an error from a real one.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

SIGNALS = (signal.SIGINT, signal.SIGTERM)


received: str | None = None  # the first signal ``install``'s handler was given, by name


def _interrupt(signum: int, frame: Any) -> None:
    global received
    received = received or signal.Signals(signum).name
    raise KeyboardInterrupt


def by_signal(error: BaseException) -> bool:
    """Whether ``error`` is an interrupt: a KeyboardInterrupt, or any error raised after a signal came."""
    return isinstance(error, KeyboardInterrupt) or received is not None


def install() -> None:
    """SIGINT and SIGTERM raise KeyboardInterrupt (in the main thread; elsewhere nothing changes)."""
    global received
    received = None
    if threading.current_thread() is threading.main_thread():
        for sig in SIGNALS:
            signal.signal(sig, _interrupt)


class Deferred:
    """What ``deferred`` caught: the first signal's name, or None."""

    signal: str | None = None


@contextmanager
def deferred() -> Iterator[Deferred]:
    """Hold SIGINT and SIGTERM back until the block ends; ``.signal`` then names the first one caught."""
    caught = Deferred()
    if threading.current_thread() is not threading.main_thread():
        yield caught
        return

    def hold(signum: int, frame: Any) -> None:
        caught.signal = caught.signal or signal.Signals(signum).name

    previous = {sig: signal.signal(sig, hold) for sig in SIGNALS}
    try:
        yield caught
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

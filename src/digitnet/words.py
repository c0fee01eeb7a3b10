"""How digitnet words a count in its messages: ``1 epoch``, ``2 epochs``, ``60,000 images``."""

from __future__ import annotations


def plural(n: int, word: str) -> str:
    """``1 epoch``, ``2 epochs``, ``0 epochs``; thousands separated: ``60,000 images``."""
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"

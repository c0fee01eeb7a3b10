"""Counts in messages: one epoch, two epochs."""

from __future__ import annotations

from digitnet.words import plural


def test_one_is_singular_and_every_other_count_plural():
    assert [plural(n, "epoch") for n in (0, 1, 2)] == ["0 epochs", "1 epoch", "2 epochs"]


def test_thousands_are_separated():
    assert plural(60000, "image") == "60,000 images"

"""Helpers shared by the command modules: argument types and the dataset option."""

from __future__ import annotations

import argparse


def int_list(text: str) -> tuple[int, ...]:
    """Parse layer sizes such as ``16,16`` or ``784 100 10``."""
    parts = [p for p in text.replace(",", " ").split() if p]
    try:
        sizes = tuple(int(p) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected whole numbers separated by commas, such as 16,16; got {text!r}") from None
    if any(s < 1 for s in sizes):
        raise argparse.ArgumentTypeError(f"layer sizes must be >= 1, got {text!r}")
    return sizes


def add_data_option(parser: argparse.ArgumentParser) -> None:
    """``--data DIR``: a directory of MNIST-format IDX files instead of the bundled MNIST."""
    parser.add_argument("--data", metavar="DIR", default=None,
                        help="directory of MNIST-format IDX files (e.g. Fashion-MNIST); default: the bundled MNIST")

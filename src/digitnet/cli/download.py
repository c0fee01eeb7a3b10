"""``digitnet download [DIR]``: a fresh copy of MNIST from its public mirrors, checksums checked."""

from __future__ import annotations

import argparse

from ._common import WRITE_DIR


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "download", help="download MNIST from its public mirrors (not needed: it ships with digitnet)",
        description="Fetch MNIST's four .gz files from the public mirrors, checking each file's official "
                    "checksum, into DIR (default: the cache directory). Use the result with --data DIR.")
    p.add_argument("dir", nargs="?", default=None, type=WRITE_DIR, help="where to put the files")
    p.add_argument("--mirror", action="append", default=None, metavar="URL",
                   help="a base URL to try (repeatable); default: the known MNIST mirrors")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import sys

    from tqdm import tqdm

    from ..data import download_mnist

    bars: dict[str, tqdm] = {}

    def progress(name: str, done: int, total: int | None) -> None:
        if name not in bars:
            bars[name] = tqdm(total=total, unit="B", unit_scale=True, desc=name, file=sys.stderr, leave=False)
        bars[name].n = done
        bars[name].refresh()

    try:
        dest = download_mnist(args.dir, args.mirror, progress=progress)
    finally:
        for bar in bars.values():
            bar.close()
    print(f"MNIST is in {dest}; use it with --data {dest}")
    return 0

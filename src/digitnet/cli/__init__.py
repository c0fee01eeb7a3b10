"""The ``digitnet`` command line: parses arguments, prints, and calls the rest of digitnet.

Each command lives in a module of this package that defines ``register(subparsers)``; the module
adds its parser and sets ``func=run``. Heavy libraries are imported inside ``run`` so that
``digitnet train`` starts fast.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence

from ..errors import DigitNetError
from . import _signals
from ._common import Parser

# Order in `digitnet --help`; modules not listed come after, alphabetically.
ORDER = ["train", "evaluate", "predict", "show", "serve", "export"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every command module's subcommand."""
    from .. import __version__

    parser = Parser(
        prog="digitnet",
        description="The handwritten-digit network of the 3Blue1Brown lessons: train it, ask it, look inside it.",
    )
    parser.add_argument("--version", action="version", version=f"digitnet {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    names = [m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")]
    names.sort(key=lambda n: (ORDER.index(n) if n in ORDER else len(ORDER), n))
    for name in names:
        module = importlib.import_module(f"{__name__}.{name}")
        if hasattr(module, "register"):
            module.register(subparsers)
    _remember_parsers(parser)
    return parser


def _remember_parsers(parser: argparse.ArgumentParser) -> None:
    """Give every (sub)command's namespace its own parser, so errors found late can name the command."""
    parser.set_defaults(command_parser=parser)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                _remember_parsers(sub)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: sys.argv[1:]); returns the exit code."""
    _signals.install()  # from here to the end, an interrupt is one line, never a traceback
    try:
        return _run(argv)
    except (KeyboardInterrupt, Exception) as e:
        if not _signals.by_signal(e):
            raise
        print("digitnet: interrupted", file=sys.stderr)
        return 130


def _run(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:  # reported by the command's own parser, whose --help lists the options it has
        args.command_parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except DigitNetError as e:
        print(f"digitnet: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("digitnet: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `digitnet evaluate MODEL | head`: the reader left, nothing is wrong
        sys.stderr.close()
        return 0

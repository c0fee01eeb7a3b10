"""Helpers shared by the command modules: the parser, its help format, argument types, the dataset option."""

from __future__ import annotations

import argparse
from typing import Any, NoReturn


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, like every other digitnet error.

    argparse prints a usage block and starts with the subcommand's name; here the error reads
    ``digitnet: error: MESSAGE; see 'digitnet train --help'`` and the exit status is 2.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", DefaultsHelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"digitnet: error: {message}; see '{self.prog} --help'\n")


def user_value(value: object) -> str:
    """A default as the user would type it: ``16,16`` for a tuple of layer sizes."""
    if isinstance(value, (tuple, list)):
        return ",".join(map(str, value))
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class DefaultsHelpFormatter(argparse.HelpFormatter):
    """Adds "(default: X)" to an option's help, once, unless the help already says its default."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        if ("default" in text or default is None or default is False or default is argparse.SUPPRESS
                or not action.option_strings):
            return text
        return f"{text} (default: {user_value(default).replace('%', '%%')})"


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


class PathType:
    """The argparse type of every argument naming a file or directory: the text as given (not empty).

    ``role`` says what the command does with it: reads a file or a directory, writes a file or into a
    directory. Every such argument has one, so a test can try every path kind on every one of them.
    """

    def __init__(self, role: str) -> None:
        self.role = role
        self.__name__ = "path"  # in argparse's "invalid path value" message

    def __call__(self, text: str) -> str:
        if not text:
            raise argparse.ArgumentTypeError("an empty path names no file; give a file name")
        return text

    def __repr__(self) -> str:
        return f"PathType({self.role!r})"


READ_FILE = PathType("read file")
READ_DIR = PathType("read directory")
WRITE_FILE = PathType("write file")
WRITE_DIR = PathType("write directory")


def add_data_option(parser: argparse.ArgumentParser) -> None:
    """``--data DIR``: a directory of MNIST-format IDX files instead of the bundled MNIST."""
    parser.add_argument("--data", metavar="DIR", default=None, type=READ_DIR,
                        help="directory of MNIST-format IDX files (e.g. Fashion-MNIST); default: the bundled MNIST")

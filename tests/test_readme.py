"""The README as a reader uses it: its links and pictures exist, its `digitnet` commands parse."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from digitnet.cli import build_parser

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")

# Words that stand for what the reader chooses, in the README's prose and synopsis.
PLACEHOLDERS = {"COMMAND", "WHAT"}


def _targets() -> list[str]:
    links = re.findall(r"\]\(([^)\s]+)\)", README) + re.findall(r'<img[^>]*\bsrc="([^"]+)"', README)
    return [t for t in links if not re.match(r"[a-z]+:", t) and not t.startswith("#")]


def test_the_readme_has_links_and_pictures_to_check():
    assert any(t.endswith(".png") for t in _targets())


@pytest.mark.parametrize("target", _targets())
def test_every_relative_link_and_picture_resolves(target):
    assert (ROOT / target.split("#")[0]).exists(), f"README links to {target}, which does not exist"


def _commands() -> list[str]:
    """Every `digitnet ...` command line: in code blocks (not the synopsis), and in inline code."""
    lines = []
    for lang, block in re.findall(r"```(\w*)\n(.*?)```", README, flags=re.S):
        if lang == "text":  # the synopsis, [--option VALUE] ...
            continue
        for line in block.splitlines():
            line = line.split("#")[0].strip()
            lines += [part.strip() for part in line.split("&&")]
    lines += re.findall(r"`(digitnet [^`]+)`", README)
    commands = [c for c in lines if c.startswith("digitnet ")]
    return sorted({c for c in commands if not PLACEHOLDERS & set(shlex.split(c))})


def test_the_readme_has_commands_to_check():
    assert len(_commands()) >= 15


@pytest.mark.parametrize("command", _commands())
def test_every_digitnet_command_in_the_readme_parses(command, capsys):
    argv = shlex.split(command)[1:]
    parser = build_parser()
    if len(argv) == 1 and not argv[0].startswith("-"):  # prose naming a command: `digitnet predict` brings ...
        commands = next(a for a in parser._actions if a.dest == "command")
        assert argv[0] in commands.choices, command
        return
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:
        if argv[-1:] == ["--help"] and e.code == 0:
            return
        pytest.fail(f"README command does not parse: {command}\n{capsys.readouterr().err}")
    assert getattr(args, "func", None) is not None, command

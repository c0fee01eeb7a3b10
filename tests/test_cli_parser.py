"""The command line's own parser: every mistake is one line with a hint, help shows each default once."""

from __future__ import annotations

import argparse
import re

import pytest

from digitnet.cli import build_parser, main
from digitnet.cli.evaluate import run as evaluate_run

MISTAKES = [
    (["train", "--hidden", "16,abc"], "--hidden", "digitnet train"),
    (["train", "--learning-rate", "abc"], "abc", "digitnet train"),
    (["train", "--hidden", "0"], ">= 1", "digitnet train"),
    (["train", "--epochs", "3.5"], "3.5", "digitnet train"),
    (["train", "--bogus"], "--bogus", "digitnet train"),
    (["show", "foo"], "foo", "digitnet show"),
    (["show", "weights", "m.npz", "--bogus"], "--bogus", "digitnet show weights"),
    (["evaluate"], "model", "digitnet evaluate"),
    (["nosuchcommand"], "nosuchcommand", "digitnet"),
]


@pytest.mark.parametrize(("argv", "named", "command"), MISTAKES)
def test_a_parser_error_is_one_line_naming_the_value_and_the_help_to_read(argv, named, command, capsys):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("digitnet: error: ")
    assert named in lines[0]
    assert lines[0].endswith(f"; see '{command} --help'")


def _help(*command: str) -> str:
    parser = build_parser()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            sub = action.choices[command[0]]
            break
    for name in command[1:]:
        sub = next(a for a in sub._actions if isinstance(a, argparse._SubParsersAction)).choices[name]
    return " ".join(sub.format_help().split())  # one line: help text wraps anywhere


COMMANDS = [("train",), ("evaluate",), ("predict",), ("serve",), ("export",), ("download",), ("sweep",),
            *[("show", what) for what in ("weights", "history", "confusion", "network", "noise", "dream", "sweep")]]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_help_shows_each_default_once_in_the_users_terms(command):
    text = _help(*command)
    assert "(default: None)" not in text
    assert "(default: False)" not in text
    assert not re.search(r"\b[A-Z]+_[A-Z_]+\b", text), "a value named by its Python variable, such as RANDOM_SEED"
    # An option whose help already says its default gets no second "(default: ...)".
    for option_help in re.split(r"\s(?=-{1,2}[a-z])", text):
        assert option_help.count("default") <= 1, option_help


def test_train_help_gives_the_defaults_as_one_would_type_them():
    text = _help("train")
    assert "(default: 16,16)" in text
    assert "(16, 16)" not in text
    assert "(default: 30)" in text and "(default: 1.5)" in text and "(default: digitnet-model.npz)" in text
    assert "--learning-rate ETA" in text and "--epochs N" in text


def test_train_says_1_epoch_not_1_epochs(tmp_path, capsys):
    out = tmp_path / "m.npz"
    assert main(["train", "--epochs", "1", "--limit", "50", "--engine", "numpy", "-q", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "1 epoch of mini-batches" in printed
    assert "50 images" in printed
    assert "1 epochs" not in printed


def test_evaluate_table_lines_up(tmp_path, capsys):
    out = tmp_path / "m.npz"
    assert main(["train", "--epochs", "1", "--limit", "50", "--engine", "numpy", "-q", "--out", str(out)]) == 0
    capsys.readouterr()
    assert evaluate_run(build_parser().parse_args(["evaluate", str(out)])) == 0
    lines = capsys.readouterr().out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("class"))
    table = lines[header:header + 11]
    assert len(table) == 11 and len({len(line) for line in table}) == 1, table
    # Each header word ends where its column's values end.
    for word in ("accuracy", "count"):
        end = table[0].index(word) + len(word)
        assert all(line[end - 1] != " " and (end == len(line) or line[end] == " ") for line in table[1:]), word

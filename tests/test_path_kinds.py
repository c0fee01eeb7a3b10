"""Every kind of path, given to every command option that takes one: one clear line, never a hang.

The options are read from the real argparse parsers: every argument whose type is a
``cli._common.PathType`` (its role says whether the command reads or writes a file or a
directory), so a new option is tried as soon as it is declared; a string option that is not a
path must be named in NOT_PATHS, so one cannot slip by untyped. Each (option, kind) pair runs the
command in this process, under an alarm: the answer must be exit status 2 and a single
``digitnet: error:`` line naming the path, or, where the kind is fine for the role (a dangling
link written through, an existing file replaced), a normal end; never a traceback or a hang.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from digitnet import Network
from digitnet.cli import _common, build_parser, main
from figures import record  # type: ignore[import-not-found]  # tests/figures.py

pytestmark = pytest.mark.skipif(os.name != "posix", reason="FIFOs, sockets and devices are POSIX")

# String options that name no file, with what they are.
NOT_PATHS = {("serve", "--host"): "an address", ("show sweep", "--x"): "a column", ("show sweep", "--y"): "a column",
             ("download", "--mirror"): "a URL", ("sweep", "--scheduler"): "an address"}
# Each command's valid command line; {name} is the valid value of the path argument ``name`` (its dest).
BASE = {
    "train": ["--limit", "100", "--hidden", "4", "--epochs", "1", "--engine", "numpy", "--quiet",
              "--out", "{out}"],
    "evaluate": ["{model}"],
    "predict": ["{model}", "{images}"],
    "show weights": ["{model}", "--out", "{out}"],
    "show history": ["{model}", "--out", "{out}"],
    "show confusion": ["{model}", "--out", "{out}"],
    "show network": ["{model}", "{image}", "--out", "{out}"],
    "show noise": ["{model}", "--samples", "10", "--out", "{out}"],
    "show dream": ["{model}", "--steps", "1", "--out", "{out}"],
    "show sweep": ["{db}"],
    "serve": ["{model}", "--port", "0"],
    "export": ["{model}", "{output}"],
    "download": ["{dir}", "--mirror", "http://127.0.0.1:9/"],
    "sweep": ["{db}", "--hidden", "4", "--epochs", "1", "--limit", "100", "--workers", "1", "--quiet"],
}
KINDS = ["fifo", "directory", "socket", "dev-zero", "dev-urandom", "link-to-device", "dangling-link",
         "missing-parent", "unreadable-file", "odd-name-file"]
# The kinds a role may accept: a file written through a dangling link or over an existing file, a
# directory created or written into. Every other pair must be refused.
ACCEPTABLE = {"read file": set(), "read directory": set(),
              "write file": {"dangling-link", "unreadable-file", "odd-name-file"},
              "write directory": {"directory", "dangling-link", "missing-parent"}}
SKIP_ACCEPTED = {"download", "serve", "sweep"}  # an accepted path would start a download, a server, a cluster
SEEN: list[tuple[str, str, str, str, float]] = []


def path_arguments() -> list[tuple[str, argparse.Action]]:
    """(command, action) for every path argument of every command, from the parsers themselves."""
    found: list[tuple[str, argparse.Action]] = []

    def walk(parser: argparse.ArgumentParser, name: str) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub, subparser in action.choices.items():
                    walk(subparser, f"{name} {sub}".strip())
            elif isinstance(action.type, _common.PathType):
                found.append((name, action))
            elif (type(action) in (argparse._StoreAction, argparse._AppendAction) and action.type is None
                  and not action.choices and action.metavar != "V"):  # V: a sweep's list of setting values
                flag = action.option_strings[-1] if action.option_strings else action.dest
                assert (name, flag) in NOT_PATHS, f"`digitnet {name} {flag}` takes a string: give it a PathType"

    walk(build_parser(), "")
    return found


ARGUMENTS = path_arguments()


def flag_of(action: argparse.Action) -> str:
    return action.option_strings[-1] if action.option_strings else action.dest


def test_every_command_taking_a_path_is_covered() -> None:
    commands = {command for command, _ in ARGUMENTS}
    assert commands <= set(BASE), f"give {sorted(commands - set(BASE))} a valid command line in BASE"
    assert len(ARGUMENTS) >= 25  # model, images, --data, --out, --checkpoint, --resume, --spec...


@pytest.fixture(scope="module")
def valid(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A valid value for each path argument's dest."""
    d = tmp_path_factory.mktemp("valid")
    net = Network((784, 4, 10), seed=0)
    net.history = [{"epoch": 1, "train_cost": 0.5, "test_cost": 0.5, "test_accuracy": 0.5}]
    net.save(d / "model.npz")
    Image.new("L", (28, 28), 0).save(d / "digit.png")
    return {"model": str(d / "model.npz"), "images": str(d / "digit.png"), "image": str(d / "digit.png"),
            "out": str(d / "out"), "db": str(d / "sweep.db"), "output": str(d / "model.onnx"), "dir": str(d / "dl")}


def make(tmp_path: Path, kind: str) -> Path:
    """A path of ``kind`` in ``tmp_path``."""
    if kind == "fifo":
        os.mkfifo(tmp_path / "pipe")
        return tmp_path / "pipe"
    if kind == "directory":
        (tmp_path / "dir").mkdir()
        return tmp_path / "dir"
    if kind == "socket":
        s = socket.socket(socket.AF_UNIX)
        s.bind(str(tmp_path / "sock"))
        return tmp_path / "sock"
    if kind in ("dev-zero", "dev-urandom"):
        return Path("/dev/" + kind[4:])
    if kind == "link-to-device":
        (tmp_path / "zero").symlink_to("/dev/zero")
        return tmp_path / "zero"
    if kind == "dangling-link":
        (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
        return tmp_path / "dangling"
    if kind == "missing-parent":
        return tmp_path / "no such dir" / "file"
    path = tmp_path / ("locked" if kind == "unreadable-file" else "-odd name ü")
    path.write_bytes(b"not what digitnet writes\n")
    if kind == "unreadable-file":
        path.chmod(0)
    return path


@pytest.fixture
def alarm() -> Iterator[None]:
    def fail(signum: int, frame: object) -> None:
        raise TimeoutError("the command hung")
    previous = signal.signal(signal.SIGALRM, fail)
    signal.alarm(30)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def command_line(command: str, action: argparse.Action, path: str, valid: dict[str, str]) -> list[str]:
    values = dict(valid, out=valid["out"] + (".png" if command.startswith("show") else ".npz"))
    tokens = list(BASE[command])
    if action.option_strings:
        if any(flag in tokens for flag in action.option_strings):
            at = next(i for i, t in enumerate(tokens) if t in action.option_strings)
            tokens[at + 1] = path
        else:
            tokens += [action.option_strings[-1], path]
    else:
        values[action.dest] = path
    return [*command.split(), *(t.format(**values) if t.startswith("{") else t for t in tokens)]


def cases() -> list[tuple[str, argparse.Action, str]]:
    """Every (command, path argument, kind), but for the kinds a download, a server or a cluster would accept."""
    return [(command, action, kind) for command, action in ARGUMENTS for kind in KINDS
            if not (command in SKIP_ACCEPTED and kind in ACCEPTABLE[action.type.role])]  # type: ignore[union-attr]


CASES = cases()


@pytest.mark.parametrize(("command", "action", "kind"), CASES, ids=[f"{c}:{flag_of(a)}-{k}" for c, a, k in CASES])
def test_every_path_kind_is_one_clear_line(tmp_path: Path, valid: dict[str, str], monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str], alarm: None, command: str,
                                           action: argparse.Action, kind: str) -> None:
    # As root the mode-0 file is readable, and must then be refused as a file that is not digitnet's
    # (or, for an output, replaced): the same one-line answer either way.
    assert isinstance(action.type, _common.PathType)
    role = action.type.role
    from digitnet.web import server

    def no_serving(*args: object, **kwargs: object) -> None:
        raise AssertionError("digitnet serve started serving instead of refusing the path")

    monkeypatch.setattr(server, "serve", no_serving)
    monkeypatch.chdir(tmp_path)
    path = str(make(tmp_path, kind))
    argv = command_line(command, action, path, valid)
    started = time.perf_counter()
    code = main(argv)
    seconds = time.perf_counter() - started
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    if kind in ACCEPTABLE[role] and code == 0:
        SEEN.append((command, flag_of(action), kind, "accepted", seconds))
        return
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("digitnet: error: "), (argv, code, err)
    assert path in lines[0] or os.path.realpath(path) in lines[0], (argv, err)
    SEEN.append((command, flag_of(action), kind, "refused", seconds))


def test_record_the_figures() -> None:
    if not SEEN:
        pytest.skip("no path kind was tried in this run")
    refused = [s for s in SEEN if s[3] == "refused"]
    record("path_kinds_by_command", {
        "cases": len(SEEN), "refused": len(refused), "accepted": len(SEEN) - len(refused),
        "options": len({(c, f) for c, f, *_ in SEEN}), "commands": len({c for c, *_ in SEEN}),
        "kinds": sorted({k for _, _, k, *_ in SEEN}), "slowest_refusal_s": round(max(s[4] for s in refused), 3)})

"""A user's files: the one way digitnet opens a path it is given, and the one way it replaces one.

Reading (``open_regular``): the path must be a regular file once symbolic links are followed. A
named pipe would block the reader forever and a device such as /dev/zero never ends, so they, a
directory or a socket are refused by name before anything is read. The file is opened without
blocking and checked again through its descriptor, so it cannot be swapped in between; its real
size is then known and every reader bounds its work by it.

Writing (``atomic_write``): to a temporary file beside the target, flushed and fsynced, then
renamed over it, and the directory fsynced, so a reader or a crash sees the old file or the whole
new one. A symbolic link is written through: the file it points to is replaced and the link
stays. The replaced file's permission bits are kept; a new file gets 0666 less the umask. Only a
regular file is ever replaced: a directory, device, pipe or socket at the path is refused.

The limits below bound how much work a small file can ask for. Each can be raised through the
environment variable of the same name, for a user with a real model or data set beyond them.
"""

from __future__ import annotations

import glob
import os
import secrets
import stat
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from .errors import DigitNetError

# name -> (default, what it bounds); see ``limit``.
LIMITS: dict[str, tuple[int, str]] = {
    "DIGITNET_MAX_INFLATION": (100, "how many times larger than its compressed size a zip entry or a gzipped "
                                    "IDX file may decompress (real weights and MNIST inflate under 5x)"),
    "DIGITNET_MAX_ZIP_ENTRIES": (65_536, "entries in a model, checkpoint or recording archive"),
    "DIGITNET_MAX_IDX_BYTES": (2**31, "decompressed bytes of one IDX file (MNIST's largest is 47 MB)"),
}
_SMALL = 1 << 20  # below this many decompressed bytes the inflation ratio is not held against a member


def limit(name: str) -> int:
    """The limit ``name`` of LIMITS: $name if set to a whole number, else its default."""
    default, what = LIMITS[name]
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise DigitNetError(f"${name} must be a whole number (it bounds {what}), got {text!r}") from None
    if value < 1:
        raise DigitNetError(f"${name} must be >= 1, got {value}")
    return value


def inflation_allowed(compressed: int) -> int:
    """The most bytes ``compressed`` bytes may decompress to under $DIGITNET_MAX_INFLATION."""
    return max(limit("DIGITNET_MAX_INFLATION") * compressed, _SMALL)


def kind(mode: int) -> str:
    """What a file of st_mode ``mode`` is, in words: 'a directory', 'a named pipe (FIFO)'..."""
    for test, words in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a named pipe (FIFO)"),
                        (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                        (stat.S_ISSOCK, "a socket"), (stat.S_ISREG, "a regular file")):
        if test(mode):
            return words
    return "not a regular file"


def open_regular(path: str | os.PathLike[str], what: str, error: type[DigitNetError],
                 missing: str = "check the path") -> BinaryIO:
    """Open ``path`` for reading if it is a regular file (links followed); else raise ``error``.

    ``what`` names the file in messages ("model file", "image file"), ``missing`` says what to do
    when it does not exist. The caller closes the file; ``os.fstat(f.fileno()).st_size`` is its size.
    """
    name = os.fspath(path)
    try:
        mode = os.stat(name).st_mode
        if not stat.S_ISREG(mode):
            raise error(f"{name} is {kind(mode)}, not {_a(what)}; give the path of a regular file")
        fd = os.open(name, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise error(f"{what} {name} does not exist; {missing}") from None
    except PermissionError:
        raise error(f"{what} {name} cannot be read: permission denied") from None
    except OSError as e:
        raise error(f"cannot open {what} {name}: {e.strerror or e}") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):  # swapped for something else between the two looks
        os.close(fd)
        raise error(f"{name} is {kind(mode)}, not {_a(what)}; give the path of a regular file")
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def output_directory(path: str | os.PathLike[str], what: str, error: type[DigitNetError]) -> Path:
    """``path`` as a directory to write into: an existing directory, or a name not taken yet (made when
    first written to). Anything else there, a file, a pipe or a device, raises ``error``."""
    path = Path(path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return path
    except OSError as e:
        raise error(f"{what} {path}: {e.strerror or e}") from None
    if not stat.S_ISDIR(mode):
        raise error(f"{what} {path} is {kind(mode)}, not a directory; give a directory to write into")
    return path


def write_target(path: str | os.PathLike[str], error: type[DigitNetError]) -> Path:
    """The file a write to ``path`` replaces: the path, or the end of its chain of links.

    Raises ``error`` if that is anything but a regular file or a free name in an existing directory.
    """
    path = Path(path)
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        directory = target.parent if str(target.parent) else Path(".")
        if not directory.is_dir():
            raise error(f"cannot write {path}: the directory {directory} does not exist; create it first") from None
        return target
    if not stat.S_ISREG(mode):
        hint = f"; give a file name such as {path / 'model.npz'}" if stat.S_ISDIR(mode) else ""
        raise error(f"refusing to write {path}: it is {kind(mode)}, and digitnet only replaces regular files{hint}")
    return target


def atomic_write(path: str | os.PathLike[str], write: Callable[[BinaryIO], None],
                 error: type[DigitNetError] = DigitNetError) -> Path:
    """Call ``write(f)`` on a temporary file beside ``path``, fsync it and rename it over ``path``.

    Returns the file written (``path``, or the file its link points to). If ``write`` raises, or
    the process is interrupted, the temporary file is removed and ``path`` is left as it was.
    """
    target = write_target(path, error)
    directory = target.parent if str(target.parent) else Path(".")
    _remove_stale_temporaries(directory, target.name)
    try:
        mode: int | None = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        mode = None
    # The temporary file's name carries our process id, so that a later save can tell it was left
    # by a process that was killed (SIGKILL, power cut) and remove it.
    tmp = directory / f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        with open(fd, "wb") as f:
            if mode is not None:
                os.fchmod(f.fileno(), mode)
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_directory(directory)
    return target


def _fsync_directory(directory: Path) -> None:
    """Make a rename in ``directory`` durable (POSIX); nothing to do where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _remove_stale_temporaries(directory: Path, name: str) -> None:
    """Delete the temporary files of earlier writes to ``name`` whose process no longer runs.

    Only on POSIX, where ``os.kill(pid, 0)`` merely asks whether process pid exists; a process of
    another user exists too (PermissionError), and its file is left alone.
    """
    if os.name != "posix":
        return
    for tmp in directory.glob(f".{glob.escape(name)}.*.tmp"):
        pid = tmp.name[len(name) + 2:].split(".", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            try:
                tmp.unlink()
            except OSError:  # gone already, or not ours to remove: the write goes on regardless
                pass
        except (OSError, OverflowError):
            pass


def _a(noun: str) -> str:
    """'a model file', 'an image file', 'an IDX file'."""
    return ("an " if noun[:1].lower() in "aeio" or noun.startswith("IDX") else "a ") + noun

"""A station's data is for its owner only: made 0700/0600, and refused with the chmod that fixes it if not.

>>> import tempfile                                   # made 0700 (755 = 700 + 055) whatever the umask
>>> with tempfile.TemporaryDirectory() as folder:
...     data = private_dir(Path(folder, "data")); data.chmod(data.stat().st_mode | 0o055); private_dir(data)
Traceback (most recent call last):
station.core.errors.ConfigError: /...: data directory is open to others (mode 755); run chmod 700 /...
"""

from __future__ import annotations

import contextlib
import os
import shlex
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path

from station.core.errors import ConfigError

PRIVATE_UMASK = 0o077  # what the station's processes create: no access for group or others
SHARED_BITS = 0o077  # any access by group or others


@contextlib.contextmanager
def private_umask() -> Iterator[None]:
    """The process's umask with group and others masked out, restored after (the entry points wrap
    their whole run in it, so every file the station makes is private, the ones not named here too)."""
    previous = os.umask(PRIVATE_UMASK)
    os.umask(previous | PRIVATE_UMASK)
    try:
        yield
    finally:
        os.umask(previous)


def private_dir(path: Path, what: str = "data directory", *, key: str | None = None) -> Path:
    """``path`` as a folder only its owner may enter: made 0700 when missing, refused when open."""
    make_private_dirs(path)
    refuse_open_dir(path, what, key=key)
    return path


def make_private_dirs(path: Path) -> None:
    """Make ``path`` and its missing parents 0700 (``mkdir -p`` would leave the parents to the umask);
    folders that exist are left as they are."""
    missing = [folder for folder in (path, *path.parents) if not folder.exists()]
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another process made it first
            folder.mkdir(mode=0o700)
            folder.chmod(0o700)  # exactly 0700 whatever the umask


def private_file(path: Path, what: str, *, key: str | None = None) -> Path:
    """``path`` as a file only its owner may read: an empty 0600 file when missing, refused when shared.

    Made before anything else opens it (SQLite gives its WAL and shared-memory files the database
    file's mode; a log handler appends to what is there).
    """
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    except FileExistsError:
        refuse_shared_files([path], what, key=key)
        return path
    except OSError as exc:
        raise ConfigError(f"cannot create the {what}: {exc.strerror}", path=str(path), key=key) from None
    try:
        os.fchmod(descriptor, 0o600)
    finally:
        os.close(descriptor)
    return path


def refuse_open_dir(path: Path, what: str = "data directory", *, key: str | None = None) -> None:
    """ConfigError if group or others may use the folder ``path``; a missing one is left to its creator."""
    mode = _mode(path, what, key)
    if mode is not None and mode & SHARED_BITS:
        raise ConfigError(
            f"{what} is open to others (mode {mode:o}); run chmod 700 {shlex.quote(str(path))}",
            path=str(path),
            key=key,
        )


def refuse_shared_files(paths: Iterable[Path], what: str, *, key: str | None = None) -> None:
    """ConfigError if group or others may access any of ``paths`` (missing ones are skipped).

    One message for all of them (a database and its WAL): the chmod in it fixes every one.
    """
    shared = [
        (path, mode) for path in paths if (mode := _mode(path, what, key)) is not None and mode & SHARED_BITS
    ]
    if not shared:
        return
    first, mode = shared[0]
    modes = ", ".join(f"{path.name} {mode:o}" for path, mode in shared)
    detail = f"mode {mode:o}" if len(shared) == 1 else f"modes {modes}"
    names = " ".join(shlex.quote(str(path)) for path, _ in shared)
    raise ConfigError(
        f"{what} is readable by others ({detail}); run chmod 600 {names}", path=str(first), key=key
    )


def _mode(path: Path, what: str, key: str | None) -> int | None:
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"cannot read the {what}: {exc.strerror}", path=str(path), key=key) from None

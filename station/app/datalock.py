"""One station process per data directory: an exclusive lock taken when a station opens.

>>> import tempfile; folder = tempfile.TemporaryDirectory()
>>> held = DataDirLock.acquire(Path(folder.name))
>>> DataDirLock.acquire(Path(folder.name))               # a second station on the same data directory
Traceback (most recent call last):
station.core.errors.ConfigError: ...: another station (pid ...) is running on data directory ...
>>> held.release(); folder.cleanup()
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

from station.core.errors import ConfigError
from station.core.privatefiles import private_dir

LOCK_NAME = "station.lock"


class DataDirLock:
    """The held lock on ``<data_dir>/station.lock``."""

    def __init__(self, path: Path, handle: IO[str]) -> None:
        self.path = path
        self._handle: IO[str] | None = handle

    @classmethod
    def acquire(cls, data_dir: Path) -> DataDirLock:
        private_dir(data_dir)  # made 0700, or refused with the chmod when others may enter it
        path = data_dir / LOCK_NAME
        handle = os.fdopen(
            os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600), "r+", encoding="utf-8"
        )
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise ConfigError(
                f"another station (pid {holder}) is running on data directory {data_dir}; "
                "stop it first (one station process per data directory)",
                path=str(path),
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        return cls(path, handle)

    @staticmethod
    def held_by_this_process(data_dir: Path) -> bool:
        """Whether this very process holds the lock (the window's station check runs inside the station:
        its own lock is no other station's)."""
        try:
            text = (data_dir / LOCK_NAME).read_text(encoding="utf-8").strip()
        except OSError:
            return False
        return text == str(os.getpid())

    def release(self) -> None:
        """Let go (idempotent); the file stays, empty of meaning until the next station takes it."""
        if self._handle is not None:
            fcntl.flock(self._handle.fileno(), fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None

"""Probes that time parts of the station from inside a run, by wrapping the functions it calls in place.

Example::

    with CryptoProbe() as crypto, StoreProbe() as store:
        measure = bench.run(units=24)
    crypto.per_unit(24).total        # CPU seconds of unavoidable crypto per unit, as the station ran it
    store.wait_seconds / store.writes

A probe swaps a module or class attribute for a timing wrapper and puts the original back on exit; if
the station moves a function, the probe fails with an AttributeError naming it (update the table here).
Both are for this benchmark only: they touch no file and leave the station as it was.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from bench.crypto import CryptoCost
from station.factory.backend import LocalBackend
from station.factory.keys import secrets
from station.records import jws
from station.records.store.sqlite import SqliteStore

# (owner, attribute, CryptoCost field): where the station looks each operation up when it calls it
PROBED: tuple[tuple[Any, str, str], ...] = (
    (secrets, "derive_user_private_key", "pbkdf2"),
    (LocalBackend, "issue_device_certificate", "certificate"),
    (jws, "sign", "record_signature"),
)
FIELDS = tuple(what for _, _, what in PROBED)


class _Patches:
    """Attribute swaps undone in reverse order."""

    def __init__(self) -> None:
        self._originals: list[tuple[Any, str, Any]] = []

    def swap(self, owner: Any, name: str, wrap: Callable[[Any], Any]) -> None:
        original = getattr(owner, name)
        self._originals.append((owner, name, original))
        setattr(owner, name, wrap(original))

    def undo(self) -> None:
        for owner, name, original in reversed(self._originals):
            setattr(owner, name, original)
        self._originals.clear()


@dataclass
class CryptoProbe:
    """Sums thread CPU and wall seconds of the three unavoidable operations over all slot threads."""

    cpu: dict[str, float] = field(default_factory=lambda: dict.fromkeys(FIELDS, 0.0))
    wall: dict[str, float] = field(default_factory=lambda: dict.fromkeys(FIELDS, 0.0))
    calls: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FIELDS, 0))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _patches: _Patches = field(default_factory=_Patches)

    def __enter__(self) -> CryptoProbe:
        for owner, name, what in PROBED:
            self._patches.swap(owner, name, functools.partial(self._timed, what=what))
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._patches.undo()

    def per_unit(self, units: int) -> CryptoCost:
        return CryptoCost(**{what: total / units for what, total in self.cpu.items()})

    def wall_over_cpu(self, what: str = "pbkdf2") -> float:
        """1.0 when each call had a core to itself; 2.0 when it waited as long as it computed."""
        return self.wall[what] / self.cpu[what] if self.cpu[what] else 0.0

    def _timed(self, original: Callable[..., Any], what: str) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            cpu, wall = time.thread_time(), time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
                with self._lock:
                    self.cpu[what] += cpu
                    self.wall[what] += wall
                    self.calls[what] += 1

        return timed


@dataclass
class StoreProbe:
    """Times ``SqliteStore.write``: waiting for the write lock and transaction, then holding it to COMMIT."""

    writes: int = 0
    wait_seconds: float = 0.0  # asked → transaction open (process lock, connect, BEGIN IMMEDIATE)
    hold_seconds: float = 0.0  # transaction open → committed (the work and the synchronous=FULL fsync)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _patches: _Patches = field(default_factory=_Patches)

    def __enter__(self) -> StoreProbe:
        self._patches.swap(SqliteStore, "write", self._timed)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._patches.undo()

    def _timed(self, original: Callable[..., Any]) -> Callable[..., Any]:
        @contextmanager
        def write(store: SqliteStore) -> Iterator[Any]:
            asked = time.perf_counter()
            with original(store) as connection:
                opened = time.perf_counter()
                yield connection
            done = time.perf_counter()
            with self._lock:
                self.writes += 1
                self.wait_seconds += opened - asked
                self.hold_seconds += done - opened

        return write

"""STAND-IN for the HTTP edge's deadlines and abort (issue 14): the real module replaces this one at merge.

Example::

    with call_deadline(time.monotonic() + 20):   # every request inside ends by then (nested: the earliest)
        client.version()                         # a silent or dripping unit: DeviceTimeout at the deadline
    abort_all("the station is stopping")         # open connections close now; later requests fail at once
    reset_abort()                                # requests work again (a new run)

Only the names and the semantics matter to the pipeline; this stand-in reaches them without touching the
device clients, which still send through ``requests``: it wraps ``requests.Session.send`` (caps the
timeout at the deadline, refuses requests after an abort) and urllib3's ``HTTPConnection._new_conn``
(remembers each open socket and the thread that opened it, so a watchdog can shut it down at the
thread's deadline, or at once on abort). The failures come out as ``requests`` exceptions, which the
clients turn into ``DeviceTimeout`` (deadline) and ``DeviceUnreachable`` (abort) as for any other.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import requests
import urllib3.connection

_lock = threading.Condition()
_deadlines: dict[int, list[float]] = {}  # thread id -> the deadlines it entered, innermost last
_sockets: weakref.WeakKeyDictionary[socket.socket, int] = weakref.WeakKeyDictionary()  # -> thread id
_aborted: list[str] = []  # the abort's reason while aborted
_watchdog: list[threading.Thread] = []
_WATCH_EVERY = 0.05  # seconds between the watchdog's looks while a deadline is set


def current_deadline() -> float | None:
    """The earliest deadline this thread is inside (None: none)."""
    with _lock:
        stack = _deadlines.get(threading.get_ident())
        return min(stack) if stack else None


@contextmanager
def call_deadline(at: float) -> Iterator[None]:
    """Every request made in this thread inside the block finishes by monotonic time ``at`` or times out."""
    ident = threading.get_ident()
    with _lock:
        _deadlines.setdefault(ident, []).append(at)
        _start_watchdog()
        _lock.notify_all()
    try:
        yield
    finally:
        with _lock:
            stack = _deadlines.get(ident, [])
            if stack:
                stack.pop()
            if not stack:
                _deadlines.pop(ident, None)


def abort_all(reason: str) -> None:
    """Close every open connection now; every later request fails at once until ``reset_abort``."""
    with _lock:
        _aborted[:] = [reason]
        open_now = list(_sockets.keys())
        _sockets.clear()
    for sock in open_now:
        _shut(sock)


def reset_abort() -> None:
    """Requests work again (a station starts a new run)."""
    with _lock:
        _aborted.clear()


def aborted() -> str | None:
    """The reason of the abort in force (None: requests work)."""
    with _lock:
        return _aborted[0] if _aborted else None


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed
        sock.shutdown(socket.SHUT_RDWR)  # a read blocked in another thread returns at once


def _start_watchdog() -> None:
    if not _watchdog:
        thread = threading.Thread(target=_watch, name="call-deadlines", daemon=True)
        _watchdog.append(thread)
        thread.start()


def _watch() -> None:
    """Shut down the sockets of threads whose deadline passed (a drip never lets a read time out)."""
    while True:
        with _lock:
            while not _deadlines:
                _lock.wait()
            now = time.monotonic()
            due = [
                sock
                for sock, ident in list(_sockets.items())
                if ident in _deadlines and min(_deadlines[ident]) <= now
            ]
            for sock in due:
                _sockets.pop(sock, None)
        for sock in due:
            _shut(sock)
        time.sleep(_WATCH_EVERY)


_send = requests.Session.send
_new_conn = urllib3.connection.HTTPConnection._new_conn


def _bounded_send(self: requests.Session, request: requests.PreparedRequest, **kwargs: Any) -> Any:
    reason = aborted()
    if reason is not None:
        raise requests.ConnectionError(f"request not sent: {reason}", request=request)
    at = current_deadline()
    if at is None:
        return _send(self, request, **kwargs)
    left = at - time.monotonic()
    if left <= 0:
        raise requests.Timeout("the step's deadline has passed", request=request)
    kwargs["timeout"] = _capped(kwargs.get("timeout"), left)
    try:
        return _send(self, request, **kwargs)
    except requests.RequestException as exc:
        if aborted() is not None:
            raise requests.ConnectionError("connection closed: stopping", request=request) from exc
        if time.monotonic() >= at - 0.01:
            raise requests.Timeout("no answer before the step's deadline", request=request) from exc
        raise


def _capped(timeout: Any, left: float) -> Any:
    if timeout is None:
        return left
    if isinstance(timeout, tuple):
        return tuple(left if part is None else min(float(part), left) for part in timeout)
    return min(float(timeout), left)


def _registered_conn(self: urllib3.connection.HTTPConnection) -> socket.socket:
    sock = _new_conn(self)
    with _lock:
        stopped = bool(_aborted)
        if not stopped:
            _sockets[sock] = threading.get_ident()
    if stopped:
        sock.close()
        raise urllib3.exceptions.NewConnectionError(self, "the station is stopping")
    return sock


requests.Session.send = _bounded_send  # type: ignore[method-assign]
urllib3.connection.HTTPConnection._new_conn = _registered_conn  # type: ignore[method-assign]

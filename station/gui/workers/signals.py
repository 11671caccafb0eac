"""SIGTERM and SIGINT end the window the way closing it does: the station finishes its steps first.

Example::

    quitter = QuitOnSignals(app)      # keep a reference for the life of the app

The kiosk's systemd unit stops the station with SIGTERM. Qt's event loop runs in C++, so a Python
signal handler alone would only run at the next Python call, maybe never; ``signal.set_wakeup_fd``
makes the interpreter write each signal's number into a socket that a ``QSocketNotifier`` watches, and
the notifier quits the event loop. ``app.main`` then shuts the session down cooperatively (the station
stops after the current step of every slot, records are written) instead of dying mid-step.
"""

from __future__ import annotations

import signal
import socket

from PySide6.QtCore import QObject, QSocketNotifier
from PySide6.QtWidgets import QApplication


class QuitOnSignals(QObject):
    def __init__(self, app: QApplication) -> None:
        super().__init__(app)
        self._app = app
        self._read, self._write = socket.socketpair()
        self._read.setblocking(False)
        self._write.setblocking(False)
        signal.set_wakeup_fd(self._write.fileno())
        for number in (signal.SIGTERM, signal.SIGINT):
            signal.signal(number, _note)  # a Python handler must exist for the wakeup byte to be written
        self._notifier = QSocketNotifier(self._read.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._quit)

    def _quit(self) -> None:
        try:
            self._read.recv(64)  # drain: the byte is the signal number, which does not matter here
        except BlockingIOError:
            return
        self._app.quit()


def _note(signum: int, frame: object) -> None:
    """Nothing to do in Python: the wakeup fd has already told the event loop."""

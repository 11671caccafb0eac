"""SIGTERM and SIGINT end the window the way closing it does: the station stops and cuts open requests.

>>> import signal; from PySide6.QtWidgets import QApplication
>>> old = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT), signal.set_wakeup_fd(-1)
>>> quitter = QuitOnSignals(QApplication.instance() or QApplication([]))     # app.main keeps it to the end
>>> signal.set_wakeup_fd(old[2]) != -1                       # a signal now wakes Qt's event loop
True
>>> _ = signal.signal(signal.SIGTERM, old[0]), signal.signal(signal.SIGINT, old[1]); quitter.deleteLater()
"""

from __future__ import annotations

import os
import signal
import socket
import sys

from PySide6.QtCore import QObject, QSocketNotifier
from PySide6.QtWidgets import QApplication


class QuitOnSignals(QObject):
    """The first SIGTERM/SIGINT quits the event loop (the window then stops the station, which cuts its
    open requests, and closes within seconds); a second one exits the process at once."""

    def __init__(self, app: QApplication) -> None:
        super().__init__(app)
        self._app = app
        self._signals = 0
        self._read, self._write = socket.socketpair()
        self._read.setblocking(False)
        self._write.setblocking(False)
        signal.set_wakeup_fd(self._write.fileno())
        for number in (signal.SIGTERM, signal.SIGINT):
            signal.signal(number, self._note)  # a Python handler must exist for the wakeup byte to be written
        self._notifier = QSocketNotifier(self._read.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._quit)

    def _quit(self) -> None:
        try:
            self._read.recv(64)  # drain: the byte is the signal number, which does not matter here
        except BlockingIOError:
            return
        self._app.quit()

    def _note(self, signum: int, frame: object) -> None:
        """The first signal: nothing to do here, the wakeup fd has told the event loop. A second one, while
        the window is still stopping: exit now (interrupted runs stay open for the next start)."""
        self._signals += 1
        if self._signals > 1:
            print("stopping at once", file=sys.stderr, flush=True)
            os._exit(128 + signum)

"""SIGTERM and SIGINT end the window the way closing it does: the station finishes its steps first.

>>> import signal; from PySide6.QtWidgets import QApplication
>>> old = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT), signal.set_wakeup_fd(-1)
>>> quitter = QuitOnSignals(QApplication.instance() or QApplication([]))     # app.main keeps it to the end
>>> signal.set_wakeup_fd(old[2]) != -1                       # a signal now wakes Qt's event loop
True
>>> _ = signal.signal(signal.SIGTERM, old[0]), signal.signal(signal.SIGINT, old[1]); quitter.deleteLater()
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

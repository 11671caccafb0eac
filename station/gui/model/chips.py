"""The header's state chips in words: the line database and the label printer (Qt-free).

>>> line = LineChip(); _ = line.apply(LineSynced("line", 100.0, reached=True)); line.text(104.0)
('Line DB ✔ synced 4 s ago', True)
>>> line.apply(LineSynced("line", 110.0, reached=False, pending=37, message="FATAL: password ..."))
True
>>> line.text(111.0)                                   # the database's own words stay in the log
('Line DB ! offline — 37 records kept here', False)
"""

from __future__ import annotations

from station.core.events import Fault, FaultKind, LineSynced


def _age(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h"


class LineChip:
    """The line database's state from the sync's ``LineSynced`` events; the cause stays in the log."""

    def __init__(self) -> None:
        self.reached: bool | None = None  # None: no word from the sync yet
        self.synced_at: float | None = None
        self.pending = 0

    def apply(self, event: LineSynced) -> bool:
        """Take one event; True when the chip's state changed (the window logs the new text once)."""
        changed = event.reached != self.reached or (not event.reached and event.pending != self.pending)
        self.reached, self.pending = event.reached, event.pending
        if event.reached:
            self.synced_at = event.at
        return changed

    def text(self, now: float) -> tuple[str, bool]:
        if self.reached is None:
            return "Line DB … connecting", True
        if self.reached:
            waiting = f", {self.pending} to send" if self.pending else ""
            return f"Line DB ✔ synced {_age(now - (self.synced_at or now))} ago{waiting}", True
        plural = "record" if self.pending == 1 else "records"
        return f"Line DB ! offline — {self.pending} {plural} kept here", False


class PrinterChip:
    """The label printer's state from the slots' LABEL faults: the last print decides."""

    def __init__(self) -> None:
        self.ok = True
        self.slot = ""

    def apply(self, event: Fault) -> bool:
        if event.kind is not FaultKind.LABEL:
            return False
        before = (self.ok, self.slot)
        self.ok, self.slot = event.cleared, "" if event.cleared else event.slot
        return (self.ok, self.slot) != before

    def text(self) -> tuple[str, bool]:
        if self.ok:
            return "Printer ✔", True
        return f"Printer ! label not printed ({self.slot})", False

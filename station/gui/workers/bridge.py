"""The one bridge from the engine to the window: bus events in worker threads → Qt signals in the GUI thread.

>>> bus = EventBus(); bridge = EventBridge(bus)             # made in the GUI thread
>>> seen = []; _ = bridge.log_line.connect(seen.append)     # the window connects bound GUI methods
>>> bus.publish(LogLine("A1", 0.0, "run-1", "warning", "attest: retrying (2/3)")); bridge.detach()
>>> [event.message for event in seen]
['attest: retrying (2/3)']
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal, SignalInstance

from station.core.events import (
    Event,
    EventBus,
    LogLine,
    RunFinished,
    RunStarted,
    SlotChanged,
    StepFinished,
    StepStarted,
    UnitIdentified,
)


class EventBridge(QObject):
    """Re-emits every engine event as ``engine_event`` and as the signal of its kind."""

    engine_event = Signal(object)
    slot_changed = Signal(object)
    run_started = Signal(object)
    unit_identified = Signal(object)
    step_started = Signal(object)
    step_finished = Signal(object)
    run_finished = Signal(object)
    log_line = Signal(object)

    def __init__(self, bus: EventBus, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._bus = bus
        self._kinds: dict[type[Event], SignalInstance] = {
            SlotChanged: self.slot_changed,
            RunStarted: self.run_started,
            UnitIdentified: self.unit_identified,
            StepStarted: self.step_started,
            StepFinished: self.step_finished,
            RunFinished: self.run_finished,
            LogLine: self.log_line,
        }
        self._attached = True
        bus.subscribe(self.publish)

    def publish(self, event: Event) -> None:
        """Bus subscriber; runs in a worker thread and touches nothing but signals."""
        self.engine_event.emit(event)
        kind = self._kinds.get(type(event))
        if kind is not None:
            kind.emit(event)

    def detach(self) -> None:
        """Stop listening to the bus (idempotent)."""
        if self._attached:
            self._attached = False
            self._bus.unsubscribe(self.publish)

"""The one bridge from the engine to the window: bus events in worker threads → Qt signals in the GUI thread.

Example::

    bridge = EventBridge(station.bus)              # created in the GUI thread, subscribes at once
    bridge.engine_event.connect(window.apply)             # every event, in order, in the GUI thread
    bridge.run_finished.connect(counters_view.add)  # or only the kind a receiver cares about
    ...
    bridge.detach()                                # before the receivers go away

The bus calls ``publish`` synchronously in the slot's worker thread, so ``publish`` only emits. The bridge
lives in the GUI thread; Qt delivers a signal emitted from another thread to GUI-thread receivers as a
queued call, so no widget is ever touched from a worker. Receivers are bound methods of GUI-thread
QObjects, never lambdas: a lambda has no receiver object whose thread Qt could deliver to, so where it
runs is the binding's choice; a bound method of a GUI-thread QObject always runs in the GUI thread.
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

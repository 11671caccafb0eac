"""Engine events published in worker threads reach GUI objects in the GUI thread, as signals."""

from __future__ import annotations

import sys
import threading
import time

from PySide6.QtCore import QObject, Signal
from pytestqt.qtbot import QtBot

from station.core.events import Event, EventBus, LogLine, Outcome, RunFinished
from station.gui.workers.bridge import EventBridge

DEADLINE_MS = 10_000


class Receiver(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.got: list[tuple[Event, int]] = []

    def take(self, event: Event) -> None:
        self.got.append((event, threading.get_ident()))


def test_events_from_worker_threads_arrive_in_the_gui_thread_in_order(qtbot: QtBot) -> None:
    bus = EventBus()
    bridge = EventBridge(bus)
    every, finished = Receiver(), Receiver()
    bridge.engine_event.connect(every.take)
    bridge.run_finished.connect(finished.take)
    sent = [LogLine("A1", time.time(), None, "info", f"line {i}") for i in range(50)]
    done = RunFinished("A1", time.time(), "r1", Outcome.PASS, "2023b758c209269a", "rec")

    def worker() -> None:
        for event in sent:
            bus.publish(event)
        bus.publish(done)

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    qtbot.waitUntil(lambda: len(every.got) == len(sent) + 1, timeout=DEADLINE_MS)
    gui_thread = threading.get_ident()
    assert [event for event, _ in every.got] == [*sent, done]
    assert {thread_id for _, thread_id in every.got + finished.got} == {gui_thread}
    assert [event for event, _ in finished.got] == [done]
    bridge.detach()
    bus.publish(done)
    assert len(bus._subscribers) == 0


class Emitter(QObject):
    fired = Signal(object)


def test_emitting_a_signal_keeps_the_interpreter_alive() -> None:
    """PySide6 6.12.0 drops a reference to True per emit: Python 3.11 aborts (pyproject excludes it)."""
    emitter = Emitter()
    before = sys.getrefcount(True)
    for _ in range(200):
        emitter.fired.emit(None)
    assert sys.getrefcount(True) >= before - 10

"""The simulated SpringCard Companion Service: one REST server on 127.0.0.1 fronting many readers.

>>> from station.devices.springcore.client import CompanionClient
>>> with SimulatedCompanion(readers=1) as service:
...     client, reader = CompanionClient.at(service.url), service.readers[0]
...     written = client.put_config(reader.device_id, {"0201.s": "A-1"})      # 200, then a restart
...     reader.restarts, client.device(reader.device_id).config_id == written   # the old one a moment more
(1, False)
"""

from __future__ import annotations

import math
import os
import random
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from station.sim.companion.reader import PUCK_ONE, Phase, ReaderModel, SimulatedReader
from station.sim.companion.routes import (
    about_to_restart,
    dispatch,
    error,
    json_reply,
    restarting,
    service_busy,
)
from station.sim.companion.timing import FAST, CompanionTiming
from station.sim.ppa.clock import MonotonicSource
from station.sim.ppa.faults import FaultInjector, FaultPlan, FaultRule
from station.sim.ppa.http import DeviceListener, Request, Response, dropped

HOST = "127.0.0.1"  # loopback only, always
SHUTDOWN_POLL = 0.05  # seconds; how quickly the listener notices stop()
_READER_IN_PATH = re.compile(r"/device/([^/]+)")

FaultReport = Callable[[FaultRule, str, str], None]


class SimulatedCompanion:
    """The service: listener, readers (in plug-in order), faults, timing; thread-safe."""

    def __init__(
        self,
        *,
        readers: int = 0,
        timing: CompanionTiming = FAST,
        faults: FaultPlan | None = None,
        monotonic: MonotonicSource = time.monotonic,
        seed: int | None = None,
        port: int = 0,
        model: ReaderModel = PUCK_ONE,
        on_fault: FaultReport | None = None,
    ) -> None:
        self.timing = timing
        self.faults: FaultInjector = (faults or FaultPlan()).for_device(0)
        self.monotonic = monotonic
        self.on_fault = on_fault  # told (rule, method, path) whenever a fault fires
        self.model = model
        self._rng = random.Random(seed if seed is not None else os.urandom(16))  # noqa: S311 - ids, not keys
        self._port = port
        self._lock = threading.RLock()
        self._readers: dict[str, SimulatedReader] = {}
        self._replugs: list[float] = []
        self._busy_until = -math.inf  # the whole service answers 503 until then (``hold_busy``)
        self._busy_hint = (1, False)  # its Retry-After: seconds, and whether as an HTTP-date
        self._listener: DeviceListener | None = None
        for _ in range(readers):
            self.add_reader()

    # --- lifecycle -----------------------------------------------------------------------------------

    def start(self) -> SimulatedCompanion:
        self._listener = DeviceListener((HOST, self._port), self, "http")
        thread = threading.Thread(
            target=self._listener.serve_forever, args=(SHUTDOWN_POLL,), name="companion", daemon=True
        )
        thread.start()
        return self

    def stop(self) -> None:
        if self._listener is None:
            return
        for reader in self.readers:
            reader.release()  # a write held open by a test must not keep a handler thread forever
        self._listener.shutdown()
        self._listener.server_close()
        self._listener = None

    def __enter__(self) -> SimulatedCompanion:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._listener is None:
            raise RuntimeError("the simulated Companion Service is not started")
        return f"http://{HOST}:{self._listener.port}"

    def describe(self) -> dict[str, Any]:
        """The JSON line ``station sim companion`` prints."""
        return {"rest": self.url, "readers": [reader.device_id for reader in self.readers]}

    # --- readers (the Python API for tests and the demo) ---------------------------------------------

    @property
    def readers(self) -> tuple[SimulatedReader, ...]:
        """Every plugged-in reader, restarting or not, in plug-in order."""
        with self._lock:
            return tuple(self._readers.values())

    def reader(self, device_id: str) -> SimulatedReader:
        with self._lock:
            return self._readers[device_id]

    def add_reader(self, model: ReaderModel | None = None) -> SimulatedReader:
        """Plug in a fresh reader (new identity, empty memory); it is listed at once."""
        with self._lock:
            reader = SimulatedReader.fresh(self._rng, model or self.model)
            self._readers[reader.device_id] = reader
            return reader

    def remove_reader(self, device_id: str) -> None:
        """Unplug a reader: gone from ``/devices``, its routes answer 410; a held write ends with 499."""
        with self._lock:
            reader = self._readers.pop(device_id)
        reader.release()

    def lookup(self, device_id: str) -> tuple[SimulatedReader | None, Phase, float]:
        """(the reader or None, its restart phase now, seconds until its restart window ends)."""
        with self._lock:
            reader = self._readers.get(device_id)
            if reader is None:
                return None, Phase.UP, 0.0
            now = self.monotonic()
            return reader, reader.phase(now), reader.known_until - now

    def hold_busy(self, seconds: float, *, retry_after: int = 1, http_date: bool = False) -> None:
        """The whole service answers 503 (starting, reference §7) for ``seconds`` (``math.inf``: until
        ``hold_busy(0)``), with ``Retry-After`` of ``retry_after`` seconds, or that as an HTTP-date."""
        with self._lock:
            self._busy_until = self.monotonic() + seconds
            self._busy_hint = (retry_after, http_date)

    def device_list(self) -> list[dict[str, Any]]:
        """DEVICE objects of the readers that are up or leaving (decision §11.10, §11.13)."""
        with self._lock:
            now = self.monotonic()
            return [r.device_object() for r in self._readers.values() if not r.restarting(now)]

    def new_guid(self) -> str:
        """A fresh ConfigId: random, uppercase 8-4-4-4-12 (decision §11.8)."""
        with self._lock:
            return str(uuid.UUID(bytes=self._rng.randbytes(16), version=4)).upper()

    # --- the per-reader lock --------------------------------------------------------------------------

    def locked(
        self,
        reader: SimulatedReader,
        hold: float,
        action: Callable[[], Mapping[str, Any]],
        *,
        restart: bool,
    ) -> Response:
        """Run ``action`` with the reader's lock taken for ``hold`` seconds: 409 if another request has it,
        or if the reader is about to restart (decision §11.13)."""
        with self._lock:
            leaving = reader.phase(self.monotonic()) is Phase.LEAVING
        if leaving:
            return about_to_restart()
        if not reader.try_lock():
            return error(409, "device is locked by another request")
        try:
            reader.hold(hold)
            with self._lock:
                if self._readers.get(reader.device_id) is not reader:
                    return error(499, "device disconnected during the operation")
                now = self.monotonic()
                phase = reader.phase(now)
                if phase is Phase.LEAVING:
                    return about_to_restart()
                if phase is Phase.ENUMERATING:  # restarted by another write after our checks
                    return error(410, "no such device")
                if phase is Phase.RESTARTING:
                    return restarting(reader.known_until - now)
                payload = action()
                if restart:
                    timing = self.timing
                    leave, again, found = timing.pre_restart, timing.restart, timing.reenumerate
                    reader.begin_restart(now, leave=leave, restart=again, reenumerate=found)
                return json_reply(payload)
        finally:
            reader.unlock()

    # --- transport (station.sim.ppa.http.Device) --------------------------------------------------------

    def precheck(self, method: str, path: str, headers: Mapping[str, str]) -> Response | None:
        return None

    def handle(self, request: Request) -> Response:
        """Faults, then routing; every answer delayed by ``timing.simple``."""
        fault = self.faults.pick(request.method, request.path)
        if fault is not None and self.on_fault is not None:
            self.on_fault(fault, request.method, request.path)
        if fault is not None and fault.kind == "delay":
            time.sleep(fault.seconds)  # a late answer, not a hung service
        self._plug_due_readers()
        if fault is not None and fault.kind not in ("delay", "stall"):
            return self._apply_fault(fault, request.path)
        busy = self._busy()
        response = busy if busy is not None else dispatch(self, request)
        if fault is not None and fault.kind == "stall":
            response.stall = fault.seconds
        if self.timing.simple:
            time.sleep(self.timing.simple)
        return response

    def _busy(self) -> Response | None:
        """503 for every route while the service is held busy (``hold_busy``)."""
        with self._lock:
            if self.monotonic() >= self._busy_until:
                return None
            seconds, http_date = self._busy_hint
        return service_busy(seconds, http_date, time.time())

    def _apply_fault(self, fault: FaultRule, path: str) -> Response:
        if fault.kind == "500":
            return Response(500)
        if fault.kind == "garbage":
            return Response(200, b'\x00{"Result": "succ\xff')
        if fault.kind == "unplug":
            self._unplug_named(path, fault.replug_after)
        return dropped()

    def _unplug_named(self, path: str, replug_after: float | None) -> None:
        match = _READER_IN_PATH.match(path)
        with self._lock:
            if match is None or match[1] not in self._readers:
                return
            self.remove_reader(match[1])
            if replug_after is not None:
                self._replugs.append(self.monotonic() + replug_after)

    def _plug_due_readers(self) -> None:
        with self._lock:
            now = self.monotonic()
            due = [at for at in self._replugs if at <= now]
            self._replugs = [at for at in self._replugs if at > now]
            for _ in due:
                self.add_reader()

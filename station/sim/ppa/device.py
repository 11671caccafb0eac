"""One simulated Encedo PPA: state, lifecycle (boot, reboot, unplug, shutdown) and request dispatch.

>>> from station.devices.ppa.client import PpaClient
>>> with SimulatedPpa(backend_key=bytes(32)) as unit:           # HTTP and HTTPS on 127.0.0.1, free ports
...     client = PpaClient.at(unit.http_url)
...     client.status().inited, client.version().fwv
(False, 'Encedo nGINE FW v1.2.2')
"""

from __future__ import annotations

import fnmatch
import json
import os
import random
import ssl
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from station.core.codec import b64decode
from station.sim.ppa.auditlog import Event, Result
from station.sim.ppa.auth import InvalidBearer, parse_bearer
from station.sim.ppa.busy import format_refusal
from station.sim.ppa.clock import DeviceClock, MonotonicSource
from station.sim.ppa.faults import FaultInjector, FaultPlan, FaultRule
from station.sim.ppa.http import DeviceListener, Request, Response, dropped, empty
from station.sim.ppa.identity import https_credentials
from station.sim.ppa.images import TEST_VENDOR_PUBLIC_KEY
from station.sim.ppa.routes import all_routes
from station.sim.ppa.routes.system import format_progress
from station.sim.ppa.state import DEFAULT_FWV, BootState, PersistentState
from station.sim.ppa.timing import FAST, TimingProfile

JSON_BODY_LIMIT = 7300
RAW_BODY_LIMIT = 16 * 1024 * 1024
UPLOAD_LIMIT = 3 * 1024 * 1024
SHUTDOWN_POLL = 0.1  # seconds; how quickly a listener notices stop()
PRESENCE_POLL = 0.02  # seconds; how quickly ``on_presence`` hears that the unit went or came back
STATUS_PATH = "/api/system/status"
POWER_UP_DISK0 = {0x0: "-", 0x1: "ro", 0x3: "rw"}  # storage_mode low nibble (reference §5.4)
REPLUG_GAP = 1.0  # seconds a swapped unit's slot stays empty, long enough for a fixture to notice
SLOW_BOOT_FACTOR = 4  # ``slow_boot`` without ``s=``: this many times the profile's time (a 60 s install)
REQUEST_LOG_SIZE = 1000  # the newest (method, path) pairs kept in ``requests_seen``
UPLOAD_NAMES = {
    "/api/system/upgrade/upload_fw": ("firmware.bin", "firmware.hex"),
    "/api/system/upgrade/upload_ui": ("webroot.tar",),
}
CORS_HEADERS = {
    "Access-Control-Allow-Methods": "GET, POST, DELETE, OPTIONS",
    "Access-Control-Allow-Headers": (
        "Content-Type, Cache-Control, Pragma, Expires, Authorization, Content-Disposition"
    ),
    "Access-Control-Max-Age": "86400",
    "Access-Control-Allow-Credentials": "true",
}


@dataclass
class Restart:
    """A restart the unit announced with a 200: the old boot answers until ``goes_at``, then the unit is gone
    until ``back_at`` (None: a shutdown, until a power cycle), then a new boot answers."""

    goes_at: float
    back_at: float | None
    wipe: bool = False
    gone: bool = False


class SimulatedPpa:
    """A PPA on 127.0.0.1 (or a given address): HTTP and HTTPS listeners in front of the device model."""

    def __init__(
        self,
        *,
        backend_key: bytes,
        slot: int = 0,
        timing: TimingProfile = FAST,
        faults: FaultPlan | None = None,
        monotonic: MonotonicSource = time.monotonic,
        seed: int | None = None,
        vendor_key: bytes | None = None,
        fwv: str = DEFAULT_FWV,
        host: str = "127.0.0.1",
        http_port: int = 0,
        https_port: int = 0,
        https_only_storage_and_logger: bool = False,
        replug_after: float | None = None,
        on_fault: Callable[[int, FaultRule, str, str], None] | None = None,
        on_presence: Callable[[int, bool], None] | None = None,
    ) -> None:
        self.slot = slot
        self.backend_key = backend_key
        self.timing = timing
        self.faults: FaultInjector = (faults or FaultPlan()).for_device(slot)
        self.vendor_key = vendor_key if vendor_key is not None else b64decode(TEST_VENDOR_PUBLIC_KEY)
        self.https_only_storage_and_logger = https_only_storage_and_logger
        self.replug_after = replug_after
        self.on_fault = on_fault  # told (slot, rule, method, path) whenever a fault fires
        # Told (slot, answering) when the served unit goes after a restart and when its new boot answers:
        # how ``station sim ppa --link`` takes its network interface away, as a USB unit's vanishes.
        self.on_presence = on_presence
        self._watching = threading.Event()
        self.clock = DeviceClock(monotonic, drift=timing.drift)
        self._rng = random.Random(seed if seed is not None else os.urandom(16))  # noqa: S311 - serials only
        self._initial_fwv = fwv
        self._address = (host, http_port, https_port)
        self._lock = threading.RLock()
        self._routes = all_routes()
        self._listeners: list[DeviceListener] = []
        self._present = True
        self._replug_at: float | None = None
        self._restart: Restart | None = None
        self._request = ("", "")  # the request being handled: what a ``slow_boot`` fault matches
        self._hung: threading.Event | None = None  # set while hung under load; set() frees held connections
        self.units_seen = 0
        # Every request that reached the device, newest last: lets a test prove what a client called
        # (QA never writes); bounded so a long soak run does not grow it.
        self.requests_seen: deque[tuple[str, str]] = deque(maxlen=REQUEST_LOG_SIZE)
        self._last_talk = self.clock.monotonic()
        self.state = self._new_unit()
        self.boot = BootState()
        self._power_on()

    # --- lifecycle -----------------------------------------------------------------------------------

    def start(self) -> SimulatedPpa:
        """Open the HTTP and HTTPS listeners and serve each in a daemon thread."""
        host, http_port, https_port = self._address
        self._listeners = [
            DeviceListener((host, http_port), self, "http"),
            DeviceListener((host, https_port), self, "https", tls=_tls_context()),
        ]
        for listener in self._listeners:
            name = f"ppa{self.slot}-{listener.scheme}"
            thread = threading.Thread(
                target=listener.serve_forever, args=(SHUTDOWN_POLL,), name=name, daemon=True
            )
            thread.start()
        if self.on_presence is not None:
            self._watching.set()
            threading.Thread(
                target=self._watch_presence, name=f"ppa{self.slot}-presence", daemon=True
            ).start()
        return self

    def _watch_presence(self) -> None:
        """Tell ``on_presence`` each change between answering and gone (real time moves a restart on)."""
        answering = True
        while self._watching.is_set():
            with self._lock:
                now_answering = self._available()
            if now_answering != answering and self.on_presence is not None:
                answering = now_answering
                self.on_presence(self.slot, answering)
            time.sleep(PRESENCE_POLL)

    def stop(self) -> None:
        """Close both listeners (in parallel: each takes up to one poll interval to notice)."""
        self._watching.clear()
        self._unhang()
        stoppers = [threading.Thread(target=listener.shutdown) for listener in self._listeners]
        for thread in stoppers:
            thread.start()
        for thread in stoppers:
            thread.join()
        for listener in self._listeners:
            listener.server_close()
        self._listeners = []

    def __enter__(self) -> SimulatedPpa:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def http_url(self) -> str:
        return f"http://{self._url_host()}:{self._listeners[0].port}"

    @property
    def https_url(self) -> str:
        return f"https://{self._url_host()}:{self._listeners[1].port}"

    @property
    def devid(self) -> str:
        return self.state.hardware.devid

    def describe(self) -> dict[str, Any]:
        """The JSON line ``station sim ppa`` prints for this unit."""
        return {"slot": self.slot, "http": self.http_url, "https": self.https_url, "devid": self.devid}

    def _url_host(self) -> str:
        host = self._address[0]
        return f"[{host}]" if ":" in host else host

    def _new_unit(self) -> PersistentState:
        state = PersistentState.fresh(self._rng)
        state.firmware.fwv = self._initial_fwv
        self.units_seen += 1
        return state

    def _power_on(self) -> None:
        """Boot: new session keys and nonces, RTC lost, a new audit-log file, staged install applied."""
        self.clock.boot()
        self.state.boot_counter += 1
        self.boot = BootState()
        firmware = self.state.firmware
        if firmware.pending_install is not None:
            image, firmware.pending_install = firmware.pending_install, None
            firmware.fwv, firmware.fws = image.version, image.signature
            self.boot.fw_upgraded = True
        if self.state.initialised:
            self.boot.disk_modes[0] = POWER_UP_DISK0.get(self.state.config.storage_mode & 0x0F, "-")
        if self.state.format_owed:  # a format a restart interrupted starts again at power-up
            self.boot.format_started = self.clock.monotonic()
        self.state.log.header = firmware.fwv
        self.state.log.start_file(self.state.boot_counter, self.state.instance.eid_sign, self.clock.now())

    def restart_after_reply(self, *, wipe: bool = False, install: bool = False) -> Response:
        """The empty 200 of a reboot, firmware install or wipe-out: the old boot goes on answering for
        ``pre_reboot`` seconds, then the unit is gone (``reboot`` seconds, ``install`` after a firmware
        install), then a new boot answers. 409 while an announced restart is still to come."""
        with self._lock:
            if self._restart is not None:
                return empty(409)
            base = self.timing.install if install else self.timing.reboot
            goes_at = self.clock.monotonic() + self.timing.pre_reboot
            self._restart = Restart(goes_at, goes_at + self._boot_time(base), wipe=wipe)
        return Response(200)

    def shut_down_after_reply(self) -> Response:
        """The empty 200 of a shutdown: the old boot answers ``pre_reboot`` seconds, then only a power
        cycle (``reboot_now``, ``replug``) brings the unit back."""
        with self._lock:
            if self._restart is not None:
                return empty(409)
            self._restart = Restart(self.clock.monotonic() + self.timing.pre_reboot, None)
        return Response(200)

    def _boot_time(self, base: float) -> float:
        """How long the unit is gone: the profile's figure, or what a ``slow_boot`` fault says."""
        rule = self.faults.task("slow_boot", *self._request)
        if rule is None:
            return base
        if self.on_fault is not None:
            self.on_fault(self.slot, rule, *self._request)
        return rule.seconds or SLOW_BOOT_FACTOR * base

    def reboot_now(self, down: float | None = None) -> None:
        """Power-cycle the unit (a fixture cutting power): gone ``down`` seconds (default: the profile's
        ``reboot``), then a new boot; also clears a shutdown and a hang."""
        self._unhang()
        with self._lock:
            self.state.shut_down = False
            now = self.clock.monotonic()
            self._restart = Restart(now, now + (self.timing.reboot if down is None else down), gone=True)
            self._advance()

    @property
    def restarting(self) -> bool:
        """Whether a restart is announced or under way (the unit is not on its final boot yet)."""
        with self._lock:
            self._advance()
            return self._restart is not None

    def busy_for(self) -> float:
        """Seconds until an announced restart is over and a running storage format is done (0 if neither):
        how far a test on a manual clock moves it to meet the unit's next settled state."""
        with self._lock:
            self._advance()
            format_progress(self)  # notes a finished format
            now, left = self.clock.monotonic(), 0.0
            restart = self._restart
            if restart is not None and restart.back_at is not None:
                left = restart.back_at - now + (self.timing.format if self.state.format_owed else 0.0)
            elif self.boot.format_started is not None and self.state.format_owed:
                left = self.boot.format_started + self.timing.format - now
            return max(left, 0.0)

    def _advance(self) -> None:
        """Carry out an announced restart as far as the clock says: going (wipe, shutdown), then new boot."""
        restart, now = self._restart, self.clock.monotonic()
        if restart is None:
            return
        if not restart.gone and now >= restart.goes_at:
            restart.gone = True
            if restart.wipe:
                self.state.wipe()
            if restart.back_at is None:
                self.state.shut_down, self._restart = True, None
                return
        if restart.gone and restart.back_at is not None and now >= restart.back_at:
            self._restart = None
            self._power_on()

    def unplug(self, replug_after: float | None = None) -> None:
        """The unit disappears; with ``replug_after`` a fresh unit is plugged in that many seconds later."""
        with self._lock:
            self._present = False
            self._replug_at = None if replug_after is None else self.clock.monotonic() + replug_after

    def replug(self, *, new_unit: bool = True) -> None:
        """Plug a unit back in: a fresh one (new identity) or the same one, powered up either way."""
        self._unhang()
        with self._lock:
            if new_unit:
                self.state = self._new_unit()
            self._present, self._replug_at, self._restart = True, None, None
            self._last_talk = self.clock.monotonic()
            self.state.shut_down = False
            self._power_on()

    @property
    def hung(self) -> bool:
        """Whether the unit hangs (fault ``hang_under_load``) until it is replugged or power-cycled."""
        return self._hung is not None

    def _hang(self) -> Response:
        """The firmware stops answering: every connection is accepted and held, never answered."""
        if self._hung is None:
            self._hung = threading.Event()
        return Response(0, hold=self._hung)

    def _unhang(self) -> None:
        """Power is gone (replug, power cycle, stop): held connections drop; the load count restarts."""
        hung, self._hung = self._hung, None
        if hung is not None:
            hung.set()
        self.faults.rested()

    def log(self, event: Event, result: Result, subject: str = "", data: bytes = b"") -> None:
        self.state.log.append(self.clock.now(), event, result, subject, data)

    def _available(self) -> bool:
        now = self.clock.monotonic()
        if not self._present and self._replug_at is not None and now >= self._replug_at:
            self.replug()
        elif self._operator_swaps(now):
            self.unplug(replug_after=min(REPLUG_GAP, self.replug_after or REPLUG_GAP))
        self._advance()
        gone = self._restart is not None and self._restart.gone
        return self._present and not self.state.shut_down and not gone

    def _operator_swaps(self, now: float) -> bool:
        """``replug_after``: a personalised unit nobody has talked to for that long is taken away.

        Status polls do not count as talking: they are how a fixture sees that a unit is present.
        """
        idle = now - self._last_talk
        return (
            self.replug_after is not None
            and self._present
            and self.state.initialised
            and idle >= self.replug_after
        )

    # --- transport ----------------------------------------------------------------------------------

    def precheck(self, method: str, path: str, headers: Mapping[str, str]) -> Response | None:
        """Checks made before the body is read: presence, 411, 413 and the upload rules (reference §18.11)."""
        with self._lock:
            if not self._available():
                return dropped()
            if self._hung is not None:
                return self._hang()
        if method != "POST":
            return None
        length_text = headers.get("content-length", "")
        length = int(length_text) if length_text.isdigit() else 0
        if length <= 0:
            return empty(411)
        if path in UPLOAD_NAMES:
            filename = _disposition_filename(headers.get("content-disposition", ""))
            if filename is None or length > RAW_BODY_LIMIT:
                return empty(413)
            if filename not in UPLOAD_NAMES[path] or length > UPLOAD_LIMIT:
                return dropped()  # the firmware closes without answering (reference §8)
            return None
        if length > JSON_BODY_LIMIT:
            return empty(413)
        return None

    def handle(self, request: Request) -> Response:
        """Faults, then the transport checks that need the body, then routing; delayed per timing profile."""
        self.requests_seen.append((request.method, request.path))
        with self._lock:
            if self.faults.overloaded(self.clock.monotonic()) or self._hung is not None:
                return self._hang()  # this request is one too many: the firmware hangs while serving it
        fault = self.faults.pick(request.method, request.path)
        if fault is not None and self.on_fault is not None:
            self.on_fault(self.slot, fault, request.method, request.path)
        if fault is not None and fault.kind == "delay":
            time.sleep(fault.seconds)  # before taking the device: a late request, not a hung unit
        with self._lock:
            if not self._available():
                return dropped()
            self._request = (request.method, request.path)
            if (request.method, request.path) != ("GET", STATUS_PATH):
                self._last_talk = self.clock.monotonic()
            if fault is not None and fault.kind not in ("delay", "stall"):
                return self._apply_fault(fault)
            response, cost = self._dispatch(request)
            if fault is not None and fault.kind == "stall":
                response.stall = fault.seconds
            delay = self.timing.delay(cost)
            if delay:
                time.sleep(delay)
            if (request.method, request.path) != ("GET", STATUS_PATH):
                self._last_talk = self.clock.monotonic()  # idle counts from the reply, not the request
            return response

    def _apply_fault(self, fault: FaultRule) -> Response:
        if fault.kind == "500":
            return empty(500)
        if fault.kind == "garbage":
            return Response(200, b'\x00{"status": tru\xff')
        if fault.kind == "unplug":
            self.unplug(fault.replug_after)
        return dropped()

    def _dispatch(self, request: Request) -> tuple[Response, str]:
        if request.method == "OPTIONS":
            return Response(204, headers=dict(CORS_HEADERS)), "simple"
        if request.method == "POST" and request.path not in UPLOAD_NAMES:
            parsed = _json_object(request)
            if parsed is None:
                return empty(400), "simple"
            request = Request(**{**request.__dict__, "json": parsed})
        origin = request.header("origin")
        if origin is not None and not _origin_allowed(origin, self.state.config.origin):
            return empty(412), "simple"
        try:
            parse_bearer(self, request)
        except InvalidBearer:
            return empty(401), "simple"
        for candidate in self._routes:
            match = candidate.pattern.fullmatch(request.path)
            if match and candidate.method == request.method:
                response = format_refusal(self, request) or candidate.handler(self, request, match)
                if origin is not None:
                    response.headers.setdefault("Access-Control-Allow-Origin", origin)
                return response, candidate.cost
        return empty(404), "simple"


def _json_object(request: Request) -> dict[str, Any] | None:
    """The JSON object body, or None when Content-Type or JSON is wrong (the device answers 400)."""
    content_type = (request.header("content-type") or "").split(";")[0].strip().lower()
    if content_type != "application/json":
        return None
    try:
        value = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None


def _origin_allowed(origin: str, allow_list: str) -> bool:
    """CORS allow-list of the ``origin`` setting: ``*``, exact origins, or ``*.domain.tld`` wildcards."""
    host = origin.split("://", 1)[-1].split(":", 1)[0]
    for entry in allow_list.replace(",", " ").split():
        if entry in ("*", origin):
            return True
        if entry.startswith("*.") and fnmatch.fnmatchcase(host, entry):
            return True
    return False


def _disposition_filename(header: str) -> str | None:
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key.lower() == "filename" and value:
            return value.strip('"')
    return None


def _tls_context() -> ssl.SSLContext:
    """TLS 1.3 only, as the firmware's wolfSSL build (reference §12), with a per-unit certificate."""
    cert_pem, key_pem = https_credentials("my.ence.do")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    with tempfile.TemporaryDirectory() as folder:
        cert_path, key_path = Path(folder, "cert.pem"), Path(folder, "key.pem")
        cert_path.write_bytes(cert_pem)
        key_path.write_bytes(key_pem)
        key_path.chmod(0o600)
        context.load_cert_chain(cert_path, key_path)
    return context

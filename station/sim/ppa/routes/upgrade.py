"""Firmware and Manager (web app) upgrade (reference §8): upload, background check, install, usbmode.

>>> from station.sim.ppa.device import SimulatedPpa
>>> unit, get = SimulatedPpa(backend_key=bytes(32)), Request("GET", "", "", {}, b"", "http")
>>> install_fw(unit, get, None).status, install_ui(unit, get, None).status      # nothing staged
(406, 406)
"""

from __future__ import annotations

import hashlib
import re

from station.core.errors import ProtocolError
from station.sim.ppa.auditlog import Event, Result
from station.sim.ppa.auth import request_subject, require
from station.sim.ppa.http import Request, Response, empty
from station.sim.ppa.images import judge
from station.sim.ppa.routes.table import route
from station.sim.ppa.state import StagedImage
from station.sim.ppa.unit import Unit

UPLOAD_SCOPES = ("system:upgrade",)
CHECK_SCOPES = ("system:upgrade", "system:config")
TASK_STATUS = {"running": 202, "ok": 200, "failed": 406}


def upload(dev: Unit, req: Request, match: re.Match[str]) -> Response:
    """Stage a raw image; 406 when the stream ended before ``Content-Length`` bytes arrived."""
    refused = require(dev, req, UPLOAD_SCOPES, fresh_ok=True)
    if refused is not None:
        return refused
    declared = req.header("content-length") or "0"
    if len(req.body) < int(declared):
        return empty(406)
    kind = match["kind"]
    dev.state.firmware.staged[kind] = StagedImage(kind, _filename(req), req.body)
    return empty(200)


def check(dev: Unit, req: Request, match: re.Match[str]) -> Response:
    """Start (201) or poll (202) the verification task; 200 verified, 406 failed, 404 nothing staged."""
    refused = require(dev, req, CHECK_SCOPES, fresh_ok=True)
    if refused is not None:
        return refused
    staged = dev.state.firmware.staged.get(match["kind"])
    if staged is None:
        return empty(404)
    if staged.task == "none":
        if _task_running(dev):
            return empty(409)
        staged.task, staged.task_started, staged.polled_running = "running", dev.clock.monotonic(), False
        return empty(201)
    if staged.task == "running":
        _poll(dev, staged)
    return empty(TASK_STATUS[staged.task])


def install_fw(dev: Unit, req: Request, _: re.Match[str]) -> Response:
    """Hand the verified image to the bootloader: 200, then the unit reboots into the new firmware."""
    refused = require(dev, req, CHECK_SCOPES, fresh_ok=True)
    if refused is not None:
        return refused
    firmware = dev.state.firmware
    status = _install_refusal(dev, "fw")
    if status is not None:
        dev.log(Event.UPGRADE, Result.ERROR, subject=request_subject(dev, req))
        return empty(status)
    firmware.pending_install = firmware.staged.pop("fw")
    dev.log(Event.UPGRADE, Result.OK, subject=request_subject(dev, req))
    return dev.restart_after_reply(install=True)


def install_ui(dev: Unit, req: Request, _: re.Match[str]) -> Response:
    """Activate the verified web app at once (no reboot); ``uis`` becomes SHA-256 of the image."""
    refused = require(dev, req, CHECK_SCOPES, fresh_ok=True)
    if refused is not None:
        return refused
    firmware = dev.state.firmware
    status = _install_refusal(dev, "ui")
    if status is not None:
        dev.log(Event.UPGRADE, Result.ERROR, subject=request_subject(dev, req))
        return empty(status)
    firmware.uis = hashlib.sha256(firmware.staged.pop("ui").data).digest()
    dev.log(Event.UPGRADE, Result.OK, subject=request_subject(dev, req))
    return empty(200)


def usbmode(dev: Unit, req: Request, _: re.Match[str]) -> Response:
    """Reboot into the low-level USB mode: the reply goes out, then the unit is gone from the network."""
    refused = require(dev, req, UPLOAD_SCOPES, fresh_ok=True)
    if refused is not None:
        return refused
    if _task_running(dev) or dev.state.firmware.pending_install is not None:
        dev.log(Event.UPGRADE, Result.ERROR, subject=request_subject(dev, req))
        return empty(409)
    dev.log(Event.UPGRADE, Result.OK, subject=request_subject(dev, req))
    dev.unplug()  # this reply is already decided; every later request finds no unit
    return empty(200)


def _install_refusal(dev: Unit, kind: str) -> int | None:
    """409 while a check runs or an install is pending, 406 without a verified image of ``kind``."""
    firmware = dev.state.firmware
    if _task_running(dev) or firmware.pending_install is not None:
        return 409
    staged = firmware.staged.get(kind)
    if staged is None or staged.task != "ok":
        return 406
    return None


def _task_running(dev: Unit) -> bool:
    return any(image.task == "running" for image in dev.state.firmware.staged.values())


def _poll(dev: Unit, staged: StagedImage) -> None:
    """Finish the task if its time is up and it was polled while running; else note this poll."""
    elapsed = dev.clock.monotonic() - staged.task_started
    if not staged.polled_running or elapsed < dev.timing.fw_check:
        staged.polled_running = True
        return
    try:
        signed = judge(_image_bytes(staged), staged.kind, dev.vendor_key)  # by hash: sim/ppa/images.py
    except ProtocolError:  # an Intel HEX upload that does not decode
        signed = None
    if signed is None:
        staged.task = "failed"
        return
    staged.task, staged.version, staged.signature = "ok", signed.version, signed.signature


def _image_bytes(staged: StagedImage) -> bytes:
    if staged.filename.endswith(".hex"):
        return intel_hex_to_bytes(staged.data)
    return staged.data


def intel_hex_to_bytes(text: bytes) -> bytes:
    """Decode Intel HEX (data, EOF, extended segment/linear address records) into one contiguous image.

    Gaps are filled with 0xFF (erased flash); a bad checksum or record is a ProtocolError.
    """
    memory: dict[int, int] = {}
    base = 0
    for line in text.decode("ascii", errors="replace").split():
        record = _hex_record(line)
        count, address, rtype, data = record[0], (record[1] << 8) | record[2], record[3], record[4:-1]
        if len(data) != count:
            raise ProtocolError("Intel HEX record length does not match its byte count")
        if rtype == 0:
            memory.update({base + address + i: b for i, b in enumerate(data)})
        elif rtype == 1:
            break
        elif rtype in (2, 4):
            base = int.from_bytes(data, "big") << (4 if rtype == 2 else 16)
    if not memory:
        raise ProtocolError("Intel HEX file holds no data")
    start = min(memory)
    return bytes(memory.get(a, 0xFF) for a in range(start, max(memory) + 1))


def _hex_record(line: str) -> bytes:
    try:
        if not line.startswith(":"):
            raise ValueError
        record = bytes.fromhex(line[1:])
    except ValueError:
        raise ProtocolError("not an Intel HEX record") from None
    if len(record) < 5 or sum(record) & 0xFF:
        raise ProtocolError("Intel HEX record is short or has a bad checksum")
    return record


def _filename(req: Request) -> str:
    """The upload's file name (the framework already refused a missing or wrong one)."""
    for part in (req.header("content-disposition") or "").split(";"):
        key, _, value = part.strip().partition("=")
        if key.lower() == "filename":
            return value.strip('"')
    return ""


ROUTES = [
    route("POST", r"/api/system/upgrade/upload_(?P<kind>fw|ui)", upload),
    route("GET", r"/api/system/upgrade/check_(?P<kind>fw|ui)", check, cost="crypto"),
    route("GET", r"/api/system/upgrade/install_fw", install_fw),
    route("GET", r"/api/system/upgrade/install_ui", install_ui),
    route("GET", r"/api/system/upgrade/usbmode", usbmode),
]

"""System endpoints (reference §2): status, version, reboot, shutdown, selftest.

>>> from station.sim.ppa.device import SimulatedPpa
>>> unit = SimulatedPpa(backend_key=bytes(32))             # not served: a handler is a plain function
>>> status(unit, Request("GET", "/api/system/status", "", {}, b"", "http"), None).body
b'{"ctx":0,"uptime":...,"fls_state":0,"inited":false,"https":true,...}'
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from station.core.codec import b64encode
from station.sim.ppa.auditlog import Event, Result
from station.sim.ppa.auth import request_bearer, request_subject, require
from station.sim.ppa.http import Request, Response, empty, reply
from station.sim.ppa.routes.table import route
from station.sim.ppa.selftest import FLS_ENTROPY, FLS_KAT, SE_FAULTY, kat_seconds
from station.sim.ppa.state import HWV, SD_CAPACITY_SECTORS
from station.sim.ppa.unit import Unit

REBOOT_SCOPES = ("system:upgrade", "system:config", "system:shutdown")


def status(dev: Unit, req: Request, _: re.Match[str]) -> Response:
    """Liveness probe with conditional fields; ``https`` only over plain HTTP (our decision, §17.4)."""
    cfg, clock = dev.state.config, dev.clock
    body: dict[str, Any] = {
        "ctx": cfg.ctx,
        "uptime": clock.uptime(),
        "temp": 31.5,
        "fls_state": dev.state.fls_state,
    }
    if clock.rtc_set:
        now = clock.now()
        body["ts"] = dt.datetime.fromtimestamp(now, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        body["time"] = now
    if not dev.state.initialised:
        body["inited"] = False
    if req.scheme == "http":
        body["https"] = True
    host = (req.header("host") or "").split(":")[0]
    if host != cfg.hostname:
        body["hostname"] = cfg.hostname
    if not cfg.trusted_ts:
        body["tts"] = False
    body["storage"] = storage_strings(dev)
    fmt = format_progress(dev)
    if fmt is not None:
        body["format"] = fmt
    if dev.boot.fw_upgraded:
        body["fw_upgrade"] = True
    return reply(body)


def storage_strings(dev: Unit) -> list[str]:
    disk0 = dev.state.config.storage_disk0size
    return [f"{disk0}:{dev.boot.disk_modes[0]}", f"{SD_CAPACITY_SECTORS - disk0}:{dev.boot.disk_modes[1]}"]


def format_progress(dev: Unit) -> str | None:
    """``status<N>`` while the disks format after personalisation, then ``done`` (until the next boot)."""
    started = dev.boot.format_started
    if started is None:
        return None
    elapsed = dev.clock.monotonic() - started
    if elapsed >= dev.timing.format:
        dev.state.format_owed = False
        return "done"
    return f"status{int(100 * elapsed / dev.timing.format)}"


def version(dev: Unit, req: Request, _: re.Match[str]) -> Response:
    fw = dev.state.firmware
    body: dict[str, Any] = {
        "hwv": HWV,
        "fwv": fw.fwv,
        "fwk": b64encode(dev.vendor_key),
        "fws": b64encode(fw.fws),
        "blv": fw.blv,
        "blk": b64encode(fw.blk),
        "bls": b64encode(fw.bls),
        "uis": b64encode(fw.uis),
    }
    if not dev.state.initialised or request_bearer(dev, req) is not None:
        body["sd_csd"] = dev.state.hardware.sd_csd
        body["sd_cid"] = dev.state.hardware.sd_cid
    return reply(body)


def reboot(dev: Unit, req: Request, _: re.Match[str]) -> Response:
    refused = require(dev, req, REBOOT_SCOPES, fresh_ok=True)
    if refused is not None:
        return refused
    if dev.state.firmware.pending_install is not None:
        return empty(409)
    dev.log(Event.REBOOT, Result.OK, subject=request_subject(dev, req))
    return dev.restart_after_reply()


def shutdown(dev: Unit, req: Request, _: re.Match[str]) -> Response:
    """Always needs a token; ``pre_reboot`` seconds later only a power cycle (``reboot_now``) brings the
    unit back."""
    refused = require(dev, req, ("system:shutdown", "system:config"))
    if refused is not None:
        return refused
    dev.log(Event.SHUTDOWN, Result.OK, subject=request_subject(dev, req))
    return dev.shut_down_after_reply()


def selftest(dev: Unit, req: Request, _: re.Match[str]) -> Response:
    """Entropy and secure-element checks at once; the KAT of this boot runs ``kat_seconds`` (``kat_busy``
    meanwhile) from the first call, and a failure latches its ``fls_state`` bit (faults ``kat_fail``,
    ``entropy_fail``, ``se_fault``; docs/simulator.md)."""
    refused = require(dev, req, None, fresh_ok=True)
    if refused is not None:
        return refused
    now, moment, kat = dev.clock.now(), dev.clock.monotonic(), dev.boot.kat
    last_fls_state = dev.state.fls_state
    if kat.started is None:
        kat.start(moment, seconds=kat_seconds(dev.timing), fails=dev.faults.holds("kat_fail"))
    busy = kat.busy(moment)
    if not busy and kat.finished_ts is None:
        kat.finished_ts = now
        if kat.fails:
            dev.state.fls_state |= FLS_KAT
    if dev.faults.holds("entropy_fail"):
        dev.state.fls_state |= FLS_ENTROPY
    se_state = SE_FAULTY if dev.faults.holds("se_fault") else 0
    healthy = dev.state.fls_state == 0 and se_state == 0
    dev.log(Event.SELFTEST_PASSED, Result.OK if healthy else Result.FAILED)
    body: dict[str, Any] = {
        "last_selftest_ts": now,
        "last_fls_state": last_fls_state,
        "last_entropytest_ts": now,
        "last_kat_ts": kat.finished_ts or 0,
        "fls_state": dev.state.fls_state,
        "selftest_ts": now,
        "repo_stats": {"total": 256, "deleted": 0, "invalid": 0, "fragmented": 0, "freeslots": 256},
        "se_state": se_state,
    }
    if busy:
        body["kat_busy"] = True
    return reply(body)


ROUTES = [
    route("GET", r"/api/system/status", status),
    route("GET", r"/api/system/version", version),
    route("GET", r"/api/system/reboot", reboot),
    route("GET", r"/api/system/shutdown", shutdown),
    route("GET", r"/api/system/selftest", selftest, cost="crypto"),
]

"""Waiting for a unit's own tasks: a restart (old boot ends, then a new boot), a firmware check, a format.

Each wait has a deadline the verdict names; probes come at most twice a second, then once (docs/simulator.md,
"How the station waits").

>>> from itertools import islice
>>> [round(pause, 2) for pause in islice(pauses(0.5, 2.0), 5)]
[0.5, 1.0, 2.0, 2.0, 2.0]
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from station.core.errors import DeviceTimeout, DeviceUnreachable
from station.devices.ppa.client import PpaClient
from station.devices.ppa.replies import CheckState, Status
from station.pipeline.engine import RunContext, StepFailed

REBOOT_DEADLINE = 60.0  # seconds from a reboot's 200 to its new boot (the Manager waits 8-13 s)
INSTALL_DEADLINE = 300.0  # from a firmware install's 200 to the new firmware's boot (bootloader flashing)
CHECK_DEADLINE = 120.0  # for the unit's check of an uploaded image (the Manager allows 120 s)
FORMAT_DEADLINE = 120.0  # for the storage format after personalisation
PROBE_TIMEOUT = 3.0  # one status probe while waiting: a unit in its bootloader may not answer at all


@dataclass(frozen=True)
class UnitWaits:
    """Deadlines (seconds) and probe pacing of the waits; ``WAITS`` is the station's."""

    reboot: float = REBOOT_DEADLINE
    install: float = INSTALL_DEADLINE
    check: float = CHECK_DEADLINE
    format: float = FORMAT_DEADLINE
    first_poll: float = 0.5  # the first pause (never more than 2 requests a second); each next doubles ...
    poll: float = 1.0  # ... up to this (status probes: one a second once a wait runs)
    task_poll: float = 2.0  # ... or this, for the check task (the Manager polls every 4 s)


WAITS = UnitWaits()


def pauses(first: float, cap: float) -> Iterator[float]:
    """``first``, doubling, then ``cap`` for ever."""
    pause = first
    while True:
        yield min(pause, cap)
        pause *= 2


def await_restart(
    ctx: RunContext,
    client: PpaClient,
    *,
    what: str,
    deadline: float,
    waits: UnitWaits,
    before: Status | None = None,
    install: bool = False,
) -> Status:
    """The new boot's status after the restart ``what`` (e.g. "its reboot") whose 200 just came.

    A real unit answers as the old boot for ~2 s after the 200, is then gone (8-13 s; longer while the
    bootloader flashes), then a new boot answers. So the restart is over only after a sign the old boot
    ended (no answer or no link, a smaller uptime, the clock lost, ``fw_upgrade``), then an answer.

    ``before``: the old boot's status, read before the command (its uptime and clock are signs too).
    StepFailed ``no-restart`` when the old boot still answers at the deadline, ``not-back`` when the unit
    is still gone then.
    """
    probe = client.with_timeout(min(PROBE_TIMEOUT, client.timeout))
    started, ended = ctx.monotonic(), False
    schedule = pauses(waits.first_poll, waits.poll)
    while True:
        ctx.sleep(next(schedule))
        try:
            status = probe.status()
        except DeviceUnreachable:
            if not ended:
                ended, schedule = True, pauses(waits.first_poll, waits.poll)  # gone: look again soon
        except DeviceTimeout:
            pass  # slow or gone: no sign either way
        else:
            if ended or _new_boot(status, before, install=install):
                return status
        if ctx.monotonic() - started > deadline:
            raise _late(what, deadline, gone=ended)


def _new_boot(status: Status, before: Status | None, *, install: bool) -> bool:
    """Whether ``status`` comes from a boot later than ``before`` (the old boot's)."""
    if install and status.fw_upgrade:
        return True
    if before is None:
        return False
    return status.uptime < before.uptime or (before.time is not None and status.time is None)


def _late(what: str, deadline: float, *, gone: bool) -> StepFailed:
    if gone:
        return StepFailed("not-back", f"the unit did not come back within {deadline:g} s of {what}")
    return StepFailed(
        "no-restart",
        f"the unit still answered as the same boot {deadline:g} s after {what}: it did not restart",
    )


def await_check(ctx: RunContext, client: PpaClient, *, waits: UnitWaits) -> None:
    """Start or poll the unit's check of the uploaded firmware until it ends; StepFailed when it refused
    the image (``image-refused``) or did not finish within ``waits.check`` (``check-timeout``)."""
    started, schedule = ctx.monotonic(), pauses(waits.first_poll, waits.task_poll)
    while True:
        state = client.check_firmware()
        if state is CheckState.VERIFIED:
            return
        if state is CheckState.FAILED:
            raise StepFailed("image-refused", "the unit refused the firmware image (its check failed)")
        if ctx.monotonic() - started > waits.check:
            raise StepFailed(
                "check-timeout",
                f"the unit's check of the firmware image did not finish within {waits.check:g} s",
            )
        ctx.sleep(next(schedule))


def await_format(ctx: RunContext, client: PpaClient, *, waits: UnitWaits) -> str:
    """Wait until the storage format after personalisation is done (status ``format`` "done" or absent);
    the unit answers 409 on its storage, log and key routes meanwhile. StepFailed ``format-timeout``."""
    started, schedule = ctx.monotonic(), pauses(waits.first_poll, waits.poll)
    while True:
        progress = client.status().format
        if progress in (None, "done"):
            took = ctx.monotonic() - started
            return f"storage format done after {took:.1f} s" if progress else "no storage format reported"
        if ctx.monotonic() - started > waits.format:
            raise StepFailed(
                "format-timeout",
                f"the unit's storage format did not finish within {waits.format:g} s of its "
                f"personalisation (status still says {progress!r})",
            )
        ctx.sleep(next(schedule))

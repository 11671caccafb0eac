"""Whole production runs over units that restart as real ones do (docs/simulator.md): the old boot answers a
while after the 200, the unit is then gone, then a new boot answers with its clock unset; the storage
formats after personalisation; the unit's own check of an image takes time. The station waits each out, or
names the deadline that passed.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from station.core.events import Outcome
from station.pipeline import restarts
from station.sim.ppa.device import SimulatedPpa
from station.sim.ppa.faults import FaultPlan, FaultRule
from station.sim.ppa.timing import FAST, profile
from tests import simtools
from tests.firmwaretools import SHIPPED_RELEASE_KEY
from tests.pipeline.conftest import (
    FIRMWARE_DIR,
    PROFILE,
    STATUS,
    VERSION,
    LineFactory,
    failure_of,
    ok_json,
    step_of,
)

UPGRADED_FWV = "Encedo nGINE FW v1.2.3"
SCALED = profile("realistic*0.05")  # the real unit's sequence and proportions (a 0.4 s reboot), its drift
NEW_ADDRESS = {**PROFILE, "ip": "192.168.8.1/24"}  # another ip: the unit asks for a reboot after init
INSTALL_FW = "/api/system/upgrade/install_fw"
SHORT = restarts.UnitWaits(reboot=1.0, install=1.5, check=1.0, format=1.0)


@pytest.fixture
def short_waits(monkeypatch: pytest.MonkeyPatch) -> restarts.UnitWaits:
    """Deadlines of a second or so, for units that never finish: the verdict names them."""
    monkeypatch.setattr(restarts, "WAITS", SHORT)
    return SHORT


def message_of(verdict: Any, step: str) -> str:
    return str(step_of(verdict, step)["detail"]["message"])


def test_a_firmware_upgrade_waits_for_the_old_boot_to_end_and_the_new_firmware_to_boot(
    line_factory: LineFactory,
) -> None:
    line = line_factory(
        firmware={"dir": str(FIRMWARE_DIR), "require": UPGRADED_FWV, "release_key": SHIPPED_RELEASE_KEY},
        network=[{"timing": SCALED}],
    )
    unit = line.extra_units[0]
    boots = unit.state.boot_counter
    (verdict,) = line.run()

    assert verdict.outcome is Outcome.PASS, verdict.failure
    assert f"→ {UPGRADED_FWV}" in message_of(verdict, "firmware")
    assert ok_json(simtools.get(unit.http_url, VERSION))["fwv"] == UPGRADED_FWV
    assert unit.state.boot_counter == boots + 1  # the install's boot, and no other
    checks = [path for method, path in unit.requests_seen if path.endswith("check_fw")]
    assert len(checks) >= 3  # started (201), running (202), verified (200)


def test_a_personalisation_that_needs_a_reboot_checks_the_new_boot_in(line_factory: LineFactory) -> None:
    line = line_factory(profile=NEW_ADDRESS, network=[{"timing": SCALED}])
    unit = line.extra_units[0]
    (verdict,) = line.run()

    assert verdict.outcome is Outcome.PASS, verdict.failure
    detail = message_of(verdict, "personalize")
    assert "rebooted and checked in again" in detail and "storage format done" in detail
    status = ok_json(simtools.get(unit.http_url, STATUS))
    assert "time" in status and status.get("format") == "done"  # the new boot's clock, its format done
    assert unit.state.config.ip == "192.168.8.1/24"


def test_a_reboot_that_lost_the_clock_is_answered_with_one_check_in(line_factory: LineFactory) -> None:
    """The unit restarts on its own just before the final login: its token challenge answers 403 (clock
    unset, trusted time on), and the station checks it in once and logs in."""
    held: list[SimulatedPpa] = []

    def power_cut(slot: int, rule: FaultRule, method: str, path: str) -> None:
        held[0].reboot_now(down=0.0)

    # skip=1: the final check's first login goes through; its second meets a unit that has just restarted
    fault = FaultRule("delay", path="/api/auth/token", method="GET", times=1, skip=1)
    line = line_factory(network=[{"faults": FaultPlan([fault]), "on_fault": power_cut}])
    unit = line.extra_units[0]
    held.append(unit)
    (verdict,) = line.run()

    assert verdict.outcome is Outcome.PASS, verdict.failure
    assert unit.faults.rules[0].times == 0  # the power cut happened
    checkins = [
        path for method, path in unit.requests_seen if (method, path) == ("POST", "/api/system/checkin")
    ]
    assert len(checkins) == 2  # the check-in step's, then the one the 403 asked for


def test_the_storage_format_after_personalisation_is_waited_out(line_factory: LineFactory) -> None:
    line = line_factory(network=[{"timing": replace(FAST, format=1.0)}])
    unit = line.extra_units[0]
    (verdict,) = line.run()

    assert verdict.outcome is Outcome.PASS, verdict.failure
    assert "storage format done" in message_of(verdict, "personalize")
    refused = [path for method, path in unit.requests_seen if path == "/api/logger/key"]
    assert len(refused) == 1  # asked once, after the format: never refused with 409


def test_a_unit_whose_clock_runs_fast_passes(line_factory: LineFactory) -> None:
    line = line_factory(network=[{"timing": replace(FAST, drift=0.08)}])
    (verdict,) = line.run()
    assert verdict.outcome is Outcome.PASS, verdict.failure


# --- deadlines ------------------------------------------------------------------------------------------


def test_a_unit_that_never_comes_back_from_its_reboot_fails_naming_the_deadline(
    line_factory: LineFactory, short_waits: restarts.UnitWaits
) -> None:
    line = line_factory(profile=NEW_ADDRESS, network=[{"timing": replace(FAST, reboot=1e6)}])
    (verdict,) = line.run()

    step, code, message = failure_of(verdict)
    assert verdict.outcome is Outcome.FAIL
    assert (step, code) == ("personalize", "not-back")
    assert message == "the unit did not come back within 1 s of its reboot"


def test_a_firmware_install_that_never_ends_fails_naming_the_deadline(
    line_factory: LineFactory, short_waits: restarts.UnitWaits
) -> None:
    slow = FaultPlan([FaultRule("slow_boot", path=INSTALL_FW, seconds=1e6)])
    line = line_factory(
        firmware={"dir": str(FIRMWARE_DIR), "require": UPGRADED_FWV, "release_key": SHIPPED_RELEASE_KEY},
        network=[{"faults": slow}],
    )
    unit = line.extra_units[0]
    (verdict,) = line.run()

    step, code, message = failure_of(verdict)
    assert (step, code) == ("firmware", "not-back")
    assert message == "the unit did not come back within 1.5 s of its firmware install"
    assert unit.restarting  # still in its bootloader, as far as the station can tell


def test_a_unit_that_does_not_restart_fails_naming_the_deadline(
    line_factory: LineFactory, short_waits: restarts.UnitWaits
) -> None:
    line = line_factory(profile=NEW_ADDRESS, network=[{"timing": replace(FAST, pre_reboot=1e6)}])
    (verdict,) = line.run()

    step, code, message = failure_of(verdict)
    assert (step, code) == ("personalize", "no-restart")
    assert message == "the unit still answered as the same boot 1 s after its reboot: it did not restart"


def test_a_check_that_never_ends_fails_naming_the_deadline(
    line_factory: LineFactory, short_waits: restarts.UnitWaits
) -> None:
    line = line_factory(
        firmware={"dir": str(FIRMWARE_DIR), "require": UPGRADED_FWV, "release_key": SHIPPED_RELEASE_KEY},
        network=[{"timing": replace(FAST, fw_check=1e6)}],
    )
    unit = line.extra_units[0]
    (verdict,) = line.run()

    step, code, message = failure_of(verdict)
    assert (step, code) == ("firmware", "check-timeout")
    assert message == "the unit's check of the firmware image did not finish within 1 s"
    assert not [path for method, path in unit.requests_seen if path == INSTALL_FW]  # nothing installed


def test_a_409_that_never_clears_fails_naming_the_deadline(
    line_factory: LineFactory, short_waits: restarts.UnitWaits
) -> None:
    line = line_factory(network=[{"timing": replace(FAST, format=1e6)}])
    unit = line.extra_units[0]
    (verdict,) = line.run()

    step, code, message = failure_of(verdict)
    assert (step, code) == ("personalize", "format-timeout")
    assert message.startswith("the unit's storage format did not finish within 1 s of its personalisation")
    assert simtools.get(unit.http_url, "/api/logger/key").status_code == 409  # it still refuses
    assert verdict.record.payload["personalization"] is not None  # the record keeps what was written

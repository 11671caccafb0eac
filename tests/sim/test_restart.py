"""The real unit's sequence around a restart, in time: the old boot answers ``pre_reboot`` seconds after
the 200, the unit is then gone (``reboot``, or ``install`` after a firmware install), then a new boot
answers; the storage format after personalisation, and the unit's fast clock (docs/simulator.md)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import requests

from station.core.codec import x25519_public_key
from station.sim.ppa.clock import ManualTime
from station.sim.ppa.device import SimulatedPpa
from station.sim.ppa.faults import FaultPlan, FaultRule
from station.sim.ppa.timing import FAST, REALISTIC, TimingProfile, profile
from tests.conftest import BACKEND_PRIVATE
from tests.simtools import checkin, get, login, personalise, settle

TIMING = TimingProfile("test", pre_reboot=2.0, reboot=8.0, install=15.0, format=5.0, fw_check=4.0)
STATUS, REBOOT = "/api/system/status", "/api/system/reboot"


def make_unit(manual_time: ManualTime, **kwargs: object) -> SimulatedPpa:
    return SimulatedPpa(backend_key=x25519_public_key(BACKEND_PRIVATE), monotonic=manual_time, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def timed(manual_time: ManualTime) -> Iterator[SimulatedPpa]:
    with make_unit(manual_time, timing=TIMING) as unit:
        yield unit


def answers(unit: SimulatedPpa) -> bool:
    try:
        get(unit.http_url, STATUS)
    except requests.ConnectionError:
        return False
    return True


def status(unit: SimulatedPpa) -> dict[str, object]:
    return dict(get(unit.http_url, STATUS).json())


def test_the_old_boot_answers_then_the_unit_is_gone_then_a_new_boot_answers(
    timed: SimulatedPpa, manual_time: ManualTime
) -> None:
    checkin(timed.http_url, BACKEND_PRIVATE).raise_for_status()
    manual_time.advance(30)
    boots = timed.state.boot_counter
    assert get(timed.http_url, REBOOT).status_code == 200
    manual_time.advance(1.9)
    old = status(timed)  # still the old boot: its uptime runs on, its clock is set
    assert old["uptime"] == 31 and "time" in old
    assert get(timed.http_url, REBOOT).status_code == 409  # a restart is already announced
    manual_time.advance(0.1)
    assert not answers(timed)
    manual_time.advance(7.9)
    assert not answers(timed)
    manual_time.advance(0.1)
    new = status(timed)
    assert new["uptime"] == 0 and "time" not in new  # uptime from 0, clock unset
    assert timed.state.boot_counter == boots + 1


def test_a_firmware_install_is_gone_for_the_install_time(
    timed: SimulatedPpa, manual_time: ManualTime
) -> None:
    assert timed.restart_after_reply(install=True).status == 200
    manual_time.advance(2.0 + 8.0)
    assert not answers(timed)  # a plain reboot would be back by now
    manual_time.advance(15.0 - 8.0)
    assert status(timed)["uptime"] == 0


def test_a_slow_boot_fault_makes_the_restart_four_times_longer(manual_time: ManualTime) -> None:
    """Without ``s=``, 4x the profile's time: a realistic install (15 s) then takes a minute."""
    faults = FaultPlan([FaultRule("slow_boot", path=REBOOT)])
    with make_unit(manual_time, timing=REALISTIC, faults=faults) as unit:
        assert get(unit.http_url, REBOOT).status_code == 200
        manual_time.advance(2.0 + 31.9)
        assert unit.restarting and not answers(unit)
        manual_time.advance(0.2)
        assert answers(unit)  # 4 x the 8 s reboot


def test_a_slow_boot_fault_leaves_other_restarts_alone(manual_time: ManualTime) -> None:
    faults = FaultPlan([FaultRule("slow_boot", path="/api/system/upgrade/install_fw")])
    with make_unit(manual_time, timing=TIMING, faults=faults) as unit:
        assert get(unit.http_url, REBOOT).status_code == 200
        manual_time.advance(10.0)
        assert answers(unit)


def test_a_wipe_out_happens_when_the_old_boot_ends(timed: SimulatedPpa, manual_time: ManualTime) -> None:
    personalise(timed.http_url, BACKEND_PRIVATE)
    settle(timed)
    timed.restart_after_reply(wipe=True)
    manual_time.advance(1.0)
    assert "inited" not in status(timed)  # the old, personalised boot
    manual_time.advance(1.0 + 8.0)
    assert status(timed)["inited"] is False


def test_a_shutdown_answers_for_the_pre_reboot_time_then_only_a_power_cycle_helps(
    timed: SimulatedPpa, manual_time: ManualTime
) -> None:
    assert timed.shut_down_after_reply().status == 200
    manual_time.advance(1.9)
    assert answers(timed)
    manual_time.advance(1000)
    assert not answers(timed)
    timed.reboot_now()
    manual_time.advance(8.0)
    assert answers(timed)


def test_a_power_cycle_is_gone_for_the_reboot_time(timed: SimulatedPpa, manual_time: ManualTime) -> None:
    timed.reboot_now()
    assert not answers(timed)
    manual_time.advance(8.0)
    assert status(timed)["uptime"] == 0


def test_marked_routes_answer_409_while_the_storage_formats(
    timed: SimulatedPpa, manual_time: ManualTime
) -> None:
    personalise(timed.http_url, BACKEND_PRIVATE)
    token = login(timed.http_url, "logger:get")  # token login is not marked: it answers
    assert get(timed.http_url, "/api/logger/key", token).status_code == 409
    assert get(timed.http_url, "/api/system/config/attestation", token).status_code == 409
    assert status(timed)["format"] == "status0"
    assert get(timed.http_url, "/api/system/selftest", token).status_code == 200
    manual_time.advance(5.0)
    assert status(timed)["format"] == "done"
    assert get(timed.http_url, "/api/logger/key", token).status_code == 200


def test_a_format_cut_by_a_restart_starts_again_on_the_new_boot(
    timed: SimulatedPpa, manual_time: ManualTime
) -> None:
    personalise(timed.http_url, BACKEND_PRIVATE)
    manual_time.advance(1.0)
    assert get(timed.http_url, REBOOT, login(timed.http_url, "system:config")).status_code == 200
    manual_time.advance(2.0 + 8.0)
    assert status(timed)["format"] == "status0"
    manual_time.advance(5.0)
    assert status(timed)["format"] == "done"
    assert timed.busy_for() == 0.0


def test_the_clock_runs_fast_by_the_drift(manual_time: ManualTime) -> None:
    with make_unit(manual_time, timing=REALISTIC) as unit:
        checkin(unit.http_url, BACKEND_PRIVATE, iat=1_700_000_000).raise_for_status()
        manual_time.advance(1000)
        assert status(unit)["time"] == 1_700_001_080  # +8 %
        assert status(unit)["uptime"] == 1080


def test_fast_keeps_the_sequence_with_small_figures() -> None:
    for name in ("pre_reboot", "reboot", "install", "format", "fw_check"):
        assert 0 < FAST.delay(name) <= 0.2, name
        assert FAST.delay(name) < REALISTIC.delay(name)
    assert FAST.install > FAST.reboot and REALISTIC.install > REALISTIC.reboot
    scaled = profile("realistic*0.1")
    assert scaled.reboot == pytest.approx(0.8) and scaled.pre_reboot == pytest.approx(0.2)
    assert scaled.drift == REALISTIC.drift


def test_on_presence_hears_the_unit_go_and_its_new_boot_answer() -> None:
    """What ``station sim ppa --link`` builds on: real time moves the restart on, with no request."""
    heard: list[tuple[int, bool]] = []
    both = threading.Event()

    def on_presence(slot: int, answering: bool) -> None:
        heard.append((slot, answering))
        if len(heard) == 2:
            both.set()

    with SimulatedPpa(
        backend_key=x25519_public_key(BACKEND_PRIVATE), slot=3, on_presence=on_presence
    ) as unit:
        assert get(unit.http_url, REBOOT).status_code == 200
        assert both.wait(30)
    assert heard == [(3, False), (3, True)]


def test_a_wipe_out_formats_before_its_restart(timed: SimulatedPpa, manual_time: ManualTime) -> None:
    """A wipe-out reformats the card before the unit restarts (reference §3.7): the new boot is not busy."""
    personalise(timed.http_url, BACKEND_PRIVATE)  # its format still running
    timed.restart_after_reply(wipe=True)
    manual_time.advance(2.0 + 8.0)
    assert "format" not in status(timed)
    assert timed.busy_for() == 0.0

"""The unit's own self-test (reference §2.5): ``kat_busy`` while this boot's KAT runs, then the verdict;
faults make the KAT or the entropy test fail (latching ``fls_state``) or the secure element unhealthy."""

from __future__ import annotations

from typing import Any

import pytest

from station.devices.ppa.replies import SelfTest
from station.devices.ppa.wire import ReplyBody
from station.sim.ppa.clock import ManualTime
from station.sim.ppa.device import SimulatedPpa
from station.sim.ppa.faults import FaultRule, parse_spec
from station.sim.ppa.selftest import KAT_MIN
from tests.simtools import get, reboot

SELFTEST, STATUS = "/api/system/selftest", "/api/system/status"


def selftest(unit: SimulatedPpa) -> dict[str, Any]:
    response = get(unit.http_url, SELFTEST)  # a fresh unit needs no token
    assert response.status_code == 200
    return dict(response.json())


def test_the_first_self_test_of_a_boot_is_busy_with_its_kat_then_passes(
    unit: SimulatedPpa, manual_time: ManualTime
) -> None:
    first = selftest(unit)
    assert first["kat_busy"] is True
    assert first["fls_state"] == 0
    manual_time.advance(KAT_MIN * 2)
    done = selftest(unit)
    assert "kat_busy" not in done
    assert (done["fls_state"], done["se_state"]) == (0, 0)
    assert "kat_busy" not in selftest(unit)  # one KAT per boot
    reboot(unit)
    assert selftest(unit)["kat_busy"] is True  # a new boot runs it again


@pytest.mark.parametrize(("kind", "bit"), [("kat_fail", 0x01), ("entropy_fail", 0x02)])
def test_a_failing_test_latches_its_fail_state_bit(
    unit: SimulatedPpa, manual_time: ManualTime, kind: str, bit: int
) -> None:
    unit.faults.add(FaultRule(kind))
    selftest(unit)
    manual_time.advance(KAT_MIN * 2)
    assert selftest(unit)["fls_state"] == bit
    assert get(unit.http_url, STATUS).json()["fls_state"] == bit  # latched: status says so too


def test_an_unhealthy_secure_element_shows_in_se_state(unit: SimulatedPpa, manual_time: ManualTime) -> None:
    unit.faults.add(parse_spec("se_fault").rules[0])
    selftest(unit)
    manual_time.advance(KAT_MIN * 2)
    done = selftest(unit)
    assert (done["fls_state"], done["se_state"]) == (0, 1)


def test_the_condition_faults_never_touch_a_request(unit: SimulatedPpa) -> None:
    for kind in ("kat_fail", "entropy_fail", "se_fault"):
        unit.faults.add(FaultRule(kind))
    assert get(unit.http_url, STATUS).status_code == 200
    assert unit.faults.pick("GET", STATUS) is None


def test_the_station_reads_a_reply_without_kat_busy_or_se_state_as_done_and_not_applicable() -> None:
    body = ReplyBody.decode("GET", SELFTEST, b'{"fls_state":0,"selftest_ts":1700000000}')
    result = SelfTest.parse(body)
    assert (result.kat_busy, result.se_state, result.fls_state) == (False, None, 0)

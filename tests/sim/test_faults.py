"""Fault plans: each kind of misbehaviour on the wire, targeting, counting, determinism, spec errors."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from station.core.codec import x25519_public_key
from station.core.errors import ConfigError
from station.sim.ppa.clock import ManualTime
from station.sim.ppa.device import SimulatedPpa
from station.sim.ppa.faults import FaultPlan, FaultRule, parse_spec
from tests.conftest import BACKEND_PRIVATE
from tests.simtools import checkin, get, reboot

STATUS = "/api/system/status"


@pytest.fixture
def faulty(manual_time: ManualTime) -> Iterator[SimulatedPpa]:
    with SimulatedPpa(backend_key=x25519_public_key(BACKEND_PRIVATE), monotonic=manual_time) as device:
        yield device


def test_drop_closes_without_reply(faulty: SimulatedPpa) -> None:
    faulty.faults.add(FaultRule("drop", times=1))
    with pytest.raises(requests.ConnectionError):
        get(faulty.http_url, STATUS)
    assert get(faulty.http_url, STATUS).status_code == 200  # times=1: only once


def test_500_has_empty_body(faulty: SimulatedPpa) -> None:
    faulty.faults.add(FaultRule("500", path="/api/system/*"))
    response = get(faulty.http_url, STATUS)
    assert response.status_code == 500
    assert response.content == b""


def test_garbage_is_not_json(faulty: SimulatedPpa) -> None:
    faulty.faults.add(FaultRule("garbage", method="GET"))
    response = get(faulty.http_url, STATUS)
    assert response.status_code == 200
    with pytest.raises(ValueError):
        response.json()


def test_delay_past_client_timeout(faulty: SimulatedPpa) -> None:
    faulty.faults.add(FaultRule("delay", seconds=0.5, times=1))
    with pytest.raises(requests.Timeout):
        requests.get(faulty.http_url + STATUS, timeout=0.1)


def test_rules_match_method_and_path(faulty: SimulatedPpa) -> None:
    faulty.faults.add(FaultRule("500", path="/api/auth/*"))
    faulty.faults.add(FaultRule("500", method="POST"))
    assert get(faulty.http_url, STATUS).status_code == 200
    assert get(faulty.http_url, "/api/auth/init").status_code == 500


def test_unplug_then_fresh_unit_replugged(faulty: SimulatedPpa, manual_time: ManualTime) -> None:
    first = faulty.devid
    faulty.faults.add(FaultRule("unplug", path=STATUS, times=1, replug_after=5.0))
    with pytest.raises(requests.ConnectionError):
        get(faulty.http_url, STATUS)
    with pytest.raises(requests.ConnectionError):
        get(faulty.http_url, "/api/system/version")
    manual_time.advance(5.0)
    assert get(faulty.http_url, STATUS).json()["inited"] is False
    assert faulty.devid != first
    assert faulty.units_seen == 2


def test_unplug_without_replug_stays_gone(faulty: SimulatedPpa, manual_time: ManualTime) -> None:
    faulty.unplug()
    manual_time.advance(3600)
    with pytest.raises(requests.ConnectionError):
        get(faulty.http_url, STATUS)
    faulty.replug(new_unit=False)
    assert get(faulty.http_url, STATUS).status_code == 200


def test_coin_flips_are_reproducible_under_a_seed() -> None:
    plan = parse_spec("seed=42; 500 p=0.5")
    a, b = plan.for_device(3), plan.for_device(3)
    first = [a.pick("GET", STATUS) is not None for _ in range(64)]
    second = [b.pick("GET", STATUS) is not None for _ in range(64)]
    other = [plan.for_device(4).pick("GET", STATUS) is not None for _ in range(64)]
    assert first == second
    assert 10 < sum(first) < 54
    assert first != other  # each slot has its own stream


def test_times_is_counted_per_device() -> None:
    plan = parse_spec("drop times=1")
    assert plan.for_device(0).pick("GET", STATUS) is not None
    assert plan.for_device(1).pick("GET", STATUS) is not None
    assert plan.rules[0].times == 1


def test_spec_parses_every_option() -> None:
    plan = parse_spec(
        "seed=7; drop p=0.05; delay p=0.1 s=2.5 path=/api/auth/*; 500 method=POST times=1; unplug replug=5"
    )
    assert plan.seed == 7
    assert [r.kind for r in plan.rules] == ["drop", "delay", "500", "unplug"]
    assert plan.rules[1] == FaultRule("delay", path="/api/auth/*", probability=0.1, seconds=2.5)
    assert plan.rules[2].method == "POST" and plan.rules[2].times == 1
    assert plan.rules[3].replug_after == 5.0
    assert parse_spec("") == FaultPlan()


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("explode", "unknown fault kind 'explode'"),
        ("drop p=2", "between 0 and 1"),
        ("drop q=1", "unknown option 'q=1'"),
        ("drop p=often", "'often' is not a valid float"),
        ("seed=x", "'x' is not a valid int"),
        ("500 times", "unknown option 'times'"),
        ("hang_under_load n=0", "needs n >= 1"),
        ("hang_under_load n=many", "'many' is not a valid int"),
    ],
)
def test_bad_spec_is_a_config_error(spec: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_spec(spec)


def test_stall_does_the_work_then_answers_late(faulty: SimulatedPpa, backend_private: bytes) -> None:
    faulty.faults.add(FaultRule("stall", path="/api/system/checkin", method="POST", seconds=0.5, times=1))
    with pytest.raises(requests.Timeout):
        checkin(faulty.http_url, backend_private, timeout=0.1)
    assert "time" in get(faulty.http_url, STATUS).json()  # the RTC was set although no reply arrived


def test_skip_lets_the_first_matches_through(faulty: SimulatedPpa) -> None:
    faulty.faults.add(FaultRule("500", path=STATUS, skip=2, times=1))
    assert [get(faulty.http_url, STATUS).status_code for _ in range(4)] == [200, 200, 500, 200]
    assert parse_spec("500 skip=3").rules[0].skip == 3


def test_hang_under_load_spec_and_defaults() -> None:
    (rule,) = parse_spec("hang_under_load n=5 s=3").rules
    assert (rule.kind, rule.rate, rule.seconds) == ("hang_under_load", 5, 3.0)
    (default,) = parse_spec("hang_under_load").rules
    assert (default.rate, default.seconds) == (8, 10.0)  # above what 150 ms pacing sends (<= 7 a second)


def test_hammered_unit_hangs_until_power_cycled(faulty: SimulatedPpa, manual_time: ManualTime) -> None:
    faulty.faults.add(FaultRule("hang_under_load", rate=5, seconds=1.0))
    # six requests within one second of device time (the clock does not move): the sixth is one too many
    assert [get(faulty.http_url, STATUS).status_code for _ in range(5)] == [200] * 5
    with pytest.raises(requests.Timeout):
        requests.get(faulty.http_url + STATUS, timeout=0.3)  # accepted, never answered
    assert faulty.hung
    manual_time.advance(3600)  # no amount of rest helps: the watchdog is off (C SDK known issues)
    with pytest.raises(requests.Timeout):
        requests.get(faulty.http_url + "/api/system/version", timeout=0.3)
    reboot(faulty)  # a power cycle brings it back, with its load count cleared
    assert not faulty.hung
    assert [get(faulty.http_url, STATUS).status_code for _ in range(5)] == [200] * 5


def test_hung_unit_comes_back_when_replugged(faulty: SimulatedPpa) -> None:
    faulty.faults.add(FaultRule("hang_under_load", rate=1, seconds=1.0))
    get(faulty.http_url, STATUS)
    with pytest.raises(requests.Timeout):
        requests.get(faulty.http_url + STATUS, timeout=0.3)
    faulty.replug(new_unit=False)
    assert get(faulty.http_url, STATUS).status_code == 200


def test_paced_requests_never_hang_the_unit(faulty: SimulatedPpa, manual_time: ManualTime) -> None:
    """150 ms between requests (the SDKs' pacing) stays at or below 7 a second: the default rule holds."""
    faulty.faults.add(parse_spec("hang_under_load").rules[0])
    for _ in range(100):
        assert get(faulty.http_url, STATUS).status_code == 200
        manual_time.advance(0.15)
    assert not faulty.hung

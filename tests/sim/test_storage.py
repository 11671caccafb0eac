"""SD-card disk unlock/lock on the simulated unit (reference §9), seen through status ``storage``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from station.core.codec import x25519_public_key
from station.sim.ppa.auth import issue_token
from station.sim.ppa.clock import ManualTime
from station.sim.ppa.device import SimulatedPpa
from station.sim.ppa.timing import FAST, TimingProfile
from tests.conftest import BACKEND_PRIVATE
from tests.simtools import MASTER_PRIVATE, checkin, get, login, personalise, settle

EXT_SUB = "Qq/EGdvacmNrN6JFWVXglQ=="


@pytest.fixture
def personalised(unit: SimulatedPpa) -> SimulatedPpa:
    personalise(unit.http_url, BACKEND_PRIVATE)
    settle(unit)
    return unit


def make_unit(
    manual_time: ManualTime, timing: TimingProfile = FAST, https_only: bool = False
) -> SimulatedPpa:
    backend = x25519_public_key(BACKEND_PRIVATE)
    return SimulatedPpa(
        backend_key=backend, monotonic=manual_time, timing=timing, https_only_storage_and_logger=https_only
    )


@pytest.fixture
def slow_format_unit(manual_time: ManualTime) -> Iterator[SimulatedPpa]:
    with make_unit(manual_time, timing=TimingProfile("slow-format", format=10.0)) as dev:
        yield dev


@pytest.fixture
def https_only_unit(manual_time: ManualTime) -> Iterator[SimulatedPpa]:
    with make_unit(manual_time, https_only=True) as dev:
        yield dev


def storage(unit: SimulatedPpa, path: str, scope: str | None) -> int:
    token = login(unit.http_url, scope) if scope else None
    return get(unit.http_url, f"/api/storage/{path}", token).status_code


def modes(unit: SimulatedPpa) -> list[str]:
    """The mode part of each status ``storage`` string (``rw``, ``ro`` or ``-``)."""
    return [entry.split(":")[1] for entry in get(unit.http_url, "/api/system/status").json()["storage"]]


def test_fresh_unit_is_409(unit: SimulatedPpa) -> None:
    for path in ("unlock", "unlock/rw", "unlock/ro", "lock"):
        assert get(unit.http_url, f"/api/storage/{path}").status_code == 409


@pytest.mark.parametrize(
    ("scope", "path", "expected"),
    [
        ("storage:disk0", "unlock", ["ro", "-"]),
        ("storage:disk0:rw", "unlock", ["rw", "-"]),
        ("storage:disk0:rw", "unlock/rw", ["rw", "-"]),
        ("storage:disk0:rw", "unlock/ro", ["ro", "-"]),
        ("storage:disk0", "unlock/ro", ["ro", "-"]),
        ("storage:disk1", "unlock", ["-", "ro"]),
        ("storage:disk1:rw", "unlock/rw", ["-", "rw"]),
    ],
)
def test_disk_and_mode_come_from_the_scope(
    personalised: SimulatedPpa, scope: str, path: str, expected: list[str]
) -> None:
    assert storage(personalised, "lock", "storage:disk") == 200
    assert modes(personalised) == ["-", "-"]
    assert storage(personalised, path, scope) == 200
    assert modes(personalised) == expected


def test_status_strings_keep_the_sector_counts(personalised: SimulatedPpa) -> None:
    assert storage(personalised, "unlock/rw", "storage:disk0:rw") == 200
    disk0 = get(personalised.http_url, "/api/system/status").json()["storage"][0]
    assert disk0 == "8388608:rw"


def test_unlock_rw_needs_the_rw_scope(personalised: SimulatedPpa) -> None:
    assert storage(personalised, "lock", "storage:disk") == 200
    assert storage(personalised, "unlock/rw", "storage:disk1") == 406
    assert modes(personalised) == ["-", "-"]


@pytest.mark.parametrize("scope", ["storage:disk2", "storage:disk9:rw", "storage:disk", "storage:diskette"])
@pytest.mark.parametrize("path", ["unlock", "unlock/rw", "unlock/ro"])
def test_unlock_of_an_invalid_slot_is_406(personalised: SimulatedPpa, scope: str, path: str) -> None:
    assert storage(personalised, path, scope) == 406


@pytest.mark.parametrize("scope", ["storage:disk2", "storage:disk9:rw", "storage:diskette"])
def test_lock_of_an_invalid_slot_is_406(personalised: SimulatedPpa, scope: str) -> None:
    assert storage(personalised, "lock", scope) == 406


def test_lock_hides_the_scopes_disk_or_both(personalised: SimulatedPpa) -> None:
    assert storage(personalised, "unlock", "storage:disk0:rw") == 200
    assert storage(personalised, "unlock", "storage:disk1") == 200
    assert modes(personalised) == ["rw", "ro"]
    assert storage(personalised, "lock", "storage:disk1") == 200
    assert modes(personalised) == ["rw", "-"]
    assert storage(personalised, "unlock", "storage:disk1:rw") == 200
    assert storage(personalised, "lock", "storage:disk") == 200
    assert modes(personalised) == ["-", "-"]


def test_token_and_role_rules(personalised: SimulatedPpa) -> None:
    unit = personalised
    assert storage(unit, "unlock", None) == 401
    assert storage(unit, "lock", None) == 401
    assert storage(unit, "unlock", "system:config") == 403
    master = login(unit.http_url, "storage:disk0", MASTER_PRIVATE)
    assert get(unit.http_url, "/api/storage/unlock", master).status_code == 403  # role M is refused
    assert get(unit.http_url, "/api/storage/lock", master).status_code == 403
    ext = issue_token(unit, "storage:disk1:rw", EXT_SUB)  # a paired phone's token, minted directly
    assert get(unit.http_url, "/api/storage/unlock", ext).status_code == 200
    assert modes(unit)[1] == "rw"


def test_unit_locked_by_checkin_is_409(personalised: SimulatedPpa) -> None:
    token = login(personalised.http_url, "storage:disk0")
    assert checkin(personalised.http_url, BACKEND_PRIVATE, status="L").json()["status"] == "L"
    assert get(personalised.http_url, "/api/storage/unlock", token).status_code == 409


def test_409_while_the_disks_format(slow_format_unit: SimulatedPpa, manual_time: ManualTime) -> None:
    unit = slow_format_unit
    personalise(unit.http_url, BACKEND_PRIVATE)
    token = login(unit.http_url, "storage:disk0")
    assert get(unit.http_url, "/api/system/status").json()["format"].startswith("status")
    assert get(unit.http_url, "/api/storage/unlock", token).status_code == 409
    manual_time.advance(10)
    assert get(unit.http_url, "/api/system/status").json()["format"] == "done"
    assert get(unit.http_url, "/api/storage/unlock", token).status_code == 200


def test_foreign_origin_is_412(personalised: SimulatedPpa) -> None:
    token = login(personalised.http_url, "storage:disk0")
    personalised.state.config.origin = "https://ok.example"
    response = get(
        personalised.http_url, "/api/storage/unlock", token, headers={"Origin": "https://evil.example"}
    )
    assert response.status_code == 412


def test_https_only_switch(https_only_unit: SimulatedPpa) -> None:
    unit = https_only_unit
    personalise(unit.http_url, BACKEND_PRIVATE)
    settle(unit)
    token = login(unit.http_url, "storage:disk0")
    refused = get(unit.http_url, "/api/storage/unlock", token)
    assert (refused.status_code, refused.reason) == (418, "")
    assert get(unit.https_url, "/api/storage/unlock", token).status_code == 200
    assert modes(unit)[0] == "ro"

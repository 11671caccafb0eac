"""Audit-log access on the simulated unit (reference §7, §18.10), over real HTTP(S).

Files are read through the API and checked with ``auditlog.verify_audit_log`` against the key that
``/api/logger/key`` returns, the way the station archives them.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import ed25519

from station.core.codec import b64decode, x25519_public_key
from station.core.errors import VerificationError
from station.devices.ppa.auditlog import LogRecord, verify_audit_log
from station.sim.ppa.auditlog import Event, Result
from station.sim.ppa.auth import issue_token
from station.sim.ppa.clock import ManualTime
from station.sim.ppa.device import SimulatedPpa
from tests.conftest import BACKEND_PRIVATE
from tests.simtools import MASTER_PRIVATE, TIMEOUT, checkin, get, login, personalise, reboot, settle

EXT_SUB = "Qq/EGdvacmNrN6JFWVXglQ=="  # base64 KID of a paired external authenticator (reference §1.4)


@pytest.fixture
def reader(unit: SimulatedPpa) -> str:
    """A personalised unit that has rebooted once (so a closed file exists), and a logger:get token."""
    personalise(unit.http_url, BACKEND_PRIVATE)
    settle(unit)
    reboot(unit)
    return relogin(unit)


@pytest.fixture
def https_only_unit(manual_time: ManualTime) -> Iterator[SimulatedPpa]:
    backend = x25519_public_key(BACKEND_PRIVATE)
    with SimulatedPpa(backend_key=backend, monotonic=manual_time, https_only_storage_and_logger=True) as dev:
        yield dev


def relogin(unit: SimulatedPpa, scope: str = "logger:get") -> str:
    """After a reboot: check in (the profile has trusted time on) and log in again."""
    checkin(unit.http_url, BACKEND_PRIVATE).raise_for_status()
    return login(unit.http_url, scope)


def signing_key(unit: SimulatedPpa, token: str) -> bytes:
    return b64decode(get(unit.http_url, "/api/logger/key", token).json()["key"])


def read_records(unit: SimulatedPpa, token: str, file_id: str) -> list[LogRecord]:
    response = get(unit.http_url, f"/api/logger/{file_id}", token)
    assert response.status_code == 200
    return verify_audit_log(response.text, signing_key(unit, token))


def events(records: list[LogRecord], *types: Event) -> list[tuple[int, int, str, str]]:
    return [(r.type, r.result, r.subject, r.data) for r in records if r.type in types]


# --- /api/logger/key ------------------------------------------------------------------------------------


def test_key_is_eid_sign_and_proves_possession(unit: SimulatedPpa, reader: str) -> None:
    first = get(unit.http_url, "/api/logger/key", reader)
    assert first.status_code == 200
    body = first.json()
    config = get(unit.http_url, "/api/system/config", login(unit.http_url, "system:config")).json()
    assert body["key"] == config["eid_sign"]
    nonce = b64decode(body["nonce"])
    assert len(nonce) == 32
    public = ed25519.Ed25519PublicKey.from_public_bytes(b64decode(body["key"]))
    public.verify(b64decode(body["nonce_signed"]), nonce)  # raises if the signature is wrong
    assert get(unit.http_url, "/api/logger/key", reader).json()["nonce"] != body["nonce"]


@pytest.mark.parametrize("sub", ["U", "M", EXT_SUB])
def test_every_role_may_read_the_log(unit: SimulatedPpa, reader: str, sub: str) -> None:
    token = issue_token(unit, "logger:get", sub)  # an ext token needs a paired phone; mint one directly
    for path in ("/api/logger/key", "/api/logger/list", "/api/logger/00000001"):
        assert get(unit.http_url, path, token).status_code == 200, path


def test_master_login_reads_the_log(unit: SimulatedPpa, reader: str) -> None:
    token = login(unit.http_url, "logger:get", MASTER_PRIVATE)
    assert get(unit.http_url, "/api/logger/list", token).status_code == 200


@pytest.mark.parametrize(
    "path", ["/api/logger/key", "/api/logger/list", "/api/logger/list/0", "/api/logger/00000001"]
)
def test_token_required(unit: SimulatedPpa, reader: str, path: str) -> None:
    assert get(unit.http_url, path).status_code == 401
    assert get(unit.http_url, path, login(unit.http_url, "system:config")).status_code == 403


def test_wrong_scope_is_logged(unit: SimulatedPpa, reader: str) -> None:
    assert get(unit.http_url, "/api/logger/key", login(unit.http_url, "system:upgrade")).status_code == 403
    reboot(unit)
    token = relogin(unit)
    ids = get(unit.http_url, "/api/logger/list", token).json()["id"]
    failed = events(read_records(unit, token, ids[-2]), Event.FAILED_SCOPE_CHECK)
    assert failed == [
        (Event.FAILED_SCOPE_CHECK, Result.FAILED, "U", "c3lzdGVtOnVwZ3JhZGU")
    ]  # "system:upgrade"


@pytest.mark.parametrize("path", ["/api/logger/key", "/api/logger/list", "/api/logger/00000001"])
def test_fresh_unit_is_409(unit: SimulatedPpa, path: str) -> None:
    assert get(unit.http_url, path).status_code == 409


def test_unit_locked_by_checkin_is_409(unit: SimulatedPpa, reader: str) -> None:
    assert checkin(unit.http_url, BACKEND_PRIVATE, status="L").json()["status"] == "L"
    assert get(unit.http_url, "/api/system/status").json()["fls_state"] & 0x40
    assert get(unit.http_url, "/api/logger/list", reader).status_code == 409


def test_foreign_origin_is_412(unit: SimulatedPpa, reader: str) -> None:
    unit.state.config.origin = "https://ok.example"
    assert (
        get(unit.http_url, "/api/logger/list", reader, headers={"Origin": "https://evil.example"}).status_code
        == 412
    )


def test_https_only_switch(https_only_unit: SimulatedPpa) -> None:
    unit = https_only_unit
    personalise(unit.http_url, BACKEND_PRIVATE)
    settle(unit)
    token = login(unit.http_url, "logger:get")
    for path in ("/api/logger/key", "/api/logger/list", "/api/logger/00000001"):
        refused = get(unit.http_url, path, token)
        assert (refused.status_code, refused.reason) == (418, ""), path
        assert get(unit.https_url, path, token).status_code in (200, 406), path


def test_served_over_https_by_default(unit: SimulatedPpa, reader: str) -> None:
    assert get(unit.https_url, "/api/logger/list", reader).status_code == 200


# --- /api/logger/list -----------------------------------------------------------------------------------


def test_list_is_oldest_first_with_total(unit: SimulatedPpa, reader: str) -> None:
    listing = get(unit.http_url, "/api/logger/list", reader)
    assert listing.status_code == 200
    assert listing.json() == {"total": 2, "id": ["00000001", "00000002"]}
    assert get(unit.http_url, "/api/logger/list/1", reader).json() == {"total": 2, "id": ["00000002"]}


def test_list_pages_hold_128_ids(unit: SimulatedPpa, reader: str) -> None:
    for _ in range(130):
        reboot(unit)
    token = relogin(unit)
    first = get(unit.http_url, "/api/logger/list", token).json()
    assert first["total"] == 132
    assert first["id"] == [f"{n:08x}" for n in range(1, 129)]
    second = get(unit.http_url, "/api/logger/list/128", token).json()
    assert second == {"total": 132, "id": ["00000081", "00000082", "00000083", "00000084"]}


@pytest.mark.parametrize("offset", ["abc", "-1", "1a", "", "1.5", "+1"])
def test_list_offset_must_be_digits(unit: SimulatedPpa, reader: str, offset: str) -> None:
    assert get(unit.http_url, f"/api/logger/list/{offset}", reader).status_code == 406


def test_list_past_the_end_fails_and_is_logged(unit: SimulatedPpa, reader: str) -> None:
    assert get(unit.http_url, "/api/logger/list/2", reader).status_code == 404
    assert get(unit.http_url, "/api/logger/list/0", reader).status_code == 200
    reboot(unit)
    token = relogin(unit)
    ids = get(unit.http_url, "/api/logger/list", token).json()["id"]
    listed = events(read_records(unit, token, ids[-2]), Event.LOGGER_LIST_LOG)
    assert listed == [
        (Event.LOGGER_LIST_LOG, Result.FAILED, "U", ""),
        (Event.LOGGER_LIST_LOG, Result.OK, "U", ""),
    ]


# --- /api/logger/{id} -----------------------------------------------------------------------------------


def test_previous_boot_file_verifies_with_the_logger_key(unit: SimulatedPpa, reader: str) -> None:
    response = get(unit.http_url, "/api/logger/00000001", reader)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain"
    assert response.text.startswith("# Encedo nGINE FW ")
    records = verify_audit_log(response.text, signing_key(unit, reader))
    assert [r.type for r in records[:2]] == [Event.KEY_INIT, Event.STARTUP]
    assert [r.seq for r in records] == list(range(len(records)))
    assert (Event.DEVICE_INITED, Result.OK, "M", "") in events(records, Event.DEVICE_INITED)


def test_tampering_with_one_line_is_detected(unit: SimulatedPpa, reader: str) -> None:
    text = get(unit.http_url, "/api/logger/00000001", reader).text
    key = signing_key(unit, reader)
    lines = text.splitlines()
    startup = next(i for i, line in enumerate(lines) if line.startswith("1|"))
    fields = lines[startup].split("|")
    fields[1] = f"{int(fields[1], 16) + 1:x}"  # move the STARTUP time by one second
    forged = "\n".join([*lines[:startup], "|".join(fields), *lines[startup + 1 :]]) + "\n"
    with pytest.raises(VerificationError, match="bad MAC"):
        verify_audit_log(forged, key)
    dropped = "\n".join([*lines[:startup], *lines[startup + 1 :]]) + "\n"
    with pytest.raises(VerificationError, match="sequence"):
        verify_audit_log(dropped, key)


def test_current_boot_file_is_locked_406(unit: SimulatedPpa, reader: str) -> None:
    assert get(unit.http_url, "/api/logger/00000002", reader).status_code == 406


@pytest.mark.parametrize("file_id", ["000000ff", "0000001", "000000001", "0000000g", "00000001.log"])
def test_unknown_or_malformed_id_is_404(unit: SimulatedPpa, reader: str, file_id: str) -> None:
    assert get(unit.http_url, f"/api/logger/{file_id}", reader).status_code == 404


def test_delete_is_not_dispatched(unit: SimulatedPpa, reader: str) -> None:
    headers = {"Authorization": f"Bearer {login(unit.http_url, 'logger:del')}"}
    response = requests.delete(unit.http_url + "/api/logger/00000001", headers=headers, timeout=TIMEOUT)
    assert response.status_code == 404


def test_reads_are_logged_with_the_id(unit: SimulatedPpa, reader: str) -> None:
    assert get(unit.http_url, "/api/logger/00000001", reader).status_code == 200
    assert get(unit.http_url, "/api/logger/00000002", reader).status_code == 406
    assert get(unit.http_url, "/api/logger/000000ff", reader).status_code == 404
    reboot(unit)
    token = relogin(unit)
    reads = events(read_records(unit, token, "00000002"), Event.LOGGER_READ_LOG)
    assert reads == [
        (Event.LOGGER_READ_LOG, Result.OK, "U", "MDAwMDAwMDE"),
        (Event.LOGGER_READ_LOG, Result.FAILED, "U", "MDAwMDAwMDI"),
        (Event.LOGGER_READ_LOG, Result.FAILED, "U", "MDAwMDAwZmY"),
    ]

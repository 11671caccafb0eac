"""Check-in on the simulated unit (reference §6, §18.4): the ``check`` token, ``checked`` validation,
the RTC, the management actions and the pushed TLS certificate."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from station.core import codec
from station.core.errors import VerificationError
from station.devices.ppa import protocol as p
from station.devices.ppa.auditlog import LogRecord, verify_audit_log
from station.devices.ppa.checkin import CheckRequest, sign_checked, verify_check
from station.sim.ppa.auditlog import Event
from station.sim.ppa.clock import ManualTime
from station.sim.ppa.device import SimulatedPpa
from tests.simtools import back_after_restart, get, personalise, post, reboot, settle

IAT = 1_700_000_000  # 2023-11-14T22:13:20Z
CHECKIN = "/api/system/checkin"
OTHER_BACKEND = bytes(range(200, 232))


def fetch_check(unit: SimulatedPpa, backend_private: bytes, url: str | None = None) -> CheckRequest:
    response = get(url or unit.http_url, CHECKIN)
    assert response.status_code == 200
    return verify_check(response.json()["check"], backend_private)


def forge(
    request: CheckRequest,
    backend_private: bytes,
    *,
    header: bytes = p.ECDH_JWT_HEADER,
    key: bytes | None = None,
    **claims: Any,
) -> str:
    """A ``checked`` token like the backend's, with claims, header or HMAC key replaced."""
    body: dict[str, Any] = {
        "jti": request.jti,
        "iat": IAT,
        "iss": codec.x25519_public_b64(backend_private),
        "aud": codec.b64encode(request.session_key),
        "status": "OK",
    }
    body.update(claims)
    secret = key if key is not None else p.x25519_shared_secret(backend_private, request.session_key)
    return p.encode_jwt(body, secret, header)


def check_in(
    unit: SimulatedPpa, backend_private: bytes, status: Any = "OK", url: str | None = None, **extra: Any
) -> requests.Response:
    """One full check-in with the given action and extra claims; returns the device's reply."""
    request = fetch_check(unit, backend_private, url)
    checked = sign_checked(request, backend_private, iat=IAT, status=status, extra=extra)
    return post(url or unit.http_url, CHECKIN, {"checked": checked})


def log_records(unit: SimulatedPpa) -> list[LogRecord]:
    """The verified records of the unit's current audit-log file."""
    log = unit.state.log
    return verify_audit_log(log.text(log.current_id), unit.state.instance.eid_sign_public)


def tls_certificate(common_name: str = "my.ence.do") -> x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=90))
        .sign(key, hashes.SHA256())
    )


def der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.DER)


def csn(unit: SimulatedPpa, backend_private: bytes) -> int:
    return int.from_bytes(codec.b64decode(fetch_check(unit, backend_private).claims["csn"]), "big")


# --- GET: the check token ----------------------------------------------------------------------------------


def test_check_verifies_with_the_backend_key_and_has_every_claim(
    unit: SimulatedPpa, backend_private: bytes
) -> None:
    response = get(unit.http_url, CHECKIN)
    assert response.status_code == 200
    assert set(response.json()) == {"check"}
    token = response.json()["check"]
    assert p.parse_jwt(token).signing_input.split(b".")[0] == codec.b64url_encode(p.ECDH_JWT_HEADER).encode()
    claims = verify_check(token, backend_private).claims
    assert list(claims) == ["jti", "iss", "qid", "aud", "fws", "bls", "uis", "csn"]
    version = get(unit.http_url, "/api/system/version").json()
    assert claims["iss"] == codec.b64encode(unit.boot.spk)
    assert claims["qid"] == p.checkin_qid(unit.devid)
    assert codec.b64decode(claims["aud"]) == codec.x25519_public_key(backend_private)
    assert (claims["fws"], claims["bls"], claims["uis"]) == (version["fws"], version["bls"], version["uis"])
    jti = codec.b64decode(claims["jti"])
    assert len(jti) == 32
    assert int.from_bytes(jti[:4], "little") == 0  # device time counts from boot before the first check-in
    assert codec.b64decode(claims["csn"])


def test_check_does_not_verify_for_another_backend(unit: SimulatedPpa) -> None:
    token = get(unit.http_url, CHECKIN).json()["check"]
    with pytest.raises(VerificationError):
        verify_check(token, OTHER_BACKEND)


def test_each_check_has_a_new_nonce_and_the_session_key_changes_on_reboot(
    unit: SimulatedPpa, backend_private: bytes
) -> None:
    first, second = fetch_check(unit, backend_private), fetch_check(unit, backend_private)
    assert first.jti != second.jti
    assert first.session_key == second.session_key
    reboot(unit)
    assert fetch_check(unit, backend_private).session_key != first.session_key


def test_csn_is_stable_per_unit(unit: SimulatedPpa, backend_private: bytes) -> None:
    assert csn(unit, backend_private) == csn(unit, backend_private)


# --- POST: success and the RTC -----------------------------------------------------------------------------


def test_checkin_sets_the_rtc_and_logs_it(unit: SimulatedPpa, backend_private: bytes) -> None:
    before = get(unit.http_url, "/api/system/status").json()
    assert "time" not in before
    assert "ts" not in before
    response = check_in(unit, backend_private)
    assert response.status_code == 200
    assert response.json() == {"status": "OK"}
    after = get(unit.http_url, "/api/system/status").json()
    assert after["time"] == IAT
    assert after["ts"] == "2023-11-14T22:13:20Z"
    rtc = [r for r in log_records(unit) if r.type == Event.RTC_SET]
    assert len(rtc) == 1
    assert rtc[0].result == 0
    assert codec.b64decode(rtc[0].data) == IAT.to_bytes(4, "little")
    assert rtc[0].ts == IAT


def test_checkin_works_over_https(unit: SimulatedPpa, backend_private: bytes) -> None:
    response = check_in(unit, backend_private, url=unit.https_url)
    assert response.status_code == 200
    assert response.json() == {"status": "OK"}


def test_rtc_is_lost_on_reboot(unit: SimulatedPpa, backend_private: bytes) -> None:
    assert check_in(unit, backend_private).status_code == 200
    reboot(unit)
    assert "time" not in get(unit.http_url, "/api/system/status").json()


def test_an_older_outstanding_check_is_still_accepted(unit: SimulatedPpa, backend_private: bytes) -> None:
    older = fetch_check(unit, backend_private)
    fetch_check(unit, backend_private)
    checked = sign_checked(older, backend_private, iat=IAT)
    assert post(unit.http_url, CHECKIN, {"checked": checked}).status_code == 200


def test_nonce_is_valid_for_60_seconds(
    unit: SimulatedPpa, backend_private: bytes, manual_time: ManualTime
) -> None:
    request = fetch_check(unit, backend_private)
    manual_time.advance(60)
    assert post(unit.http_url, CHECKIN, {"checked": forge(request, backend_private)}).status_code == 200


# --- POST: refusals ----------------------------------------------------------------------------------------


def test_replayed_checked_is_401(unit: SimulatedPpa, backend_private: bytes) -> None:
    request = fetch_check(unit, backend_private)
    checked = sign_checked(request, backend_private, iat=IAT)
    assert post(unit.http_url, CHECKIN, {"checked": checked}).status_code == 200
    replay = post(unit.http_url, CHECKIN, {"checked": checked})
    assert replay.status_code == 401
    assert replay.content == b""


def test_expired_nonce_is_401(unit: SimulatedPpa, backend_private: bytes, manual_time: ManualTime) -> None:
    request = fetch_check(unit, backend_private)
    manual_time.advance(61)
    assert post(unit.http_url, CHECKIN, {"checked": forge(request, backend_private)}).status_code == 401
    assert "time" not in get(unit.http_url, "/api/system/status").json()


def test_nonce_of_a_previous_boot_is_401(unit: SimulatedPpa, backend_private: bytes) -> None:
    request = fetch_check(unit, backend_private)
    reboot(unit)
    assert post(unit.http_url, CHECKIN, {"checked": forge(request, backend_private)}).status_code == 401


def test_unknown_nonce_is_401(unit: SimulatedPpa, backend_private: bytes) -> None:
    request = fetch_check(unit, backend_private)
    invented = codec.b64encode(p.make_nonce(0, bytes(28)))
    assert (
        post(unit.http_url, CHECKIN, {"checked": forge(request, backend_private, jti=invented)}).status_code
        == 401
    )


def test_wrong_issuer_is_401(unit: SimulatedPpa, backend_private: bytes) -> None:
    request = fetch_check(unit, backend_private)
    # The HMAC is right (keyed with the trusted backend's secret); only the claimed issuer is wrong.
    token = forge(request, backend_private, iss=codec.x25519_public_b64(OTHER_BACKEND))
    assert post(unit.http_url, CHECKIN, {"checked": token}).status_code == 401
    # The nonce survived the refusal: a forged token cannot burn it.
    assert post(unit.http_url, CHECKIN, {"checked": forge(request, backend_private)}).status_code == 200


def test_untrusted_backend_is_401(unit: SimulatedPpa, backend_private: bytes) -> None:
    request = fetch_check(unit, backend_private)
    other = sign_checked(CheckRequest(request.jti, request.session_key, {}), OTHER_BACKEND, iat=IAT)
    assert post(unit.http_url, CHECKIN, {"checked": other}).status_code == 401


@pytest.mark.parametrize("iss", [None, 12, "not base64!"])
def test_missing_or_malformed_issuer_is_401(unit: SimulatedPpa, backend_private: bytes, iss: Any) -> None:
    request = fetch_check(unit, backend_private)
    assert (
        post(unit.http_url, CHECKIN, {"checked": forge(request, backend_private, iss=iss)}).status_code == 401
    )


def test_bad_hmac_is_401(unit: SimulatedPpa, backend_private: bytes) -> None:
    request = fetch_check(unit, backend_private)
    token = forge(request, backend_private, key=bytes(32))
    assert post(unit.http_url, CHECKIN, {"checked": token}).status_code == 401


@pytest.mark.parametrize(
    "header",
    [
        b'{"typ":"JWT","alg":"HS256"}',
        b'{"ecdh":"p256","alg":"HS256","typ":"JWT"}',
        b'{"ecdh":"x25519","typ":"JWT"}',
        b'{"ecdh":"x25519","alg":"HS512","typ":"JWT"}',
    ],
)
def test_header_without_ecdh_x25519_and_hs256_is_401(
    unit: SimulatedPpa, backend_private: bytes, header: bytes
) -> None:
    request = fetch_check(unit, backend_private)
    token = forge(request, backend_private, header=header)
    assert post(unit.http_url, CHECKIN, {"checked": token}).status_code == 401


@pytest.mark.parametrize("token", ["", "not-a-jwt", "a.b.c", "e30.e30.!!", "W10.e30.AAAA"])
def test_unparseable_checked_is_401(unit: SimulatedPpa, token: str) -> None:
    assert post(unit.http_url, CHECKIN, {"checked": token}).status_code == 401


@pytest.mark.parametrize(
    "body", [{}, {"checked": None}, {"checked": 12}, {"checked": ["a.b.c"]}, {"check": "a"}]
)
def test_missing_or_non_string_checked_is_400(unit: SimulatedPpa, body: dict[str, Any]) -> None:
    response = post(unit.http_url, CHECKIN, body)
    assert response.status_code == 400
    assert response.content == b""


@pytest.mark.parametrize("iat", ["1700000000", 1700000000.5, None, True])
def test_non_integer_iat_is_400(unit: SimulatedPpa, backend_private: bytes, iat: Any) -> None:
    request = fetch_check(unit, backend_private)
    assert (
        post(unit.http_url, CHECKIN, {"checked": forge(request, backend_private, iat=iat)}).status_code == 400
    )
    assert "time" not in get(unit.http_url, "/api/system/status").json()


def test_missing_iat_is_400(unit: SimulatedPpa, backend_private: bytes) -> None:
    request = fetch_check(unit, backend_private)
    shared = p.x25519_shared_secret(backend_private, request.session_key)
    claims = {"jti": request.jti, "iss": codec.x25519_public_b64(backend_private), "status": "OK"}
    assert post(unit.http_url, CHECKIN, {"checked": p.encode_ecdh_jwt(claims, shared)}).status_code == 400


def test_transport_errors_on_checkin(unit: SimulatedPpa) -> None:
    url = unit.http_url + CHECKIN
    assert (
        requests.post(url, data=b"", headers={"Content-Type": "application/json"}, timeout=10).status_code
        == 411
    )
    big = b'{"checked":"' + b"a" * 7300 + b'"}'
    assert (
        requests.post(url, data=big, headers={"Content-Type": "application/json"}, timeout=10).status_code
        == 413
    )
    assert (
        requests.post(url, data=b"checked", headers={"Content-Type": "text/plain"}, timeout=10).status_code
        == 400
    )


# --- actions -----------------------------------------------------------------------------------------------


def test_action_w_wipes_and_reboots_a_personalised_unit(unit: SimulatedPpa, backend_private: bytes) -> None:
    personalise(unit.http_url, backend_private)
    settle(unit)
    assert "inited" not in get(unit.http_url, "/api/system/status").json()
    eid = unit.state.instance.eid_public
    response = check_in(unit, backend_private, "W")
    assert response.status_code == 200
    assert response.json() == {"status": "W"}
    status = back_after_restart(unit)
    assert status["inited"] is False
    assert "time" not in status  # rebooted: RTC lost
    assert unit.state.instance.eid_public != eid


def test_action_w_on_a_fresh_unit_gives_a_new_instance(unit: SimulatedPpa, backend_private: bytes) -> None:
    eid, devid = unit.state.instance.eid_public, unit.devid
    spk = unit.boot.spk
    assert check_in(unit, backend_private, "W").json() == {"status": "W"}
    status = back_after_restart(unit)
    assert status["inited"] is False
    assert "time" not in status
    assert unit.state.instance.eid_public != eid
    assert unit.devid == devid
    assert fetch_check(unit, backend_private).session_key != spk


def test_action_l_locks_the_unit(unit: SimulatedPpa, backend_private: bytes) -> None:
    personalise(unit.http_url, backend_private)
    settle(unit)
    assert unit.state.config.userkey is not None
    response = check_in(unit, backend_private, "L")
    assert response.json() == {"status": "L"}
    status = get(unit.http_url, "/api/system/status").json()
    assert status["fls_state"] == 0x40
    assert unit.state.config.userkey is None
    assert any(r.type == Event.SHUTDOWN and r.result == 0 for r in log_records(unit))


def test_locked_unit_answers_409_on_attestation_but_still_checks_in(
    unit: SimulatedPpa, backend_private: bytes
) -> None:
    assert check_in(unit, backend_private, "L").json() == {"status": "L"}
    assert get(unit.http_url, "/api/system/status").json()["fls_state"] == 0x40
    assert get(unit.http_url, "/api/system/config/attestation").status_code == 409
    reboot(unit)
    assert get(unit.http_url, "/api/system/status").json()["fls_state"] == 0x40  # latched across reboots
    # The backend can still reach a locked unit, and a wipe clears the latch.
    assert check_in(unit, backend_private, "W").json() == {"status": "W"}
    assert back_after_restart(unit)["fls_state"] == 0


def test_action_b_stops_answering_until_power_cycled(unit: SimulatedPpa, backend_private: bytes) -> None:
    response = check_in(unit, backend_private, "B")
    assert response.status_code == 200
    assert response.json() == {"status": "B"}
    assert any(r.type == Event.SHUTDOWN and r.result == 0 for r in log_records(unit))
    with pytest.raises(requests.ConnectionError):
        get(unit.http_url, "/api/system/status")
    with pytest.raises(requests.ConnectionError):
        get(unit.https_url, CHECKIN)
    reboot(unit)
    status = get(unit.http_url, "/api/system/status").json()
    assert status["fls_state"] == 0x80


@pytest.mark.parametrize("action", ["R", "U", "OK"])
def test_actions_acknowledged_without_effect(unit: SimulatedPpa, backend_private: bytes, action: str) -> None:
    eid = unit.state.instance.eid_public
    assert check_in(unit, backend_private, action).json() == {"status": action}
    status = get(unit.http_url, "/api/system/status").json()
    assert status["fls_state"] == 0
    assert status["time"] == IAT
    assert unit.state.instance.eid_public == eid


@pytest.mark.parametrize("action", ["X", "", "ok", "w", "WIPE", 7, None])
def test_unknown_action_is_question_marks_and_does_nothing(
    unit: SimulatedPpa, backend_private: bytes, action: Any
) -> None:
    response = check_in(unit, backend_private, action)
    assert response.status_code == 200
    assert response.json() == {"status": "???"}
    status = get(unit.http_url, "/api/system/status").json()
    assert status["fls_state"] == 0
    assert status["time"] == IAT  # the RTC is still set


@pytest.mark.parametrize("action", ["W", "L", "B"])
def test_untrusted_backend_setting_suppresses_the_action(
    unit: SimulatedPpa, backend_private: bytes, action: str
) -> None:
    personalise(unit.http_url, backend_private, trusted_backend=False)
    settle(unit)
    eid = unit.state.instance.eid_public
    response = check_in(unit, backend_private, action)
    assert response.status_code == 200
    assert response.json() == {"status": action}
    status = get(
        unit.http_url, "/api/system/status"
    ).json()  # still answering: B not executed, W not rebooting
    assert "inited" not in status
    assert status["fls_state"] == 0
    assert status["time"] == IAT  # the RTC is set all the same
    assert unit.state.instance.eid_public == eid
    assert unit.state.config.userkey is not None


# --- newcrt and update hints -------------------------------------------------------------------------------


def test_newcrt_is_installed_on_a_fresh_unit(unit: SimulatedPpa, backend_private: bytes) -> None:
    cert = tls_certificate()
    response = check_in(unit, backend_private, newcrt=codec.b64encode(der(cert)))
    assert response.json() == {"status": "OK", "newcrt": "OK"}
    assert csn(unit, backend_private) == cert.serial_number


def test_newcrt_chain_is_accepted_and_the_leaf_names_the_serial(
    unit: SimulatedPpa, backend_private: bytes
) -> None:
    leaf, issuer = tls_certificate(), tls_certificate("Test Intermediate")
    response = check_in(unit, backend_private, newcrt=codec.b64encode(der(leaf) + der(issuer)))
    assert response.json()["newcrt"] == "OK"
    assert csn(unit, backend_private) == leaf.serial_number


@pytest.mark.parametrize(
    "newcrt", ["", "not base64!", codec.b64encode(b"\x30\x03\x02\x01\x01"), codec.b64encode(b"garbage"), 42]
)
def test_bad_newcrt_is_error_and_not_installed(
    unit: SimulatedPpa, backend_private: bytes, newcrt: Any
) -> None:
    before = csn(unit, backend_private)
    response = check_in(unit, backend_private, newcrt=newcrt)
    assert response.status_code == 200
    assert response.json() == {"status": "OK", "newcrt": "ERROR"}
    assert csn(unit, backend_private) == before


def test_newcrt_is_reported_but_not_installed_on_a_personalised_unit(
    unit: SimulatedPpa, backend_private: bytes
) -> None:
    personalise(unit.http_url, backend_private)
    settle(unit)
    before = csn(unit, backend_private)
    cert = tls_certificate()
    response = check_in(unit, backend_private, newcrt=codec.b64encode(der(cert)))
    assert response.json() == {"status": "OK", "newcrt": "OK"}  # the fw 1.2.2 quirk (reference §6.3)
    assert csn(unit, backend_private) == before


def test_update_hints_are_passed_through(unit: SimulatedPpa, backend_private: bytes) -> None:
    fws, uis = codec.b64encode(bytes(64)), codec.b64encode(bytes(32))
    response = check_in(unit, backend_private, newfws=fws, newuis=uis)
    assert response.json() == {"status": "OK", "newfws": fws, "newuis": uis}

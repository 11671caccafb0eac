"""PpaClient happy paths over real HTTP against a simulated unit: every call, and a unit's whole life."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from urllib3 import HTTPHeaderDict

from station.core import codec
from station.core.errors import DeviceRefused
from station.devices.ppa import protocol as p
from station.devices.ppa.auditlog import verify_audit_log
from station.devices.ppa.checkin import sign_checked, verify_check
from station.devices.ppa.client import CHECK_TIMEOUT, UPLOAD_TIMEOUT, PpaClient
from station.devices.ppa.replies import (
    CheckinResult,
    CheckState,
    FreshAttestation,
    ProvisionedAttestation,
    Status,
)
from station.devices.transport import Reply, Transport
from station.sim.ppa.auditlog import Event
from station.sim.ppa.clock import ManualTime
from station.sim.ppa.device import SimulatedPpa
from station.sim.ppa.images import TEST_VENDOR_PUBLIC_KEY
from tests import simtools
from tests.simtools import MASTER_PRIVATE, USER_PRIVATE, default_cfg, settle

IAT = 1_700_000_000
FIRMWARE = Path(__file__).parent.parent / "firmware_images" / "test-firmware-v1.2.3.bin"


@pytest.fixture
def client(unit: SimulatedPpa) -> PpaClient:
    return PpaClient.at(unit.http_url)


@pytest.fixture
def personalised(unit: SimulatedPpa, client: PpaClient, backend_private: bytes) -> PpaClient:
    """A unit checked in (RTC = IAT) and personalised with the test keys and ``default_cfg``, its storage
    format done."""
    check_in(client, backend_private)
    client.personalise(MASTER_PRIVATE, default_cfg())
    settle(unit)
    return client


def check_in(client: PpaClient, backend_private: bytes, iat: int = IAT) -> CheckinResult:
    """The check-in relay, with the test backend answering in-process."""
    request = verify_check(client.checkin_request(), backend_private)
    return client.checkin(sign_checked(request, backend_private, iat=iat))


def certificate_for(public_key: ec.EllipticCurvePublicKey) -> bytes:
    """A device certificate for the SE key from a throwaway CA (the unit does not check the issuer)."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "#0123")]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Throwaway Test CA")]))
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=365))
        .sign(ca_key, hashes.SHA256())
        .public_bytes(serialization.Encoding.DER)
    )


def wait_until_back(unit: SimulatedPpa, client: PpaClient) -> Status:
    """The new boot's status after a restart the unit announced (its manual clock moved past it)."""
    assert unit.restarting
    settle(unit)
    return client.status()


def checks(unit: SimulatedPpa, client: PpaClient, count: int) -> list[CheckState]:
    """``count`` polls of the firmware check, the task's time passing between them."""
    states = [client.check_firmware()]
    for _ in range(count - 1):
        cast("ManualTime", unit.clock.monotonic).advance(unit.timing.fw_check)
        states.append(client.check_firmware())
    return states


def test_unit_life_check_in_to_audit_log(
    unit: SimulatedPpa, client: PpaClient, backend_private: bytes
) -> None:
    fresh_status = client.status()
    assert (fresh_status.inited, fresh_status.time, fresh_status.fls_state) == (False, None, 0)

    assert check_in(client, backend_private).status == "OK"
    assert client.status().time == IAT

    fresh = client.attestation()
    assert isinstance(fresh, FreshAttestation)
    der = certificate_for(fresh.public_key)
    client.provision(codec.b64encode(der), fresh.genuine)
    provisioned = client.attestation()
    assert isinstance(provisioned, ProvisionedAttestation)
    assert codec.b64decode(provisioned.crt) == der
    assert provisioned.certificate.public_key() == fresh.public_key

    eid = client.init_challenge().eid
    done = client.personalise(MASTER_PRIVATE, default_cfg())
    assert done.instanceid == p.derive_instanceid(
        codec.x25519_public_key(MASTER_PRIVATE), codec.b64decode(eid), unit.devid
    )
    assert client.status().inited is True
    assert client.status().format == "status0"  # the storage formats after personalisation
    settle(unit)
    assert client.status().format == "done"

    token = client.login(USER_PRIVATE, "system:config")
    config = client.config(token)
    assert (config.devid, config.eid, config.instanceid) == (unit.devid, eid, done.instanceid)
    assert (config.user, config.hostname, config.storage_mode) == ("Line Test", "my.ence.do", 0x51)
    assert config.genuine_id == unit.state.hardware.genuine_id

    log_token = client.login(USER_PRIVATE, "logger:get")
    key = client.logger_key(log_token)
    key.verify()
    assert key.key == config.eid_sign
    assert client.logger_list(log_token).total == 1

    client.reboot(token)
    assert wait_until_back(unit, client).time is None  # the RTC is lost on every boot
    check_in(client, backend_private)  # the profile has trusted time on: login needs the RTC
    log_token = client.login(USER_PRIVATE, "logger:get")
    listing = client.logger_list(log_token)
    assert (listing.total, len(listing.ids)) == (2, 2)
    records = verify_audit_log(client.logger_read(log_token, listing.ids[0]), codec.b64decode(key.key))
    assert Event.DEVICE_INITED in [record.type for record in records]


def test_status_of_a_fresh_unit(client: PpaClient) -> None:
    status = client.status()
    assert status.https is True  # sent over plain HTTP
    assert status.tts is False  # trusted time is off on a fresh unit
    assert status.hostname == "my.ence.do"  # our Host header is 127.0.0.1:port
    assert len(status.storage) == 2 and status.storage[0].startswith("8388608:")  # Disk0 sectors
    assert (status.format, status.fw_upgrade, status.ts) == (None, False, None)


def test_version(client: PpaClient) -> None:
    version = client.version()
    assert version.hwv.startswith("PPA")
    assert version.fwv == "Encedo nGINE FW v1.2.2"
    assert version.fwk == TEST_VENDOR_PUBLIC_KEY
    assert version.blv is not None and version.uis is not None
    assert version.sd_cid is not None  # a fresh unit shows its SD-card registers


def test_init_challenge_genuine_is_the_se_key(client: PpaClient, backend_private: bytes) -> None:
    check_in(client, backend_private)
    fresh = client.attestation()
    challenge = client.init_challenge()
    assert isinstance(fresh, FreshAttestation)
    assert challenge.exp == IAT + 60
    p.verify_genuine(challenge.genuine, fresh.public_key, now=challenge.exp)


def test_manual_init_and_token_calls(client: PpaClient, backend_private: bytes) -> None:
    """The raw calls under ``personalise`` and ``login`` work for callers that build their own JWTs."""
    check_in(client, backend_private)
    challenge = client.init_challenge()
    claims = {"jti": challenge.jti, "aud": challenge.spk, "exp": challenge.exp, "iat": IAT,
              "iss": codec.x25519_public_b64(MASTER_PRIVATE), "cfg": default_cfg()}  # fmt: skip
    shared = p.x25519_shared_secret(MASTER_PRIVATE, codec.b64decode(challenge.spk))
    result = client.init(p.encode_ecdh_jwt(claims, shared))
    assert result.genuine is not None and not result.reboot_required

    login = client.token_challenge()
    assert login.lbl == "Line Test"
    claims = {"jti": login.jti, "aud": login.spk, "exp": login.exp + 600, "iat": IAT,
              "iss": codec.x25519_public_b64(MASTER_PRIVATE), "scope": "system:config"}  # fmt: skip
    shared = p.x25519_shared_secret(MASTER_PRIVATE, codec.b64decode(login.spk))
    assert client.config(client.token(p.encode_ecdh_jwt(claims, shared))).user == "Line Test"


def test_login_expiry_counts_on_the_unit_clock(personalised: PpaClient, manual_time: ManualTime) -> None:
    """``exp`` = challenge time + lifetime on the unit's clock (RTC = IAT here, far from the station's)."""
    token = personalised.login(USER_PRIVATE, "system:config", lifetime=120)
    manual_time.advance(119)
    personalised.config(token)
    manual_time.advance(2)
    with pytest.raises(DeviceRefused) as refused:
        personalised.config(token)
    assert refused.value.status == 401


def test_master_login(personalised: PpaClient) -> None:
    token = personalised.login(MASTER_PRIVATE, "system:config")
    assert personalised.config(token).eid


def test_update_config(personalised: PpaClient) -> None:
    token = personalised.login(USER_PRIVATE, "system:config")
    assert personalised.update_config({"user": "Renamed"}, token).updated is True
    assert personalised.config(token).user == "Renamed"
    with_csr = personalised.update_config({"gen_csr": True}, token)
    assert with_csr.csr is not None and with_csr.csr.startswith("-----BEGIN CERTIFICATE REQUEST")
    assert with_csr.genuine is not None


def test_fresh_unit_takes_its_first_tls_bundle_without_a_token(client: PpaClient) -> None:
    crt = certificate_for(ec.generate_private_key(ec.SECP256R1()).public_key())
    update = client.update_config({"tls": {"crt": codec.b64encode(crt)}})
    assert (update.updated, update.reboot_required) == (True, True)


def test_logger_list_offsets(personalised: PpaClient) -> None:
    token = personalised.login(USER_PRIVATE, "logger:get")
    assert personalised.logger_list(token, offset=0) == personalised.logger_list(token)
    with pytest.raises(DeviceRefused) as past_the_end:
        personalised.logger_list(token, offset=5)
    assert past_the_end.value.status == 404


def test_firmware_upload_check_install(unit: SimulatedPpa, client: PpaClient) -> None:
    client.upload_firmware(FIRMWARE.read_bytes())
    states = checks(unit, client, 3)
    assert states == [CheckState.STARTED, CheckState.RUNNING, CheckState.VERIFIED]
    client.install_firmware()
    assert client.status().fw_upgrade is False  # the old boot answers a while longer
    assert wait_until_back(unit, client).fw_upgrade is True
    assert client.version().fwv == "Encedo nGINE FW v1.2.3"


def test_firmware_with_a_bad_signature_fails_its_check(unit: SimulatedPpa, client: PpaClient) -> None:
    image = bytearray(FIRMWARE.read_bytes())
    image[10] ^= 0xFF
    client.upload_firmware(bytes(image))
    states = checks(unit, client, 3)
    assert states[-1] is CheckState.FAILED


def test_with_timeout_keeps_unit_and_session(client: PpaClient) -> None:
    quick = client.with_timeout(0.5)
    assert (quick.base_url, quick.timeout) == (client.base_url, 0.5)
    assert quick.status().fls_state == 0


@pytest.mark.parametrize("url", ["192.168.7.1", "ftp://192.168.7.1", ""])
def test_base_url_needs_a_scheme(url: str) -> None:
    with pytest.raises(ValueError, match="http:// or https://"):
        PpaClient.at(url)


def test_personalise_refuses_a_cfg_for_another_master_key(
    client: PpaClient, unit: SimulatedPpa, backend_private: bytes
) -> None:
    check_in(client, backend_private)
    with pytest.raises(ValueError, match="masterkey is not the public key"):
        client.personalise(USER_PRIVATE, default_cfg())
    assert not unit.state.initialised


def test_client_ignores_proxy_settings_of_the_environment(
    client: PpaClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A factory PC's ``http_proxy`` must not capture the unit's link (10.255.255.1 is unroutable)."""
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY"):
        monkeypatch.setenv(name, "http://10.255.255.1:9")
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    assert client.status().fls_state == 0


# --- a unit whose clock a reboot lost; requests that take long ------------------------------------------


def answer_with(backend_private: bytes, calls: list[str]) -> Callable[[str], str]:
    def answer(check: str) -> str:
        calls.append(check)
        return sign_checked(verify_check(check, backend_private), backend_private, iat=IAT)

    return answer


def test_a_403_token_challenge_is_answered_with_one_check_in(
    unit: SimulatedPpa, personalised: PpaClient, backend_private: bytes
) -> None:
    simtools.reboot(unit)  # the clock is lost; the test profile trusts only a set clock
    with pytest.raises(DeviceRefused) as refused:
        personalised.token_challenge()  # no keeper: the 403 is the caller's
    assert refused.value.status == 403
    calls: list[str] = []

    def keeper(client: PpaClient) -> None:
        client.set_clock(answer_with(backend_private, calls))

    personalised.clock_keeper = keeper
    assert personalised.token_challenge().eid
    assert len(calls) == 1
    assert personalised.status().time is not None
    personalised.login(USER_PRIVATE, "system:config")  # the clock is set now: no further check-in
    assert len(calls) == 1


def test_a_keeper_that_cannot_set_the_clock_gets_one_try(unit: SimulatedPpa, personalised: PpaClient) -> None:
    simtools.reboot(unit)
    tries: list[PpaClient] = []
    personalised.clock_keeper = tries.append
    with pytest.raises(DeviceRefused):
        personalised.token_challenge()
    assert len(tries) == 1


class TimeoutsSeen(Transport):
    """A transport that records each request's timeout (in ``seen``) and answers 200 (a check: 202)."""

    seen: list[tuple[str, float]]

    def request(self, method: str, path: str, **kwargs: Any) -> Reply:
        self.seen.append((path, kwargs["timeout"]))
        return Reply(202 if path.endswith("check_fw") else 200, HTTPHeaderDict(), b'{"ok":true}')


def test_uploads_and_checks_get_their_own_longer_timeouts() -> None:
    transport = TimeoutsSeen("http://127.0.0.1:9")
    object.__setattr__(transport, "seen", [])
    client = PpaClient(transport, timeout=10.0)
    client.upload_firmware(b"image")
    client.check_firmware()
    client.reboot()
    assert transport.seen == [
        ("/api/system/upgrade/upload_fw", UPLOAD_TIMEOUT),
        ("/api/system/upgrade/check_fw", CHECK_TIMEOUT),
        ("/api/system/reboot", 10.0),
    ]
    assert UPLOAD_TIMEOUT >= 300 and CHECK_TIMEOUT >= 120

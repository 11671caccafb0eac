"""PpaClient failures: refusals, faults, malformed replies, timeouts, what goes on the wire, no secrets.

Faults come from the simulator's fault plan; replies the simulator would never send (a missing field, a
wrong JSON type) come from ``CannedUnit``, a tiny ``http.server`` on 127.0.0.1 answering crafted bodies.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import NameOID

from station.core import codec
from station.core.errors import (
    DeviceFailure,
    DeviceProtocolError,
    DeviceRefused,
    DeviceTimeout,
    DeviceUnreachable,
)
from station.devices.ppa import protocol as p
from station.devices.ppa.client import PpaClient
from station.devices.ppa.replies import FreshAttestation
from station.sim.ppa.device import SimulatedPpa
from station.sim.ppa.faults import FaultRule
from tests.simtools import MASTER_PRIVATE, USER_PRIVATE, default_cfg
from tests.test_client import certificate_for, check_in

# --- a unit that answers whatever the test says -----------------------------------------------------------


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    port: int


class CannedUnit(ThreadingHTTPServer):
    """Answers ``replies[path]`` = (status, body, extra headers); records every request it sees.

    It does not send ``Connection: close``, so a client that reused connections would be seen doing so.
    """

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _CannedHandler)
        self.replies: dict[str, tuple[int, bytes, dict[str, str]]] = {}
        self.seen: list[Seen] = []

    def reply(self, path: str, body: Any, status: int = 200, **headers: str) -> None:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.replies[path] = (status, raw, headers)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _CannedHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: CannedUnit

    def _serve(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.server.seen.append(Seen(self.command, self.path, headers, body, self.client_address[1]))
        status, raw, extra = self.server.replies.get(self.path, (200, b"{}", {}))
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(raw)

    do_GET = do_POST = _serve  # noqa: N815 - http.server names

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""


@pytest.fixture
def canned() -> Iterator[CannedUnit]:
    server = CannedUnit()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def client(unit: SimulatedPpa) -> PpaClient:
    return PpaClient.at(unit.http_url)


def b64(size: int, fill: int = 7) -> str:
    return codec.b64encode(bytes([fill]) * size)


SE_KEY = ec.generate_private_key(ec.SECP256R1())
GENUINE = p.make_genuine(SE_KEY, 100)
STATUS = {"ctx": 0, "uptime": 5, "temp": 31.5, "fls_state": 0}
VERSION = {"hwv": "PPA rev 2.2", "fwv": "Encedo nGINE FW v1.2.2", "fwk": b64(32), "fws": b64(64)}
CONFIG = {
    "iat": 1, "uts": 1, "devid": "2023b758c209269a", "eid": b64(32), "eid_sign": b64(32), "user": "u",
    "email": "", "hostname": "my.ence.do", "dnsd": True, "trusted_ts": True, "trusted_backend": True,
    "allow_keysearch": False, "origin": "*", "ctx": 0, "http_option_hsts": False,
    "http_option_dosprot_mode": 0, "ip": "192.168.7.1/24", "genuine_id": "0123eb561f5ea073ee",
    "storage_mode": 81, "storage_disk0size": 8388608, "storage_capacity": 121634816, "spk": b64(32),
    "nonce": b64(32),
}  # fmt: skip


def csr_pem() -> str:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "#0123")])
    csr = x509.CertificateSigningRequestBuilder().subject_name(subject).sign(SE_KEY, hashes.SHA256())
    return csr.public_bytes(serialization.Encoding.PEM).decode()


def spki_b64(key: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey) -> str:
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return codec.b64encode(der)


def without(body: dict[str, Any], name: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k != name}


# --- refusals and faults from the simulator ---------------------------------------------------------------


def test_second_provisioning_is_refused_with_406(client: PpaClient) -> None:
    attestation = client.attestation()
    assert isinstance(attestation, FreshAttestation)
    crt = codec.b64encode(certificate_for(attestation.public_key))
    client.provision(crt, attestation.genuine)
    with pytest.raises(DeviceRefused) as refused:
        client.provision(crt, client.attestation().genuine)
    assert (refused.value.status, refused.value.endpoint) == (406, "/api/system/config/provisioning")
    assert str(refused.value).startswith("POST /api/system/config/provisioning refused with 406")


def test_bad_token_is_refused_with_401(client: PpaClient) -> None:
    with pytest.raises(DeviceRefused) as refused:
        client.config("not.a.token")
    assert (refused.value.status, refused.value.endpoint) == (401, "/api/system/config")
    assert "GET /api/system/config refused with 401" in str(refused.value)


def test_token_challenge_on_a_fresh_unit_is_409(client: PpaClient) -> None:
    with pytest.raises(DeviceRefused) as refused:
        client.token_challenge()
    assert refused.value.status == 409
    assert "wrong internal state" in str(refused.value)


def test_init_before_check_in_is_403(client: PpaClient) -> None:
    with pytest.raises(DeviceRefused) as refused:
        client.personalise(MASTER_PRIVATE, default_cfg())
    assert (refused.value.status, refused.value.endpoint) == (403, "/api/auth/init")


def test_nothing_uploaded_check_is_404(client: PpaClient) -> None:
    with pytest.raises(DeviceRefused) as refused:
        client.check_firmware()
    assert refused.value.status == 404


def test_500_is_a_device_failure(unit: SimulatedPpa, client: PpaClient) -> None:
    unit.faults.add(FaultRule("500", path="/api/system/status", times=1))
    with pytest.raises(DeviceFailure) as failed:
        client.status()
    assert (failed.value.status, failed.value.endpoint) == (500, "/api/system/status")
    assert str(failed.value).startswith("GET /api/system/status failed on the unit with 500")
    assert client.status().fls_state == 0  # times=1


def test_500_on_a_post(unit: SimulatedPpa, client: PpaClient, backend_private: bytes) -> None:
    unit.faults.add(FaultRule("500", path="/api/system/checkin", method="POST"))
    with pytest.raises(DeviceFailure, match="POST /api/system/checkin failed on the unit with 500"):
        check_in(client, backend_private)


def test_garbage_is_a_protocol_error(unit: SimulatedPpa, client: PpaClient) -> None:
    unit.faults.add(FaultRule("garbage", path="/api/system/version"))
    with pytest.raises(DeviceProtocolError) as bad:
        client.version()
    assert type(bad.value) is DeviceProtocolError
    assert (bad.value.status, bad.value.endpoint, bad.value.field) == (200, "/api/system/version", None)
    assert str(bad.value) == "GET /api/system/version: reply is not JSON"


def test_dropped_connection_is_unreachable(unit: SimulatedPpa, client: PpaClient) -> None:
    unit.faults.add(FaultRule("drop", times=1))
    with pytest.raises(DeviceUnreachable) as dropped:
        client.status()
    assert dropped.value.endpoint == "/api/system/status"
    # The simulator aborts with RST: depending on timing the client sees a reset or an early close.
    assert re.search("connection reset|closed the connection without answering", str(dropped.value))


def test_unplugged_unit_is_unreachable(unit: SimulatedPpa, client: PpaClient) -> None:
    unit.unplug()
    with pytest.raises(DeviceUnreachable):
        client.version()


def test_refused_connection_is_unreachable(backend_private: bytes) -> None:
    with SimulatedPpa(backend_key=codec.x25519_public_key(backend_private)) as gone:
        url = gone.http_url
    with pytest.raises(DeviceUnreachable, match="GET /api/system/status: connection refused"):
        PpaClient.at(url).status()


def test_slow_reply_past_the_timeout(unit: SimulatedPpa, client: PpaClient) -> None:
    unit.faults.add(FaultRule("delay", seconds=0.5, times=1))
    with pytest.raises(DeviceTimeout) as slow:
        client.with_timeout(0.1).status()
    assert slow.value.endpoint == "/api/system/status"
    assert "no answer within 0.1 s" in str(slow.value)


# --- malformed replies ------------------------------------------------------------------------------------

Call = Callable[[PpaClient], object]
MALFORMED: list[tuple[str, Call, str, Any, str | None]] = [
    ("missing", PpaClient.status, "/api/system/status", without(STATUS, "fls_state"), "fls_state"),
    ("str for int", PpaClient.status, "/api/system/status", {**STATUS, "fls_state": "0"}, "fls_state"),
    ("bool for int", PpaClient.status, "/api/system/status", {**STATUS, "uptime": True}, "uptime"),
    ("null", PpaClient.status, "/api/system/status", {**STATUS, "time": None}, "time"),
    ("str for bool", PpaClient.status, "/api/system/status", {**STATUS, "inited": "false"}, "inited"),
    ("list items", PpaClient.status, "/api/system/status", {**STATUS, "storage": [1]}, "storage"),
    ("not an object", PpaClient.status, "/api/system/status", [STATUS], None),
    ("not base64", PpaClient.version, "/api/system/version", {**VERSION, "fwk": "no!"}, "fwk"),
    ("key size", PpaClient.version, "/api/system/version", {**VERSION, "fwk": b64(31)}, "fwk"),
    ("no csr, no crt", PpaClient.attestation, "/api/system/config/attestation", {"genuine": GENUINE}, "csr"),
    ("bad genuine", PpaClient.attestation, "/api/system/config/attestation", {"crt": b64(9), "genuine": "x"},
     "genuine"),
    ("bad crt", PpaClient.attestation, "/api/system/config/attestation", {"crt": b64(9), "genuine": GENUINE},
     "crt"),
    ("bad csr", PpaClient.attestation, "/api/system/config/attestation",
     {"csr": "PEM?", "key": spki_b64(SE_KEY), "genuine": GENUINE}, "csr"),
    ("not P-256", PpaClient.attestation, "/api/system/config/attestation",
     {"csr": csr_pem(), "key": spki_b64(ed25519.Ed25519PrivateKey.generate()), "genuine": GENUINE}, "key"),
    ("no check", PpaClient.checkin_request, "/api/system/checkin", {"chek": "a.b.c"}, "check"),
    ("no genuine_id", lambda c: c.config("t"), "/api/system/config", without(CONFIG, "genuine_id"),
     "genuine_id"),
    ("devid not hex", lambda c: c.config("t"), "/api/system/config", {**CONFIG, "devid": "zz"}, "devid"),
    ("no token", lambda c: c.token("a.b.c"), "/api/auth/token", {"tok": "x"}, "token"),
    ("log id", lambda c: c.logger_list("t"), "/api/logger/list", {"total": 1, "id": ["62310B2B"]}, "id"),
    ("spk size", PpaClient.init_challenge, "/api/auth/init",
     {"eid": b64(32), "spk": b64(16), "jti": b64(32), "exp": 60, "genuine": GENUINE}, "spk"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("call", "path", "body", "field"), [case[1:] for case in MALFORMED], ids=[case[0] for case in MALFORMED]
)
def test_malformed_reply_names_endpoint_and_field(
    canned: CannedUnit, call: Call, path: str, body: Any, field: str | None
) -> None:
    canned.reply(path, body)
    with pytest.raises(DeviceProtocolError) as bad:
        call(PpaClient.at(canned.url))
    assert type(bad.value) is DeviceProtocolError
    assert (bad.value.status, bad.value.endpoint, bad.value.field) == (200, path, field)
    assert str(bad.value).startswith(f"{canned.seen[-1].method} {path}: reply")
    if field is not None:
        assert repr(field) in str(bad.value)


def test_unexpected_success_status_is_a_protocol_error(canned: CannedUnit) -> None:
    canned.reply("/api/system/upgrade/check_fw", b"", status=204)
    with pytest.raises(DeviceProtocolError, match="answered 204, expected 201 or 202 or 200 or 406"):
        PpaClient.at(canned.url).check_firmware()


def test_redirect_is_not_followed(canned: CannedUnit) -> None:
    canned.reply("/api/system/status", b"", status=302, Location="http://10.255.255.1/")
    with pytest.raises(DeviceProtocolError) as moved:
        PpaClient.at(canned.url).status()
    assert moved.value.status == 302
    assert len(canned.seen) == 1


def test_se_failure_body_is_shown(canned: CannedUnit) -> None:
    canned.reply("/api/system/config/attestation", b"atecc_2", status=500)
    with pytest.raises(DeviceFailure, match="atecc_2"):
        PpaClient.at(canned.url).attestation()


def test_log_file_that_is_not_utf8(canned: CannedUnit) -> None:
    canned.reply("/api/logger/00000001", b"\xff\xfe# log")
    with pytest.raises(DeviceProtocolError, match="not UTF-8"):
        PpaClient.at(canned.url).logger_read("t", "00000001")


def test_unusable_session_key_in_token_challenge(canned: CannedUnit) -> None:
    """An all-zero ``spk`` is a low-order point: the unit's fault, named as such, not a crypto crash."""
    canned.reply("/api/auth/token", {"exp": 60, "spk": b64(32, 0), "jti": b64(32), "lbl": "", "eid": b64(32)})
    with pytest.raises(DeviceProtocolError) as bad:
        PpaClient.at(canned.url).login(USER_PRIVATE, "system:config")
    assert bad.value.field == "spk"


def test_bad_arguments_are_refused_before_sending(canned: CannedUnit) -> None:
    client = PpaClient.at(canned.url)
    with pytest.raises(ValueError, match="8 hex digits"):
        client.logger_read("t", "../../x")
    with pytest.raises(ValueError, match="scope"):
        client.login(USER_PRIVATE, "")
    with pytest.raises(ValueError, match="file name"):
        client.upload_firmware(b"x", filename='a"\r\nX-Evil: 1')
    assert canned.seen == []


# --- what goes on the wire --------------------------------------------------------------------------------


def test_wire_format(canned: CannedUnit) -> None:
    """Connection: close, one connection per request, JSON and raw bodies, bearer only when given."""
    client = PpaClient.at(canned.url)
    canned.reply("/api/system/checkin", {"status": "OK"})
    canned.reply("/api/system/status", STATUS)
    client.status()
    client.checkin("a.b.c")
    client.upload_firmware(b"\x00image", token="tok")
    client.install_firmware()
    status, checkin, upload, install = canned.seen
    assert all(seen.headers["connection"] == "close" for seen in canned.seen)
    assert len({seen.port for seen in canned.seen}) == 4  # never a reused connection
    assert "authorization" not in status.headers and "content-type" not in status.headers
    assert (checkin.method, checkin.body) == ("POST", b'{"checked":"a.b.c"}')
    assert checkin.headers["content-type"] == "application/json"
    assert upload.body == b"\x00image"
    assert upload.headers["content-type"] == "application/octet-stream"
    assert upload.headers["content-disposition"] == 'attachment; filename="firmware.bin"'
    assert upload.headers["authorization"] == "Bearer tok"
    assert (install.method, install.path, install.body) == ("GET", "/api/system/upgrade/install_fw", b"")


# --- secrets never leak -----------------------------------------------------------------------------------


def secret_forms(*keys: bytes) -> list[str]:
    """Every way a key could be spelled in a message: hex, base64, base64url, Python bytes repr."""
    forms = []
    for key in keys:
        forms += [key.hex(), codec.b64encode(key), codec.b64url_encode(key), repr(key)[2:-1]]
    return forms


def exception_text(exc: BaseException) -> str:
    return "\n".join([str(exc), repr(exc), repr(vars(exc)), *traceback.format_exception(exc)])


def test_no_secret_in_any_exception_or_log(
    unit: SimulatedPpa, client: PpaClient, canned: CannedUnit, backend_private: bytes, caplog: Any
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="station")  # whatever an earlier test set it to
    check_in(client, backend_private)
    passphrase = "correct horse battery staple"
    user = p.derive_user_private_key(passphrase, client.init_challenge().eid, rounds=1000)
    mnemonic = p.generate_mnemonic()
    master = p.master_private_key_from_mnemonic(mnemonic)
    cfg = default_cfg(masterkey=codec.x25519_public_b64(master), userkey=codec.x25519_public_b64(user))
    raised: list[BaseException] = []

    def attempt(call: Callable[[], object]) -> Any:
        try:
            return call()
        except Exception as exc:  # every kind of failure is collected and inspected below
            raised.append(exc)
            return None

    def fault(kind: str, path: str, method: str = "POST", seconds: float = 0.0) -> None:
        unit.faults.add(FaultRule(kind, path=path, method=method, times=1, seconds=seconds))

    attempt(lambda: client.personalise(user, cfg))  # cfg is for another master key
    for kind in ("500", "drop", "garbage"):
        fault(kind, "/api/auth/init")
        attempt(lambda: client.personalise(master, cfg))
    token = client.personalise(master, cfg).token
    attempt(lambda: client.personalise(master, cfg))  # already personalised: 406
    for kind in ("500", "drop", "garbage"):
        fault(kind, "/api/auth/token")
        attempt(lambda: client.login(user, "system:config"))
    fault("delay", "/api/auth/token", seconds=0.5)
    attempt(lambda: client.with_timeout(0.1).login(user, "system:config"))
    attempt(lambda: client.login(bytes(range(7, 39)), "system:config"))  # unknown key: 401
    attempt(lambda: client.login(user[:31], "system:config"))  # not a key at all
    fault("500", "/api/system/config", method="GET")
    attempt(lambda: client.config(token))
    attempt(lambda: client.config(token + "x"))  # tampered: 401
    canned.reply("/api/auth/token", {"exp": 60, "spk": b64(32, 0), "jti": b64(32), "lbl": "", "eid": b64(32)})
    attempt(lambda: PpaClient.at(canned.url).login(master, "system:config"))

    kinds = {type(exc).__name__ for exc in raised}
    assert kinds >= {"ValueError", "DeviceFailure", "DeviceUnreachable", "DeviceProtocolError"}
    assert kinds >= {"DeviceRefused", "DeviceTimeout"}
    secrets = [passphrase, mnemonic, token, *secret_forms(user, master, backend_private)]
    for exc in raised:
        text = exception_text(exc)
        leaked = [secret for secret in secrets if secret in text]
        assert not leaked, f"{type(exc).__name__} leaks a secret: {exc}"
    assert caplog.text  # the client logged its calls...
    assert not [secret for secret in secrets if secret in caplog.text]  # ...and nothing secret

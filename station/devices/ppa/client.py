"""``PpaClient``: a typed client of one unit's REST API (reference §2-§8); every failure a station error.

>>> import socket
>>> with socket.socket() as closed:                   # bound, not listening: no unit on this port
...     closed.bind(("127.0.0.1", 0))
...     PpaClient.at(f"http://127.0.0.1:{closed.getsockname()[1]}", timeout=2).status()
Traceback (most recent call last):
station.core.errors.DeviceUnreachable: GET /api/system/status: connection refused (no unit listening)
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping
from typing import Any

from station.core import codec
from station.core.errors import DeviceProtocolError, DeviceRefused, ProtocolError
from station.devices.ppa import protocol
from station.devices.ppa.failures import status_error
from station.devices.ppa.replies import (
    TOKEN_MAX,
    Attestation,
    CheckinResult,
    CheckState,
    ConfigUpdate,
    InitChallenge,
    InitResult,
    LoggerKey,
    LoggerList,
    SelfTest,
    Status,
    TokenChallenge,
    UnitConfig,
    Version,
    parse_attestation,
)
from station.devices.ppa.wire import ReplyBody
from station.devices.transport import DEFAULT_CAP, Reply, TlsPin, Transport

log = logging.getLogger(__name__)

CHALLENGE_LIFETIME = 60  # a challenge's ``exp`` is the unit's time + 60 s (reference §4.1, §5.1)
SCOPE_MAX = 127
AUDIT_LOG_CAP = 16 << 20  # an audit-log file is the one legitimately large reply (reference §7)
_LOG_ID = re.compile(r"^[0-9a-fA-F]{8}$")
SIMULATED_HEADER = "X-Simulated-Unit"  # sent by ``station sim ppa`` units only (docs/simulator.md)
# Per kind of request, at least (the client's own ``timeout`` when longer): a firmware upload streams up to
# 3 MiB into the unit's flash and a check verifies it (the Encedo Manager allows 1 200 s and 120 s).
UPLOAD_TIMEOUT = 300.0
CHECK_TIMEOUT = 120.0

STATUS, VERSION, REBOOT = "/api/system/status", "/api/system/version", "/api/system/reboot"
SELFTEST = "/api/system/selftest"
CHECKIN, CONFIG = "/api/system/checkin", "/api/system/config"
ATTESTATION, PROVISIONING = "/api/system/config/attestation", "/api/system/config/provisioning"
AUTH_INIT, AUTH_TOKEN = "/api/auth/init", "/api/auth/token"
LOGGER = "/api/logger"
UPLOAD_FW = "/api/system/upgrade/upload_fw"
CHECK_FW, INSTALL_FW = "/api/system/upgrade/check_fw", "/api/system/upgrade/install_fw"


class PpaClient:
    """Typed calls to one unit through its ``Transport`` (the fixture's: bound to the slot's interface).

    ``timeout`` is each request's wall-clock limit, connect and whole reply (``devices/transport.py``).
    ``simulated_unit`` turns True once a reply carries ``X-Simulated-Unit: 1``: a simulator answered,
    whatever the fixture kind, and the unit's records must say so. ``clock_keeper``, when set, is how a
    403 from the token challenge is answered: the unit's clock is unset (it rebooted), so the keeper checks
    it in once (``set_clock``) and the challenge is asked again.
    """

    def __init__(self, transport: Transport, *, timeout: float = 10.0) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self.transport = transport
        self.timeout = timeout
        self.simulated_unit = False
        self.clock_keeper: Callable[[PpaClient], None] | None = None

    @classmethod
    def at(cls, base_url: str, *, timeout: float = 10.0, tls: TlsPin | None = None) -> PpaClient:
        """A client of the unit at ``base_url`` on a plain transport (tests, tools; slots use their link)."""
        return PpaClient(Transport.plain(base_url, tls=tls, what="unit base URL"), timeout=timeout)

    @property
    def base_url(self) -> str:
        return self.transport.base_url

    def with_timeout(self, timeout: float) -> PpaClient:
        """The same unit and transport with another per-request timeout (a quick presence probe, say)."""
        client = PpaClient(self.transport, timeout=timeout)
        client.simulated_unit, client.clock_keeper = self.simulated_unit, self.clock_keeper
        return client

    # --- system (§2) ------------------------------------------------------------------------------------

    def status(self) -> Status:
        return Status.parse(self._json("GET", STATUS))

    def version(self) -> Version:
        return Version.parse(self._json("GET", VERSION))

    def selftest(self, token: str | None = None) -> SelfTest:
        """Run the unit's own self-test (any valid token; none on a fresh unit). While ``kat_busy`` the
        known-answer tests still run: ask again later for the verdict (reference §2.5)."""
        return SelfTest.parse(self._json("GET", SELFTEST, token=token))

    def reboot(self, token: str | None = None) -> None:
        """Ask for a reboot: 200, then the unit drops off for a while and comes back with its RTC unset."""
        self._call("GET", REBOOT, token=token)

    # --- check-in (§6) ------------------------------------------------------------------------------------

    def checkin_request(self) -> str:
        """The unit's ``check`` JWS, for the check-in backend to answer."""
        return self._json("GET", CHECKIN).device_text("check", TOKEN_MAX)

    def checkin(self, checked: str) -> CheckinResult:
        """Post the backend's ``checked`` JWS: sets the unit's RTC and runs the action it carries."""
        return CheckinResult.parse(self._json("POST", CHECKIN, body={"checked": checked}))

    def set_clock(self, answer: Callable[[str], str]) -> CheckinResult:
        """A check-in whose only purpose is the unit's clock: ``answer`` is the backend's (``check`` in,
        ``checked`` out, action OK). Never fenced by a unit guard: it is how a guard gets the clock it needs
        to ask the unit who it is after a reboot."""
        checked = answer(self.checkin_request())
        return CheckinResult.parse(self._json("POST", CHECKIN, body={"checked": checked}))

    # --- secure element (§3.4-§3.6) ---------------------------------------------------------------------

    def attestation(self, token: str | None = None) -> Attestation:
        """FreshAttestation (csr, key, genuine) or ProvisionedAttestation (crt, genuine)."""
        return parse_attestation(self._json("GET", ATTESTATION, token=token))

    def provision(self, crt_b64: str, genuine: str) -> None:
        """Write the device certificate into the secure element; one-shot (406 ever after)."""
        self._call("POST", PROVISIONING, body={"crt": crt_b64, "genuine": genuine})

    # --- personalisation and login (§4, §5) ----------------------------------------------------------------

    def init_challenge(self) -> InitChallenge:
        return InitChallenge.parse(self._json("GET", AUTH_INIT))

    def init(self, init_jwt: str) -> InitResult:
        return InitResult.parse(self._json("POST", AUTH_INIT, body={"init": init_jwt}))

    def token_challenge(self) -> TokenChallenge:
        """The login challenge. A 403 means the unit's clock is unset (it trusts only a set clock and has
        rebooted since its check-in): with a ``clock_keeper`` the unit is checked in once and asked again."""
        try:
            return TokenChallenge.parse(self._json("GET", AUTH_TOKEN))
        except DeviceRefused as exc:
            if exc.status != 403 or self.clock_keeper is None:
                raise
        log.info("%s: token challenge refused with 403 (clock unset); checking the unit in", self.base_url)
        self.clock_keeper(self)
        return TokenChallenge.parse(self._json("GET", AUTH_TOKEN))

    def token(self, auth_jwt: str) -> str:
        return self._json("POST", AUTH_TOKEN, body={"auth": auth_jwt}).device_text("token", TOKEN_MAX)

    # --- configuration (§3.1-§3.3) ------------------------------------------------------------------------

    def config(self, token: str) -> UnitConfig:
        return UnitConfig.parse(self._json("GET", CONFIG, token=token))

    def update_config(self, fields: Mapping[str, Any], token: str | None = None) -> ConfigUpdate:
        """Partial update with a token; without one, a fresh unit's first TLS bundle (``{"tls": ...}``).

        The fresh-unit install answers an empty 200 (reference §3.2a); that is reported as
        ``updated`` and ``reboot_required``, since the bundle takes effect after a reboot.
        """
        response = self._call("POST", CONFIG, token=token, body=dict(fields))
        if not response.content:
            return ConfigUpdate(updated=True, reboot_required=True, csr=None, genuine=None)
        return ConfigUpdate.parse(ReplyBody.decode("POST", CONFIG, response.content))

    # --- audit log (§7) ------------------------------------------------------------------------------------

    def logger_key(self, token: str) -> LoggerKey:
        return LoggerKey.parse(self._json("GET", f"{LOGGER}/key", token=token))

    def logger_list(self, token: str, offset: int | None = None) -> LoggerList:
        if offset is not None and offset < 0:
            raise ValueError("logger list offset must be >= 0")
        path = f"{LOGGER}/list" if offset is None else f"{LOGGER}/list/{offset}"
        return LoggerList.parse(self._json("GET", path, token=token))

    def logger_read(self, token: str, file_id: str) -> str:
        """One closed audit-log file as text (verify it with ``auditlog.verify_audit_log``)."""
        if not _LOG_ID.match(file_id):
            raise ValueError(f"audit-log file id must be 8 hex digits, not {file_id!r}")
        path = f"{LOGGER}/{file_id}"
        try:
            return self._call("GET", path, token=token, cap=AUDIT_LOG_CAP).content.decode("utf-8")
        except UnicodeDecodeError:
            raise ReplyBody("GET", path, {}).error(None, "is not UTF-8 text") from None

    # --- firmware (§8) -------------------------------------------------------------------------------------

    def upload_firmware(self, image: bytes, filename: str = "firmware.bin", token: str | None = None) -> None:
        """Stage an image, raw (not multipart); the unit cares about the file name."""
        if not image:
            raise ValueError("firmware image is empty")
        if not re.fullmatch(r"[\w.-]+", filename):
            raise ValueError(f"unsafe firmware file name {filename!r}")
        headers = {
            "Content-Type": "application/octet-stream",
            "Content-Disposition": f'attachment; filename="{filename}"',
        }
        self._call("POST", UPLOAD_FW, token=token, raw=image, headers=headers, timeout=UPLOAD_TIMEOUT)

    def check_firmware(self, token: str | None = None) -> CheckState:
        """Start or poll the verification task; a failed verification is FAILED, not an exception."""
        accepted = tuple(state.value for state in CheckState)
        reply = self._call("GET", CHECK_FW, token=token, accept=accepted, timeout=CHECK_TIMEOUT)
        return CheckState(reply.status_code)

    def install_firmware(self, token: str | None = None) -> None:
        """Install the verified image: 200, then the unit reboots into it (status ``fw_upgrade``)."""
        self._call("GET", INSTALL_FW, token=token)

    # --- flows built from the calls above ------------------------------------------------------------------

    def login(self, private_key: bytes, scope: str, *, lifetime: int = 3600) -> str:
        """Token login (§5.2) with a raw X25519 private key (user or master); returns the bearer token.

        ``iat`` and ``exp`` are on the unit's clock (challenge ``exp`` - 60 s, plus ``lifetime``), not the
        station's: before check-in the unit counts from boot, and its RTC may drift (§5.3).
        """
        if not 0 < len(scope) <= SCOPE_MAX:
            raise ValueError(f"scope must be 1 to {SCOPE_MAX} characters")
        if lifetime <= 0:
            raise ValueError("token lifetime must be positive")
        challenge = self.token_challenge()
        issued = challenge.exp - CHALLENGE_LIFETIME
        claims = {
            "jti": challenge.jti,
            "aud": challenge.spk,
            "exp": issued + lifetime,
            "iat": issued,
            "iss": codec.x25519_public_b64(private_key),
            "scope": scope,
        }
        shared = _shared_secret(private_key, challenge.spk, AUTH_TOKEN)
        return self.token(protocol.encode_ecdh_jwt(claims, shared))

    def personalise(self, master_private: bytes, cfg: Mapping[str, Any]) -> InitResult:
        """Both init phases (§4): challenge, then the master-signed init JWT carrying ``cfg``.

        ``cfg["masterkey"]`` must be the public half of ``master_private`` (the unit answers 401
        otherwise); this is checked first so the mistake is named instead of refused.
        """
        master_public = codec.x25519_public_key(master_private)
        try:
            matches = codec.b64decode(cfg.get("masterkey", "")) == master_public
        except ProtocolError:
            matches = False
        if not matches:
            raise ValueError("cfg masterkey is not the public key of the master private key given")
        challenge = self.init_challenge()
        claims = {
            "jti": challenge.jti,
            "aud": challenge.spk,
            "exp": challenge.exp,
            "iat": challenge.exp - CHALLENGE_LIFETIME,
            "iss": codec.b64encode(master_public),
            "cfg": dict(cfg),
        }
        shared = _shared_secret(master_private, challenge.spk, AUTH_INIT)
        return self.init(protocol.encode_ecdh_jwt(claims, shared))

    # --- transport -----------------------------------------------------------------------------------------

    def _json(
        self, method: str, path: str, *, token: str | None = None, body: Mapping[str, Any] | None = None
    ) -> ReplyBody:
        response = self._call(method, path, token=token, body=body)
        return ReplyBody.decode(method, path, response.content, response.status_code)

    def _call(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        body: Mapping[str, Any] | None = None,
        raw: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        accept: tuple[int, ...] = (200,),
        cap: int = DEFAULT_CAP,
        timeout: float = 0.0,
    ) -> Reply:
        """One request, one connection (the transport's rule); a status outside ``accept`` or any I/O
        failure raises; replies past ``cap`` bytes are refused as bad replies. ``timeout``: this kind of
        request's own minimum (an upload, a check), when longer than the client's."""
        sent = dict(headers or {})
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        data = raw
        if body is not None:
            sent["Content-Type"] = "application/json"
            data = codec.compact_json(dict(body))
        started = time.monotonic()
        response = self.transport.request(
            method, path, body=data, headers=sent, timeout=max(self.timeout, timeout), cap=cap
        )
        log.debug("%s %s -> %d in %.3f s", method, path, response.status_code, time.monotonic() - started)
        if response.headers.get(SIMULATED_HEADER) == "1":
            self.simulated_unit = True
        if response.status_code not in accept:
            raise status_error(method, path, response, accept)
        return response


def _shared_secret(private_key: bytes, spk: str, path: str) -> bytes:
    """X25519 with the challenge's session key; an unusable ``spk`` is the unit's fault, named as such."""
    try:
        return protocol.x25519_shared_secret(private_key, codec.b64decode(spk))
    except ProtocolError as exc:
        raise DeviceProtocolError(
            f"GET {path}: reply field 'spk' is unusable ({exc})", endpoint=path, status=200, field="spk"
        ) from None

"""``PpaClient``: the station's typed client of one unit's REST API (reference §2-§8).

Example::

    client = PpaClient(session, "http://192.168.7.1")      # the fixture's session, bound to its interface
    if not client.status().inited:
        checked = backend.checkin(client.checkin_request())
        client.checkin(checked)                            # sets the unit's RTC
        result = client.personalise(master_private_key, cfg)
    token = client.login(user_private_key, "system:config")
    client.config(token).eid

One client per fixture, holding no auth state: bearer tokens are passed per call. Every request carries
the timeout and ``Connection: close`` (the unit closes after each reply and a reused connection breaks the
next call), and never goes through a proxy (the unit sits at the other end of a USB network link, and a
factory PC's ``http_proxy`` must not capture it). Failures map onto ``station.core.errors``:

- 4xx: DeviceRefused; 5xx: DeviceFailure (both carry ``status`` and ``endpoint``);
- no answer within the timeout: DeviceTimeout; refused, reset or dropped connection: DeviceUnreachable;
- an answer that does not parse (not JSON, missing field, wrong type): DeviceProtocolError naming the field.

``ppa/failures.py`` builds the first two kinds and ``ppa/wire.py`` (the strict reply reader) the third.

Messages say which call failed and how ("POST /api/system/config/provisioning refused with 406 ...");
they never contain request bodies, tokens or keys. Nothing is logged but method, path, status and time.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping
from typing import Any, cast

import requests

from station.core import codec
from station.core.errors import DeviceProtocolError, ProtocolError
from station.devices.http import transport_error
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
    Status,
    TokenChallenge,
    UnitConfig,
    Version,
    parse_attestation,
)
from station.devices.ppa.wire import ReplyBody

log = logging.getLogger(__name__)

CHALLENGE_LIFETIME = 60  # a challenge's ``exp`` is the unit's time + 60 s (reference §4.1, §5.1)
SCOPE_MAX = 127
_LOG_ID = re.compile(r"^[0-9a-fA-F]{8}$")
# None disables a proxy, including one from the environment; the stubs only admit str values.
_NO_PROXY = cast("dict[str, str]", {"http": None, "https": None})

STATUS, VERSION, REBOOT = "/api/system/status", "/api/system/version", "/api/system/reboot"
CHECKIN, CONFIG = "/api/system/checkin", "/api/system/config"
ATTESTATION, PROVISIONING = "/api/system/config/attestation", "/api/system/config/provisioning"
AUTH_INIT, AUTH_TOKEN = "/api/auth/init", "/api/auth/token"
LOGGER = "/api/logger"
UPLOAD_FW = "/api/system/upgrade/upload_fw"
CHECK_FW, INSTALL_FW = "/api/system/upgrade/check_fw", "/api/system/upgrade/install_fw"


class PpaClient:
    """Typed calls to one unit at ``base_url`` through an injected ``requests.Session``."""

    def __init__(self, session: requests.Session, base_url: str, *, timeout: float = 10.0) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"unit base URL must start with http:// or https://, not {base_url!r}")
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self._session = session
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout

    def with_timeout(self, timeout: float) -> PpaClient:
        """The same unit and session with another per-request timeout (a quick presence probe, say)."""
        return PpaClient(self._session, self.base_url, timeout=timeout)

    # --- system (§2) ------------------------------------------------------------------------------------

    def status(self) -> Status:
        return Status.parse(self._json("GET", STATUS))

    def version(self) -> Version:
        return Version.parse(self._json("GET", VERSION))

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
            return self._call("GET", path, token=token).content.decode("utf-8")
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
        self._call("POST", UPLOAD_FW, token=token, raw=image, headers=headers)

    def check_firmware(self, token: str | None = None) -> CheckState:
        """Start or poll the verification task; a failed verification is FAILED, not an exception."""
        accepted = tuple(state.value for state in CheckState)
        return CheckState(self._call("GET", CHECK_FW, token=token, accept=accepted).status_code)

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
    ) -> requests.Response:
        """One request, one connection; any status outside ``accept`` or any I/O failure raises."""
        sent = {"Connection": "close", **(headers or {})}
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        data = raw
        if body is not None:
            sent["Content-Type"] = "application/json"
            data = codec.compact_json(dict(body))
        started = time.monotonic()
        try:
            response = self._session.request(
                method,
                self.base_url + path,
                data=data,
                headers=sent,
                timeout=self.timeout,
                allow_redirects=False,
                proxies=_NO_PROXY,
            )
        except requests.RequestException as exc:
            raise transport_error(method, path, exc, self.timeout) from None
        finally:
            # The unit closes after every reply; never let a pooled connection be reused, even when a
            # reply forgets ``Connection: close`` (a reused, half-closed socket fails the next call).
            self._session.close()
        log.debug("%s %s -> %d in %.3f s", method, path, response.status_code, time.monotonic() - started)
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

"""The station's exception tree: one root, a shallow hierarchy, structured fields, no secret in a message.

>>> exc = DeviceRefused("POST /api/auth/init refused with 401", endpoint="/api/auth/init", status=401)
>>> isinstance(exc, DeviceProtocolError), exc.status, exc.endpoint
(True, 401, '/api/auth/init')
>>> str(ConfigError("unknown key", path="station.toml", key="station.colour"))
'station.toml: [station.colour] unknown key'
"""

from __future__ import annotations


class StationError(Exception):
    """Root of every error the station raises on purpose."""


class ConfigError(StationError):
    """A configuration file is missing, unreadable or invalid.

    ``path`` is the file, ``key`` the dotted key at fault (or None for whole-file problems).
    """

    def __init__(self, message: str, *, path: str | None = None, key: str | None = None) -> None:
        where = ""
        if path is not None:
            where = f"{path}: "
        if key is not None:
            where += f"[{key}] "
        super().__init__(f"{where}{message}")
        self.path = path
        self.key = key


class StateError(StationError):
    """An operation was called in a lifecycle state that does not allow it (a programming error)."""


class FixtureError(StationError):
    """A fixture (physical slot) cannot reach or sense its unit."""


class DeviceError(StationError):
    """A unit answered wrongly or not at all. ``endpoint`` names the API path involved."""

    def __init__(self, message: str, *, endpoint: str | None = None) -> None:
        super().__init__(message)
        self.endpoint = endpoint


class DeviceTimeout(DeviceError):
    """The unit did not answer within the step's timeout."""


class DeviceUnreachable(DeviceError):
    """The connection failed or was dropped (unit unplugged, rebooting, cable fault)."""


class DeviceProtocolError(DeviceError):
    """The unit answered, but not as the protocol says: an error status or a malformed reply.

    ``status`` is the HTTP status (None when the status was fine but the body was malformed);
    ``field`` names the reply field at fault, if any.
    """

    def __init__(
        self,
        message: str,
        *,
        endpoint: str | None = None,
        status: int | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message, endpoint=endpoint)
        self.status = status
        self.field = field


class DeviceRefused(DeviceProtocolError):
    """The unit answered with a 4xx status: it understood and said no (406 already provisioned, 401...)."""


class DeviceFailure(DeviceProtocolError):
    """The unit answered with a 5xx status: an internal error on the unit; often worth a retry."""


class ProtocolError(StationError):
    """Malformed protocol data found by a pure function (bad base64, a JWT that does not parse)."""


class VerificationError(ProtocolError):
    """A signature, MAC or attestation check failed."""


class BackendError(StationError):
    """The factory backend (local CA / check-in authority, or the remote service) refused or failed."""


class BackendRefused(BackendError):
    """The backend refused a request on its merits (a bad ``genuine``, a CSR for another key)."""


class RecordError(StationError):
    """A manufacturing record is malformed, missing or cannot be stored."""


class SignatureError(RecordError):
    """A record's signature or chain link does not verify."""


class AccessError(StationError):
    """An account, login or permission problem (station/access/). Never carries a PIN."""


class LoginRefused(AccessError):
    """A login was refused: unknown badge, wrong PIN, disabled or locked account.

    ``badge`` is the account's badge id when the badge is known (None otherwise: the text typed into
    the badge field may have been a PIN); ``reason`` is one of ``unknown``, ``wrong-pin``, ``disabled``,
    ``locked``, ``pin-changed`` (the PIN was checked against one replaced during the login).
    """

    def __init__(self, message: str, *, badge: str | None, reason: str) -> None:
        super().__init__(message)
        self.badge = badge
        self.reason = reason


class PermissionDenied(AccessError):
    """A logged-in operator (or nobody) asked for an action their role does not allow.

    ``reason`` says more when the role is not the cause (the account was disabled since the login).
    """

    def __init__(
        self, operator_id: str | None, role: str | None, action: str, *, reason: str | None = None
    ) -> None:
        who = "nobody is logged in" if operator_id is None else f"{operator_id} (role {role})"
        super().__init__(f"permission denied: {who} may not {action}" + (f": {reason}" if reason else ""))
        self.operator_id = operator_id
        self.role = role
        self.action = action
        self.reason = reason


class LabelError(StationError):
    """A unit label could not be made or printed. ``printer`` is the printer's ``host:port`` when the
    printer (or the way to it) is at fault; None for template and record problems."""

    def __init__(self, message: str, *, printer: str | None = None) -> None:
        super().__init__(message)
        self.printer = printer


class LabelRefused(LabelError):
    """A label was asked for a record that does not get one (a failed unit, a QA record...)."""


class ConfigDataError(StationError):
    """A SpringCard reader configuration (Companion CONFIG-DATA or Address=Value body) breaks a rule.

    ``register`` is the register address at fault (an int, named as 4 hex digits in the message; None for
    whole-body problems and secure-element entries), ``key`` the JSON key as written (e.g. ``config/01.s``),
    ``rule`` a short stable name of the rule broken (``devices/springcore/configdata.py`` lists them).
    Messages never contain register values: some are passwords or keys.
    """

    def __init__(
        self, message: str, *, rule: str, register: int | None = None, key: str | None = None
    ) -> None:
        super().__init__(message)
        self.rule = rule
        self.register = register
        self.key = key

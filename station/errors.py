"""The station's exception tree: one root, a shallow hierarchy, structured fields.

Example::

    try:
        client.status()
    except DeviceTimeout as exc:
        log.warning("unit on %s did not answer %s", slot, exc.endpoint)
    except DeviceProtocolError as exc:
        fail(step, code=f"HTTP {exc.status}", message=str(exc))

Expected failures of a unit (a refused certificate, a wrong firmware) are step *outcomes*, not exceptions;
these classes are for I/O faults, bad input and bugs. Messages never contain secrets: callers pass only
public values (paths, status codes, field names) into them.
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

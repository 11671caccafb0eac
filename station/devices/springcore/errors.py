"""The Companion Service's error statuses as exceptions: ``ReaderError`` and one subclass per meaning.

>>> exc = ReaderBusy("PUT /device/vkYk/config refused with 409", endpoint="/device/vkYk/config", status=409)
>>> isinstance(exc, ReaderError), isinstance(exc, DeviceProtocolError), exc.status   # 409: worth a retry
(True, True, 409)
"""

from __future__ import annotations

from station.core.errors import DeviceProtocolError


class ReaderError(DeviceProtocolError):
    """The SpringCard Companion Service answered a reader call with an error status (its reference §7).

    ``status`` and ``endpoint`` as for every DeviceProtocolError; ``service_message`` is the ERROR
    object's ``Message`` and ``error_code`` its ``Error`` (None when the body carried none).
    """

    def __init__(
        self,
        message: str,
        *,
        endpoint: str | None = None,
        status: int | None = None,
        service_message: str | None = None,
        error_code: str | None = None,
    ) -> None:
        super().__init__(message, endpoint=endpoint, status=status)
        self.service_message = service_message
        self.error_code = error_code


class ReaderBadRequest(ReaderError):
    """400: the service could not read the request (a body that is not JSON, a bad ``specific``)."""


class ReaderUnsupported(ReaderError):
    """404 or 405: the service has no such route, or not with that method."""


class ReaderBusy(ReaderError):
    """409: the reader is locked by another request (a write or a wink in progress); worth a retry."""


class ReaderGone(ReaderError):
    """410: no reader with that DeviceId (unplugged, or never there)."""


class ReaderRejected(ReaderError):
    """422: the service refused the request data (``service_message`` says why, e.g. a register's size)."""


class ReaderFault(ReaderError):
    """499: the reader itself reported an error."""


class ReaderServiceFailure(ReaderError):
    """500: the Companion Service hit an internal error."""


class ReaderRestarting(ReaderError):
    """503: the reader (or the service) is restarting; ``retry_after`` is the hint in seconds, if given."""

    def __init__(
        self,
        message: str,
        *,
        endpoint: str | None = None,
        status: int | None = 503,
        service_message: str | None = None,
        error_code: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(
            message,
            endpoint=endpoint,
            status=status,
            service_message=service_message,
            error_code=error_code,
        )
        self.retry_after = retry_after


class WaitCancelled(Exception):
    """A wait (a restart, a busy service's Retry-After) was cancelled through its event: the station stops.

    The pipeline turns it into its own ``Cancelled``.
    """

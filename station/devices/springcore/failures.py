"""Error statuses of the Companion Service as ``springcore.errors.ReaderError`` subclasses (reference §7).

>>> response = Reply(422, {}, b'{"Result": "error", "Message": "0201: too long"}')
>>> reader_error("PUT", "/device/vkYk/config", response)
ReaderRejected("PUT /device/vkYk/config refused with 422 (request data invalid): '0201: too long'")
"""

from __future__ import annotations

import email.utils
import math
import time
from datetime import UTC
from typing import Any

from station.core.strictjson import strict_loads
from station.devices.springcore.errors import (
    ReaderBadRequest,
    ReaderBusy,
    ReaderError,
    ReaderFault,
    ReaderGone,
    ReaderRejected,
    ReaderRestarting,
    ReaderServiceFailure,
    ReaderUnsupported,
)
from station.devices.transport import Reply

MESSAGE_LIMIT = 200

_KINDS: dict[int, tuple[type[ReaderError], str]] = {
    400: (ReaderBadRequest, "malformed request"),
    401: (ReaderError, "authentication required"),
    403: (ReaderError, "not allowed"),
    404: (ReaderUnsupported, "no such route"),
    405: (ReaderUnsupported, "method not supported on this route"),
    406: (ReaderError, "Accept header not acceptable"),
    409: (ReaderBusy, "reader locked by another request"),
    410: (ReaderGone, "no such reader: unplugged or never there"),
    422: (ReaderRejected, "request data invalid"),
    499: (ReaderFault, "the reader reported an error"),
    500: (ReaderServiceFailure, "internal error of the service"),
    503: (ReaderRestarting, "restarting: reader or service not ready"),
}


def reader_error(method: str, path: str, response: Reply) -> ReaderError:
    """The ReaderError subclass for ``response``'s status, carrying the ERROR object's fields."""
    code = response.status_code
    kind, meaning = _KINDS.get(code, (ReaderError, ""))
    service_message, error_code = _error_object(response.content)
    verb = "refused with" if code < 500 else "failed with"
    message = f"{method} {path} {verb} {code}" + (f" ({meaning})" if meaning else "")
    if service_message:
        message += f": {service_message!r}"
    fields: dict[str, Any] = {
        "endpoint": path,
        "status": code,
        "service_message": service_message,
        "error_code": error_code,
    }
    if kind is ReaderRestarting:
        hint = retry_after(response.headers.get("Retry-After"))
        return ReaderRestarting(message, retry_after=hint, **fields)
    return kind(message, **fields)


def retry_after(header: str | None, *, now: float | None = None) -> float | None:
    """``Retry-After`` in seconds from now: delta-seconds or an HTTP-date (RFC 9110 §10.2.3).

    None when absent or unreadable (the caller then uses its own pause); a date in the past is 0; a
    hint of a day or more is unreadable too (no service means it; the caller bounds every pause anyway).
    ``now`` is the wall clock (``time.time()``) the date is measured from.
    """
    if header is None:
        return None
    text = header.strip()
    seconds: float | None
    try:
        seconds = float(text)
    except ValueError:
        seconds = _seconds_until(text, time.time() if now is None else now)
    if seconds is None or math.isnan(seconds) or seconds < 0:
        return None
    return seconds if seconds < 86400 else None


def _seconds_until(date_text: str, now: float) -> float | None:
    """Seconds from ``now`` until an HTTP-date (at least 0); None if it is not one."""
    try:
        when = email.utils.parsedate_to_datetime(date_text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # an HTTP-date is always GMT; an obsolete form may come without a zone
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - now)


def _error_object(content: bytes) -> tuple[str | None, str | None]:
    """(Message, Error) of an ERROR object body, each cleaned for display; (None, None) otherwise."""
    try:
        data = strict_loads(content)  # ValueError for anything but strict JSON, a deep body included
    except ValueError:
        return None, None
    if not isinstance(data, dict):
        return None, None
    return _clean(data.get("Message")), _clean(data.get("Error"))


def _clean(value: object) -> str | None:
    """The text cut to ``MESSAGE_LIMIT`` characters, each one outside printable ASCII shown as ``?``."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    text = "".join(ch if " " <= ch <= "~" else "?" for ch in str(value)[:MESSAGE_LIMIT])
    return text or None

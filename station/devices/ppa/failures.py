"""Error statuses of a unit as ``station.core.errors`` exceptions, with plain-words messages (reference §1.3).

>>> status_problem(406, (200,))
'refused with 406 (operation failed: bad data, already done or verification failed)'
>>> status_problem(500, (200,)), status_problem(204, (200,))
('failed on the unit with 500 (internal error)', 'answered 204, expected 200')
"""

from __future__ import annotations

import re

from station.core.errors import DeviceFailure, DeviceProtocolError, DeviceRefused
from station.devices.transport import Reply


def status_error(method: str, path: str, response: Reply, accept: tuple[int, ...]) -> DeviceProtocolError:
    """DeviceRefused (4xx), DeviceFailure (5xx) or DeviceProtocolError for a status outside ``accept``."""
    code = response.status_code
    message = f"{method} {path} {status_problem(code, accept)}{_body_hint(response.content)}"
    if 400 <= code < 500:
        return DeviceRefused(message, endpoint=path, status=code)
    if 500 <= code < 600:
        return DeviceFailure(message, endpoint=path, status=code)
    return DeviceProtocolError(message, endpoint=path, status=code)


_HINT_MAX = 40  # bytes of an error body shown at most
_PRINTABLE_ASCII = re.compile(rb"[\x20-\x7e]+")


def _body_hint(content: bytes) -> str:
    """A short error body worth showing (the SE's ``atecc_N``); error bodies are normally empty.

    Shown only when its first ``_HINT_MAX`` bytes are printable ASCII (a unit's bytes never reach a
    terminal raw), quoted, with "..." when it was cut.
    """
    shown = content[:_HINT_MAX]
    if not _PRINTABLE_ASCII.fullmatch(shown):
        return ""
    return f": {shown.decode('ascii')!r}{'...' if len(content) > _HINT_MAX else ''}"


# What the unit's status codes mean in general (reference §1.3); the caller's context adds the specifics.
_MEANINGS = {
    400: "bad request: arguments or JSON rejected",
    401: "missing, invalid or expired token, or a bad signature",
    403: "not allowed: scope or role, RTC not set, or unit personalised",
    404: "unknown path or nothing there",
    406: "operation failed: bad data, already done or verification failed",
    409: "wrong internal state: fail state latched, not personalised, or a task in progress",
    411: "Content-Length missing",
    412: "Origin rejected",
    413: "body too large",
    418: "TLS required",
    500: "internal error",
}


def status_problem(code: int, accept: tuple[int, ...]) -> str:
    """``refused with 406 (...)`` / ``failed on the unit with 500 (...)`` / ``answered 204, expected 200``."""
    meaning = _MEANINGS.get(code)
    detail = f" ({meaning})" if meaning else ""
    if 400 <= code < 500:
        return f"refused with {code}{detail}"
    if 500 <= code < 600:
        return f"failed on the unit with {code}{detail}"
    return f"answered {code}, expected {' or '.join(map(str, accept))}"

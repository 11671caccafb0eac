"""Failed requests to a unit as ``station.core.errors`` exceptions, with plain-words messages.

Example::

    try:
        response = session.request("POST", url + path, timeout=timeout)
    except requests.RequestException as exc:
        raise transport_error("POST", path, exc, timeout) from None    # DeviceTimeout / DeviceUnreachable
    if response.status_code != 200:
        raise status_error("POST", path, response, (200,))           # DeviceRefused / DeviceFailure
    status_problem(406, (200,))     # "refused with 406 (operation failed: bad data, already done or ...)"

Causes come from the exception chain's types and never from exception text, which carries URLs and,
for some errors, request data; an error body is shown only when it is short printable ASCII (the SE's
``atecc_N``). Messages never contain request bodies, tokens or keys.
"""

from __future__ import annotations

import http.client
import socket
import ssl

import requests
import urllib3.exceptions

from station.core.errors import (
    DeviceError,
    DeviceFailure,
    DeviceProtocolError,
    DeviceRefused,
    DeviceTimeout,
    DeviceUnreachable,
)


def transport_error(method: str, path: str, exc: requests.RequestException, timeout: float) -> DeviceError:
    """DeviceTimeout or DeviceUnreachable for a request that got no answer, its cause in plain words."""
    timed_out, cause = describe_failure(exc)
    if timed_out:
        return DeviceTimeout(f"{method} {path}: no answer within {timeout:g} s ({cause})", endpoint=path)
    return DeviceUnreachable(f"{method} {path}: {cause}", endpoint=path)


def status_error(
    method: str, path: str, response: requests.Response, accept: tuple[int, ...]
) -> DeviceProtocolError:
    """DeviceRefused (4xx), DeviceFailure (5xx) or DeviceProtocolError for a status outside ``accept``."""
    code = response.status_code
    message = f"{method} {path} {status_problem(code, accept)}{_body_hint(response.content)}"
    if 400 <= code < 500:
        return DeviceRefused(message, endpoint=path, status=code)
    if 500 <= code < 600:
        return DeviceFailure(message, endpoint=path, status=code)
    return DeviceProtocolError(message, endpoint=path, status=code)


def _body_hint(content: bytes) -> str:
    """A short error body worth showing (the SE's ``atecc_N``); error bodies are normally empty."""
    text = content[:40].decode("ascii", errors="replace")
    return f": {text!r}" if content and text.isprintable() else ""


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

# Causes of a failed connection, most specific first; found anywhere in the exception's chain.
_CAUSES: tuple[tuple[type[BaseException], bool, str], ...] = (
    (ConnectionRefusedError, False, "connection refused (no unit listening)"),
    (ConnectionResetError, False, "connection reset by the unit"),
    (http.client.RemoteDisconnected, False, "the unit closed the connection without answering"),
    (BrokenPipeError, False, "connection broken while sending"),
    (ssl.SSLError, False, "TLS handshake or certificate check failed"),
    (socket.gaierror, False, "host name not resolved"),
    # After the OS-level causes: urllib3's NewConnectionError (refused) subclasses ConnectTimeoutError.
    (urllib3.exceptions.ReadTimeoutError, True, "read timed out"),
    (urllib3.exceptions.ConnectTimeoutError, True, "connect timed out"),
    (TimeoutError, True, "timed out"),
    (urllib3.exceptions.ProtocolError, False, "connection dropped mid-reply"),
    (OSError, False, "network error"),
)


def describe_failure(exc: BaseException) -> tuple[bool, str]:
    """(timed out?, cause in plain words) for a failed request, from the exception chain's types.

    Only types are used, never the exception text: that carries URLs and, for some errors, request data.
    """
    chain = _chain(exc)
    if isinstance(exc, requests.Timeout):
        chain.insert(0, TimeoutError())
    for kind, timed_out, words in _CAUSES:
        if any(isinstance(link, kind) for link in chain):
            return timed_out, words
    return False, f"request failed ({type(exc).__name__})"


def _chain(exc: BaseException) -> list[BaseException]:
    """Every exception reachable through causes, contexts, urllib3 ``reason`` and exception args."""
    found: list[BaseException] = []
    todo: list[object] = [exc]
    while todo and len(found) < 32:
        link = todo.pop()
        if not isinstance(link, BaseException) or any(link is seen for seen in found):
            continue
        found.append(link)
        todo += [link.__cause__, link.__context__, getattr(link, "reason", None), *link.args]
    return found


def status_problem(code: int, accept: tuple[int, ...]) -> str:
    """``refused with 406 (...)`` / ``failed on the unit with 500 (...)`` / ``answered 204, expected 200``."""
    meaning = _MEANINGS.get(code)
    detail = f" ({meaning})" if meaning else ""
    if 400 <= code < 500:
        return f"refused with {code}{detail}"
    if 500 <= code < 600:
        return f"failed on the unit with {code}{detail}"
    return f"answered {code}, expected {' or '.join(map(str, accept))}"

"""Reaching a PKCS#11 token (an HSM; SoftHSM2 in tests): the module, the token, one logged-in session.

>>> access = TokenAccess(module="/usr/lib/softhsm/libsofthsm2.so", pin_env="STATION_TOKEN_PIN")
>>> access.pin_source()                          # what messages say; never the PIN itself
'environment variable STATION_TOKEN_PIN'
>>> access.read_pin()
Traceback (most recent call last):
station.core.errors.ConfigError: [keys.pin_env] environment variable STATION_TOKEN_PIN (the token PIN) ...
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pkcs11
from pkcs11 import exceptions as p11error

from station.core.errors import ConfigError, StationError
from station.factory.keys.filemode import refuse_shared
from station.factory.keys.pkcs11uri import Pkcs11Uri

if TYPE_CHECKING:
    from pkcs11._pkcs11 import lib as pkcs11_library


class TokenError(StationError):
    """The token failed an operation after start-up (removed, session lost, mechanism refused)."""


@dataclass(frozen=True)
class TokenAccess:
    """How to reach tokens: the module (shared library) and where the user PIN comes from."""

    module: str
    pin_file: Path | None = None
    pin_env: str | None = None
    environ: Mapping[str, str] = field(default_factory=dict, repr=False)

    def pin_source(self) -> str:
        """Where the PIN comes from, for messages (never the PIN)."""
        if self.pin_env and self.environ.get(self.pin_env):
            return f"environment variable {self.pin_env}"
        if self.pin_file is not None:
            return f"file {self.pin_file}"
        if self.pin_env:
            return f"environment variable {self.pin_env}"
        return "no PIN source"

    def read_pin(self) -> str:
        """The user PIN: ``pin_env`` if set and not empty, else ``pin_file`` (0600, one line)."""
        if self.pin_env and self.environ.get(self.pin_env):
            return self.environ[self.pin_env]
        if self.pin_file is not None:
            return _read_pin_file(self.pin_file)
        if self.pin_env:
            raise ConfigError(
                f"environment variable {self.pin_env} (the token PIN) is not set", key="keys.pin_env"
            )
        raise ConfigError("a pkcs11: key needs pin_file or pin_env for the token PIN", key="keys.pin_file")


def _read_pin_file(path: Path) -> str:
    refuse_shared(path, "PIN file", key="keys.pin_file")
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ConfigError(
            f"cannot read the PIN file: {reason}", path=str(path), key="keys.pin_file"
        ) from None
    pin = text.removesuffix("\n").removesuffix("\r")
    if not pin:
        raise ConfigError("the PIN file is empty", path=str(path), key="keys.pin_file")
    return pin


@dataclass
class _OpenToken:
    """One token of one module in this process: its session and whether the process is logged in."""

    token: pkcs11.Token
    lock: threading.RLock = field(default_factory=threading.RLock)
    session: pkcs11.Session | None = None
    logged_in: bool = False


_SESSION_LOST = (
    p11error.SessionClosed,
    p11error.SessionHandleInvalid,
    p11error.DeviceRemoved,
    p11error.TokenNotPresent,
    p11error.UserNotLoggedIn,
)
_TOKENS: dict[tuple[str, str, str | None], _OpenToken] = {}
_TOKENS_LOCK = threading.Lock()


@contextmanager
def token_session(uri: Pkcs11Uri, access: TokenAccess, *, login: bool) -> Iterator[pkcs11.Session]:
    """The token's session (logged in if ``login``), held under the token's lock for the ``with`` body."""
    entry = _open_token(uri, access)
    with entry.lock:
        if entry.session is None or (login and not entry.logged_in):
            _open_session(entry, uri, access, login=login)
        assert entry.session is not None
        try:
            yield entry.session
        except p11error.PKCS11Error as exc:
            if isinstance(exc, _SESSION_LOST):  # the next use opens a new session and logs in again
                entry.session, entry.logged_in = None, False
            raise TokenError(f"token {uri.token!r}: {type(exc).__name__} {exc}".rstrip()) from None


@contextmanager
def rw_session(uri: Pkcs11Uri, access: TokenAccess) -> Iterator[pkcs11.Session]:
    """A read-write session for creating objects, on an already logged-in token; closed afterwards.

    It is opened without a PIN (the process is logged in), so closing it does not log the token out.
    """
    entry = _open_token(uri, access)
    with token_session(uri, access, login=True), entry.lock:
        session = _call(uri, lambda: entry.token.open(rw=True))
        try:
            yield session
        except p11error.PKCS11Error as exc:
            raise TokenError(f"token {uri.token!r}: {type(exc).__name__} {exc}".rstrip()) from None
        finally:
            session.close()


def close_all() -> None:
    """Close every session (this logs the process out); the next use logs in again."""
    with _TOKENS_LOCK:
        entries = list(_TOKENS.values())
        _TOKENS.clear()
    for entry in entries:
        with entry.lock:
            if entry.session is not None:
                with contextlib.suppress(p11error.PKCS11Error):  # gone with the token: nothing to close
                    entry.session.close()
                entry.session = None


def _open_token(uri: Pkcs11Uri, access: TokenAccess) -> _OpenToken:
    key = (access.module, uri.token, uri.serial)
    with _TOKENS_LOCK:
        entry = _TOKENS.get(key)
        if entry is None:
            entry = _TOKENS[key] = _OpenToken(_find_token(uri, _load(access.module)))
        return entry


def _load(module: str) -> pkcs11_library:
    if not Path(module).is_file():
        raise ConfigError(f"PKCS#11 module {module} does not exist", key="keys.pkcs11_module")
    try:
        return pkcs11.lib(module)
    except (p11error.PKCS11Error, RuntimeError, OSError) as exc:
        raise ConfigError(
            f"cannot load PKCS#11 module {module}: {type(exc).__name__} {exc}".rstrip(),
            key="keys.pkcs11_module",
        ) from None


def _find_token(uri: Pkcs11Uri, lib: pkcs11_library) -> pkcs11.Token:
    tokens = [
        token
        for token in lib.get_tokens()
        if token.label == uri.token
        and uri.serial in (None, _text(token.serial))
        and uri.manufacturer in (None, token.manufacturer_id)
        and uri.model in (None, token.model)
    ]
    if len(tokens) == 1:
        return tokens[0]
    if tokens:
        raise ConfigError(f"{len(tokens)} tokens match {uri}; add serial= to the URI", key="keys")
    labels = ", ".join(repr(t.label) for t in lib.get_tokens() if t.label) or "none"
    raise ConfigError(f"no token {uri.token!r} in the PKCS#11 module (tokens: {labels})", key="keys")


def _open_session(entry: _OpenToken, uri: Pkcs11Uri, access: TokenAccess, *, login: bool) -> None:
    if not login:
        entry.session = _call(uri, entry.token.open)
        return
    pin = access.read_pin()
    try:
        session = entry.token.open(user_pin=pin)
    except p11error.UserAlreadyLoggedIn:  # another part of this process logged in: the PIN was accepted then
        session = _call(uri, entry.token.open)
    except (p11error.PinIncorrect, p11error.PinInvalid, p11error.PinLenRange):
        raise ConfigError(
            f"wrong PIN for token {uri.token!r} (from {access.pin_source()})", key="keys"
        ) from None
    except (p11error.PinLocked, p11error.PinExpired) as exc:
        raise ConfigError(
            f"the user PIN of token {uri.token!r} is {type(exc).__name__[3:].lower()}", key="keys"
        ) from None
    except p11error.PKCS11Error as exc:
        raise ConfigError(f"cannot log in to token {uri.token!r}: {type(exc).__name__}", key="keys") from None
    if entry.session is not None:  # the PIN-less session: closing it does not log out
        with contextlib.suppress(p11error.PKCS11Error):
            entry.session.close()
    entry.session, entry.logged_in = session, True


def _call(uri: Pkcs11Uri, action: Callable[[], pkcs11.Session]) -> pkcs11.Session:
    try:
        return action()
    except p11error.PKCS11Error as exc:
        raise TokenError(f"token {uri.token!r}: cannot open a session: {type(exc).__name__}") from None


def _text(value: bytes | str) -> str:
    return value.decode("ascii", "replace").strip() if isinstance(value, bytes) else value.strip()

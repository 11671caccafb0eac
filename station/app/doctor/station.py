"""The station's own setup: its configuration loads, its data directory is usable, its keys open.

>>> import tempfile
>>> with tempfile.TemporaryDirectory() as folder:          # a data directory not made yet is fine
...     data_directory(Path(folder) / "station-data").detail
'... does not exist yet; the station makes it at its first start'
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path

from station.app.assembly import Choices, check_and_plan
from station.app.datalock import DataDirLock
from station.app.doctor.result import Check
from station.core.config import StationConfig, load
from station.core.errors import ConfigError, StationError
from station.core.text import printable
from station.factory.keys.keystore import TokenKeyRef, open_configured, open_key, token_access
from station.factory.keys.pkcs11 import TokenAccess
from station.factory.keys.pkcs11uri import is_pkcs11_uri

FIX_CONFIG = "Correct the file at the place the message names (docs/cli.md lists every key) and run again."
FIX_DATA = "Make the data directory the station user's own (chown, chmod 700) or set [station] data_dir."
FIX_KEY = "Put the right key file in place, only its owner may read it (chmod 600), or correct [keys]."
FIX_HSM = (
    "Plug the token in, check [keys] pkcs11_module, the token label and object in the URI, "
    "and the PIN in pin_file or pin_env."
)


def configuration(path: Path) -> tuple[Check, StationConfig | None]:
    """The file loads and passes every check `station run` makes on it before opening anything (the
    fixtures' kinds, the label template, profiles, reader profiles, backend url, firmware); later checks
    need it."""
    try:
        config = load(path)
        check_and_plan(config, Choices())  # what `station run` checks before it opens anything
    except StationError as exc:  # ConfigError mostly; a label template's own LabelError too
        return Check("config", False, printable(exc), FIX_CONFIG), None
    return Check("config", True, f"{path} loads (station {config.station.id})"), config


def data_directory(folder: Path) -> Check:
    """Writable and not locked: the lock a station takes (app/datalock.py), taken and let go at once.

    A folder not made yet is not made here (the doctor may run as another user than the station):
    its nearest existing parent must be writable.
    """
    name = "data directory"
    if not folder.exists():
        parent = next((p for p in folder.parents if p.exists()), Path("/"))
        if not os.access(parent, os.W_OK | os.X_OK):
            return Check(name, False, f"{folder} does not exist and {parent} is not writable", FIX_DATA)
        return Check(name, True, f"{folder} does not exist yet; the station makes it at its first start")
    if DataDirLock.held_by_this_process(folder):
        return Check(name, True, f"{folder} is held by this station (pid {os.getpid()})")
    try:
        DataDirLock.acquire(folder).release()
    except ConfigError as exc:
        text = printable(exc)
        if "another station" in text:
            return Check(
                name, False, text, "Stop the station that holds it, or give this one its own data_dir."
            )
        return Check(name, False, text, _fix_in(text, FIX_DATA))
    except OSError as exc:
        return Check(name, False, f"{folder}: {exc.strerror or exc}", FIX_DATA)
    return Check(name, True, f"{folder} is writable and no other station holds it")


def keys(config: StationConfig, data_dir: Path, environ: Mapping[str, str]) -> Iterator[Check]:
    """Each key the station will use: file keys owner-only and readable, token keys found after login."""
    section = config.keys
    roles = ["signing"]
    if config.backend.kind == "local":
        roles = ["ca", "signing", "checkin"]
    for role in roles:
        uri: str = getattr(section, role)
        if is_pkcs11_uri(uri):
            yield _token_key(config, role, data_dir, environ)
        else:
            yield _file_key(config, role, uri, data_dir)
    if section.escrow is not None:
        yield _file_key(config, "escrow", section.escrow, data_dir, must_exist=True)


def _file_key(
    config: StationConfig, role: str, uri: str, data_dir: Path, *, must_exist: bool = False
) -> Check:
    name = f"key {role}"
    try:
        ref = open_key(uri, data_dir, setting=f"keys.{role}")
        assert not isinstance(ref, TokenKeyRef)  # no token access given: a pkcs11: URI raised
        suffix = ".key" if uri.endswith(".key") else ".pem"
        path = ref.sibling(suffix)
        if not path.exists():
            if must_exist:
                return Check(name, False, f"{path} does not exist", FIX_KEY)
            return Check(name, True, f"{path} does not exist yet; the station makes it at its first start")
        if suffix == ".key":
            ref.x25519(create=False)
        elif role == "ca":
            ref.p256()
        else:
            ref.ed25519()
    except StationError as exc:
        text = printable(exc)
        return Check(name, False, text, _fix_in(text, FIX_KEY))
    return Check(name, True, f"{path} is readable by its owner only and holds a usable key")


def _token_key(config: StationConfig, role: str, data_dir: Path, environ: Mapping[str, str]) -> Check:
    """Log in to the token and find the key pair; the PIN is never part of the result."""
    name = f"key {role}"
    pin = ""
    try:
        access = token_access(config.keys, base_dir=config.base_dir, environ=environ)
        pin = _pin_or_empty(access)
        ref = open_configured(config.keys, role, data_dir, base_dir=config.base_dir, environ=environ)
        assert isinstance(ref, TokenKeyRef)
        if role == "ca":
            ref.p256()
        else:
            ref.ed25519()
    except StationError as exc:
        return Check(name, False, _without(printable(exc), pin), FIX_HSM)
    except Exception as exc:  # a PKCS#11 module can fail in its own ways: say so, never crash
        return Check(name, False, _without(f"{type(exc).__name__}: {printable(exc)}", pin), FIX_HSM)
    return Check(name, True, f"token key {ref.uri} found after login (PIN from {access.pin_source()})")


def _pin_or_empty(access: TokenAccess) -> str:
    """The PIN, only to make sure no message repeats it; empty when unreadable (the key check says why)."""
    try:
        return access.read_pin()
    except StationError:
        return ""


def _without(text: str, secret: str) -> str:
    return text.replace(secret, "***") if secret else text


def _fix_in(message: str, default: str) -> str:
    """The message's own "…; run <command>" as the fix sentence, else ``default``."""
    head, found, command = message.rpartition("; run ")
    if found and head:
        return f"Run {command.rstrip('.')}."
    return default

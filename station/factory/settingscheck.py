"""``[backend]``, ``[keys]`` and ``[firmware]`` as provisioning will use them, checked at start-up.

>>> backend_url_problem("http://factory.example/"), backend_url_problem("https://u:pw@factory.example")
('http:// only to this machine (127.0.0.1, ::1, localhost); allowed: https://host[:port][/path]', ...)
>>> backend_url_problem("https://factory.example/api") is None
True
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

from station.core.config import StationConfig
from station.core.errors import ConfigError, ProtocolError
from station.devices.ppa.cfgspec import is_hostname
from station.factory.firmware import parse_version, release_public_key
from station.factory.keys.filemode import refuse_shared
from station.factory.keys.keystore import KEY_ROLES, open_file_key
from station.factory.keys.pkcs11uri import is_pkcs11_uri
from station.factory.keys.publickey import x25519_public
from station.factory.remote import configured_ca, is_ip, is_loopback_host

URL_FORM = "https://host[:port][/path]"
REQUIRE_EXAMPLE = 'e.g. "Encedo nGINE FW v1.2.2"'
VERSION_FIELD = 56  # the longest fwv text accepted in [firmware] require
_VISIBLE_ASCII = re.compile(r"[\x21-\x7e]+")
_PRINTABLE = re.compile(r"[\x20-\x7e]+")


def check_settings(config: StationConfig) -> None:
    """``[backend]`` url, check-in key and CA certificate file, ``[firmware] require`` and ``release_key``:
    what needs no unit, no key and no network."""
    source = config.path
    url = config.backend.url
    if url is not None:
        problem = backend_url_problem(url)
        if problem is not None:
            raise ConfigError(problem, path=source, key="backend.url")
    if config.backend.checkin_key is not None:
        try:
            x25519_public(config.backend.checkin_key)
        except ProtocolError as exc:
            raise ConfigError(f"the check-in key {exc}", path=source, key="backend.checkin_key") from None
    configured_ca(config)  # a readable CA certificate; required for Encedo's service (no GET /ca)
    require = config.firmware.require
    if require is not None:
        problem = firmware_require_problem(require)
        if problem is not None:
            raise ConfigError(problem, path=source, key="firmware.require")
    release_key = config.firmware.release_key
    if release_key is not None:
        try:
            release_public_key(release_key)
        except ProtocolError as exc:
            raise ConfigError(f"the release key {exc}", path=source, key="firmware.release_key") from None
    elif require is not None:
        raise ConfigError(
            'a firmware requirement needs release_key = "<base64 Ed25519 public key>": the key '
            "firmware_images/manifest.json.sig is verified with (`station firmware add` prints it)",
            path=source,
            key="firmware.release_key",
        )


def check_key_files(config: StationConfig, data_dir: Path) -> None:
    """The ``[keys]`` files that exist, and the token PIN file, are for their owner only (``chmod 600``).

    Key files not made yet are created 0600 on first start; ``pkcs11:`` keys live in a token.
    """
    keys = config.keys
    for role in KEY_ROLES:
        uri: str = getattr(keys, role)
        if not is_pkcs11_uri(uri):
            ref = open_file_key(uri, data_dir, setting=f"keys.{role}")  # its form: file:<path>.key|.pem
            refuse_shared(ref.sibling(Path(uri).suffix), "key file", key=f"keys.{role}")
    if keys.pin_file:
        refuse_shared(config.resolve(keys.pin_file), "PIN file", key="keys.pin_file")


def backend_url_problem(url: str) -> str | None:
    """Why ``url`` is not a factory backend address the station may send attestations to, or None."""
    if not _VISIBLE_ASCII.fullmatch(url):
        return f"spaces, control or non-ASCII characters are not allowed; allowed: {URL_FORM}"
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http"):
        return f"scheme {parts.scheme or 'missing'!r} is not allowed; allowed: {URL_FORM}"
    if "@" in parts.netloc:
        return "credentials in the URL are not allowed (they would be logged); allowed: " + URL_FORM
    if "?" in url or "#" in url:
        return f"a query or fragment is not allowed; allowed: {URL_FORM}"
    host = parts.hostname or ""
    try:
        port = parts.port  # parsing it raises ValueError for a port that is not a number up to 65535
    except ValueError:
        port = 0
    if port == 0:
        return f"the port is not a number from 1 to 65535; allowed: {URL_FORM}"
    if not (is_hostname(host) or is_ip(host)):
        return f"{host!r} is not a host name or IP address; allowed: {URL_FORM}"
    if parts.scheme == "http" and not is_loopback_host(host):
        return f"http:// only to this machine (127.0.0.1, ::1, localhost); allowed: {URL_FORM}"
    return None


def firmware_require_problem(require: str) -> str | None:
    """Why ``require`` is not a firmware version units can be compared with, or None."""
    allowed = f"allowed: a version as units report it, {VERSION_FIELD} characters at most ({REQUIRE_EXAMPLE})"
    if len(require) > VERSION_FIELD or not _PRINTABLE.fullmatch(require):
        return f"{require[:40]!r} is not allowed; {allowed}"
    try:
        parse_version(require)
    except ProtocolError:
        return f"{require!r} has no version number (v1.2.3); {allowed}"
    return None

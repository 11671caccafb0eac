"""The factory authority as the pipeline sees it (``Backend``): check-in time authority and device CA.

``LocalBackend`` keeps its keys in this station's keystore; ``RemoteBackend`` (``remote.py``) asks a service.

>>> import tempfile
>>> with tempfile.TemporaryDirectory() as folder:      # the keys and CA certificate are made on first start
...     LocalBackend(FileKeyStore(Path(folder)), name="demo-st01")
LocalBackend(ca='CN=PPA Factory CA demo-st01')
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Protocol

from cryptography import x509

from station.core.codec import b64decode, x25519_public_key
from station.core.config import KeysSection
from station.core.errors import BackendRefused, ProtocolError
from station.devices.ppa.checkin import sign_checked, verify_check
from station.devices.ppa.protocol import parse_jwt
from station.factory.ca import issue_device_certificate, load_or_create_ca_certificate
from station.factory.keys.keystore import FileKeyStore, KeyRef, TokenKeyRef, open_configured, open_file_key

Clock = Callable[[], float]
# The plain-text actions of ``checked.status`` (docs/reference/encedo-ppa-api.md §19).
CHECKIN_ACTIONS = ("OK", "W", "L", "R", "B", "U")
CHECKIN_KEY = "checkin"
CA_KEY = "factory-ca"
CA_CERT_SUFFIX = ".crt.pem"


class Backend(Protocol):
    """What the pipeline needs from the factory authority."""

    def checkin(self, check: str, *, action: str = "OK") -> str:
        """Answer a unit's ``check`` token with a ``checked`` token carrying ``action``."""
        ...

    def issue_device_certificate(self, csr_pem: str, key_b64: str, genuine: str) -> bytes:
        """The secure element's certificate (DER) for an attestation ``{csr, key, genuine}``."""
        ...

    def ca_certificate(self) -> x509.Certificate:
        """The factory CA certificate that issues device certificates."""
        ...

    def checkin_public_key(self) -> bytes:
        """The raw X25519 public key units must trust as their check-in backend."""
        ...


class LocalBackend:
    """Check-in authority and factory CA with keys in a keystore (X25519 "checkin", P-256 "factory-ca").

    The CA certificate is created on first start and kept beside the CA key (``factory-ca.crt.pem``;
    for a CA key in a PKCS#11 token, ``keys/<token>.<object>.crt.pem`` in the data directory, signed
    by the token like every device certificate).
    ``clock`` is the backend's notion of real time: it becomes the unit's RTC at check-in and judges
    ``genuine`` freshness afterwards.
    """

    def __init__(
        self,
        keystore: FileKeyStore | None = None,
        *,
        clock: Clock = time.time,
        name: str = "development",
        checkin_key: KeyRef | None = None,
        ca_key: KeyRef | TokenKeyRef | None = None,
    ) -> None:
        self._clock = clock
        self._checkin = (checkin_key or _ref(keystore, CHECKIN_KEY)).x25519()
        ca_ref = ca_key or _ref(keystore, CA_KEY)
        self._ca_key = ca_ref.p256()
        self._ca_cert = load_or_create_ca_certificate(
            self._ca_key, ca_ref.sibling(CA_CERT_SUFFIX), name=name, now=self._now()
        )

    @classmethod
    def from_keys(
        cls,
        keys: KeysSection,
        data_dir: Path,
        *,
        name: str,
        clock: Clock = time.time,
        base_dir: Path | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> LocalBackend:
        """A backend with the keys ``[keys]`` of station.toml names (``ca``, ``checkin``).

        ``base_dir`` and ``environ`` locate the token PIN when ``ca`` is a ``pkcs11:`` URI.
        """
        return cls(
            clock=clock,
            name=name,
            checkin_key=open_file_key(keys.checkin, data_dir, setting="keys.checkin"),
            ca_key=open_configured(keys, "ca", data_dir, base_dir=base_dir, environ=environ),
        )

    def __repr__(self) -> str:
        return f"LocalBackend(ca={self._ca_cert.subject.rfc4514_string()!r})"

    def checkin(self, check: str, *, action: str = "OK") -> str:
        if action not in CHECKIN_ACTIONS:
            raise ValueError(f"unknown check-in action {action!r}; one of {', '.join(CHECKIN_ACTIONS)}")
        self._refuse_other_audience(check)
        try:
            request = verify_check(check, self._checkin)
        except ProtocolError as exc:
            raise BackendRefused(f"check token refused: {exc}") from None
        return sign_checked(request, self._checkin, iat=int(self._clock()), status=action)

    def issue_device_certificate(self, csr_pem: str, key_b64: str, genuine: str) -> bytes:
        return issue_device_certificate(
            self._ca_key, self._ca_cert, csr_pem, key_b64, genuine, now=self._now()
        )

    def ca_certificate(self) -> x509.Certificate:
        return self._ca_cert

    def checkin_public_key(self) -> bytes:
        return x25519_public_key(self._checkin)

    def _refuse_other_audience(self, check: str) -> None:
        """A unit that trusts another backend names that key in ``aud``: say so, not just "bad MAC"."""
        try:
            aud = parse_jwt(check).claims.get("aud")
            other = isinstance(aud, str) and b64decode(aud) != self.checkin_public_key()
        except ProtocolError as exc:
            raise BackendRefused(f"check token refused: {exc}") from None
        if other:
            raise BackendRefused(
                f"check token is for another backend key (aud {aud}); the unit does not trust us"
            )

    def _now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(int(self._clock()), dt.UTC)


def _ref(keystore: FileKeyStore | None, name: str) -> KeyRef:
    if keystore is None:
        raise TypeError("LocalBackend needs a keystore, or both checkin_key and ca_key")
    return KeyRef(keystore, name)

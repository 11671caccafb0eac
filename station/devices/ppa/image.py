"""Firmware and Manager images: a signed 128-byte footer at the end of ``firmware.bin`` / ``webroot.tar``.

>>> vendor = ed25519.Ed25519PrivateKey.generate()
>>> image = build_image(b"payload", "Encedo nGINE FW v1.2.3", vendor, kind="fw")   # payload || footer
>>> verify_image(image, vendor.public_key().public_bytes_raw(), kind="fw").version  # or VerificationError
'Encedo nGINE FW v1.2.3'
>>> image[-128:-120], len(image)                     # footer: magic, version (56 bytes), signature (64)
(b'ENCFWIMG', 135)
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed25519

from station.core.errors import ProtocolError, VerificationError

MAGIC = {"fw": b"ENCFWIMG", "ui": b"ENCUIIMG"}
VERSION_FIELD = 56
FOOTER_SIZE = 8 + VERSION_FIELD + 64

# The simulator's factory-default ``fwk``: public half of firmware_images/TEST-ONLY-vendor-signing-key.pem.
# A TEST key, published in this repository; real units carry Encedo's key.
TEST_VENDOR_PUBLIC_KEY = "8Gs6oMnSLs+oTEVafXC6KNXZIk4fMo3HDlUsqf0MvJM="


@dataclass(frozen=True)
class Footer:
    """What an image says about itself; trust it only after ``verify_image``."""

    kind: str
    version: str
    signature: bytes


def build_image(payload: bytes, version: str, key: ed25519.Ed25519PrivateKey, *, kind: str) -> bytes:
    """Append a signed footer to ``payload`` (used to make test images and by vendors' tooling)."""
    field = version.encode("utf-8")
    if len(field) > VERSION_FIELD:
        raise ProtocolError(f"image version is longer than {VERSION_FIELD} bytes")
    signed = payload + _magic(kind) + field.ljust(VERSION_FIELD, b"\0")
    return signed + key.sign(signed)


def parse_footer(image: bytes, *, kind: str) -> Footer:
    """Read the footer without checking the signature; ProtocolError if there is no valid footer."""
    if len(image) < FOOTER_SIZE:
        raise ProtocolError("image is shorter than its footer")
    footer = image[-FOOTER_SIZE:]
    if footer[:8] != _magic(kind):
        raise ProtocolError(f"image has no {kind} footer")
    try:
        version = footer[8 : 8 + VERSION_FIELD].rstrip(b"\0").decode("utf-8")
    except UnicodeDecodeError:
        raise ProtocolError("image version is not UTF-8") from None
    return Footer(kind, version, footer[8 + VERSION_FIELD :])


def verify_image(image: bytes, vendor_public_key: bytes, *, kind: str) -> Footer:
    """Check the footer's Ed25519 signature with the vendor key (the unit's ``fwk``)."""
    footer = parse_footer(image, kind=kind)
    try:
        ed25519.Ed25519PublicKey.from_public_bytes(vendor_public_key).verify(footer.signature, image[:-64])
    except (InvalidSignature, ValueError):
        raise VerificationError("image signature does not verify with the vendor key") from None
    return footer


def _magic(kind: str) -> bytes:
    try:
        return MAGIC[kind]
    except KeyError:
        raise ProtocolError(f"unknown image kind {kind!r}; expected one of {sorted(MAGIC)}") from None

"""Firmware and Manager image format: a signed footer at the end of ``firmware.bin`` / ``webroot.tar``.

Encedo does not publish the image layout (reference §17.13), only that ``fwv`` comes from "a signed image
footer" and that ``fwk``/``fws`` are an Ed25519 key and signature. Our decision, shared by the simulator
and ``factory/firmware.py``:

    image  = payload || footer                      (footer: the last 128 bytes)
    footer = magic (8) || version (56, UTF-8, NUL-padded) || signature (64)
    signature = Ed25519(vendor key, payload || magic || version)

``magic`` is ``b"ENCFWIMG"`` for firmware and ``b"ENCUIIMG"`` for the Manager web app. After install,
``fwv`` is the footer's version and ``fws`` its signature; ``uis`` is SHA-256 of the whole UI image.

Example::

    image = build_image(b"...payload...", "Encedo nGINE FW v1.2.3", vendor_private_key, kind="fw")
    footer = verify_image(image, vendor_public_raw, kind="fw")   # raises VerificationError
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

"""What "Encedo signed", as simulated units know it: a list of SHA-256 kept here, never an image layout.

>>> import os; image = os.urandom(64)                           # random bytes, no footer
>>> judge(image, "fw", TEST_VENDOR_PUBLIC) is None              # nobody signed it: check_fw answers 406
True
>>> _ = encedo_signs(image, "Encedo nGINE FW v9.9.9")            # every simulated unit of this process
>>> judge(image, "fw", TEST_VENDOR_PUBLIC).version, judge(image, "fw", bytes(32))  # ...trusting this fwk
('Encedo nGINE FW v9.9.9', None)
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import ed25519

from station.core.codec import b64decode, b64encode

# TEST ONLY, published in this repository: the simulator's stand-in for Encedo's firmware signing key. Its
# public half is the simulated units' factory-default ``fwk``; ``fws`` after an install is its signature.
_TEST_VENDOR_SEED = "Vir4mp5CfgexITshjSENYNRHgs3V6UzxhgbbiaTa4zQ="
_TEST_VENDOR = ed25519.Ed25519PrivateKey.from_private_bytes(b64decode(_TEST_VENDOR_SEED))
TEST_VENDOR_PUBLIC = _TEST_VENDOR.public_key().public_bytes_raw()
TEST_VENDOR_PUBLIC_KEY = b64encode(TEST_VENDOR_PUBLIC)  # "8Gs6oMnSLs+oTEVafXC6KNXZIk4fMo3HDlUsqf0MvJM="
KINDS = ("fw", "ui")

# firmware_images/test-firmware-v1.2.3.bin: 4 KiB of TEST bytes (see firmware_images/README.md).
SHIPPED = {
    "fw": {"9701795d7a5bc30d815f3c58c1897f057433bb6d822166a0c6abf40306d6cc89": "Encedo nGINE FW v1.2.3"}
}


@dataclass(frozen=True)
class SignedImage:
    """One image Encedo (the simulator's stand-in) signed: what a unit installs from it."""

    kind: str  # "fw" or "ui"
    sha256: str  # hex SHA-256 of the image as uploaded (an Intel HEX upload: of the binary it decodes to)
    version: str  # the ``fwv`` a unit reports after installing it (ui: the web app's version text)

    @property
    def signature(self) -> bytes:
        """The ``fws`` a unit shows after installing it: the TEST vendor key's signature of kind and hash."""
        return _TEST_VENDOR.sign(f"{self.kind}:{self.sha256}".encode())


_signed: dict[tuple[str, str], SignedImage] = {}
_lock = threading.Lock()


def encedo_signs(data: bytes, version: str, *, kind: str = "fw") -> SignedImage:
    """Let every simulated unit of this process accept ``data`` as a ``kind`` image installing ``version``."""
    return encedo_signs_hash(hashlib.sha256(data).hexdigest(), version, kind=kind)


def encedo_signs_hash(sha256: str, version: str, *, kind: str = "fw") -> SignedImage:
    """``encedo_signs`` for an image known by its hex SHA-256 (``station sim ppa --accept``)."""
    if kind not in KINDS:
        raise ValueError(f"image kind {kind!r}: one of {', '.join(KINDS)}")
    digest = sha256.lower()
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        raise ValueError(f"{sha256!r} is not a hex SHA-256")
    signed = SignedImage(kind, digest, version)
    with _lock:
        _signed[(kind, digest)] = signed
    return signed


def judge(image: bytes, kind: str, vendor_key: bytes) -> SignedImage | None:
    """The unit's check of an uploaded image: what it installs, or None (the check fails, 406)."""
    if vendor_key != TEST_VENDOR_PUBLIC:
        return None  # the unit trusts another vendor: nothing the simulator "signed" verifies
    with _lock:
        return _signed.get((kind, hashlib.sha256(image).hexdigest()))


for _kind, _images in SHIPPED.items():
    for _digest, _version in _images.items():
        encedo_signs_hash(_digest, _version, kind=_kind)

"""Key pairs in a PKCS#11 token: find one, sign with it (inside the token), read its public key, create one.

>>> uri = Pkcs11Uri(token="station", object="station-signing")     # pkcs11:token=station;object=...
>>> token_public_key(uri, TokenAccess(module="/nonexistent/libsofthsm2.so"), KeyKind.ED25519)
Traceback (most recent call last):
station.core.errors.ConfigError: [keys.pkcs11_module] PKCS#11 module /nonexistent/... does not exist
"""

from __future__ import annotations

import enum
import hashlib
from typing import Any, Generic, TypeVar

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from pkcs11 import Attribute, KeyType, Mechanism, MechanismFlag, ObjectClass
from pkcs11 import Session as P11Session
from pkcs11 import exceptions as p11error

from station.core.errors import ConfigError
from station.factory.keys.pkcs11 import TokenAccess, TokenError, rw_session, token_session
from station.factory.keys.pkcs11uri import Pkcs11Uri

P256_PARAMS = bytes.fromhex("06082a8648ce3d030107")  # DER OID 1.2.840.10045.3.1.7 (prime256v1)
ED25519_PARAMS = (bytes.fromhex("06032b6570"), b"\x13\x0cedwards25519")  # OID 1.3.101.112, or its name
_SELF_TEST = b"ppa-station: does this private key match its public key object?"


class KeyKind(enum.Enum):
    """The two kinds of key the station keeps in a token: the CA key and the record-signing key."""

    P256 = "p256"
    ED25519 = "ed25519"


PublicKey = ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey
_Public = TypeVar("_Public", ec.EllipticCurvePublicKey, ed25519.Ed25519PublicKey)


class _TokenKey(Generic[_Public]):
    """A private key object in a token and its public key; every call goes through the token's lock."""

    def __init__(self, uri: Pkcs11Uri, access: TokenAccess, public: _Public) -> None:
        self.uri = uri
        self._access = access
        self._public: _Public = public
        self._found: tuple[P11Session, Any] | None = None  # the private object, valid for that session

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.uri)!r})"

    def public_key(self) -> _Public:
        return self._public

    def _sign(self, data: bytes, mechanism: Mechanism) -> bytes:
        with token_session(self.uri, self._access, login=True) as session:
            if self._found is None or self._found[0] is not session:
                self._found = (session, _private_object(session, self.uri))
            return bytes(self._found[1].sign(data, mechanism=mechanism))


class TokenEcdsaKey(_TokenKey[ec.EllipticCurvePublicKey]):
    """A P-256 key in a token; ``sign`` returns DER ECDSA-SHA256 like cryptography does."""

    def sign(self, data: bytes) -> bytes:
        raw = self._sign(hashlib.sha256(data).digest(), Mechanism.ECDSA)
        if len(raw) != 64:
            raise TokenError(
                f"token {self.uri.token!r} returned a {len(raw)}-byte ECDSA signature, expected 64"
            )
        return encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))


class TokenEd25519Key(_TokenKey[ed25519.Ed25519PublicKey]):
    """An Ed25519 key in a token; ``sign`` returns the 64-byte RFC 8032 signature (CKM_EDDSA)."""

    def sign(self, data: bytes) -> bytes:
        return self._sign(data, Mechanism.EDDSA)


TokenKey = TokenEcdsaKey | TokenEd25519Key


def open_token_key(uri: Pkcs11Uri, access: TokenAccess, kind: KeyKind) -> TokenKey:
    """Log in (once per token and process), find the pair ``uri`` names, check it is ``kind`` and whole."""
    public = token_public_key(uri, access, kind)
    key: TokenKey
    if isinstance(public, ec.EllipticCurvePublicKey):
        key = TokenEcdsaKey(uri, access, public)
    else:
        key = TokenEd25519Key(uri, access, public)
    signature = key.sign(_SELF_TEST)  # logs in; a missing private half is a ConfigError now
    try:
        if isinstance(public, ec.EllipticCurvePublicKey):
            public.verify(signature, _SELF_TEST, ec.ECDSA(hashes.SHA256()))
        else:
            public.verify(signature, _SELF_TEST)
    except InvalidSignature:
        raise ConfigError(
            f"{uri}: the private key does not match the public key object of that label", key="keys"
        ) from None
    return key


def token_public_key(uri: Pkcs11Uri, access: TokenAccess, kind: KeyKind | None = None) -> PublicKey:
    """The public key of the pair ``uri`` names (public objects: no PIN needed); checked against ``kind``."""
    with token_session(uri, access, login=False) as session:
        found = _objects(session, uri, ObjectClass.PUBLIC_KEY)
        if len(found) != 1:
            raise _not_one(uri, len(found), "public")
        attributes = _attributes(found[0], Attribute.KEY_TYPE, Attribute.EC_PARAMS, Attribute.EC_POINT)
    public = _decode_public(uri, *attributes)
    expected = {KeyKind.P256: ec.EllipticCurvePublicKey, KeyKind.ED25519: ed25519.Ed25519PublicKey}
    if kind is not None and not isinstance(public, expected[kind]):
        found_kind = "Ed25519" if isinstance(public, ed25519.Ed25519PublicKey) else "P-256"
        raise ConfigError(f"{uri} is a {found_kind} key; this role needs {kind.value}", key="keys")
    return public


def create_token_key(uri: Pkcs11Uri, access: TokenAccess, kind: KeyKind) -> PublicKey:
    """Generate a ``kind`` pair in the token, labelled ``uri.object`` (CKA_ID ``uri.id`` or the label)."""
    with rw_session(uri, access) as session:
        existing = _objects(session, uri, ObjectClass.PRIVATE_KEY) + _objects(
            session, uri, ObjectClass.PUBLIC_KEY
        )
        if existing:
            raise ConfigError(f"{uri} already exists in the token; keys are never replaced", key="keys")
        key_type, params = (
            (KeyType.EC, P256_PARAMS) if kind is KeyKind.P256 else (KeyType.EC_EDWARDS, ED25519_PARAMS[0])
        )
        domain = session.create_domain_parameters(key_type, {Attribute.EC_PARAMS: params}, local=True)
        domain.generate_keypair(
            store=True,
            label=uri.object,
            id=uri.id if uri.id is not None else uri.object.encode("utf-8"),
            capabilities=MechanismFlag.SIGN | MechanismFlag.VERIFY,
            public_template={Attribute.PRIVATE: False},
            private_template={
                Attribute.SENSITIVE: True,
                Attribute.EXTRACTABLE: False,
                Attribute.PRIVATE: True,
            },
        )
    return token_public_key(uri, access, kind)


def _objects(session: P11Session, uri: Pkcs11Uri, object_class: ObjectClass) -> list[Any]:
    template: dict[Attribute, Any] = {Attribute.CLASS: object_class, Attribute.LABEL: uri.object}
    if uri.id is not None:
        template[Attribute.ID] = uri.id
    return list(session.get_objects(template))


def _private_object(session: P11Session, uri: Pkcs11Uri) -> Any:
    found = _objects(session, uri, ObjectClass.PRIVATE_KEY)
    if len(found) != 1:
        raise _not_one(uri, len(found), "private")
    return found[0]


def _not_one(uri: Pkcs11Uri, count: int, half: str) -> ConfigError:
    if count == 0:
        return ConfigError(
            f"no {half} key object {uri.object!r} in token {uri.token!r}; create it with "
            f"`station keys init --pkcs11 '{uri}'`",
            key="keys",
        )
    return ConfigError(f"{count} {half} key objects match {uri}; add id= to the URI", key="keys")


def _attributes(item: Any, *names: Attribute) -> list[Any]:
    try:
        return [item[name] for name in names]
    except p11error.PKCS11Error as exc:
        raise TokenError(f"cannot read the public key object: {type(exc).__name__}") from None


def _decode_public(uri: Pkcs11Uri, key_type: int, params: bytes, point: bytes) -> PublicKey:
    """CKA_EC_POINT is a DER OCTET STRING around the point (PKCS#11 says so; a few tokens send it bare)."""
    try:
        if key_type == KeyType.EC and bytes(params) == P256_PARAMS:
            raw = _unwrap_octet_string(bytes(point), 65)
            return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
        if key_type == KeyType.EC_EDWARDS and bytes(params) in ED25519_PARAMS:
            return ed25519.Ed25519PublicKey.from_public_bytes(_unwrap_octet_string(bytes(point), 32))
    except ValueError:
        raise ConfigError(f"{uri}: the token's public key is not a valid point", key="keys") from None
    raise ConfigError(f"{uri} is neither a P-256 nor an Ed25519 key", key="keys")


def _unwrap_octet_string(data: bytes, size: int) -> bytes:
    """The ``size``-byte point inside ``04 <size> ...``; a bare point of that size passes unchanged."""
    return data[2:] if len(data) == size + 2 and data[:2] == bytes((0x04, size)) else data

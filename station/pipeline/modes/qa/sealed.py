"""A sealed unit's login key: the passphrase its record holds, opened with the bench's escrow key.

>>> sealed_of({"personalization": {"profile": "default", "sealed_secrets": {"scheme": "..."}}})
{'scheme': '...'}
>>> sealed_of({"personalization": {"profile": "batch-7"}}) is None       # a batch unit: nothing sealed
True
"""

from __future__ import annotations

import threading
from typing import Any

from station.core.codec import x25519_public_b64
from station.core.errors import ProtocolError, VerificationError
from station.devices.ppa.protocol import derive_user_private_key
from station.factory.escrow import EscrowKey, WrongEscrowKey
from station.factory.keys.secrets import SEALED_PURPOSE
from station.pipeline.engine import StepFailed
from station.pipeline.modes.qa.record import Located, RecordSource

PERSONALISING = ("production", "rma")  # the modes whose records personalise a unit


def sealed_record(sources: tuple[RecordSource, ...], eid: str) -> Located | None:
    """The record that personalised instance ``eid`` with sealed secrets: a passing one first, the newest.

    Records are searched in every source (a synced record is in two; it is taken once). The record is not
    verified here: its secrets only open a read-only login, and the record step verifies the unit's
    records before anything is compared.
    """
    found: dict[str, Located] = {}
    for source in sources:
        for stored in source.store.records_of_instance(eid):
            if stored.mode in PERSONALISING and sealed_of(stored.payload) is not None:
                found.setdefault(stored.record_id, Located(stored, source))
    if not found:
        return None
    return max(
        found.values(), key=lambda located: (located.stored.outcome == "pass", located.stored.finished)
    )


def sealed_of(payload: Any) -> dict[str, Any] | None:
    """The payload's ``personalization.sealed_secrets`` object, or None."""
    personalization = payload.get("personalization") if hasattr(payload, "get") else None
    sealed = personalization.get("sealed_secrets") if isinstance(personalization, dict) else None
    return sealed if isinstance(sealed, dict) else None


def sealed_user_key(located: Located, eid: str, escrow: EscrowKey, kdf_slots: threading.Semaphore) -> bytes:
    """The user private key of instance ``eid`` from ``located``'s sealed passphrase (StepFailed if not).

    A personalised unit shows only its token challenge (``eid``) before a login; under the ``sealed``
    policy its passphrase exists only in its record, sealed to the escrow public key. The key is derived
    as production did (600 000 PBKDF2 rounds, one per core at a time, ``kdf_slots``). The passphrase
    lives in this function's locals only: never in a message, a record, a log line or an exception.
    """
    stored = located.stored
    where = f"{located.name} in {located.source.name}"
    sealed = sealed_of(stored.payload)
    assert sealed is not None  # sealed_record chose it for its sealed secrets
    try:
        bundle = escrow.open(sealed, devid=stored.genuine_id or "", purpose=SEALED_PURPOSE)
    except WrongEscrowKey as exc:
        raise StepFailed("wrong-escrow-key", f"the sealed secrets of {where} are {exc}") from None
    except (VerificationError, ProtocolError) as exc:
        raise StepFailed(
            "sealed-secrets-invalid",
            f"the sealed secrets of {where} do not open: {exc}; call the line engineer",
        ) from None
    passphrase = bundle.get("passphrase")
    if not isinstance(passphrase, str) or not passphrase:
        raise StepFailed("sealed-secrets-invalid", f"the sealed secrets of {where} hold no passphrase")
    with kdf_slots:
        key = derive_user_private_key(passphrase, eid)
    del passphrase, bundle
    recorded = (stored.payload.get("personalization") or {}).get("userkey")
    if recorded is not None and x25519_public_b64(key) != recorded:
        raise StepFailed(
            "sealed-secrets-invalid",
            f"the passphrase sealed in {where} does not give the user key the record names; "
            "call the line engineer",
        )
    return key

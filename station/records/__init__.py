"""Signed manufacturing records: drafts signed (JWS, Ed25519), chained, stored durably; anyone can verify.

>>> from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
>>> from station.records.jws import sign, verify
>>> key = Ed25519PrivateKey.generate()                     # the station's record-signing key
>>> verify(sign({"seq": 1}, key, key_id(key.public_key())), key.public_key())   # SignatureError if changed
{'seq': 1}
"""

from station.records.check.chain import Problem, VerifyReport, verify_chain
from station.records.check.store import verify_store
from station.records.entries import JournalEntry, RegistryEntry, Run, StoredRecord
from station.records.jws import key_id, trusted_keys_from
from station.records.model import (
    Failure,
    FixtureRef,
    Links,
    ProvisioningEvidence,
    RecordDraft,
    StepRecord,
    UnitIdentity,
    chain_hash,
    rfc3339,
    utc_now,
)
from station.records.store.sqlite import DEFAULT_FILENAME, SqliteStore
from station.records.writer import RecordWriter

__all__ = [
    "DEFAULT_FILENAME",
    "Failure",
    "FixtureRef",
    "JournalEntry",
    "Links",
    "Problem",
    "ProvisioningEvidence",
    "RecordDraft",
    "RecordWriter",
    "RegistryEntry",
    "Run",
    "SqliteStore",
    "StepRecord",
    "StoredRecord",
    "UnitIdentity",
    "VerifyReport",
    "chain_hash",
    "key_id",
    "rfc3339",
    "trusted_keys_from",
    "utc_now",
    "verify_chain",
    "verify_store",
]

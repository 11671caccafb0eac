"""Signed manufacturing records: model, JWS signing, the SQLite store with its run journal, verification.

Example::

    store = SqliteStore(data_dir / DEFAULT_FILENAME)
    writer = RecordWriter(store, signing_key, key_id(signing_key.public_key()), "line1-st01",
                          config_sha256=config.sha256)
    run_id = store.begin_run(slot="A1", mode="production")
    store.journal(run_id, "provision", "intent", {"devid": devid})
    stored = writer.append(draft, run_id=run_id)          # durable when it returns
    report = verify_store(store, trusted_keys_from([signing_key.public_key()]), ca_certificate)

Module map: ``model`` (RecordDraft and the payload of docs/records.md), ``payload`` (a payload read back as
typed fields), ``validate`` (schema checks), ``canonical`` (RFC 8785), ``jws`` (compact JWS, EdDSA),
``entries`` (what a store returns), ``writer`` (signs and appends), ``certificates``, ``history``, ``view``
and ``export``; ``store/`` (the reader interface both stores offer, ``sqlite``, ``postgres``, ``journal``,
``migrate``, ``admin``); ``check/`` (``chain`` and ``store`` verification); ``line/`` (store-and-forward
to the line database, docs/line-database.md: ``sync``, ``push``, ``state``, ``link``).
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

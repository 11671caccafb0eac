"""Long signed chains, fast: many records in one transaction (test data for syncs, and the benchmarks).

Example::

    written = write_chain(store, signing_key, "st-a", 2000, ca=ca, passing_every=4)
    assert store.last("st-a").seq == 2000

``RecordWriter`` signs and fsyncs one record per transaction, as a station must; building thousands of
records that way is slow and proves nothing new. This signs the same payloads (``model.build_payload``
and ``jws.sign``, so they verify like any station's) and stores them in one transaction, registering
passing production records in the unit registry as the writer would.
"""

from __future__ import annotations

import uuid

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from station.records import jws
from station.records.model import GENESIS_PREV, SOFTWARE, StationInfo, build_payload, chain_hash
from station.records.store.sqlite import SqliteStore
from tests.records.factories import CONFIG_SHA256, Ca, draft

_INSERT = (
    "INSERT INTO records (station_id, seq, record_id, devid, genuine_id, mode, outcome, created, jws) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_REGISTER = (
    "INSERT INTO unit_registry (devid, genuine_id, station_id, seq, record_id, provisioned_at) "
    "VALUES (?, ?, ?, ?, ?, ?)"
)


def write_chain(
    store: SqliteStore,
    key: Ed25519PrivateKey,
    station_id: str,
    count: int,
    *,
    ca: Ca | None = None,
    passing_every: int = 0,
) -> int:
    """Append ``count`` records to ``station_id``'s chain; every ``passing_every``-th passes production
    with a certificate from ``ca`` (0: all fail, no certificate). Returns the last seq."""
    kid = jws.key_id(key.public_key())
    station = StationInfo(station_id, SOFTWARE, CONFIG_SHA256, kid)
    last = store.last(station_id)
    seq, prev = (0, GENESIS_PREV) if last is None else (last.seq, chain_hash(last.jws))
    rows, registry = [], []
    created = store.now()
    for index in range(count):
        passing = ca is not None and passing_every > 0 and index % passing_every == 0
        seq += 1
        payload = build_payload(
            draft(ca if passing else None, outcome="pass" if passing else "fail"),
            station=station,
            seq=seq,
            prev=prev,
            record_id=str(uuid.uuid4()),
        )
        text = jws.sign(payload, key, kid)
        unit = payload["unit"]
        rows.append((station_id, seq, payload["record_id"], unit["devid"], unit["genuine_id"],
                     payload["mode"], payload["outcome"], created, text))  # fmt: skip
        if passing:
            registry.append((unit["devid"], unit["genuine_id"], station_id, seq, payload["record_id"],
                             payload["finished"]))  # fmt: skip
        prev = chain_hash(text)
    with store.write() as connection:
        connection.executemany(_INSERT, rows)
        connection.executemany(_REGISTER, registry)
    return seq

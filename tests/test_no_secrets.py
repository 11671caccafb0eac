"""No passphrase, mnemonic or private key leaves the station in anything but sealed form.

A real station runs a few simulated units (some made to fail by injected faults, so the failure paths
speak too) while the test captures everything the station says or keeps: every event on the bus, the
console (stdout/stderr), Python logging at DEBUG, the exceptions of failing runs (with tracebacks), the
reprs of the station and its verdicts, the SQLite files (records, registry and run journal, WAL
included), the JSONL and CSV exports and ``records show``. Then it greps all of it for each unit's
secrets in every form a leak would take: the passphrase, any three consecutive words of the mnemonic, and
the hex, base64 and base64url of the derived master and user private keys (and their raw bytes in the
database files), plus the escrow private key.

For the ``sealed`` policy the secrets are recovered by opening each sealed bundle with the escrow private
key, which also proves they were sealed; for the ``batch`` policy they are the ones handed in through
``environ`` (and the eids come from the records and journal).
"""

from __future__ import annotations

import io
import logging
import sys
import traceback
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import x25519

from station.app.station import Station
from station.cli.console import ProgressPrinter, summarize
from station.cli.records import cmd_export, cmd_show
from station.core import codec
from station.core.config import load
from station.core.events import Event, Outcome, RunFinished
from station.devices.ppa import protocol
from station.factory.escrow import open_sealed
from station.factory.keys.secrets import UnitKeys, UnitSecrets, derive_keys
from station.pipeline.engine import Engine, RunContext, StepRecord
from station.pipeline.tally import Verdict
from station.records import jws
from station.records.store.sqlite import DEFAULT_FILENAME
from station.sim.fixture import FreshUnitSwap
from station.sim.ppa.device import SimulatedPpa
from station.sim.ppa.faults import FaultRule
from tests.pipeline.conftest import AUTH_INIT, LOGGER_KEY, toml_text

UNITS = 4
PASSPHRASE_ENV, MNEMONIC_ENV = "LINE_PASSPHRASE", "LINE_MNEMONIC"
TOKEN = "/api/auth/token"


@dataclass
class Evidence:
    """Everything the station said or kept during the run: text, and the bytes of its files."""

    texts: list[str] = field(default_factory=list)
    blobs: dict[str, bytes] = field(default_factory=dict)

    def add(self, *texts: str) -> None:
        self.texts.extend(texts)


@dataclass(frozen=True)
class UnitSecretsSeen:
    """One unit's secrets as the test recovered them, and the private keys derived from them."""

    eid: str
    secrets: UnitSecrets
    keys: UnitKeys

    @classmethod
    def derive(cls, eid: str, secrets: UnitSecrets) -> UnitSecretsSeen:
        return cls(eid, secrets, derive_keys(secrets, eid))  # the station's own derivation, run once


def open_station(tmp_path: Path, profile: Mapping[str, Any], environ: Mapping[str, str]) -> Station:
    document = {
        "station": {"id": "leak-st01", "data_dir": "data", "simulated": True},
        "profile": {"default": dict(profile)},
        "fixture": [{"slot": "A1", "kind": "simulated"}, {"slot": "A2", "kind": "simulated"}],
    }
    (tmp_path / "station.toml").write_text(toml_text(document), encoding="utf-8")
    return Station.open(load(tmp_path / "station.toml"), environ=environ)


def unit_in(station: Station, index: int) -> SimulatedPpa:
    swap = station.fixtures[index].swap
    assert isinstance(swap, FreshUnitSwap)
    return swap.device


@pytest.fixture
def evidence(monkeypatch: pytest.MonkeyPatch) -> Evidence:
    """Collects exceptions the engine classifies (str, repr, full traceback) into the evidence."""
    found = Evidence()
    classify = Engine._classify

    def spy(self: Engine, ctx: RunContext, records: list[StepRecord], exc: Exception) -> Any:
        found.add(str(exc), repr(exc), *traceback.format_exception(exc))
        return classify(self, ctx, records, exc)

    monkeypatch.setattr(Engine, "_classify", spy)
    return found


def run_with_faults(
    station: Station, evidence: Evidence, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> list[Verdict]:
    """Four units over two slots: A1's first fails verification, A2's first has a garbled init reply."""
    caplog.set_level(logging.DEBUG)
    unit_in(station, 0).faults.add(FaultRule("500", path=LOGGER_KEY))
    unit_in(station, 0).faults.add(FaultRule("drop", path=TOKEN, method="POST", times=1))
    unit_in(station, 1).faults.add(FaultRule("garbage", path=AUTH_INIT, method="POST", times=1))

    def on_event(event: Event) -> None:
        evidence.add(str(event), repr(event))
        if isinstance(event, RunFinished) and event.slot == "A1":
            unit_in(station, 0).faults.clear()  # after A1's first verdict its next units are healthy

    station.bus.subscribe(on_event)
    station.bus.subscribe(ProgressPrinter(sys.stdout, verbose=True))
    try:
        verdicts = station.run(units=UNITS)
        assert station.tally is not None
        print(summarize(station.tally, 1.0))
        evidence.add(repr(station), *(repr(v) for v in verdicts))
        store_path = station.data_dir / DEFAULT_FILENAME
        keys = jws.trusted_keys_from([station.signing_public_key])
        ca = station.ca_certificate()
        for fmt in ("jsonl", "csv"):
            out = io.StringIO()
            assert cmd_export(store_path, fmt, out) == 0
            evidence.add(out.getvalue())
        for verdict in verdicts:
            assert cmd_show(store_path, verdict.record.record_id, trusted_keys=keys, ca=ca) in (0, 1)
    finally:
        station.close()
    captured = capsys.readouterr()
    evidence.add(captured.out, captured.err, caplog.text, *(r.getMessage() for r in caplog.records))
    for path in sorted(station.data_dir.glob(f"{DEFAULT_FILENAME}*")):
        evidence.blobs[path.name] = path.read_bytes()
    for verdict in verdicts:  # positive control: what is grepped below really holds the records
        assert any(verdict.record.record_id.encode() in blob for blob in evidence.blobs.values())
        assert any(verdict.record.jws in text for text in evidence.texts)
    return verdicts


def personalize_intents(station: Station, verdicts: list[Verdict]) -> Iterator[Mapping[str, Any]]:
    """What each run announced before personalising (the journal keeps it even when the init failed)."""
    for verdict in verdicts:
        for entry in station.store.run_journal(verdict.run_id):
            if entry.step == "personalize" and entry.phase == "intent":
                yield entry.detail


def forms(secret: bytes) -> list[str]:
    return [secret.hex(), secret.hex().upper(), codec.b64encode(secret), codec.b64url_encode(secret)]


def needles(seen: list[UnitSecretsSeen], escrow_private: bytes | None = None) -> list[str]:
    """Every text form of every secret that must not appear anywhere."""
    found: list[str] = []
    for unit in seen:
        words = unit.secrets.mnemonic.split()
        found.append(unit.secrets.passphrase)
        found.extend(" ".join(words[i : i + 3]) for i in range(len(words) - 2))
        found.extend(forms(unit.keys.master_private) + forms(unit.keys.user_private))
    if escrow_private is not None:
        found.extend(forms(escrow_private))
    return found


def raw_keys(seen: list[UnitSecretsSeen], escrow_private: bytes | None = None) -> list[bytes]:
    raw = [u.keys.master_private for u in seen] + [u.keys.user_private for u in seen]
    return raw + ([escrow_private] if escrow_private is not None else [])


def assert_nothing_leaked(
    evidence: Evidence, seen: list[UnitSecretsSeen], texts: list[str], raw: list[bytes]
) -> None:
    """Fail naming where a secret showed up (by secret number and place, never echoing the secret)."""
    assert evidence.texts
    assert evidence.blobs.get(DEFAULT_FILENAME)
    for unit in seen:  # positive control: the public halves are there, so the private ones would be found
        userkey = unit.keys.public()[1]
        assert any(userkey.encode() in blob for blob in evidence.blobs.values())
    leaks: list[str] = []
    for number, needle in enumerate(texts):
        leaks += [
            f"secret form #{number} in text #{i}" for i, text in enumerate(evidence.texts) if needle in text
        ]
        encoded = needle.encode("utf-8")
        leaks += [
            f"secret form #{number} in {name}" for name, blob in evidence.blobs.items() if encoded in blob
        ]
    for number, secret in enumerate(raw):
        leaks += [
            f"raw private key #{number} in {name}" for name, blob in evidence.blobs.items() if secret in blob
        ]
    assert not leaks, f"secrets leaked: {'; '.join(leaks[:10])}"


def test_the_sealed_policy_keeps_every_secret_sealed(
    tmp_path: Path,
    evidence: Evidence,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    escrow_private = x25519.X25519PrivateKey.generate().private_bytes_raw()
    profile = {"secrets": "sealed", "escrow_public_key": codec.x25519_public_b64(escrow_private)}
    station = open_station(tmp_path, profile, environ={})
    verdicts = run_with_faults(station, evidence, capsys, caplog)

    assert sorted(str(v.outcome) for v in verdicts) == ["error", "fail", "pass", "pass"]
    seen = [
        UnitSecretsSeen.derive(
            str(intent["eid"]),
            UnitSecrets(**open_sealed(intent["personalization"]["sealed_secrets"], escrow_private)),
        )
        for intent in personalize_intents(station, verdicts)
    ]
    assert len(seen) == UNITS  # every unit got as far as sealing its secrets, failing ones included
    assert len({unit.secrets.passphrase for unit in seen}) == UNITS  # per-unit secrets
    for verdict in verdicts:
        if verdict.outcome is not Outcome.FAIL:  # the garbled init never personalised its unit
            sealed = verdict.record.payload["personalization"]["sealed_secrets"]
            assert open_sealed(sealed, escrow_private) in [u.secrets.bundle() for u in seen]
    assert_nothing_leaked(evidence, seen, needles(seen, escrow_private), raw_keys(seen, escrow_private))


def test_the_batch_policy_never_writes_its_secrets_down(
    tmp_path: Path,
    evidence: Evidence,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    batch = UnitSecrets("batch 7 passphrase: Tr0ub4dor&3", protocol.generate_mnemonic())
    environ = {PASSPHRASE_ENV: batch.passphrase, MNEMONIC_ENV: batch.mnemonic}
    profile = {"secrets": "batch", "passphrase_env": PASSPHRASE_ENV, "mnemonic_env": MNEMONIC_ENV}
    station = open_station(tmp_path, profile, environ)
    verdicts = run_with_faults(station, evidence, capsys, caplog)

    assert sorted(str(v.outcome) for v in verdicts) == ["error", "fail", "pass", "pass"]
    eids = [str(intent["eid"]) for intent in personalize_intents(station, verdicts)]
    assert len(set(eids)) == UNITS
    for intent in personalize_intents(station, verdicts):
        assert "sealed_secrets" not in intent["personalization"]
    seen = [UnitSecretsSeen.derive(eid, batch) for eid in eids]
    assert_nothing_leaked(evidence, seen, needles(seen), raw_keys(seen))

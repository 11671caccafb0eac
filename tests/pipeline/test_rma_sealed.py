"""RMA of units personalised under the ``sealed`` key policy, on a bench that holds the escrow key.

The returned unit's passphrase is opened from its record and used to log in and wipe it, so it is
identified before the wipe and wiped even when it ignores backend actions; no customer is asked. A unit
whose owner changed the passphrase falls back to what a bench without the escrow key does.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from station.app.station import Station
from station.core import codec
from station.core.config import KeysSection
from station.core.events import Event, Outcome
from station.devices.ppa.protocol import derive_user_private_key
from station.factory.escrow import open_sealed
from station.pipeline.modes.rma.flow import ReturnedUnit, RmaPolicy
from station.pipeline.tally import Verdict
from station.records.store.sqlite import DEFAULT_FILENAME
from tests.pipeline.conftest import Line, LineFactory, failure_of, step_of
from tests.pipeline.test_qa_sealed import Escrow, sealed_profile


class Customer:
    """The operator's passphrase dialog: records each question, answers ``passphrase``."""

    def __init__(self, passphrase: str | None = None) -> None:
        self.passphrase = passphrase
        self.asked: list[ReturnedUnit] = []

    def __call__(self, unit: ReturnedUnit) -> str | None:
        self.asked.append(unit)
        return self.passphrase


@pytest.fixture
def escrow(tmp_path: Path) -> Escrow:
    return Escrow.make(tmp_path)


@pytest.fixture
def benches() -> Iterator[list[Line]]:
    opened: list[Line] = []
    yield opened
    for line in opened:
        line.close()


def returned(line_factory: LineFactory, escrow: Escrow, **profile: Any) -> tuple[Line, Verdict]:
    """A sealed unit made (passed) on a production station without the escrow private key."""
    line = line_factory(network=[{}], profile={**sealed_profile(escrow), **profile}, environ={})
    (made,) = line.run()
    assert made.outcome is Outcome.PASS, made.failure
    return line, made


def rma_bench(line: Line, benches: list[Line], keys: dict[str, Any], policy: RmaPolicy) -> Line:
    """The production station's configuration reopened in RMA mode with ``[keys]`` = ``keys``."""
    line.station.close()
    config = dataclasses.replace(line.config, keys=KeysSection(**keys))
    bench = Line(Station.open(config, environ={}, mode="rma", rma=policy), {}, line.extra_units)
    line.extra_units = []
    benches.append(bench)
    return bench


def test_a_sealed_unit_is_opened_and_wiped_with_its_escrowed_passphrase_even_ignoring_the_backend(
    line_factory: LineFactory, escrow: Escrow, benches: list[Line]
) -> None:
    line, made = returned(line_factory, escrow, trusted_backend=False)  # a backend wipe would be ignored
    customer = Customer()
    bench = rma_bench(line, benches, {"escrow": escrow.uri}, RmaPolicy(customer_passphrase=customer))
    events: list[Event] = []
    bench.station.bus.subscribe(events.append)

    (verdict,) = bench.run()

    assert verdict.outcome is Outcome.PASS, verdict.failure
    assert customer.asked == []  # nobody was asked for a passphrase
    old, new = made.record.payload, verdict.record.payload
    identify = step_of(verdict, "identify")["detail"]["message"]
    assert f"personalised unit {old['unit']['devid']}" in identify  # known before the wipe
    assert f"the passphrase sealed in its record {made.record.record_id} (escrow key) accepted" in identify
    wipe = step_of(verdict, "wipe")["detail"]
    assert wipe == {
        "message": wipe["message"],
        "method": "escrowed-passphrase",
        "sealed_record": made.record.record_id,
    }
    assert new["links"]["supersedes"] == made.record.record_id
    assert new["unit"]["eid"] != old["unit"]["eid"]  # a new instance, with new sealed secrets
    assert new["personalization"]["sealed_secrets"] != old["personalization"]["sealed_secrets"]

    secrets = open_sealed(old["personalization"]["sealed_secrets"], escrow.private)
    user_key = derive_user_private_key(secrets["passphrase"], old["unit"]["eid"])
    texts = [repr(event) for event in events] + [repr(verdict), repr(bench.station)]
    texts += [repr(entry) for entry in bench.station.store.run_journal(verdict.run_id)]
    texts += [record.jws + repr(dict(record.payload)) for record in bench.records()]
    bench.station.close()
    blobs = [path.read_bytes() for path in bench.data_dir.glob(f"{DEFAULT_FILENAME}*")]
    for needle in (secrets["passphrase"], user_key.hex(), codec.b64encode(user_key)):
        assert not [text for text in texts if needle in text]
        assert not [blob for blob in blobs if needle.encode() in blob]
    assert not [blob for blob in blobs if user_key in blob]


def test_a_unit_whose_owner_changed_the_passphrase_falls_back_to_asking(
    line_factory: LineFactory, escrow: Escrow, benches: list[Line]
) -> None:
    line, made = returned(line_factory, escrow)
    line.extra_units[0].state.config.userkey = bytes(range(1, 33))  # the owner set another passphrase
    customer = Customer()  # ... and the operator has none: a backend wipe, as without the escrow key
    bench = rma_bench(line, benches, {"escrow": escrow.uri}, RmaPolicy(customer_passphrase=customer))

    (verdict,) = bench.run()

    assert verdict.outcome is Outcome.PASS, verdict.failure
    assert [unit.eid for unit in customer.asked] == [made.record.payload["unit"]["eid"]]
    identify = step_of(verdict, "identify")["detail"]["message"]
    assert f"the passphrase sealed in record {made.record.record_id} was refused" in identify
    assert step_of(verdict, "wipe")["detail"]["method"] == "backend-check-in"
    assert verdict.record.payload["links"]["supersedes"] == made.record.record_id


def test_another_escrow_key_on_the_rma_bench_fails_naming_it(
    line_factory: LineFactory, escrow: Escrow, benches: list[Line], tmp_path: Path
) -> None:
    line, made = returned(line_factory, escrow)
    other = Escrow.make(tmp_path, "other")
    customer = Customer()
    bench = rma_bench(line, benches, {"escrow": other.uri}, RmaPolicy(customer_passphrase=customer))

    (verdict,) = bench.run()

    step, code, message = failure_of(verdict)
    assert (step, code) == ("identify", "wrong-escrow-key")
    assert f"not to this bench's escrow key {other.key_id} ([keys] escrow = file:{other.path})" in message
    assert customer.asked == []
    assert bench.status().get("inited", True) is True  # still the customer's unit: nothing was wiped
    assert verdict.record.payload["unit"]["eid"] == made.record.payload["unit"]["eid"]

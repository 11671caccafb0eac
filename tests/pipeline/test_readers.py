"""The ``readers`` flow over the simulated Companion Service: real HTTP, the station as built by operators."""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from station.app.station import Station
from station.core.config import ReaderProfile, load
from station.core.errors import ConfigError
from station.core.events import Event, EventBus, LogLine, Outcome, RunStarted, StepFinished
from station.devices.ppa.protocol import generate_mnemonic
from station.devices.springcore.client import CompanionClient
from station.devices.springcore.profile import load_reader_config
from station.pipeline.engine import Engine, RunContext, RunResult
from station.pipeline.modes import readers as readers_mode
from station.pipeline.modes.readers import ReadersDeps, ReadersFlow
from station.records import jws
from station.records.check.store import verify_store
from station.records.store.sqlite import SqliteStore
from station.sim.companion.service import SimulatedCompanion
from station.sim.companion.timing import FAST
from station.sim.ppa.faults import FaultPlan, FaultRule
from tests.pipeline.conftest import toml_text

REPO = Path(__file__).resolve().parents[2]
BENCH_PROFILE = REPO / "profiles" / "readers" / "bench.json"
LOCATION = "Line 1, bench 3"
STEPS = ["identify", "wink", "inventory", "configure", "personalize", "reset", "verify"]
# Read at start-up when a PPA slot may use them (a production station refuses a weak passphrase).
BATCH_SECRETS = {"P": "reader bench batch 7 passphrase", "M": generate_mnemonic()}


def reader_station(tmp_path: Path, slots: list[dict[str, Any]], **profile: Any) -> Station:
    document: dict[str, Any] = {
        "station": {"id": "test-readers", "data_dir": "data", "simulated": True},
        "profile": {
            "default": {
                "user": "Line",
                "hostname": "ppa.example.com",
                "secrets": "batch",
                "passphrase_env": "P",
                "mnemonic_env": "M",
            }
        },
        "reader_profile": {
            "default": {
                "config": str(BENCH_PROFILE),
                "location": LOCATION,
                "inventory_prefix": "RDR-",
                **profile,
            }
        },
        "fixture": slots,
    }
    path = tmp_path / "station.toml"
    path.write_text(toml_text(document), encoding="utf-8")
    return Station.open(load(path), environ=BATCH_SECRETS)


@pytest.fixture
def service() -> Iterator[SimulatedCompanion]:
    with SimulatedCompanion(readers=2, seed=7) as running:
        yield running


@pytest.fixture
def opened() -> Iterator[list[Station]]:
    stations: list[Station] = []
    yield stations
    for station in stations:
        station.close()


def companion_slots(service: SimulatedCompanion, count: int) -> list[dict[str, Any]]:
    return [{"slot": f"R{i + 1}", "kind": "companion", "url": service.url} for i in range(count)]


def test_two_readers_get_the_profile_their_own_registers_and_verifying_records(
    tmp_path: Path, service: SimulatedCompanion, opened: list[Station]
) -> None:
    station = reader_station(tmp_path, companion_slots(service, 2))
    opened.append(station)
    verdicts = station.run(units=2)

    assert sorted(v.outcome for v in verdicts) == ["pass", "pass"]
    config = load_reader_config(BENCH_PROFILE, location=LOCATION)
    by_id = {reader.device_id: reader for reader in service.readers}
    assert len({v.record.payload["unit"]["device_id"] for v in verdicts}) == 2  # one reader per slot
    for verdict in verdicts:
        payload = verdict.record.payload
        unit, reader = payload["unit"], by_id[payload["unit"]["device_id"]]
        assert payload["mode"] == "readers"
        assert [step["name"] for step in payload["steps"]] == STEPS
        assert unit["config_id"] == reader.config_id  # what the reader carries now (register 0200)
        assert unit["serial"] == reader.serial_number
        assert unit["inventory"] == "RDR-" + reader.serial_number
        assert unit["config_sha256"] == config.public_sha256()
        assert reader.registers[0x0201] == unit["inventory"].encode()
        assert reader.registers[0x0202] == LOCATION.encode()
        for address, value in config.registers.items():
            assert reader.registers.get(address, b"") == value
    report = verify_store(station.store, jws.trusted_keys_from([station.signing_public_key]))
    assert report.ok, report.first


def test_preserve_keeps_a_reader_s_own_network_settings(
    tmp_path: Path, service: SimulatedCompanion, opened: list[Station]
) -> None:
    ipv4 = bytes(range(20))
    for reader in service.readers:
        reader.registers[0x0280] = ipv4  # set on this reader earlier (its own static address)
    station = reader_station(tmp_path, companion_slots(service, 1))
    opened.append(station)
    (verdict,) = station.run(units=1)
    reader = service.reader(verdict.record.payload["unit"]["device_id"])
    assert verdict.outcome == "pass"
    assert reader.registers[0x0280] == ipv4


def test_discard_profile_clears_a_reader_s_own_settings(
    tmp_path: Path, service: SimulatedCompanion, opened: list[Station]
) -> None:
    for reader in service.readers:
        reader.registers[0x0280] = bytes(range(20))
    station = reader_station(tmp_path, companion_slots(service, 1), specific="discard")
    opened.append(station)
    (verdict,) = station.run(units=1)
    reader = service.reader(verdict.record.payload["unit"]["device_id"])
    assert verdict.outcome == "pass"
    assert 0x0280 not in reader.registers
    assert verdict.record.payload["personalization"]["specific"] == "discard"


def test_a_busy_reader_is_retried_and_passes(
    tmp_path: Path, service: SimulatedCompanion, opened: list[Station]
) -> None:
    reader = service.readers[0]
    assert reader.try_lock()  # another tool holds the reader: writes answer 409 until it lets go
    station = reader_station(tmp_path, companion_slots(service, 1))
    opened.append(station)
    waiting = threading.Event()

    def on_event(event: Event) -> None:
        if isinstance(event, LogLine) and "409" in event.message:
            waiting.set()

    station.bus.subscribe(on_event)
    done: list[Any] = []
    runner = threading.Thread(target=lambda: done.extend(station.run(units=1)))
    runner.start()
    # The flow's first write meets the 409; once it has, the other tool lets go.
    busy_seen = waiting.wait(timeout=30)
    reader.unlock()
    runner.join(timeout=60)
    (verdict,) = done
    assert verdict.outcome == "pass", verdict.failure
    attempts = {step["name"]: step["attempts"] for step in verdict.record.payload["steps"]}
    assert busy_seen and (attempts["wink"] > 1 or attempts["configure"] > 1)


def test_a_reader_unplugged_mid_flow_fails_saying_so(tmp_path: Path, opened: list[Station]) -> None:
    plan = FaultPlan([FaultRule("unplug", path="/device/*/config/specific", method="PUT")])
    with SimulatedCompanion(readers=1, faults=plan, seed=3) as service:
        station = reader_station(tmp_path, companion_slots(service, 1))
        opened.append(station)
        (verdict,) = station.run(units=1)
    assert verdict.outcome == "fail"
    failure = verdict.failure
    assert failure is not None and (failure.step, failure.code) == ("personalize", "reader-removed")
    assert "unplugged during personalize" in failure.message
    assert verdict.record.payload["unit"]["config_id"] is not None  # the configuration write did happen


def test_scanned_inventory_number_is_written(
    tmp_path: Path, service: SimulatedCompanion, opened: list[Station]
) -> None:
    station = reader_station(tmp_path, companion_slots(service, 1), inventory="scanned")
    opened.append(station)
    station.scans.put("R1", " INV-000417 \n")  # scanned before the flow asks: kept for the slot
    (verdict,) = station.run(units=1)
    assert verdict.outcome == "pass"
    assert verdict.record.payload["unit"]["inventory"] == "INV-000417"
    reader = service.reader(verdict.record.payload["unit"]["device_id"])
    assert reader.registers[0x0201] == b"INV-000417"


def test_simulated_reader_slots_keep_producing_readers(tmp_path: Path, opened: list[Station]) -> None:
    slots = [{"slot": f"S{i}", "kind": "simulated", "family": "reader"} for i in range(2)]
    station = reader_station(tmp_path, slots)
    opened.append(station)
    verdicts = station.run(units=5)
    assert [v.outcome for v in verdicts] == ["pass"] * 5
    assert all(v.record.payload["simulated"] for v in verdicts)
    assert len({v.record.payload["unit"]["device_id"] for v in verdicts}) == 5  # a fresh reader each time


BATCH_PROFILE = {"default": {"secrets": "batch", "passphrase_env": "P", "mnemonic_env": "M"}}


def test_a_profile_the_reader_would_refuse_stops_the_station_at_start(tmp_path: Path) -> None:
    """``load`` checks the table's shape; springcore checks the file when the station is assembled,
    before the record store is opened or any reader slot made."""
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"config": {"30": "0102"}}), encoding="utf-8")  # 0230 takes exactly 1 byte
    document = {
        "station": {"id": "t", "data_dir": "data", "simulated": True},
        "profile": BATCH_PROFILE,
        "reader_profile": {"default": {"config": str(bad)}},
        "fixture": [{"slot": "R1", "kind": "companion", "url": "http://127.0.0.1:9"}],
    }
    path = tmp_path / "station.toml"
    path.write_text(toml_text(document), encoding="utf-8")
    config = load(path)
    with pytest.raises(ConfigError) as caught:
        Station.open(config, environ={})
    text = str(caught.value)
    assert "reader_profile.default.config" in text and "0230" in text and str(bad) in text
    assert not (tmp_path / "data" / "records.sqlite3").exists()


def test_reader_fixtures_without_a_reader_profile_are_refused(tmp_path: Path) -> None:
    document = {
        "station": {"id": "t", "data_dir": "data", "simulated": True},
        "profile": BATCH_PROFILE,
        "fixture": [{"slot": "R1", "kind": "companion", "url": "http://127.0.0.1:9"}],
    }
    path = tmp_path / "station.toml"
    path.write_text(toml_text(document), encoding="utf-8")
    for _ in range(2):  # the same answer again: the refused station let its data directory go
        with pytest.raises(ConfigError, match=r"\[reader_profile\] companion \(reader\) fixtures") as caught:
            Station.open(load(path), environ={})
        assert caught.value.path == str(path)


def test_demo_mixed_family_runs_readers_beside_ppas(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from station.cli.main import main

    assert (
        main(["demo", "--fixtures", "2", "--units", "4", "--family", "mixed", "--data", str(tmp_path)]) == 0
    )
    modes = sorted(record.mode for record in SqliteStore(tmp_path / "records.sqlite3").records())
    assert "readers" in modes and "production" in modes and len(modes) == 4
    assert "OK: every record verifies" in capsys.readouterr().out


def test_reader_slots_rest_while_the_station_runs_qa(tmp_path: Path, opened: list[Station]) -> None:
    slots = [{"slot": "R1", "kind": "simulated", "family": "reader"}, {"slot": "A1", "kind": "simulated"}]
    station = reader_station(tmp_path, slots)
    station.close()
    qa = Station.open(station.config, environ=BATCH_SECRETS, mode="qa")
    opened.append(qa)
    (verdict,) = qa.run(units=1)
    assert verdict.slot == "A1" and verdict.record.payload["mode"] == "qa"


# --- readers as they are: restarts in sequence, a busy service, a reader that stays away ------------------


class _NoJournal:
    def journal(self, run_id: str, step: str, phase: str, detail: Any = None) -> None:
        return None


def flow_run(service: SimulatedCompanion, client: CompanionClient) -> RunResult:
    """The readers flow on the service's first reader, on the engine alone (no station around it)."""
    config = load_reader_config(BENCH_PROFILE, location=LOCATION)
    profile = ReaderProfile(config=str(BENCH_PROFILE), location=LOCATION, inventory_prefix="RDR-")
    flow = ReadersFlow(client, service.readers[0].device_id, ReadersDeps("default", profile, config))
    bus = EventBus()
    ctx = RunContext("run-1", "R1", "readers", _NoJournal(), threading.Event(), bus)
    return Engine(bus).run(ctx, flow.plan())


def step_seconds(station: Station) -> dict[str, float]:
    seconds: dict[str, float] = {}
    station.bus.subscribe(
        lambda event: (
            seconds.__setitem__(event.step, event.seconds) if isinstance(event, StepFinished) else None
        )
    )
    return seconds


def test_the_first_ok_after_a_restarting_write_is_not_taken(tmp_path: Path, opened: list[Station]) -> None:
    """The reader keeps answering "ok" with its old ConfigId a moment after each write: the flow waits
    for the ConfigId written (configure) and for the reader to be gone and back (reset)."""
    timing = replace(FAST, pre_restart=0.3)  # long enough that a first-ok wait would surely see it
    with SimulatedCompanion(readers=1, seed=7, timing=timing) as service:
        station = reader_station(tmp_path, companion_slots(service, 1))
        opened.append(station)
        seconds = step_seconds(station)
        (verdict,) = station.run(units=1)
        reader = service.readers[0]
    assert verdict.outcome == "pass", verdict.failure
    assert reader.restarts == 2 and verdict.record.payload["unit"]["config_id"] == reader.config_id
    attempts = {step["name"]: step["attempts"] for step in verdict.record.payload["steps"]}
    assert attempts["personalize"] == 1  # never met the reader leaving (409) or gone (503, 410)
    for step in ("configure", "reset"):
        assert seconds[step] >= timing.restart_total()  # waited through the whole restart


def test_a_busy_service_is_waited_out_honouring_retry_after(
    tmp_path: Path, service: SimulatedCompanion, opened: list[Station]
) -> None:
    station = reader_station(tmp_path, companion_slots(service, 1))
    opened.append(station)
    service.hold_busy(0.5, retry_after=1)  # the Companion Service is starting: 503 to everything
    (verdict,) = station.run(units=1)
    assert verdict.outcome == "pass", verdict.failure
    attempts = {step["name"]: step["attempts"] for step in verdict.record.payload["steps"]}
    assert attempts["identify"] == 1  # the client waited it out; the step was not failed and retried


def test_a_503_forever_ends_in_a_verdict_naming_the_deadline(service: SimulatedCompanion) -> None:
    service.hold_busy(math.inf, retry_after=1)
    result = flow_run(service, CompanionClient.at(service.url, busy_deadline=1.0))
    assert result.outcome is Outcome.FAIL
    failure = result.failure
    assert failure is not None and (failure.step, failure.code) == ("identify", "http-503")
    assert "gave up at the 1 s busy deadline" in failure.message


def test_the_fixture_s_busy_deadline_ends_a_station_s_wait(
    tmp_path: Path, service: SimulatedCompanion, opened: list[Station]
) -> None:
    """``[[fixture]] busy_deadline`` reaches the client the station builds for the slot's readers flow."""
    slot = {**companion_slots(service, 1)[0], "busy_deadline": 0.5}
    station = reader_station(tmp_path, [slot])
    opened.append(station)

    def busy_once_claimed(event: Event) -> None:  # the slot holds its reader: now every call is 503
        if isinstance(event, RunStarted):
            service.hold_busy(math.inf, retry_after=1)

    station.bus.subscribe(busy_once_claimed)
    (verdict,) = station.run(units=1)
    failure = verdict.failure
    assert verdict.outcome == "fail" and failure is not None
    assert "gave up at the 0.5 s busy deadline" in failure.message  # not the default 30 s


def test_a_reader_that_does_not_come_back_fails_naming_the_restart_deadline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(readers_mode, "RESTART_DEADLINE", 1.0)
    timing = replace(FAST, reenumerate=math.inf)  # its USB device never comes back
    with SimulatedCompanion(readers=1, seed=7, timing=timing) as service:
        result = flow_run(service, CompanionClient.at(service.url))
    failure = result.failure
    assert failure is not None and (failure.step, failure.code) == ("configure", "timeout")
    assert "did not come back from its restart with ConfigId" in failure.message
    assert "within the 1 s restart deadline" in failure.message
    assert "not listed (410)" in failure.message

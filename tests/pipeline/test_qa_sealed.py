"""QA of units personalised under the ``sealed`` key policy: the passphrase comes out of the unit's record.

A production station makes a ``network`` unit with per-unit secrets sealed to an escrow public key; the
station is reopened in QA mode with or without ``[keys] escrow`` (the escrow private key file). Each
case checks the verdict, the signed QA record and what the unit saw; the last one greps everything the QA
station said or kept for the unit's passphrase and user key.
"""

from __future__ import annotations

import dataclasses
import io
import logging
import traceback
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import x25519

from station.app.demo import demo_config, escrow_key_path
from station.app.station import Station
from station.cli.console import ProgressPrinter
from station.cli.main import main
from station.core import codec
from station.core.config import FixtureConfig, KeysSection
from station.core.errors import ConfigError
from station.core.events import Event, LogLine, Outcome
from station.devices.ppa.protocol import derive_user_private_key
from station.factory.backend import LocalBackend
from station.factory.escrow import open_sealed, raw_key_id
from station.pipeline.engine import Engine, RunContext, StepRecord
from station.pipeline.modes.qa.access import NO_ESCROW
from station.pipeline.tally import Verdict
from station.records.store.sqlite import DEFAULT_FILENAME
from station.sim.ppa.device import SimulatedPpa
from tests.pipeline.conftest import (
    STATION_ID,
    Line,
    LineFactory,
    _network_unit,
    failure_of,
    step_of,
    toml_text,
)

QA_LOGIN = ("POST", "/api/auth/token")


@dataclasses.dataclass(frozen=True)
class Escrow:
    """An escrow key pair: the private key in a 0600 file, the public key for the profile."""

    path: Path
    private: x25519.X25519PrivateKey

    @classmethod
    def make(cls, folder: Path, name: str = "escrow") -> Escrow:
        private = x25519.X25519PrivateKey.generate()
        path = folder / f"{name}.key"
        path.write_text(codec.b64encode(private.private_bytes_raw()) + "\n", encoding="ascii")
        path.chmod(0o600)
        return cls(path, private)

    @property
    def public_b64(self) -> str:
        return codec.b64encode(self.private.public_key().public_bytes_raw())

    @property
    def key_id(self) -> str:
        return raw_key_id(self.private.public_key().public_bytes_raw())

    @property
    def uri(self) -> str:
        return f"file:{self.path}"


def sealed_profile(escrow: Escrow) -> dict[str, Any]:
    return {"user": "Sealed Line", "hostname": "ppa.example.com", "escrow_public_key": escrow.public_b64}


@pytest.fixture
def escrow(tmp_path: Path) -> Escrow:
    return Escrow.make(tmp_path)


@dataclasses.dataclass
class Made:
    production: Line
    unit: SimulatedPpa
    verdict: Verdict
    qa: Line | None = None


@pytest.fixture
def made_units() -> Iterator[list[Made]]:
    made: list[Made] = []
    yield made
    for one in made:
        if one.qa is not None:
            one.qa.close()


def make_sealed(line_factory: LineFactory, escrow: Escrow, made: list[Made]) -> Made:
    """A production station with the sealed profile makes one network unit."""
    line = line_factory(network=[{}], profile=sealed_profile(escrow), environ={})
    (verdict,) = line.run()
    assert verdict.outcome is Outcome.PASS, verdict.failure
    assert "sealed_secrets" in verdict.record.payload["personalization"]
    one = Made(line, line.extra_units[0], verdict)
    made.append(one)
    return one


@pytest.fixture
def made(line_factory: LineFactory, escrow: Escrow, made_units: list[Made]) -> Made:
    """One unit made by a production station with the sealed profile (no escrow private key there)."""
    return make_sealed(line_factory, escrow, made_units)


def qa_run(made: Made, keys: Mapping[str, Any] | None, events: list[Event] | None = None) -> Verdict:
    """The production station's configuration reopened in QA mode with ``[keys]`` = ``keys``."""
    line = made.production
    line.station.close()
    config = dataclasses.replace(line.config, keys=KeysSection(**(keys or {})))
    station = Station.open(config, environ={}, mode="qa")
    if events is not None:
        station.bus.subscribe(events.append)
    units, line.extra_units = line.extra_units, []
    made.qa = Line(station, {}, units)
    (verdict,) = made.qa.run()
    return verdict


def secrets_of(made: Made, escrow: Escrow) -> dict[str, Any]:
    sealed = made.verdict.record.payload["personalization"]["sealed_secrets"]
    return open_sealed(sealed, escrow.private)


# --- with the escrow key ------------------------------------------------------------------------------------


def test_a_sealed_unit_passes_qa_with_the_escrow_key_after_a_read_only_login(
    made: Made, escrow: Escrow
) -> None:
    made.unit.requests_seen.clear()

    verdict = qa_run(made, {"escrow": escrow.uri})

    assert verdict.outcome is Outcome.PASS, verdict.failure
    production = made.verdict.record
    assert verdict.record.payload["links"]["verifies"] == production.record_id
    assert verdict.record.payload["unit"]["devid"] == production.payload["unit"]["devid"]
    seen = list(made.unit.requests_seen)
    assert seen.count(QA_LOGIN) == 1  # the login a personalised unit needs before it attests
    assert [request for request in seen if request[0] != "GET" and request != QA_LOGIN] == []
    login = step_of(verdict, "attest")["detail"]["login"]
    assert login == {"secrets": "sealed", "record_id": production.record_id, "escrow_key_id": escrow.key_id}
    assert step_of(verdict, "compare")["detail"]["mismatches"] == []


def test_a_batch_unit_still_passes_on_a_bench_that_holds_the_escrow_key(
    line_factory: LineFactory, escrow: Escrow, made_units: list[Made]
) -> None:
    line = line_factory(network=[{}])  # the batch profile: its record seals nothing
    (verdict,) = line.run()
    assert verdict.outcome is Outcome.PASS, verdict.failure
    line.station.close()
    config = dataclasses.replace(line.config, keys=KeysSection(escrow=escrow.uri))
    qa = Line(Station.open(config, environ=line.environ, mode="qa"), line.environ, line.extra_units)
    line.extra_units = []
    made_units.append(Made(line, qa.extra_units[0], verdict, qa))

    (checked,) = qa.run()

    assert checked.outcome is Outcome.PASS, checked.failure
    assert "login" not in step_of(checked, "attest").get("detail", {})


# --- without it, or with another one ------------------------------------------------------------------------


def test_without_the_escrow_key_qa_says_so_in_the_verdict_and_at_start_up(made: Made, escrow: Escrow) -> None:
    events: list[Event] = []

    verdict = qa_run(made, None, events)

    step, code, message = failure_of(verdict)
    assert (step, code) == ("attest", "no-credentials")
    assert message.startswith(NO_ESCROW)
    assert "[keys] escrow" in message
    notes = [event for event in events if isinstance(event, LogLine) and event.message == NO_ESCROW]
    assert len(notes) == 1 and notes[0].level == "warning"
    printed = io.StringIO()
    printer = ProgressPrinter(printed)
    printer(notes[0])
    assert printed.getvalue().count("\n") == 1  # one line on the console of `station qa`
    assert NO_ESCROW in printed.getvalue()


def test_a_bench_with_the_escrow_key_gives_no_start_up_note(made: Made, escrow: Escrow) -> None:
    events: list[Event] = []

    qa_run(made, {"escrow": escrow.uri}, events)

    assert not [event for event in events if isinstance(event, LogLine) and NO_ESCROW in event.message]


def test_another_escrow_key_fails_naming_both_keys_and_the_setting(
    made: Made, escrow: Escrow, tmp_path: Path
) -> None:
    other = Escrow.make(tmp_path, "other-escrow")
    made.unit.requests_seen.clear()

    verdict = qa_run(made, {"escrow": other.uri})

    step, code, message = failure_of(verdict)
    assert (step, code) == ("attest", "wrong-escrow-key")
    assert f"sealed to escrow key {escrow.key_id}, not to this bench's escrow key {other.key_id}" in message
    assert f"[keys] escrow = file:{other.path}" in message
    assert made.verdict.record.record_id in message
    assert QA_LOGIN not in made.unit.requests_seen  # no login was tried


def test_a_unit_whose_instance_no_record_knows_is_named_by_its_eid(
    made: Made, escrow: Escrow, tmp_path: Path
) -> None:
    line = made.production
    line.station.close()
    config = dataclasses.replace(line.config, keys=KeysSection(escrow=escrow.uri))
    station = Station.open(config, data_dir=tmp_path / "another-bench", environ={}, mode="qa")
    units, line.extra_units = line.extra_units, []
    made.qa = Line(station, {}, units)

    (verdict,) = made.qa.run()

    step, code, message = failure_of(verdict)
    assert (step, code) == ("attest", "no-credentials")
    assert f"(eid {made.verdict.record.payload['unit']['eid']})" in message
    assert "holds sealed secrets" in message


# --- the escrow key's configuration -------------------------------------------------------------------------


BAD_KEYS = {  # setting → (mode of the escrow key file, what the refusal says)
    "missing": (0o600, "the escrow key file does not exist"),
    "shared": (0o640, "escrow key file is readable by others (mode 640); run chmod 600"),
    "pem": (0o600, "its name ends in .key"),
}


@pytest.mark.parametrize("setting", sorted(BAD_KEYS))
def test_a_bad_escrow_key_file_stops_the_qa_bench_at_start_up(
    line_factory: LineFactory, escrow: Escrow, tmp_path: Path, setting: str
) -> None:
    mode, expected = BAD_KEYS[setting]
    line = line_factory(network=[{}], profile=sealed_profile(escrow), environ={})
    line.station.close()
    uri = {"missing": f"file:{tmp_path / 'nowhere.key'}", "pem": f"file:{tmp_path / 'escrow.pem'}"}
    escrow.path.chmod(mode)
    config = dataclasses.replace(line.config, keys=KeysSection(escrow=uri.get(setting, escrow.uri)))

    with pytest.raises(ConfigError, match=r"\[keys\.escrow\]") as refused:
        Station.open(config, environ={}, mode="qa")

    assert expected in str(refused.value)
    production = Station.open(config, environ={}, mode="production")  # production never reads it
    assert production.escrow is None
    production.close()


# --- the demo ---------------------------------------------------------------------------------------------


def test_the_demo_qa_bench_opens_units_the_demo_made(tmp_path: Path) -> None:
    data = tmp_path / "demo"
    demo = demo_config(data, fixtures=1)
    assert demo.keys.escrow is not None and escrow_key_path(data).is_file()
    backend = LocalBackend.from_keys(demo.keys, data, name=demo.station.id)
    unit = SimulatedPpa(backend_key=backend.checkin_public_key()).start()
    try:
        slot = FixtureConfig(slot="N1", kind="network", url=unit.http_url)
        config = dataclasses.replace(demo, fixtures=(slot,))
        verdicts = []
        for mode in ("production", "qa"):
            station = Station.open(config, data_dir=data, mode=mode)
            try:
                (verdict,) = station.run(units=1)
            finally:
                station.close()
            verdicts.append(verdict)
    finally:
        unit.stop()

    made, checked = verdicts
    assert made.outcome is Outcome.PASS, made.failure
    assert checked.outcome is Outcome.PASS, checked.failure
    assert step_of(checked, "attest")["detail"]["login"]["record_id"] == made.record.record_id


# --- no secret anywhere -------------------------------------------------------------------------------------


@pytest.fixture
def engine_exceptions(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """str, repr and traceback of every exception the engine classifies during the test."""
    texts: list[str] = []
    classify = Engine._classify

    def spy(self: Engine, ctx: RunContext, records: list[StepRecord], exc: Exception) -> Any:
        texts.extend([str(exc), repr(exc), *traceback.format_exception(exc)])
        return classify(self, ctx, records, exc)

    monkeypatch.setattr(Engine, "_classify", spy)
    return texts


def test_qa_of_a_sealed_unit_never_shows_its_passphrase_or_user_key(
    made: Made,
    escrow: Escrow,
    engine_exceptions: list[str],
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    passphrase = secrets_of(made, escrow)["passphrase"]
    eid = made.verdict.record.payload["unit"]["eid"]
    user_key = derive_user_private_key(passphrase, eid)
    caplog.set_level(logging.DEBUG)
    events: list[Event] = []
    made.unit.state.firmware.fwv = "Encedo nGINE FW v1.2.1"  # after the login a mismatch: failures speak too

    verdict = qa_run(made, {"escrow": escrow.uri}, events)

    step, code, _ = failure_of(verdict)
    assert (step, code) == ("compare", "mismatch")
    assert step_of(verdict, "attest")["detail"]["login"]["secrets"] == "sealed"  # the passphrase was used
    assert made.qa is not None
    captured = capsys.readouterr()
    texts = [
        *engine_exceptions,
        captured.out,
        captured.err,
        caplog.text,
        repr(made.qa.station),
        repr(verdict),
    ]
    texts += [str(event) + repr(event) for event in events]
    texts += [verdict.record.jws, str(verdict.record.payload)]
    made.qa.station.close()  # the WAL checkpointed into the file the test reads
    blobs = {path.name: path.read_bytes() for path in made.qa.data_dir.glob(f"{DEFAULT_FILENAME}*")}
    assert blobs
    forms = [
        passphrase,
        user_key.hex(),
        codec.b64encode(user_key),
        codec.b64url_encode(user_key),
        escrow.private.private_bytes_raw().hex(),
        codec.b64encode(escrow.private.private_bytes_raw()),
    ]
    for form in forms:
        assert not any(form in text for text in texts), "a secret shows in the QA station's output"
        for name, blob in blobs.items():
            assert form.encode() not in blob, name
    for name, blob in blobs.items():
        assert user_key not in blob and escrow.private.private_bytes_raw() not in blob, name


def test_a_unit_whose_owner_changed_the_passphrase_is_refused_by_the_unit_not_broken(
    made: Made, escrow: Escrow
) -> None:
    other = x25519.X25519PrivateKey.generate().public_key().public_bytes_raw()
    made.unit.state.config.userkey = other  # the owner set another passphrase

    verdict = qa_run(made, {"escrow": escrow.uri})

    step, code, message = failure_of(verdict)
    assert (step, code) == ("attest", "no-credentials")
    assert f"the passphrase sealed in record {made.verdict.record.record_id}" in message
    assert "its owner changed it" in message


# --- station qa on the command line ----------------------------------------------------------------------


def test_station_qa_notes_a_missing_escrow_key_once_at_start_up_and_passes_with_it(
    tmp_path: Path, escrow: Escrow, capsys: pytest.CaptureFixture[str]
) -> None:
    unit = _network_unit(tmp_path / "data")
    document: dict[str, Any] = {
        "station": {"id": STATION_ID, "data_dir": "data", "simulated": True},
        "profile": {"default": sealed_profile(escrow)},
        "fixture": [{"slot": "N1", "kind": "network", "url": unit.http_url}],
    }
    config = tmp_path / "station.toml"
    config.write_text(toml_text(document), encoding="utf-8")
    try:
        assert main(["run", "--config", str(config), "--units", "1"]) == 0
        capsys.readouterr()
        without = main(["qa", "--config", str(config), "--units", "1"])
        printed_without = capsys.readouterr().out
        config.write_text(toml_text({**document, "keys": {"escrow": escrow.uri}}), encoding="utf-8")
        with_key = main(["qa", "--config", str(config), "--units", "1"])
        printed_with = capsys.readouterr().out
    finally:
        unit.stop()

    assert without == 1
    notes = [line for line in printed_without.splitlines() if NO_ESCROW in line]
    assert len(notes) == 2  # the start-up note, then the unit's verdict
    assert notes[0].split() == ["station", "warning", *NO_ESCROW.split()]
    assert notes[1].split()[0] == "attest:"  # the verdict line under the unit
    assert with_key == 0
    assert NO_ESCROW not in printed_with

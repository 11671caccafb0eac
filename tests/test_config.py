"""station.toml loading: the shipped file loads, and every kind of bad input names file, key and choices."""

from __future__ import annotations

from pathlib import Path

import pytest

from station.app.assembly import Choices, check_and_plan
from station.app.demo import DEMO_FAMILIES, demo_config
from station.app.station import Station
from station.core.config import load
from station.core.errors import ConfigError
from station.factory.settingscheck import check_key_files
from station.records.store.sqlite import DEFAULT_FILENAME

REPO = Path(__file__).resolve().parent.parent

MINIMAL = """
[station]
id = "line1-st01"
simulated = true
"""
# What a station needs to be assembled, but for its fixtures (batch secrets: refused here before being read).
ASSEMBLABLE = MINIMAL + '[profile.p]\nsecrets = "batch"\npassphrase_env = "P"\nmnemonic_env = "M"\n'


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "station.toml"
    path.write_text(text)
    return path


def test_shipped_configuration_is_a_simulated_demo_station() -> None:
    config = load(REPO / "station.toml")
    assert config.station.simulated is True
    assert config.fixtures and all(f.kind == "simulated" for f in config.fixtures)
    assert len(config.sha256) == 64
    assert "default" in config.profiles


def test_shipped_configuration_passes_the_start_up_checks(tmp_path: Path) -> None:
    """What ``station run`` and the packaged example (share/examples/station.toml) start with."""
    config = load(REPO / "station.toml")
    plan = check_and_plan(config, Choices())
    assert plan.profile_name == "default" and plan.firmware is not None
    check_key_files(config, tmp_path / "data")


@pytest.mark.parametrize("family", DEMO_FAMILIES)
def test_demo_configurations_pass_the_start_up_checks(tmp_path: Path, family: str) -> None:
    config = demo_config(tmp_path, fixtures=4, family=family)
    check_and_plan(config, Choices())
    check_key_files(config, tmp_path)  # the demo's keys exist by now (0600)


def test_shipped_configuration_uses_loopback_only() -> None:
    text = (REPO / "station.toml").read_text()
    for forbidden in ("http://192.", "https://192.", "http://10.", "encedo.com"):
        assert forbidden not in text


def test_minimal_configuration_gets_defaults(tmp_path: Path) -> None:
    config = load(write(tmp_path, MINIMAL))
    assert config.station.id == "line1-st01"
    assert config.backend.kind == "local"
    assert config.fixtures == ()
    assert config.resolve("station-data") == tmp_path / "station-data"


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found") as info:
        load(tmp_path / "nope.toml")
    assert "nope.toml" in str(info.value)


def test_invalid_toml_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid TOML") as info:
        load(write(tmp_path, "[station\nid = 1"))
    assert str(tmp_path) in str(info.value)


@pytest.mark.parametrize(
    ("text", "key", "message"),
    [
        ("[station]\nsimulated = true\n", "station.id", "missing required key"),
        (
            MINIMAL + "colour = 'red'\n",
            "station.colour",
            "unknown key; allowed: data_dir, id, request_spacing, simulated",
        ),
        (MINIMAL + "request_spacing = -0.1\n", "station.request_spacing", "0 to 5"),
        (MINIMAL + "request_spacing = 60\n", "station.request_spacing", "0 to 5"),
        (MINIMAL + 'request_spacing = "fast"\n', "station.request_spacing", "expected float"),
        (MINIMAL + "[extras]\n", "extras", "unknown key"),
        ("[station]\nid = 5\n", "station.id", "expected str, got int 5"),
        ('[station]\nid = "x"\nsimulated = "yes"\n', "station.simulated", "expected bool"),
        (MINIMAL + '[backend]\nkind = "cloud"\n', "backend.kind", "choose one of local, remote"),
        (MINIMAL + '[backend]\nkind = "remote"\n', "backend.url", "remote backend needs url"),
        (MINIMAL + '[[fixture]]\nslot = "A1"\nkind = 3\n', "fixture[0].kind", "expected str, got int 3"),
        (MINIMAL + '[[fixture]]\nkind = "network"\n', "fixture[0].slot", "missing required key"),
        (
            MINIMAL
            + '[[fixture]]\nslot = "A1"\nkind = "simulated"\n[[fixture]]\nslot = "A1"\nkind = "simulated"\n',
            "fixture.slot",
            "repeated: A1",
        ),
        (MINIMAL + '[profile.p]\nsecrets = "plain"\n', "profile.p.secrets", "sealed, batch"),
        (MINIMAL + "[profile.p]\n", "profile.p.escrow_public_key", "escrow"),
        (MINIMAL + '[profile.p]\nsecrets = "batch"\n', "profile.p.passphrase_file", "passphrase_env"),
        (
            MINIMAL + '[profile.p]\nsecrets = "batch"\npassphrase_env = "P"\n',
            "profile.p.mnemonic_file",
            "mnemonic",
        ),
        (MINIMAL + "[profile.p]\ndnsd = 1\n", "profile.p.dnsd", "expected bool, got int"),
    ],
)
def test_bad_configuration_names_key_and_rule(tmp_path: Path, text: str, key: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load(write(tmp_path, text))
    assert info.value.key == key
    assert message in str(info.value)
    assert str(tmp_path / "station.toml") in str(info.value)


def test_production_station_refuses_simulated_fixtures(tmp_path: Path) -> None:
    text = '[station]\nid = "s"\nsimulated = false\n[[fixture]]\nslot = "A1"\nkind = "simulated"\n'
    with pytest.raises(ConfigError, match="production station") as info:
        load(write(tmp_path, text))
    assert info.value.key == "fixture[0].kind"


@pytest.mark.parametrize(
    ("fixture", "key", "message"),
    [
        ('kind = "teleport"', "fixture[0].kind", "this station knows: companion, network, simulated, usbnet"),
        ('kind = "network"', "fixture[0].url", "needs url"),
        ('kind = "usbnet"', "fixture[0].port", "needs port"),
        ('kind = "usbnet"\nport = "1-1.2"', "fixtures.usb_vendor", "not published"),
        ('kind = "companion"', "fixture[0].url", "Companion Service url"),
        ('kind = "simulated"\nfamily = "printer"', "fixture[0].family", "choose one of ppa, reader"),
        (
            'kind = "companion"\nurl = "http://127.0.0.1:3998"\nreenumeration_grace = 2',
            "fixture[0].reenumeration_grace",
            r"reenumeration_grace is the seconds .* 5 to 120 \(default 20\), not 2",
        ),
        (
            'kind = "companion"\nurl = "http://127.0.0.1:3998"\nreenumeration_grace = nan',
            "fixture[0].reenumeration_grace",
            "not nan",
        ),
        (
            'kind = "companion"\nurl = "http://127.0.0.1:3998"\nbusy_deadline = 61',
            "fixture[0].busy_deadline",
            r"busy_deadline is the seconds .*503.*: 0 to 60 \(default 30\), not 61",
        ),
        (
            'kind = "companion"\nurl = "http://127.0.0.1:3998"\nbusy_deadline = -1',
            "fixture[0].busy_deadline",
            "0 to 60",
        ),
        (
            'kind = "network"\nurl = "http://127.0.0.1:8443"\nbusy_deadline = 5',
            "fixture[0].busy_deadline",
            "a setting of companion fixtures",
        ),
    ],
)
def test_a_fixture_its_kind_refuses_stops_the_station_before_it_opens_anything(
    tmp_path: Path, fixture: str, key: str, message: str
) -> None:
    """The file only has the shape of ``[[fixture]]`` checked at load; its kind is the registry's to check,
    when the station is assembled: before the record store is opened or any slot started."""
    path = write(tmp_path, ASSEMBLABLE + f'[[fixture]]\nslot = "A1"\n{fixture}\n')
    config = load(path)
    data = tmp_path / "data"
    with pytest.raises(ConfigError, match=message) as info:
        Station.open(config, data_dir=data, environ={})
    assert (info.value.path, info.value.key) == (str(path), key)
    assert not (data / DEFAULT_FILENAME).exists()


@pytest.mark.parametrize(
    ("setting", "key", "message"),
    [
        ('ip = "192.168.7.1"', "profile.p.ip", "/8 to /30 prefix"),
        ('hostname = "bad_host!"', "profile.p.hostname", "RFC 1123"),
        ("storage_mode = 0x52", "profile.p.storage_mode", "0x51"),
        ('user = "' + "u" * 33 + '"', "profile.p.user", "at most 32 characters"),
        ("storage_disk0size = 99999999999999999", "profile.p.storage_disk0size", "from 1 to 121634815"),
        ('escrow_public_key = "AAAA"', "profile.p.escrow_public_key", "32 bytes"),
    ],
)
def test_a_profile_value_the_unit_would_refuse_stops_the_station_before_it_opens_anything(
    tmp_path: Path, setting: str, key: str, message: str
) -> None:
    """``load`` checks the profile's shape; its values are checked against the unit's rules when the
    station is assembled, before the record store is opened or any slot started."""
    path = write(tmp_path, ASSEMBLABLE + f'{setting}\n[[fixture]]\nslot = "A1"\nkind = "simulated"\n')
    config = load(path)
    data = tmp_path / "data"
    with pytest.raises(ConfigError, match=message) as info:
        Station.open(config, data_dir=data, environ={})
    assert (info.value.path, info.value.key) == (str(path), key)
    assert not (data / DEFAULT_FILENAME).exists()


def test_a_station_without_fixtures_does_not_open(tmp_path: Path) -> None:
    config = load(write(tmp_path, ASSEMBLABLE))
    with pytest.raises(ConfigError, match=r"\[fixture\] no \[\[fixture\]\] configured"):
        Station.open(config, data_dir=tmp_path / "data", environ={})

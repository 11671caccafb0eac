"""``station ca export``: where a station's factory CA certificate comes from, said truly per backend."""

from __future__ import annotations

from pathlib import Path

import pytest

from station.cli.main import main

REMOTE = """
[station]
id = "st01"
data_dir = "data"
[backend]
kind = "remote"
url = "https://backend.example"
"""


def test_a_remote_backend_without_ca_certificate_names_the_setting_not_a_first_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "station.toml"
    config.write_text(REMOTE)
    assert main(["ca", "export", "--config", str(config)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert f"{config}: [backend.ca_certificate]" in err
    assert "GET /ca" in err and "ca_certificate" in err
    assert "first start" not in err  # a remote backend's CA is never made by the station
    assert not (tmp_path / "data").exists()  # a reading verb creates nothing


def test_a_local_station_before_its_first_start_still_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "station.toml"
    config.write_text('[station]\nid = "st01"\ndata_dir = "data"\n')
    assert main(["ca", "export", "--config", str(config)]) == 2
    assert "created on the station's first start" in capsys.readouterr().err

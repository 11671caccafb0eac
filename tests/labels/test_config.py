"""The [label] table of station.toml: absent = labels off; every problem names the file and key.

``load`` checks the table's shape and ranges; the printer address and the template are the labels' to
check (``LabelService.from_config``), which the station does when it is assembled.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from station.app.station import Station
from station.core.config import LabelSection, load
from station.core.errors import ConfigError
from station.labels import LabelService
from station.labels.template import SHIPPED_TEMPLATE
from station.records.store.sqlite import DEFAULT_FILENAME

REPO = Path(__file__).resolve().parents[2]
BASE = '[station]\nid = "st01"\nsimulated = true\n'


def config_file(tmp_path: Path, label: str) -> Path:
    path = tmp_path / "station.toml"
    path.write_text(BASE + label, encoding="utf-8")
    return path


def test_the_shipped_station_has_labels_off() -> None:
    config = load(REPO / "station.toml")
    assert config.label is None
    assert LabelService.from_config(config) is None


def test_shipped_station_documents_the_section() -> None:
    text = (REPO / "station.toml").read_text(encoding="utf-8")
    assert '# [label]\n# printer = "tcp://' in text


def test_a_full_label_section(tmp_path: Path) -> None:
    (tmp_path / "labels").mkdir()
    (tmp_path / "labels" / "mine.zpl").write_text("^XA\n^FO1,1^FH^FD{devid}^FS\n^XZ\n", encoding="utf-8")
    path = config_file(
        tmp_path,
        '[label]\nprinter = "tcp://127.0.0.1:9100"\ntemplate = "labels/mine.zpl"\ntimeout = 2\n'
        'copies = 2\nproduct = "Encedo PPA (EU)"\ncheck_status = false\n',
    )
    label = load(path).label
    assert label == LabelSection(
        printer="tcp://127.0.0.1:9100",
        template="labels/mine.zpl",
        timeout=2.0,
        copies=2,
        product="Encedo PPA (EU)",
        check_status=False,
    )
    service = LabelService.from_config(load(path))
    assert service is not None and service.copies == 2 and service.printer.port == 9100
    assert service.template.name.endswith("mine.zpl") and not service.printer.check_status


def test_only_the_printer_is_needed(tmp_path: Path) -> None:
    config = load(config_file(tmp_path, '[label]\nprinter = "tcp://127.0.0.1"\n'))
    service = LabelService.from_config(config)
    assert service is not None and service.printer.address == "127.0.0.1:9100"
    assert service.template.name == f"label template {SHIPPED_TEMPLATE}"


@pytest.mark.parametrize(
    ("table", "key", "problem"),
    [
        ('[label]\ntemplate = "x.zpl"\n', "label.printer", "missing required key"),
        ('[label]\nprinter = "tcp://h:1"\ncolour = "red"\n', "label.colour", "unknown key"),
        ('[label]\nprinter = "tcp://h:1"\ncopies = "2"\n', "label.copies", "expected int, got str"),
        ('[label]\nprinter = "tcp://h:1"\ntimeout = "5s"\n', "label.timeout", "expected float, got str"),
        ('[label]\nprinter = "tcp://h:1"\ncheck_status = 1\n', "label.check_status", "expected bool"),
        ('[label]\nprinter = "tcp://h:1"\ncopies = 0\n', "label.copies", "between 1 and 100"),
        ('[label]\nprinter = "tcp://h:1"\ntimeout = 0\n', "label.timeout", "more than 0"),
    ],
)
def test_label_table_errors_name_file_and_key_at_load(
    tmp_path: Path, table: str, key: str, problem: str
) -> None:
    path = config_file(tmp_path, table)
    with pytest.raises(ConfigError, match=problem) as info:
        load(path)
    assert info.value.path == str(path) and info.value.key == key
    assert str(info.value).startswith(f"{path}: [{key}] ")


@pytest.mark.parametrize(
    ("table", "key", "problem"),
    [
        ('[label]\nprinter = "lp0"\n', "label.printer", "printer must be tcp://host:port"),
        (
            '[label]\nprinter = "tcp://h:1"\ntemplate = "none.zpl"\n',
            "label.template",
            "none.zpl does not exist",
        ),
    ],
)
def test_printer_and_template_errors_name_file_and_key(
    tmp_path: Path, table: str, key: str, problem: str
) -> None:
    """The labels check what only they understand: the file loads, the service refuses it."""
    path = config_file(tmp_path, table)
    config = load(path)
    with pytest.raises(ConfigError, match=problem) as info:
        LabelService.from_config(config)
    assert info.value.path == str(path) and info.value.key == key
    assert str(info.value).startswith(f"{path}: [{key}] ")


def test_label_must_be_a_table(tmp_path: Path) -> None:
    path = tmp_path / "station.toml"
    path.write_text("label = 3\n" + BASE, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[label\] must be a table"):
        load(path)


def test_a_template_with_an_unknown_field_is_refused(tmp_path: Path) -> None:
    (tmp_path / "odd.zpl").write_text("^XA\n^FO1,1^FH^FD{batch}^FS\n^XZ\n", encoding="utf-8")
    path = config_file(tmp_path, '[label]\nprinter = "tcp://h:1"\ntemplate = "odd.zpl"\n')
    with pytest.raises(ConfigError, match=r"\[label.template\] label template .*odd.zpl uses \{batch\}"):
        LabelService.from_config(load(path))


def test_a_template_that_breaks_the_rules_is_refused(tmp_path: Path) -> None:
    (tmp_path / "raw.zpl").write_text("^XA\n^FO1,1^FD{devid}^FS\n^XZ\n", encoding="utf-8")
    path = config_file(tmp_path, '[label]\nprinter = "tcp://h:1"\ntemplate = "raw.zpl"\n')
    with pytest.raises(ConfigError, match=r"line 2: the field holding \{devid\} needs \^FH"):
        LabelService.from_config(load(path))


def test_a_bad_template_stops_the_station_before_it_opens_anything(tmp_path: Path) -> None:
    """The station checks ``[label]`` when it is assembled: before the record store or any slot."""
    (tmp_path / "raw.zpl").write_text("^XA\n^FO1,1^FD{devid}^FS\n^XZ\n", encoding="utf-8")
    path = config_file(
        tmp_path,
        '[label]\nprinter = "tcp://127.0.0.1:9"\ntemplate = "raw.zpl"\n'
        '[profile.p]\nsecrets = "batch"\npassphrase_env = "P"\nmnemonic_env = "M"\n'
        '[[fixture]]\nslot = "A1"\nkind = "simulated"\n',
    )
    data = tmp_path / "data"
    with pytest.raises(ConfigError, match=r"needs \^FH") as info:
        Station.open(load(path), data_dir=data, environ={})
    assert (info.value.path, info.value.key) == (str(path), "label.template")
    assert not (data / DEFAULT_FILENAME).exists()

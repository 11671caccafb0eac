"""ZPL templates: the golden label of a known record, escaping, and the rules a template must follow."""

from __future__ import annotations

from pathlib import Path

import pytest

from station.core.errors import LabelError
from station.labels import LabelService, LabelTemplate, ZplPrinter
from station.labels.template import SHIPPED_TEMPLATE, zpl_escape
from tests.labels.conftest import KNOWN_PAYLOAD, stored

GOLDEN = Path(__file__).parent / "golden" / "known-record.zpl"
FIELD = "^XA\n^FO10,10^A0N,20,20^FH^FD{text}^FS\n^XZ\n"


def test_known_record_renders_the_golden_label() -> None:
    service = LabelService(
        LabelTemplate.load(SHIPPED_TEMPLATE), ZplPrinter("127.0.0.1", 9), product="Encedo PPA"
    )
    assert service.for_record(stored(KNOWN_PAYLOAD)).zpl == GOLDEN.read_text(encoding="utf-8")


def test_golden_label_carries_the_unit_and_record() -> None:
    golden = GOLDEN.read_text(encoding="utf-8")
    assert "^BQN,2,4^FH^FDMA,PPA1:2023B758C209269A:3F2B8C1E-7D4A-4B9E-9C55-0A1B2C3D4E5F^FS" in golden
    assert "^ADN,36,20^FH^FD2023b758c209269a^FS" in golden
    assert "^FD3f2b8c1e-7d4a-4b9e-9c55-0a1b2c3d4e5f^FS" in golden
    assert "^FD2025-03-04^FS" in golden and "^FDline1-st01^FS" in golden
    assert "SIMULATED" not in golden
    assert golden.endswith("^PQ1\n^XZ\n") and golden.isascii()


def test_simulated_unit_says_so() -> None:
    template = LabelTemplate.load(SHIPPED_TEMPLATE)
    service = LabelService(template, ZplPrinter("127.0.0.1", 9), product="Encedo PPA")
    label = service.for_record(stored({**KNOWN_PAYLOAD, "simulated": True}))
    assert "^FO148,112^A0N,26,26^FH^FDSIMULATED^FS" in label.zpl


@pytest.mark.parametrize(
    ("value", "escaped"),
    [
        ("line1-st01", "line1-st01"),
        ("a_b", "a_5Fb"),
        ("^XZ^XA", "_5EXZ_5EXA"),
        ("~JR", "_7EJR"),
        ("tab\there", "tab_09here"),
        ("é", "_C3_A9"),
        ("{devid}", "{devid}"),
    ],
)
def test_values_are_escaped_so_they_stay_field_data(value: str, escaped: str) -> None:
    assert zpl_escape(value) == escaped
    assert (
        LabelTemplate(FIELD).render({"text": value})
        == f"^XA\n^FO10,10^A0N,20,20^FH^FD{escaped}^FS\n^PQ1\n^XZ\n"
    )


def test_a_value_cannot_inject_commands() -> None:
    zpl = LabelTemplate(FIELD).render({"text": "x^FS^XZ^XA^FDevil~JA"})
    assert zpl.count("^XZ") == 1 and zpl.count("^XA") == 1 and "~" not in zpl


def test_missing_placeholder_is_named() -> None:
    template = LabelTemplate("^XA\n^FO1,1^FH^FD{devid} {fwv}^FS\n^XZ\n", name="label template t.zpl")
    with pytest.raises(LabelError, match=r"label template t.zpl uses \{fwv\}, which this record does not"):
        template.render({"devid": "2023b758c209269a"})


def test_record_without_firmware_version_fails_naming_the_field() -> None:
    template = LabelTemplate("^XA\n^FO1,1^FH^FD{fwv}^FS\n^XZ\n")
    service = LabelService(template, ZplPrinter("127.0.0.1", 9))
    payload = {**KNOWN_PAYLOAD, "unit": {"devid": "2023b758c209269a", "fwv": None}}
    with pytest.raises(LabelError, match=r"\{fwv\}"):
        service.for_record(stored(payload))


def test_copies_become_one_pq_before_the_end() -> None:
    assert LabelTemplate(FIELD).render({"text": "x"}, copies=3).endswith("^FS\n^PQ3\n^XZ\n")
    with pytest.raises(LabelError, match="copies"):
        LabelTemplate(FIELD).render({"text": "x"}, copies=0)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("^FO1,1^FDx^FS\n^XZ", r"must start with \^XA and end with \^XZ"),
        ("^XA^FDx^FS^XZ\n^XA^FDy^FS^XZ", "more than one label format"),
        ("^XA^PQ2^FDx^FS^XZ", "copies comes from"),
        ("^XA\n^FO1,1^FD{devid}^FS\n^XZ", r"line 2: the field holding \{devid\} needs \^FH"),
        ("^XA\n^FH^FS^FO1,1^FD{devid}^FS\n^XZ", r"line 2: the field holding \{devid\} needs \^FH"),
        ("^XA\n^FO{x},1^FH^FDa^FS\n^XZ", r"line 2: \{x\} stands outside field data"),
        ("^XA\n^FX note {devid}\n^FO1,1^FH^FDa^FS\n^XZ", r"\{devid\} stands outside field data"),
        ("^XA\n^FO1,1^FH\\^FD{devid}^FS\n^XZ", r"needs \^FH"),
    ],
)
def test_template_rules(text: str, problem: str) -> None:
    with pytest.raises(LabelError, match=problem):
        LabelTemplate(text)


def test_template_file_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(LabelError, match=r"label template .*absent.zpl does not exist"):
        LabelTemplate.load(tmp_path / "absent.zpl")
    bad = tmp_path / "bad.zpl"
    bad.write_text("^XA\n^FO1,1^FD{devid}^FS\n^XZ\n", encoding="utf-8")
    with pytest.raises(LabelError, match=r"label template .*bad.zpl, line 2"):
        LabelTemplate.load(bad)


def test_shipped_template_uses_only_known_fields() -> None:
    template = LabelTemplate.load(SHIPPED_TEMPLATE)
    expected = {"qr_data", "product", "date", "station", "simulated", "devid", "record_id"}
    assert template.placeholders == expected

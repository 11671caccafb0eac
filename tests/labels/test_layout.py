"""Reading a rendered ZPL label back into positions for the preview (the subset the preview draws)."""

from __future__ import annotations

from station.labels.layout import BoxField, QrField, TextField, label_layout


def test_fields_positions_fonts_and_escapes() -> None:
    layout = label_layout(
        "^XA^PW600^LL300^LH10,5\n"
        "^FO20,30^BQN,2,3^FH^FDQA,PPA1:AB:CD^FS\n"
        "^FO100,40^A0N,25^FH^FDa_5Fb_C3_A9^FS\n"
        "^FO100,80^ADN^FDplain_5F^FS\n"
        "^CFE,56\n^FO100,120^FDdefault^FS\n"
        "^FO0,0^GB600,300,3^FS\n"
        "^FO1,1^FH^FD^FS\n"
        "^PQ1^XZ"
    )
    assert (layout.width, layout.height) == (600, 300)
    assert layout.qr_codes == [QrField(30, 35, 3, "Q", "PPA1:AB:CD")]
    assert layout.texts == [
        TextField(110, 45, 25, 25, monospace=False, text="a_bé"),  # ^FH hex bytes, UTF-8
        TextField(110, 85, 18, 10, monospace=True, text="plain_5F"),  # no ^FH: taken as it is
        TextField(110, 125, 56, 15, monospace=True, text="default"),  # ^CF: font E, 56 dots high
    ]
    assert layout.boxes == [BoxField(10, 5, 600, 300, 3)]  # the empty field draws nothing


def test_unknown_commands_are_skipped() -> None:
    layout = label_layout("^XA~SD20^MMT^FO5,5^A0N,20,20^FDx^FS^XZ")
    assert [text.text for text in layout.texts] == ["x"]

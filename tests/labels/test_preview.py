"""The label preview widget paints, offscreen: every QR module where segno puts it, and the text lines.

Without Qt this module is not collected (``conftest.py``), except under CI, where that is a failure.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
import segno
from PySide6.QtGui import QColor, QImage

from station.gui.widgets.labelpreview import LabelPreview, QrPlacement
from station.labels import Label, LabelService, LabelTemplate, ZplPrinter
from station.labels.layout import label_layout
from station.labels.template import SHIPPED_TEMPLATE
from tests.labels.conftest import KNOWN_PAYLOAD, stored

if TYPE_CHECKING:
    from pytestqt.qtbot import QtBot

DARK, LIGHT = 100, 160  # grey levels: a module or glyph pixel is darker than DARK, paper lighter than LIGHT


def known_label(simulated: bool = False) -> Label:
    service = LabelService(
        LabelTemplate.load(SHIPPED_TEMPLATE), ZplPrinter("127.0.0.1", 9), product="Encedo PPA"
    )
    return service.for_record(stored({**KNOWN_PAYLOAD, "simulated": simulated}))


def shown(
    qtbot: QtBot, label: Label | None, width: int = 516, height: int = 316
) -> tuple[LabelPreview, QImage]:
    preview = LabelPreview()
    qtbot.addWidget(preview)
    preview.resize(width, height)
    preview.show_label(label)
    image = preview.grab().toImage()
    assert image.width() == width  # offscreen: one device pixel per logical pixel
    return preview, image


def grey(image: QImage, x: float, y: float) -> int:
    return QColor(image.pixel(int(x), int(y))).lightness()


def test_every_qr_module_is_drawn_where_segno_puts_it(qtbot: QtBot) -> None:
    label = known_label()
    preview, image = shown(qtbot, label)
    [placement] = preview.qr_placements()
    expected = segno.make_qr(label.fields["qr_data"], error="m", boost_error=False)
    assert placement.matrix == tuple(tuple(bool(m) for m in row) for row in expected.matrix)
    assert len(placement.matrix) == 29  # version 3: the alphanumeric payload keeps the symbol small
    assert placement.module >= 4  # big enough to sample module centres
    assert _module_mismatches(image, placement) == []


def _module_mismatches(image: QImage, placement: QrPlacement) -> list[tuple[int, int]]:
    wrong = []
    for row, modules in enumerate(placement.matrix):
        for column, dark in enumerate(modules):
            x = placement.x + (column + 0.5) * placement.module
            y = placement.y + (row + 0.5) * placement.module
            level = grey(image, x, y)
            if (dark and level > DARK) or (not dark and level < LIGHT):
                wrong.append((row, column))
    return wrong


def test_text_lines_are_drawn_where_the_template_puts_them(qtbot: QtBot) -> None:
    label = known_label(simulated=True)
    preview, image = shown(qtbot, label)
    layout = label_layout(label.zpl)
    [placement] = preview.qr_placements()
    scale = placement.module / layout.qr_codes[0].module
    left = placement.x - layout.qr_codes[0].x * scale
    top = placement.y - layout.qr_codes[0].y * scale
    for text in layout.texts:
        box = (
            left + text.x * scale,
            top + text.y * scale,
            len(text.text) * text.width * 0.5 * scale,
            text.height * scale,
        )
        assert _ink(image, *box) > 0.05, f"no ink where {text.text!r} belongs"
    assert [text.text for text in layout.texts] == [
        "Encedo PPA", "2025-03-04", "line1-st01", "SIMULATED", "2023b758c209269a",
        "3f2b8c1e-7d4a-4b9e-9c55-0a1b2c3d4e5f",
    ]  # fmt: skip
    assert "2023b758c209269a" in preview.accessibleDescription()


def _ink(image: QImage, x: float, y: float, width: float, height: float) -> float:
    """The share of dark pixels in the box."""
    pixels = [(int(x + i), int(y + j)) for i in range(int(width)) for j in range(int(height))]
    return sum(grey(image, px, py) < DARK for px, py in pixels) / max(1, len(pixels))


def test_the_label_keeps_its_shape_and_the_widget_scales_it(qtbot: QtBot) -> None:
    preview, _ = shown(qtbot, known_label(), width=816, height=316)
    [placement] = preview.qr_placements()
    assert placement.module == pytest.approx(4 * 300 / 240)  # height-bound: 300 px for 240 dots


def test_no_label_paints_a_placeholder(qtbot: QtBot) -> None:
    preview, image = shown(qtbot, None)
    assert preview.qr_placements() == []
    assert preview.accessibleName() == "Label preview: no label"
    background = image.pixel(1, 1)
    assert any(image.pixel(x, y) != background for x in range(image.width()) for y in range(140, 180))

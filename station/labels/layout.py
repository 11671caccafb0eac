"""Where a rendered ZPL label puts its text and QR code (read from the ZPL itself), for the GUI's preview.

>>> layout = label_layout("^XA^PW400^LL240^FO16,150^ADN,36,20^FDPPA^FS^FO16,16^BQN,2,4^FDMA,PPA1^FS^XZ")
>>> layout.width, layout.height, [(t.x, t.y, t.text) for t in layout.texts]
(400, 240, [(16, 150, 'PPA')])
>>> layout.qr_codes[0].data, layout.qr_codes[0].module
('PPA1', 4)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

DEFAULT_WIDTH, DEFAULT_HEIGHT = 400, 240  # 50 x 30 mm at 203 dpi (8 dots/mm)
_COMMAND = re.compile(r"([\^~])([A-Z@0-9][A-Z@0-9]?)([^\^~]*)", re.DOTALL)
_HEX = re.compile(r"_([0-9A-Fa-f]{2})")
# ZPL bitmap fonts are fixed-pitch; font 0 (CG Triumvirate) is proportional. (height, width) in dots.
BITMAP_FONTS = {"A": (9, 5), "B": (11, 7), "C": (18, 10), "D": (18, 10), "E": (28, 15), "F": (26, 13),
                "G": (60, 40), "H": (21, 13)}  # fmt: skip


@dataclass(frozen=True)
class TextField:
    x: int
    y: int
    height: int
    width: int
    monospace: bool
    text: str


@dataclass(frozen=True)
class QrField:
    x: int
    y: int
    module: int  # dots per module (^BQ magnification)
    error: str  # L, M, Q or H
    data: str


@dataclass(frozen=True)
class BoxField:
    x: int
    y: int
    width: int
    height: int
    thickness: int


@dataclass
class LabelLayout:
    width: int = DEFAULT_WIDTH
    height: int = DEFAULT_HEIGHT
    texts: list[TextField] = field(default_factory=list)
    qr_codes: list[QrField] = field(default_factory=list)
    boxes: list[BoxField] = field(default_factory=list)


@dataclass
class _Field:
    """What the commands since the last ^FS said about the field being built."""

    x: int = 0
    y: int = 0
    font: tuple[str, int, int] = ("0", 9, 5)
    hex_escapes: bool = False
    qr_module: int | None = None
    box: tuple[int, int, int] | None = None
    data: str | None = None


def label_layout(zpl: str) -> LabelLayout:
    """The text, QR and box fields of ``zpl`` with their positions (dots)."""
    layout = LabelLayout()
    state = _Reader(layout)
    for match in _COMMAND.finditer(zpl.replace("\r", "").replace("\n", "")):  # ZPL ignores line breaks
        state.command(match[2], match[3])
    return layout


class _Reader:
    def __init__(self, layout: LabelLayout) -> None:
        self.layout = layout
        self.home = (0, 0)
        self.default_font = ("0", 9, 5)
        self.field = _Field(font=self.default_font)
        self.handlers: dict[str, Callable[[str], None]] = {
            "LH": self._label_home,
            "PW": self._print_width,
            "LL": self._label_length,
            "FO": self._field_origin,
            "FH": self._hex_escapes,
            "BQ": self._qr_code,
            "GB": self._graphic_box,
            "FD": self._field_data,
            "FS": self._field_end,
        }

    def command(self, name: str, args: str) -> None:
        if name.startswith("A") and len(name) == 2 and name != "A@":
            self.field.font = _font(name[1], args, self.default_font)
        elif name == "CF":  # ^CFf,h,w: the default font (no orientation)
            font_name, _, sizes = args.partition(",")
            self.default_font = self.field.font = _font(font_name.strip() or "0", f"N,{sizes}", None)
        elif name in self.handlers:
            self.handlers[name](args)

    def _label_home(self, args: str) -> None:
        x, y = _ints(args, 2)
        self.home = (x, y)

    def _print_width(self, args: str) -> None:
        self.layout.width = _ints(args, 1)[0] or DEFAULT_WIDTH

    def _label_length(self, args: str) -> None:
        self.layout.height = _ints(args, 1)[0] or DEFAULT_HEIGHT

    def _field_origin(self, args: str) -> None:
        x, y = _ints(args, 2)
        self.field.x, self.field.y = self.home[0] + x, self.home[1] + y

    def _hex_escapes(self, args: str) -> None:
        self.field.hex_escapes = True

    def _qr_code(self, args: str) -> None:
        parts = _split(args, 3)
        self.field.qr_module = int(parts[2]) if parts[2].isdigit() else 2

    def _graphic_box(self, args: str) -> None:
        width, height, thickness = _ints(args, 3)
        self.field.box = (width, height, thickness or 1)

    def _field_data(self, args: str) -> None:
        self.field.data = _unescape(args) if self.field.hex_escapes else args

    def _field_end(self, args: str) -> None:
        self._emit(self.field)
        self.field = _Field(font=self.default_font)

    def _emit(self, current: _Field) -> None:
        if current.box is not None:
            width, height, thickness = current.box
            box = BoxField(current.x, current.y, max(width, thickness), max(height, thickness), thickness)
            self.layout.boxes.append(box)
        elif current.qr_module is not None and current.data is not None:
            error, _, data = current.data.partition(",")
            qr = QrField(current.x, current.y, current.qr_module, (error[:1] or "M").upper(), data)
            self.layout.qr_codes.append(qr)
        elif current.data:
            name, height, width = current.font
            self.layout.texts.append(
                TextField(current.x, current.y, height, width, name in BITMAP_FONTS, current.data)
            )


def _font(name: str, args: str, fallback: tuple[str, int, int] | None) -> tuple[str, int, int]:
    """``^A<name><orientation>,h,w``: unspecified sizes come from the bitmap font's cell (or the default)."""
    parts = _split(args, 3)
    base_height, base_width = BITMAP_FONTS.get(name, fallback[1:] if fallback else (9, 5))
    height = int(parts[1]) if parts[1].isdigit() else base_height
    width = int(parts[2]) if parts[2].isdigit() else (height if name not in BITMAP_FONTS else base_width)
    return name, height, width


def _split(args: str, count: int) -> list[str]:
    parts = [part.strip() for part in args.split(",")]
    return (parts + [""] * count)[:count]


def _ints(args: str, count: int) -> list[int]:
    return [int(part) if part.isdigit() else 0 for part in _split(args, count)]


def _unescape(data: str) -> str:
    """``^FH`` field data back to text: ``_XX`` hex bytes, decoded as UTF-8."""
    raw = bytearray()
    position = 0
    for match in _HEX.finditer(data):
        raw += data[position : match.start()].encode("utf-8") + bytes([int(match[1], 16)])
        position = match.end()
    raw += data[position:].encode("utf-8")
    return raw.decode("utf-8", "replace")

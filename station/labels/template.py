r"""ZPL label templates with ``{placeholders}``, filled with values escaped so that a value stays data.

>>> template = LabelTemplate("^XA^FO16,16^A0N,30,30^FH^FD{devid}^FS^XZ")
>>> template.render({"devid": "ab^XZ"})                 # cannot end the label early
'^XA^FO16,16^A0N,30,30^FH^FDab_5EXZ^FS^PQ1\n^XZ'
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from station.core.errors import LabelError

# Package data (pyproject.toml [tool.setuptools.package-data]): in a wheel, an editable install and the
# PyInstaller bundle alike, found where the package is, never relative to a source checkout.
SHIPPED_TEMPLATE = Path(str(resources.files("station.labels").joinpath("unit.zpl")))
PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")
_FIELD_DATA = re.compile(r"\^FD[^\^~]*")
_FIELD_START = re.compile(r"\^(FS|XA)")
_HEX_ESCAPES = re.compile(r"\^FH_?(?=[\^~])")
_PRINTABLE = frozenset(chr(code) for code in range(0x20, 0x7F)) - set("_^~")
MAX_COPIES = 100


def zpl_escape(value: str) -> str:
    """``value`` as ``^FH`` field data: ZPL's special characters and non-ASCII as ``_XX`` UTF-8 bytes."""
    return "".join(
        char if char in _PRINTABLE else "".join(f"_{byte:02X}" for byte in char.encode("utf-8"))
        for char in value
    )


@dataclass(frozen=True)
class LabelTemplate:
    """A checked ZPL template; ``name`` says where it came from in error messages."""

    text: str
    name: str = "label template"

    def __post_init__(self) -> None:
        _check_frame(self.text, self.name)
        _check_placeholders(self.text, self.name)

    @classmethod
    def load(cls, path: Path) -> LabelTemplate:
        """Read and check the template at ``path`` (LabelError naming the file on any problem)."""
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise LabelError(f"label template {path} does not exist") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise LabelError(f"cannot read label template {path}: {exc}") from None
        return cls(text, name=f"label template {path}")

    @property
    def placeholders(self) -> frozenset[str]:
        return frozenset(match[1] for match in PLACEHOLDER.finditer(self.text))

    def render(self, values: Mapping[str, str], *, copies: int = 1) -> str:
        """The ZPL document for ``values``: every placeholder filled and escaped, ``^PQ`` copies added."""
        missing = sorted(self.placeholders - values.keys())
        if missing:
            raise LabelError(f"{self.name} uses {{{missing[0]}}}, which this record does not provide")
        if not 1 <= copies <= MAX_COPIES:
            raise LabelError(f"copies must be between 1 and {MAX_COPIES}, not {copies}")
        body = PLACEHOLDER.sub(lambda match: zpl_escape(values[match[1]]), self.text)
        end = body.rstrip().rindex("^XZ")
        return f"{body[:end]}^PQ{copies}\n{body[end:]}"


def _check_frame(text: str, name: str) -> None:
    body = text.strip()
    if not body.startswith("^XA") or not body.endswith("^XZ"):
        raise LabelError(f"{name} must start with ^XA and end with ^XZ (one label format)")
    if body.count("^XA") != 1 or body.count("^XZ") != 1:
        raise LabelError(f"{name} holds more than one label format (^XA...^XZ); a unit gets one label")
    if "^PQ" in body:
        raise LabelError(f"{name} sets ^PQ; the number of copies comes from [label] copies")


def _check_placeholders(text: str, name: str) -> None:
    """Each placeholder stands in field data, in a field with ``^FH`` (so escaped values stay data)."""
    data = [(match.start(), match.end()) for match in _FIELD_DATA.finditer(text)]
    for match in PLACEHOLDER.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        where = next(((start, end) for start, end in data if start < match.start() < end), None)
        if where is None:
            raise LabelError(f"{name}, line {line}: {match[0]} stands outside field data (^FD...)")
        if not _HEX_ESCAPES.search(text, _field_start(text, where[0]), where[0] + 1):
            raise LabelError(f"{name}, line {line}: the field holding {match[0]} needs ^FH before ^FD")


def _field_start(text: str, before: int) -> int:
    """Where the field that ends with the ``^FD`` at ``before`` began (after the previous ^FS or ^XA)."""
    starts = [match.end() for match in _FIELD_START.finditer(text, 0, before)]
    return starts[-1] if starts else 0

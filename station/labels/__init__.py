"""Unit labels: a ZPL template filled from a passing unit's record, sent to a label printer over TCP.

The QR code on a label names the unit and its record, so a scan finds both again:

>>> from station.labels import parse_qr, qr_payload
>>> parse_qr(qr_payload("2023b758c209269a", "r-0001"))
('2023b758c209269a', 'r-0001')
"""

from station.labels.content import parse_qr, qr_payload
from station.labels.printer import HostStatus, ZplPrinter, parse_address
from station.labels.service import Label, LabelService
from station.labels.template import LabelTemplate

__all__ = [
    "HostStatus",
    "Label",
    "LabelService",
    "LabelTemplate",
    "ZplPrinter",
    "parse_address",
    "parse_qr",
    "qr_payload",
]

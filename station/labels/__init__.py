"""Unit labels: a ZPL template filled from a passing unit's record, sent to a label printer over TCP.

Example::

    labels = LabelService.from_config(config)      # None without a [label] section: labels are off
    message = labels.after_pass(stored) if labels else None    # "label printed" / "label not printed: ..."

Modules: ``template`` (ZPL with ``{placeholders}``, values escaped), ``content`` (a record's label fields
and the QR payload ``PPA1:<DEVID>:<RECORD-ID>``), ``printer`` (the raw TCP port, ``~HS`` status),
``service`` (after a pass, reprint), ``layout`` (where the ZPL puts things, for the GUI preview). Nothing
here imports Qt; the preview widget is ``station.gui.widgets.labelpreview``.
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

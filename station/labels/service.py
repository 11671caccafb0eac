"""Unit labels for stored records: made from a template, printed after a pass, reprinted (audited).

>>> labels = LabelService(load_template(SHIPPED_TEMPLATE, product="PPA"), ZplPrinter("127.0.0.1", 9))
>>> import json, dataclasses; payload = json.loads(json.dumps(dataclasses.asdict(SAMPLE_RECORD)))  # as stored
>>> unit = StoredRecord("st01", 1, "r-1", None, None, "production", "pass", "", "", payload)
>>> labels.after_pass(unit)              # never raises: the record is stored, the operator reprints it
'label not printed: printer 127.0.0.1:9 refused the connection'
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from station.core.errors import ConfigError, LabelError, LabelRefused, RecordError
from station.core.events import LABEL_NOT_PRINTED
from station.labels.content import SAMPLE_RECORD, label_fields, labelled
from station.labels.printer import ZplPrinter, parse_address
from station.labels.template import SHIPPED_TEMPLATE, LabelTemplate
from station.records.entries import StoredRecord
from station.records.store import RecordStore

if TYPE_CHECKING:
    from station.core.config import LabelSection, StationConfig

log = logging.getLogger(__name__)

AuditLog = Callable[[str, Mapping[str, str]], None]


@dataclass(frozen=True)
class Label:
    """One unit's label: the text fields (with ``qr_data``) and the ZPL document that prints it."""

    record_id: str
    devid: str
    fields: Mapping[str, str]
    zpl: str


def template_path(section: LabelSection, config_path: str) -> Path:
    """The template ``section`` names, relative to the config file; the shipped one when it names none."""
    if section.template is None:
        return SHIPPED_TEMPLATE
    candidate = Path(section.template)
    return candidate if candidate.is_absolute() else Path(config_path).parent / candidate


def load_template(path: Path, *, product: str) -> LabelTemplate:
    """Load and check the template at ``path``, and render it once with a sample record."""
    template = LabelTemplate.load(path)
    template.render({**label_fields(SAMPLE_RECORD), "product": product})
    return template


@contextmanager
def _refused_as_config(config_path: str, key: str) -> Iterator[None]:
    """A LabelError raised inside becomes the ConfigError of setting ``key`` in the station's file."""
    try:
        yield
    except LabelError as exc:
        raise ConfigError(str(exc), path=config_path, key=key) from None


class LabelService:
    """Makes labels from stored records with one template and prints them on one printer."""

    def __init__(
        self, template: LabelTemplate, printer: ZplPrinter, *, product: str = "", copies: int = 1
    ) -> None:
        self.template = template
        self.printer = printer
        self.product = product
        self.copies = copies
        self._turn = threading.Lock()

    def __repr__(self) -> str:
        return f"LabelService({self.template.name!r}, {self.printer!r}, copies={self.copies})"

    @classmethod
    def from_config(cls, config: StationConfig) -> LabelService | None:
        """The service ``[label]`` describes, or None when the file has no ``[label]`` (labels off).

        Called when the station is assembled: a printer address or template this module refuses is a
        ConfigError naming the file and ``label.printer`` / ``label.template``.
        """
        section = config.label
        if section is None:
            return None
        with _refused_as_config(config.path, "label.printer"):
            host, port = parse_address(section.printer)
        with _refused_as_config(config.path, "label.template"):
            template = load_template(template_path(section, config.path), product=section.product)
        printer = ZplPrinter(host, port, timeout=section.timeout, check_status=section.check_status)
        return cls(template, printer, product=section.product, copies=section.copies)

    def for_record(self, stored: StoredRecord) -> Label:
        """The label of ``stored``; LabelRefused when its record gets none (see ``content.labelled``)."""
        try:
            record = stored.parsed
        except RecordError as exc:  # a damaged row: ``station records verify`` says more
            raise LabelRefused(
                f"no label for record {stored.record_id}: its payload is unreadable ({exc})"
            ) from None
        refusal = labelled(record)
        if refusal is not None:
            raise LabelRefused(f"no label for record {stored.record_id}: {refusal}")
        fields = {**label_fields(record), "product": self.product}
        zpl = self.template.render(fields, copies=self.copies)
        return Label(record_id=stored.record_id, devid=fields.get("devid", ""), fields=fields, zpl=zpl)

    def print(self, label: Label) -> None:
        """Send ``label`` to the printer, after any label another slot is printing; LabelError on faults."""
        if not self._turn.acquire(timeout=self.printer.timeout):
            raise LabelError(
                f"printer {self.printer.address} is still busy with another label after "
                f"{self.printer.timeout:g} s",
                printer=self.printer.address,
            )
        try:
            self.printer.send(label.zpl)
        finally:
            self._turn.release()

    def reprint(self, record_id: str, store: RecordStore, *, audit: AuditLog) -> Label:
        """Print the label of record ``record_id`` again, audited before and after; returns the label."""
        stored = store.get(record_id)
        if stored is None:
            raise LabelRefused(f"no label for record {record_id}: there is no such record")
        label = self.for_record(stored)
        detail = {"record_id": record_id, "devid": label.devid, "printer": self.printer.address}
        audit("label.reprint", detail)
        try:
            self.print(label)
        except LabelError as exc:
            audit("label.reprint.failed", {**detail, "reason": str(exc)})
            raise
        audit("label.reprint.printed", detail)
        return label

    def after_pass(self, stored: StoredRecord) -> str | None:
        """Print the label of a just-stored record; the slot log line, or None when it gets no label."""
        record = stored.readable
        if record is None or labelled(record) is not None:
            return None
        try:
            self.print(self.for_record(stored))
        except LabelError as exc:
            log.warning("label for record %s not printed: %s", stored.record_id, exc)
            return f"{LABEL_NOT_PRINTED}: {exc}"
        except Exception:  # a bug in labelling must not fail a unit that passed: its record is stored
            log.exception("label for record %s not printed", stored.record_id)
            return f"{LABEL_NOT_PRINTED}: internal error (see the station log); reprint from the records view"
        return "label printed"

"""LabelService over real signed records and the fake printer: after a pass, reprints, audit, faults."""

from __future__ import annotations

import threading
from collections.abc import Mapping

import pytest

from station.core.errors import LabelError, LabelRefused
from station.labels import LabelService, LabelTemplate, ZplPrinter
from station.labels.content import qr_payload
from station.records import RecordWriter, SqliteStore
from station.records.entries import StoredRecord
from tests.fakeprinter import Behaviour, FakePrinter
from tests.labels.conftest import KNOWN_PAYLOAD, stored
from tests.records.factories import draft, make_ca


class AuditTrail:
    """Collects ``audit(action, detail)`` calls, as the station's audit log would receive them."""

    def __init__(self, fail: bool = False) -> None:
        self.entries: list[tuple[str, dict[str, str]]] = []
        self.fail = fail

    def __call__(self, action: str, detail: Mapping[str, str]) -> None:
        if self.fail:
            raise OSError("audit log is full")
        self.entries.append((action, dict(detail)))


def test_after_pass_prints_the_records_label(
    printer: FakePrinter, service: LabelService, passed: StoredRecord
) -> None:
    assert service.after_pass(passed) == "label printed"
    label = service.for_record(passed)
    assert printer.wait_documents(1) == [label.zpl]
    assert qr_payload(passed.devid or "", passed.record_id) in label.zpl
    assert f"^FD{passed.devid}^FS" in label.zpl and "^FDSIMULATED^FS" in label.zpl  # a simulator unit


def test_after_pass_with_the_printer_down_returns_the_reason(
    printer: FakePrinter, service: LabelService, passed: StoredRecord, store: SqliteStore
) -> None:
    printer.behave(Behaviour.REFUSE)
    message = service.after_pass(passed)
    assert message == f"label not printed: printer 127.0.0.1:{printer.port} refused the connection"
    assert store.get(passed.record_id) == passed  # the record stays as it was


def test_after_pass_survives_a_bug_in_labelling(printer: FakePrinter, passed: StoredRecord) -> None:
    template = LabelTemplate("^XA\n^FO1,1^FH^FD{fwv}^FS\n^XZ\n")
    broken = LabelService(template, ZplPrinter("127.0.0.1", printer.port, timeout=5))
    payload = {**passed.payload, "unit": {**passed.payload["unit"], "fwv": None}}
    message = broken.after_pass(stored(payload))
    assert message is not None and message.startswith("label not printed: ") and "{fwv}" in message


def test_failed_units_get_no_label(printer: FakePrinter, service: LabelService, failed: StoredRecord) -> None:
    assert service.after_pass(failed) is None
    with pytest.raises(LabelRefused, match="the unit did not pass"):
        service.for_record(failed)
    assert printer.documents == []


def test_reprint_is_audited_before_and_after(
    printer: FakePrinter, service: LabelService, passed: StoredRecord, store: SqliteStore
) -> None:
    audit = AuditTrail()
    label = service.reprint(passed.record_id, store, audit=audit)
    assert printer.wait_documents(1) == [label.zpl]
    detail = {"record_id": passed.record_id, "devid": passed.devid, "printer": f"127.0.0.1:{printer.port}"}
    assert audit.entries == [("label.reprint", detail), ("label.reprint.printed", detail)]


def test_reprint_to_a_dead_printer_is_audited_as_failed(
    printer: FakePrinter, service: LabelService, passed: StoredRecord, store: SqliteStore
) -> None:
    printer.behave(Behaviour.RESET)
    audit = AuditTrail()
    with pytest.raises(LabelError, match="reset the connection"):
        service.reprint(passed.record_id, store, audit=audit)
    assert [action for action, _ in audit.entries] == ["label.reprint", "label.reprint.failed"]
    assert "reset the connection" in audit.entries[1][1]["reason"]


def test_reprint_without_an_audit_entry_prints_nothing(
    printer: FakePrinter, service: LabelService, passed: StoredRecord, store: SqliteStore
) -> None:
    with pytest.raises(OSError, match="audit log is full"):
        service.reprint(passed.record_id, store, audit=AuditTrail(fail=True))
    assert printer.connections == 0


def test_reprint_of_a_failed_record_is_refused(
    printer: FakePrinter, service: LabelService, failed: StoredRecord, store: SqliteStore
) -> None:
    audit = AuditTrail()
    with pytest.raises(LabelRefused, match=f"no label for record {failed.record_id}: the unit did not pass"):
        service.reprint(failed.record_id, store, audit=audit)
    assert audit.entries == [] and printer.connections == 0


def test_reprint_of_an_unknown_record_is_refused(service: LabelService, store: SqliteStore) -> None:
    with pytest.raises(LabelRefused, match="there is no such record"):
        service.reprint("00000000-0000-4000-8000-000000000000", store, audit=AuditTrail())


def test_a_record_whose_payload_is_unreadable_gets_no_label(service: LabelService) -> None:
    with pytest.raises(
        LabelRefused, match=r"its payload is unreadable .*seq is a string, expected an integer"
    ):
        service.for_record(stored({**KNOWN_PAYLOAD, "seq": "42"}))


def test_qa_records_get_no_label(service: LabelService) -> None:
    with pytest.raises(LabelRefused, match="it is a qa record"):
        service.for_record(stored({**KNOWN_PAYLOAD, "mode": "qa"}))


def test_labels_from_many_slots_arrive_whole(
    printer: FakePrinter, service: LabelService, writer: RecordWriter
) -> None:
    ca = make_ca()
    records = [writer.append(draft(ca)) for _ in range(6)]
    messages: list[str | None] = []
    threads = [threading.Thread(target=lambda r=r: messages.append(service.after_pass(r))) for r in records]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert messages == ["label printed"] * 6
    expected = sorted(service.for_record(record).zpl for record in records)
    assert sorted(printer.wait_documents(6)) == expected
    assert printer.connections == 6


def test_repr_shows_no_more_than_the_printer(service: LabelService) -> None:
    assert repr(service).startswith("LabelService('label template ") and "127.0.0.1:" in repr(service)

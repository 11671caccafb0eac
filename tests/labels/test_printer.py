"""ZplPrinter against the fake printer over real TCP on 127.0.0.1: what arrives, and every fault named."""

from __future__ import annotations

import time

import pytest

from station.core.errors import LabelError
from station.labels import HostStatus, ZplPrinter, parse_address
from station.labels.printer import READ_LIMIT
from tests.edgeserver import EdgeServer, drip, endless_chunked
from tests.fakeprinter import Behaviour, FakePrinter, PrinterFlags

DOCUMENT = "^XA\n^FO10,10^A0N,20,20^FH^FD2023b758c209269a^FS\n^PQ1\n^XZ\n"
SHORT = 0.3  # seconds a refused/stalled exchange is given: a timeout under test, not a speed limit


def printer_for(fake: FakePrinter, *, check_status: bool = True) -> ZplPrinter:
    return ZplPrinter("127.0.0.1", fake.port, timeout=SHORT, check_status=check_status)


def test_the_exact_document_arrives_on_one_connection(printer: FakePrinter) -> None:
    printer_for(printer).send(DOCUMENT)
    assert printer.wait_documents(1) == [DOCUMENT]
    assert printer.connections == 1 and printer.status_queries == 1


def test_without_status_check_only_the_document_is_sent(printer: FakePrinter) -> None:
    printer_for(printer, check_status=False).send(DOCUMENT)
    assert printer.wait_documents(1) == [DOCUMENT]
    assert printer.status_queries == 0


def test_refused_connection_names_the_printer(printer: FakePrinter) -> None:
    printer.behave(Behaviour.REFUSE)
    with pytest.raises(
        LabelError, match=f"^printer 127.0.0.1:{printer.port} refused the connection$"
    ) as info:
        printer_for(printer).send(DOCUMENT)
    assert info.value.printer == f"127.0.0.1:{printer.port}"
    printer.behave(Behaviour.PRINT)  # back up: the next label prints
    printer_for(printer).send(DOCUMENT)
    assert printer.wait_documents(1) == [DOCUMENT]


@pytest.mark.parametrize("check_status", [True, False])
def test_a_stalled_printer_times_out(printer: FakePrinter, check_status: bool) -> None:
    printer.behave(Behaviour.STALL)
    with pytest.raises(LabelError, match=f"printer 127.0.0.1:{printer.port} did not answer within 0.3 s"):
        printer_for(printer, check_status=check_status).send(DOCUMENT)


def test_stall_after_the_label_says_it_may_still_print(printer: FakePrinter) -> None:
    printer.behave(Behaviour.STALL)
    with pytest.raises(LabelError, match="has the label but did not confirm it; look before reprinting"):
        printer_for(printer, check_status=False).send(DOCUMENT)


@pytest.mark.parametrize("check_status", [True, False])
def test_a_reset_connection_is_named(printer: FakePrinter, check_status: bool) -> None:
    printer.behave(Behaviour.RESET)
    with pytest.raises(LabelError, match=f"printer 127.0.0.1:{printer.port} reset the connection"):
        printer_for(printer, check_status=check_status).send(DOCUMENT)


@pytest.mark.parametrize(
    ("flags", "words"),
    [
        (PrinterFlags(paper_out=True), "is out of paper"),
        (PrinterFlags(paused=True), "is paused"),
        (PrinterFlags(head_open=True), "is print head open"),
        (PrinterFlags(ribbon_out=True, thermal_transfer=True), "is out of ribbon"),
    ],
)
def test_a_faulted_printer_gets_no_label(printer: FakePrinter, flags: PrinterFlags, words: str) -> None:
    printer.status = flags
    with pytest.raises(LabelError, match=f"{words}; label not sent"):
        printer_for(printer).send(DOCUMENT)
    assert printer.documents == []


def test_ribbon_flag_is_ignored_in_direct_thermal_mode(printer: FakePrinter) -> None:
    printer.status = PrinterFlags(ribbon_out=True, thermal_transfer=False)
    printer_for(printer).send(DOCUMENT)
    assert printer.wait_documents(1) == [DOCUMENT]


def test_a_printer_that_never_answers_status_says_how_to_turn_the_check_off(printer: FakePrinter) -> None:
    printer.answers_status = False
    with pytest.raises(LabelError, match=r"set \[label\] check_status = false"):
        printer_for(printer).send(DOCUMENT)
    printer_for(printer, check_status=False).send(DOCUMENT)
    assert printer.wait_documents(1) == [DOCUMENT]


def test_host_status_is_read(printer: FakePrinter) -> None:
    printer.status = PrinterFlags(paused=True)
    status = printer_for(printer).host_status()
    assert status.paused and not status.paper_out and status.problem() == "paused"


def test_host_status_garbage_is_an_error() -> None:
    with pytest.raises(ValueError, match="not a ~HS reply"):
        HostStatus.parse(b"hello\r\n")


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("tcp://127.0.0.1:9100", ("127.0.0.1", 9100)),
        ("tcp://printer-3.line1:6101", ("printer-3.line1", 6101)),
        ("tcp://127.0.0.1", ("127.0.0.1", 9100)),
        ("tcp://[::1]:9100", ("::1", 9100)),
    ],
)
def test_printer_addresses(text: str, address: tuple[str, int]) -> None:
    assert parse_address(text) == address


@pytest.mark.parametrize("text", ["127.0.0.1:9100", "http://127.0.0.1:9100", "tcp://:9100", "tcp://h:99999",
                                  "tcp://h:9100/queue"])  # fmt: skip
def test_bad_printer_addresses(text: str) -> None:
    with pytest.raises(LabelError, match="printer must be tcp://host:port"):
        parse_address(text)


def test_repr_names_the_printer_only() -> None:
    assert (
        repr(ZplPrinter("::1", 9100, timeout=2)) == "ZplPrinter('[::1]:9100', timeout=2, check_status=True)"
    )


def test_a_status_dripping_in_ends_at_the_deadline() -> None:
    """One byte every 0.1 s never lets a socket read time out; the label's deadline still holds."""
    status = b"\x02030,0,0,1245,000,0,0,0,000,0,0,0\x03\r\n" * 3
    with EdgeServer(drip(b"", status, every=0.1), read_head=False) as server:
        started = time.monotonic()
        with pytest.raises(LabelError, match=r"did not answer within 1 s \(asking its ~HS status\)"):
            ZplPrinter("127.0.0.1", server.port, timeout=1.0).host_status()
        assert time.monotonic() - started < 2.0


def test_a_status_that_never_ends_is_refused_at_its_size_limit() -> None:
    with (
        EdgeServer(endless_chunked, read_head=False) as server,
        pytest.raises(LabelError, match=f"sent more than {READ_LIMIT} bytes \\(asking its ~HS status\\)"),
    ):
        ZplPrinter("127.0.0.1", server.port, timeout=5.0).host_status()

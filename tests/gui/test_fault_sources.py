"""Where the window's fault states come from (issue 18): the slot worker, the fixture's own health and the
label hook report them as ``Fault`` events; the window only shows them."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from station.core.config import FixtureConfig, LabelSection
from station.core.errors import LabelError, RecordError
from station.fixtures import registry
from station.gui.model import words
from station.pipeline.fixturehooks import TroubleNotice
from tests.fixtures.fakesys import FakeSysfs, fake_proc
from tests.gui.conftest import DEADLINE_MS, Gui

PPA = (0x1234, 0x5678)


class Troubled:
    def __init__(self) -> None:
        self.now: str | None = None

    def present(self) -> bool:
        return False

    def trouble(self) -> str | None:
        return self.now


def test_a_trouble_that_lasts_becomes_a_slot_fault_and_its_end_clears_it() -> None:
    heard: list[str | None] = []
    presence = Troubled()
    notice = TroubleNotice(heard.append, grace=0.0)
    assert notice.line(presence) is None and heard == []  # no trouble: nothing to say
    presence.now = "connection refused"
    assert notice.line(presence) == "slot not responding: connection refused"
    notice.line(presence)  # said once, not every poll
    assert heard == ["connection refused"]
    presence.now = None
    notice.line(presence)
    assert heard == ["connection refused", None]


def test_a_short_trouble_is_no_fault() -> None:
    """A unit booting refuses connections for a moment: not a fixture fault."""
    heard: list[str | None] = []
    presence = Troubled()
    notice = TroubleNotice(heard.append, grace=60.0)
    presence.now = "connection refused"
    notice.line(presence)
    presence.now = None
    notice.line(presence)
    assert heard == []


def test_a_usbnet_slot_reports_a_hub_that_is_gone_and_an_interface_that_is_missing(tmp_path: Path) -> None:
    sysfs = FakeSysfs(tmp_path / "sys")
    context = registry.FixtureContext(
        usb_ids=PPA, sysfs_root=str(tmp_path / "sys"), proc_root=str(fake_proc(tmp_path / "proc"))
    )
    fixture = registry.create(FixtureConfig("U1", "usbnet", port="1-1.2"), context)
    presence = fixture.presence
    assert not presence.present()
    assert presence.trouble() == "the USB hub of port 1-1.2 is gone (unplugged or unpowered)"  # type: ignore[attr-defined]
    hub = tmp_path / "sys" / "bus" / "usb" / "devices" / "1-1"
    hub.mkdir()
    (hub / "idVendor").write_text("05e3\n")
    (hub / "idProduct").write_text("0610\n")
    assert not presence.present()
    assert presence.trouble() is None  # type: ignore[attr-defined]  # an empty port: no fault
    sysfs.plug("1-1.2", PPA, interface="usb0", index=77, up=False)
    assert not presence.present()
    assert presence.trouble() == (  # type: ignore[attr-defined]
        "the unit in USB port 1-1.2 is plugged in but its network interface is down"
    )


def test_a_station_fault_reaches_the_tile_and_the_banner(
    qtbot: QtBot, gui: Gui, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The record disk full: the unit's record cannot be written; the tile must not stay on RUNNING."""
    station = gui.station(fixtures=1)

    def disk_full(*args: object, **kwargs: object) -> None:
        raise RecordError("database or disk is full")

    monkeypatch.setattr(station.writer, "append", disk_full)
    session = gui.session(station, units=1)
    session.start()
    tile = session.window.grid.tile("A1")
    qtbot.waitUntil(lambda: tile.texts()["word"] == "⚠  FAULT", timeout=DEADLINE_MS)
    assert (tile.texts()["reason"], tile.texts()["instruction"]) == words.STATION_FAULT
    assert session.window.fault_banner.isVisible()
    assert "disk is full" in "\n".join(session.window.models["A1"].log)  # the cause, in the slot's log


def test_a_label_that_did_not_print_reaches_the_tile_and_the_printer_chip(
    qtbot: QtBot, gui: Gui, monkeypatch: pytest.MonkeyPatch
) -> None:
    from station.labels.printer import ZplPrinter

    def out_of_paper(self: ZplPrinter, document: str) -> None:
        raise LabelError("printer reports paper out", printer=self.address)

    monkeypatch.setattr(ZplPrinter, "send", out_of_paper)
    label = LabelSection(printer="tcp://127.0.0.1:9", check_status=False)  # never reached: send fails first
    station = gui.demo_opener(fixtures=1, label=label).open()
    gui.stations.append(station)
    assert station.labels is not None
    session = gui.session(station, units=1)
    session.start()
    tile = session.window.grid.tile("A1")
    qtbot.waitUntil(lambda: tile.view is not None and tile.view.flagged, timeout=DEADLINE_MS)
    assert (tile.texts()["word"], tile.texts()["reason"]) == ("✔  PASS", words.LABEL_FAULT[0])
    chip = session.window.header.printer
    assert chip.text == "Printer ! label not printed (A1)" and not chip.ok
    assert "paper out" in session.window.log_strip.toPlainText()

"""``station doctor`` against a fake PC: temporary /sys, /proc, /etc and /run, a fake printer, PostgreSQL
stopped and running, a locked data directory, a simulated fixture controller, a SoftHSM2 token.

Each check is driven into its failing and its passing state; the command line's exit code and ``--json``
shape are checked through ``station.cli.main``; no output ever holds the token PIN.
"""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from station.app import datalock
from station.app.doctor import Check, Environment, passed, run_checks
from station.app.doctor import run as doctor_run
from station.app.doctor.system import clock
from station.app.doctor.usbnet import port_path
from station.cli.main import main
from station.core.codec import x25519_public_b64
from station.core.config import KeysSection
from station.factory.keys.keystore import init_token_key
from station.factory.keys.pkcs11 import close_all
from station.sim.controller import SimulatedController
from tests.factory.softhsm import PIN_ENV, SoftHsm, shared_softhsm, unique_label
from tests.fakeprinter import Behaviour, FakePrinter, PrinterFlags
from tests.fixtures.fakesys import FakeSysfs, fake_proc
from tests.pgserver import create_database, drop_database

IDS = (0x1FC9, 0x0117)
PORT = "1-1.2"
RULES = (
    'SUBSYSTEM=="net", ACTION=="add", ENV{ID_PATH}=="pci-0000:00:14.0-usb-0:1.2:1.0", '
    'ATTRS{idVendor}=="1fc9", ATTRS{idProduct}=="0117", ENV{NM_UNMANAGED}="1"\n'
)


class FakePc:
    """The roots an Environment reads, filled as a set-up station PC has them."""

    def __init__(self, root: Path) -> None:
        self.sys = FakeSysfs(root / "sys")
        self.proc = fake_proc(root / "proc", all=2, default=2)
        self.etc = root / "etc"
        self.run = root / "run"
        self.addresses: dict[str, list[str]] = {}
        self.synchronised: bool | None = True
        self.environ: dict[str, str] = {}

    def env(self) -> Environment:
        return Environment(
            sys_root=self.sys.root,
            proc_root=self.proc,
            etc_root=self.etc,
            run_root=self.run,
            environ=self.environ,
            ipv4=lambda name: self.addresses.get(name, []),
            clock=lambda: (self.synchronised, "test clock"),
            timeout=5.0,
        )

    def plug_unit(
        self, interface: str = "fx1", index: int = 41, *, address: str | None = "192.168.7.10"
    ) -> None:
        self.sys.plug(PORT, IDS, interface=interface, index=index)
        self.addresses[interface] = [address] if address else []
        links = self.run / "systemd" / "netif" / "links"
        links.mkdir(parents=True, exist_ok=True)
        (links / str(index)).write_text("ADMIN_STATE=configured\nOPER_STATE=routable\n")

    def install_rules(self, text: str = RULES) -> None:
        (self.etc / "udev" / "rules.d").mkdir(parents=True, exist_ok=True)
        (self.etc / "udev" / "rules.d" / "70-ppa-station.rules").write_text(text)


@pytest.fixture
def pc(tmp_path: Path) -> FakePc:
    return FakePc(tmp_path / "pc")


ESCROW_PUBLIC = x25519_public_b64(os.urandom(32))  # units seal their secrets to it
BASE = (
    '[station]\nid = "line1-st01"\ndata_dir = "data"\n\n'
    f'[profile.default]\nuser = "Line 1"\nescrow_public_key = "{ESCROW_PUBLIC}"\n\n'
    '[[fixture]]\nslot = "N0"\nkind = "network"\nurl = "http://127.0.0.1:9"'
)


def station_toml(folder: Path, *extra: str) -> Path:
    """A production station.toml in ``folder`` (one profile, one network slot) with ``extra`` tables;
    its data directory is ``folder/data``."""
    path = folder / "station.toml"
    lines = [BASE, *extra]
    path.write_text("\n".join(lines) + "\n")
    return path


def by_name(checks: list[Check]) -> dict[str, Check]:
    return {check.name: check for check in checks}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


USBNET = (
    f"[fixtures]\nusb_vendor = 0x{IDS[0]:04x}\nusb_product = 0x{IDS[1]:04x}\n\n"
    f'[[fixture]]\nslot = "A1"\nkind = "usbnet"\nport = "{PORT}"\ninterface = "fx1"'
)


# --- the station's own setup -------------------------------------------------------------------------------


def test_a_plain_station_passes_every_check(tmp_path: Path, pc: FakePc) -> None:
    checks = run_checks(station_toml(tmp_path), pc.env())
    assert [check.name for check in checks] == [
        "config",
        "data directory",
        "key ca",
        "key signing",
        "key checkin",
        "backend",
        "clock",
    ]
    assert passed(checks), checks
    assert all(check.fix == "" for check in checks)


def test_a_broken_configuration_is_the_only_result(tmp_path: Path, pc: FakePc) -> None:
    path = station_toml(tmp_path, "[station.colour]")
    path.write_text('[station]\nid = "st01"\ncolour = "red"\n')
    (check,) = run_checks(path, pc.env())
    assert (check.name, check.ok) == ("config", False)
    assert "[station.colour] unknown key" in check.detail and check.fix


def test_a_fixture_missing_what_its_kind_needs_fails_the_configuration(tmp_path: Path, pc: FakePc) -> None:
    path = station_toml(tmp_path, '[[fixture]]\nslot = "A1"\nkind = "usbnet"')
    (check,) = run_checks(path, pc.env())
    assert check.ok is False and "needs port" in check.detail


def test_a_label_template_that_is_not_there_fails_the_configuration(tmp_path: Path, pc: FakePc) -> None:
    path = station_toml(tmp_path, '[label]\nprinter = "tcp://127.0.0.1:9"\ntemplate = "mine.zpl"')
    (check,) = run_checks(path, pc.env())
    assert check.ok is False and f"label template {tmp_path / 'mine.zpl'} does not exist" in check.detail


def test_a_data_directory_locked_by_another_station(tmp_path: Path, pc: FakePc) -> None:
    path = station_toml(tmp_path)
    held = datalock.DataDirLock.acquire(tmp_path / "data")
    held.path.write_text("4242\n")  # as another process would have left it: its pid, not ours
    try:
        check = by_name(run_checks(path, pc.env()))["data directory"]
    finally:
        held.release()
    assert check.ok is False
    assert "another station" in check.detail and "Stop the station" in check.fix
    assert by_name(run_checks(path, pc.env()))["data directory"].ok is True  # let go: free again


def test_the_station_that_runs_the_check_is_not_another_station(tmp_path: Path, pc: FakePc) -> None:
    """The window runs the doctor inside the running station: its own lock is no other station's."""
    path = station_toml(tmp_path)
    held = datalock.DataDirLock.acquire(tmp_path / "data")  # this process: the station itself
    try:
        check = by_name(run_checks(path, pc.env()))["data directory"]
    finally:
        held.release()
    assert check.ok is True and "held by this station" in check.detail


def test_a_data_directory_open_to_others_says_the_chmod(tmp_path: Path, pc: FakePc) -> None:
    (tmp_path / "data").mkdir(mode=0o755)
    (tmp_path / "data").chmod(0o755)
    check = by_name(run_checks(station_toml(tmp_path), pc.env()))["data directory"]
    assert check.ok is False
    assert check.fix == f"Run chmod 700 {tmp_path / 'data'}."


def test_a_key_file_readable_by_others_says_the_chmod(tmp_path: Path, pc: FakePc) -> None:
    keys = tmp_path / "data" / "keys"
    keys.mkdir(parents=True, mode=0o700)
    (tmp_path / "data").chmod(0o700)
    run_checks(station_toml(tmp_path), pc.env())  # nothing made yet: the doctor creates no key
    assert not (keys / "station-signing.pem").exists()
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    pem = ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (keys / "station-signing.pem").write_bytes(pem)
    (keys / "station-signing.pem").chmod(0o644)
    check = by_name(run_checks(station_toml(tmp_path), pc.env()))["key signing"]
    assert check.ok is False and check.fix == f"Run chmod 600 {keys / 'station-signing.pem'}."
    (keys / "station-signing.pem").chmod(0o600)
    check = by_name(run_checks(station_toml(tmp_path), pc.env()))["key signing"]
    assert check.ok is True and "usable key" in check.detail


def test_a_configured_escrow_key_must_exist(tmp_path: Path, pc: FakePc) -> None:
    path = station_toml(tmp_path, '[keys]\nescrow = "file:keys/escrow.key"')
    check = by_name(run_checks(path, pc.env()))["key escrow"]
    assert check.ok is False and "does not exist" in check.detail


# --- the token: logged in, its PIN never shown -------------------------------------------------------------


@pytest.fixture(scope="module")
def hsm(tmp_path_factory: pytest.TempPathFactory) -> SoftHsm:
    return shared_softhsm(tmp_path_factory)


@pytest.fixture
def logged_out() -> Iterator[None]:
    """A login is process-wide and kept: start and end logged out, so no other test sees this one's."""
    close_all()
    yield
    close_all()


@pytest.mark.usefixtures("logged_out")
def test_token_keys_are_found_after_login_and_the_pin_is_never_shown(
    hsm: SoftHsm,
    tmp_path: Path,
    pc: FakePc,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ca, signing = unique_label("doctor-ca"), unique_label("doctor-signing")
    keys = KeysSection(
        ca=hsm.uri("station", ca),
        signing=hsm.uri("station", signing),
        pkcs11_module=hsm.module,
        pin_env=PIN_ENV,
    )
    environ = hsm.environ("station")
    init_token_key(keys, keys.ca, None, tmp_path, environ=environ)
    table = (
        f'[keys]\nca = "{keys.ca}"\nsigning = "{keys.signing}"\npkcs11_module = "{hsm.module}"\n'
        f'pin_env = "{PIN_ENV}"'
    )
    path = station_toml(tmp_path, table)
    pc.environ = environ
    checks = by_name(run_checks(path, pc.env()))
    assert checks["key ca"].ok is True and "found after login" in checks["key ca"].detail
    assert checks["key signing"].ok is False  # not made in the token yet
    assert checks["key signing"].fix.startswith("Plug the token in")
    monkeypatch.setattr(doctor_run, "Environment", pc.env)
    for flags in ([], ["--json"]):
        assert main(["doctor", "--config", str(path), *flags]) == 1
        out = capsys.readouterr()
        assert "key ca" in out.out
        assert hsm.pin("station") not in out.out + out.err


@pytest.mark.usefixtures("logged_out")
def test_a_wrong_pin_fails_the_login_without_showing_either_pin(
    hsm: SoftHsm,
    tmp_path: Path,
    pc: FakePc,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The "wrongpin" token: a process stays logged in to a token, so a wrong PIN needs one of its own."""
    wrong = "wrong-" + hsm.pin("wrongpin")
    table = (
        f'[keys]\nsigning = "{hsm.uri("wrongpin", unique_label("doctor"))}"\n'
        f'pkcs11_module = "{hsm.module}"\npin_env = "{PIN_ENV}"'
    )
    path = station_toml(tmp_path, table)
    pc.environ = {**hsm.environ(), PIN_ENV: wrong}
    check = by_name(run_checks(path, pc.env()))["key signing"]
    assert check.ok is False and "PIN" in check.detail + check.fix
    monkeypatch.setattr(doctor_run, "Environment", pc.env)
    for flags in ([], ["--json"]):
        assert main(["doctor", "--config", str(path), *flags]) == 1
        out = capsys.readouterr()
        assert "key signing" in out.out
        assert wrong not in out.out + out.err and hsm.pin("wrongpin") not in out.out + out.err


# --- what the station reaches ------------------------------------------------------------------------------


def test_the_printer_out_of_paper_then_ready(tmp_path: Path, pc: FakePc) -> None:
    with FakePrinter() as printer:
        path = station_toml(tmp_path, f'[label]\nprinter = "tcp://127.0.0.1:{printer.port}"')
        printer.status = PrinterFlags(paper_out=True)
        check = by_name(run_checks(path, pc.env()))["printer"]
        assert check.ok is False
        assert check.detail == f"printer 127.0.0.1:{printer.port} is out of paper"
        assert "paper" in check.fix
        printer.status = PrinterFlags()
        assert by_name(run_checks(path, pc.env()))["printer"].ok is True
        assert printer.documents == []  # asked ~HS only: nothing printed
        printer.behave(Behaviour.REFUSE)
        refused = by_name(run_checks(path, pc.env()))["printer"]
        assert refused.ok is False and "refused the connection" in refused.detail


def test_a_stopped_line_database_and_no_password_in_the_result(tmp_path: Path, pc: FakePc) -> None:
    url = f"postgresql://station:s3cret-pw@127.0.0.1:{free_port()}/line"
    check = by_name(run_checks(station_toml(tmp_path, f'[store]\nline = "{url}"'), pc.env()))["line database"]
    assert check.ok is False
    assert "127.0.0.1" in check.detail and "s3cret-pw" not in check.detail + check.fix


def test_a_running_line_database_current_or_behind(
    tmp_path: Path, pc: FakePc, line_url: str, pg_admin: str
) -> None:
    current = by_name(run_checks(station_toml(tmp_path, f'[store]\nline = "{line_url}"'), pc.env()))
    assert current["line database"].ok is True and "is current" in current["line database"].detail
    name = f"doctor_{uuid.uuid4().hex[:10]}"
    empty = create_database(pg_admin, name)
    try:
        behind = by_name(run_checks(station_toml(tmp_path, f'[store]\nline = "{empty}"'), pc.env()))
    finally:
        drop_database(pg_admin, name)
    assert behind["line database"].ok is False
    assert "schema version 0" in behind["line database"].detail
    assert behind["line database"].fix.startswith("Run `station records migrate --store ")


def test_a_remote_backend_must_answer_over_tls(tmp_path: Path, pc: FakePc) -> None:
    remote = '[backend]\nkind = "remote"\nurl = "{}"'
    plain = station_toml(tmp_path, remote.format("http://factory.example"))
    (config,) = run_checks(plain, pc.env())  # refused as `station run` refuses it
    assert config.ok is False and "http:// only to this machine" in config.detail
    closed = station_toml(tmp_path, remote.format(f"https://127.0.0.1:{free_port()}"))
    checks = by_name(run_checks(closed, pc.env()))
    assert checks["backend"].ok is False and "does not answer" in checks["backend"].detail
    assert "key ca" not in checks  # the factory's keys are not this PC's
    with TlsService(tmp_path) as service:
        answering = station_toml(tmp_path, remote.format(service.url))
        untrusted = by_name(run_checks(answering, pc.env()))["backend"]
        assert untrusted.ok is False and "TLS refused" in untrusted.detail
        pc.environ = {"REQUESTS_CA_BUNDLE": str(service.ca_file)}
        trusted = by_name(run_checks(answering, pc.env()))["backend"]
    assert trusted.ok is True and trusted.detail == f"{service.url} answers over TLS (HTTP 501)"


class TlsService:
    """An HTTPS server on 127.0.0.1 (any request: HTTP 501, no handler) with a certificate of its own CA."""

    def __init__(self, folder: Path) -> None:
        import datetime
        import http.server
        import ssl
        import threading

        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "doctor test backend")])
        now = datetime.datetime.now(datetime.UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False,
            )
            .sign(key, hashes.SHA256())
        )
        self.ca_file = folder / "backend-ca.pem"
        self.ca_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        key_file = folder / "backend-key.pem"
        key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.ca_file, key_file)
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
        self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.url = f"https://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def __enter__(self) -> TlsService:
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


def test_a_companion_service_down_then_up(tmp_path: Path, pc: FakePc) -> None:
    from station.sim.companion.service import SimulatedCompanion

    down = station_toml(
        tmp_path, f'[[fixture]]\nslot = "R1"\nkind = "companion"\nurl = "http://127.0.0.1:{free_port()}"'
    )
    (check,) = [c for c in run_checks(down, pc.env()) if c.name.startswith("companion ")]
    assert check.ok is False and check.fix.startswith("Start the Companion Service")
    with SimulatedCompanion(readers=1) as service:
        up = station_toml(tmp_path, f'[[fixture]]\nslot = "R1"\nkind = "companion"\nurl = "{service.url}"')
        (check,) = [c for c in run_checks(up, pc.env()) if c.name.startswith("companion ")]
    assert check.ok is True


# --- the slots and the PC around them ----------------------------------------------------------------------


def test_a_usbnet_slot_set_up_as_packaging_does_passes(tmp_path: Path, pc: FakePc) -> None:
    pc.plug_unit()
    pc.install_rules()
    checks = by_name(run_checks(station_toml(tmp_path, USBNET), pc.env()))
    for name in ("USB port", "interface", "address", "rp_filter", "managed"):
        assert checks[f"slot A1 {name}"].ok is True, checks[f"slot A1 {name}"]
    assert checks["slot A1 address"].detail == "fx1 has 192.168.7.10"
    assert checks["udev rules"].ok is True
    assert passed(checks.values())


def unplug(pc: FakePc) -> None:
    """The unit out of the port: the interface goes, the hub's port stays."""
    pc.sys.unplug(PORT, interface="fx1")
    port_path(pc.sys.root, PORT).mkdir(parents=True)


@pytest.mark.parametrize(
    ("change", "failing", "words"),
    [
        (lambda pc: pc.addresses.update(fx1=[]), "slot A1 address", "no IPv4 address"),
        (lambda pc: pc.addresses.update(fx1=["10.0.0.5"]), "slot A1 address", "10.0.0.5, not 192.168.7.x"),
        (lambda pc: fake_proc(pc.proc, fx1=1), "slot A1 rp_filter", "strict reverse-path filtering"),
        (lambda pc: fake_proc(pc.proc, all=1), "slot A1 rp_filter", "strict reverse-path filtering"),
        (lambda pc: (pc.run / "systemd/netif/links/41").unlink(), "slot A1 managed", "does not manage fx1"),
        (lambda pc: pc.sys.set_up("fx1", False), "slot A1 interface", "exists but is down"),
        (unplug, "slot A1 interface", "does not exist"),
        (lambda pc: pc.install_rules(RULES.replace("1fc9", "XXXX")), "udev rules", "placeholder XXXX"),
        (lambda pc: pc.install_rules(RULES.replace("0117", "0118")), "udev rules", "does not name"),
        (lambda pc: (pc.etc / "udev/rules.d/70-ppa-station.rules").unlink(), "udev rules", "not installed"),
    ],
)
def test_each_usbnet_fault_is_named_with_its_fix(
    tmp_path: Path, pc: FakePc, change: Callable[[FakePc], object], failing: str, words: str
) -> None:
    pc.plug_unit()
    pc.install_rules()
    change(pc)
    checks = run_checks(station_toml(tmp_path, USBNET), pc.env())
    bad = [check for check in checks if check.ok is not True]
    assert [check.name for check in bad] == [failing]
    assert words in bad[0].detail and bad[0].fix.endswith(".")


def test_a_port_that_does_not_exist_stops_the_slots_checks(tmp_path: Path, pc: FakePc) -> None:
    pc.plug_unit()
    pc.install_rules()
    checks = run_checks(station_toml(tmp_path, USBNET.replace(PORT, "3-9")), pc.env())
    slot = [check for check in checks if check.name.startswith("slot A1")]
    assert [(check.name, check.ok) for check in slot] == [("slot A1 USB port", False)]
    assert "3-9 does not exist" in slot[0].detail


def test_an_empty_port_exists_by_its_hub(tmp_path: Path, pc: FakePc) -> None:
    node = port_path(pc.sys.root, PORT)
    node.mkdir(parents=True)
    checks = by_name(run_checks(station_toml(tmp_path, USBNET), pc.env()))
    assert checks["slot A1 USB port"].ok is True and "(empty)" in checks["slot A1 USB port"].detail
    assert checks["slot A1 interface"].ok is False and "Plug a unit" in checks["slot A1 interface"].fix


def test_another_device_in_the_port_is_not_a_ppa(tmp_path: Path, pc: FakePc) -> None:
    pc.sys.plug(PORT, (0x0BDA, 0x8153), interface="enx0", index=7)
    check = by_name(run_checks(station_toml(tmp_path, USBNET), pc.env()))["slot A1 USB port"]
    assert check.ok is False and "0bda:8153, not a PPA (1fc9:0117)" in check.detail


def test_fixture_controllers_answer_or_say_why(tmp_path: Path, pc: FakePc) -> None:
    network = '[[fixture]]\nslot = "N1"\nkind = "network"\nurl = "http://127.0.0.1:9"'
    with SimulatedController(slots=2) as board:
        url = board.url
        checks = by_name(run_checks(station_toml(tmp_path, f'{network}\ncontroller = "{url}"'), pc.env()))
    assert checks[f"controller {url}"].ok is True
    assert "STATION-SIM,FIXTURE-CONTROLLER" in checks[f"controller {url}"].detail
    assert checks["udev rules"].ok is False  # a controller is a USB serial port: the rule lets us open it
    missing = 'controller = "serial:///dev/no-such-controller"'
    table = f'[[fixture]]\nslot = "N1"\nkind = "network"\nurl = "http://127.0.0.1:9"\n{missing}'
    bad = by_name(run_checks(station_toml(tmp_path, table), pc.env()))[
        "controller serial:///dev/no-such-controller"
    ]
    assert bad.ok is False and "cannot open" in bad.detail


def test_the_clock_unknown_is_not_a_pass() -> None:
    unknown = clock(lambda: (None, "no way to ask"))
    assert (unknown.ok, unknown.symbol, unknown.detail) == (None, "?", "unknown: no way to ask")
    assert not passed([unknown]) and unknown.fix
    assert clock(lambda: (False, "timedatectl NTPSynchronized=no")).ok is False


# --- the command line --------------------------------------------------------------------------------------


@pytest.fixture
def cli_env(pc: FakePc, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakePc]:
    monkeypatch.setattr(doctor_run, "Environment", pc.env)
    yield pc


def test_exit_0_only_when_every_check_passes(
    tmp_path: Path, cli_env: FakePc, capsys: pytest.CaptureFixture[str]
) -> None:
    path = station_toml(tmp_path)
    assert main(["doctor", "--config", str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"✔ config: {path} loads (station line1-st01)"
    assert lines[-1] == "ready for the first unit"
    cli_env.synchronised = False
    assert main(["doctor", "--config", str(path)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[-2].startswith(
        "✖ clock: not NTP-synchronised (test clock). Fix: Enable time synchronisation"
    )
    assert lines[-1] == "1 of 7 checks did not pass"


def test_json_shape(tmp_path: Path, cli_env: FakePc, capsys: pytest.CaptureFixture[str]) -> None:
    cli_env.synchronised = None
    assert main(["doctor", "--json", "--config", str(station_toml(tmp_path))]) == 1
    report = json.loads(capsys.readouterr().out)
    assert set(report) == {"ok", "checks"} and report["ok"] is False
    assert all(set(check) == {"name", "ok", "detail", "fix"} for check in report["checks"])
    assert report["checks"][-1] == {
        "name": "clock",
        "ok": None,
        "detail": "unknown: test clock",
        "fix": "Check the clock by hand (timedatectl, chronyc tracking) before the first unit.",
    }


def test_a_missing_configuration_exits_1_with_its_fix(
    tmp_path: Path, cli_env: FakePc, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["doctor", "--config", str(tmp_path / "nope.toml")]) == 1
    out = capsys.readouterr().out
    assert out.startswith(f"✖ config: {tmp_path / 'nope.toml'}: configuration file not found. Fix: ")

"""Each ``usbnet`` slot, as packaging/ sets the PC up: the port, its interface (up, with a 192.168.7.x
address from the unit's DHCP), loose reverse-path filtering, and systemd-networkd managing it.

>>> import tempfile
>>> with tempfile.TemporaryDirectory() as root:            # an empty /sys: no such USB port
...     port_path(Path(root), "1-1.2"), usb_port_exists(Path(root), "1-1.2")
(PosixPath('.../bus/usb/devices/1-1:1.0/1-1-port2'), False)
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from station.app.doctor.result import Check, Environment
from station.core.config import FixtureConfig, FixturesSection
from station.fixtures.rpfilter import SYSCTL_FILE, strict_interfaces
from station.fixtures.sysfs import Sysfs

UNIT_SUBNET = "192.168.7."
FIX_PORT = "Correct the fixture's port in station.toml (packaging/README.md, step 2, shows how to read it)."
FIX_PLUG = (
    "Plug a unit into the slot; if one is in, install the slot's .link file (install.sh) and re-plug it."
)
FIX_UP = (
    "Re-plug the unit; if the interface stays down, check its cable and `journalctl -u systemd-networkd`."
)
FIX_ADDRESS = (
    "Enable systemd-networkd (systemctl enable --now systemd-networkd) with 60-ppa-slots.network "
    "installed (install.sh does both), then re-plug the unit."
)
FIX_RP = f"Run sysctl -w net.ipv4.conf.all.rp_filter=2 and install {SYSCTL_FILE} (install.sh does)."
FIX_MANAGED = (
    "Install 60-ppa-slots.network and 90-ppa-station.conf and enable systemd-networkd (install.sh does)."
)


def port_path(sys_root: Path, port: str) -> Path:
    """The hub's port node of ``port`` (``1-1.2`` -> ``1-1:1.0/1-1-port2``; ``1-3`` -> the root hub's)."""
    devices = sys_root / "bus" / "usb" / "devices"
    bus, _, chain = port.partition("-")
    *hubs, number = chain.split(".")
    if not hubs:
        return devices / f"{bus}-0:1.0" / f"usb{bus}-port{number}"
    hub = f"{bus}-{'.'.join(hubs)}"
    return devices / f"{hub}:1.0" / f"{hub}-port{number}"


def usb_port_exists(sys_root: Path, port: str) -> bool:
    """The port is there (its hub lists it), with or without a device in it."""
    return port_path(sys_root, port).exists() or (sys_root / "bus" / "usb" / "devices" / port).exists()


def slot_checks(fixture: FixtureConfig, ids: FixturesSection, env: Environment) -> Iterator[Check]:
    """The checks of one ``usbnet`` slot, stopping at the first that later ones need."""
    sysfs = Sysfs(env.sys_root)
    prefix = f"slot {fixture.slot}"
    if fixture.port is not None:
        check = _port(fixture.port, ids, sysfs, env.sys_root, prefix)
        yield check
        if not check.ok:
            return
    name = fixture.interface
    interface = sysfs.interface(name) if name else sysfs.interface_at_port(fixture.port or "")
    label = name or f"the interface in port {fixture.port}"
    if interface is None:
        yield Check(f"{prefix} interface", False, f"{label} does not exist (no unit plugged in?)", FIX_PLUG)
        return
    if not interface.up:
        yield Check(f"{prefix} interface", False, f"{interface.name} exists but is down", FIX_UP)
        return
    yield Check(f"{prefix} interface", True, f"{interface.name} exists and is up")
    addresses = env.ipv4(interface.name)
    ours = [address for address in addresses if address.startswith(UNIT_SUBNET)]
    if ours:
        yield Check(f"{prefix} address", True, f"{interface.name} has {', '.join(ours)}")
    else:
        has = ", ".join(addresses) or "no IPv4 address"
        yield Check(f"{prefix} address", False, f"{interface.name} has {has}, not 192.168.7.x", FIX_ADDRESS)
    strict = strict_interfaces([interface.name], env.proc_root)
    if strict:
        yield Check(
            f"{prefix} rp_filter", False, f"strict reverse-path filtering for {', '.join(strict)}", FIX_RP
        )
    else:
        yield Check(
            f"{prefix} rp_filter", True, f"reverse-path filtering of {interface.name} is loose or off"
        )
    yield _managed(interface.name, interface.index, env, prefix)


def _port(port: str, ids: FixturesSection, sysfs: Sysfs, sys_root: Path, prefix: str) -> Check:
    name = f"{prefix} USB port"
    if not usb_port_exists(sys_root, port):
        return Check(name, False, f"USB port {port} does not exist on this PC", FIX_PORT)
    found = sysfs.usb_ids(port)
    if found is None:
        return Check(name, True, f"USB port {port} exists (empty)")
    wanted = (ids.usb_vendor, ids.usb_product)
    if None not in wanted and found != wanted:
        return Check(
            name,
            False,
            f"USB port {port} holds a device {found[0]:04x}:{found[1]:04x}, not a PPA "
            f"({ids.usb_vendor:04x}:{ids.usb_product:04x})",
            "Plug a PPA into this port, or correct [fixtures] usb_vendor and usb_product (lsusb shows them).",
        )
    return Check(name, True, f"USB port {port} exists and holds {found[0]:04x}:{found[1]:04x}")


def _managed(interface: str, index: int, env: Environment, prefix: str) -> Check:
    """systemd-networkd's state file of the link says it configured it (as 60-ppa-slots.network asks)."""
    name = f"{prefix} managed"
    state_file = env.run_root / "systemd" / "netif" / "links" / str(index)
    try:
        fields = dict(line.split("=", 1) for line in state_file.read_text().splitlines() if "=" in line)
    except OSError:
        return Check(name, False, f"systemd-networkd does not manage {interface}", FIX_MANAGED)
    state = fields.get("ADMIN_STATE", "unknown")
    if state in ("configured", "configuring"):
        return Check(name, True, f"systemd-networkd manages {interface} ({state})")
    return Check(name, False, f"systemd-networkd has {interface} {state}", FIX_MANAGED)

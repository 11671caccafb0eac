"""Network namespaces for tests: a ``station`` namespace with veth links to one namespace per simulated PPA.

Example::

    with Lab.build(units=8, spares=2, data_dir=tmp / "data") as lab:
        lab.devices[3].devid                      # what the simulator in namespace d3 printed
        lab.run_in_station(["station", "run", ...])

Every device namespace holds a simulated PPA listening at 192.168.7.1:80/443 (``station sim ppa --host``),
as every real PPA does, whose ``usb0`` goes down while it restarts (``--link``: a USB unit's interface
vanishes as it re-enumerates); the station namespace holds the other ends ``fx0``... each with an address in
192.168.7.0/24 handed out as the units' DHCP servers do (.10 to .12). Spare devices are not linked:
tests plug them into a slot with ``plug``. All traffic stays inside these namespaces; the host's own
namespace never sends anything to 192.168.x.x. ``close`` stops the simulators and deletes every namespace,
also after a failure.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.requirements import missing

UNIT_ADDRESS = "192.168.7.1"
BIN = Path(sys.executable).parent
START_TIMEOUT = 60.0


def ip_binary() -> str:
    path = shutil.which("ip")
    if path is None:
        missing("the ip command (iproute2) is not installed: apt-get install iproute2")
    return path


def ip(*args: str) -> None:
    result = subprocess.run([ip_binary(), *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {result.stderr.strip()}")


def can_create_namespaces(prefix: str) -> str | None:
    """None when ``ip netns add`` works here, else why not (for the skip reason)."""
    if os.geteuid() != 0:
        return "network namespaces need root (ip netns add): run the suite as root, as CI does"
    probe = f"{prefix}-probe"
    try:
        ip("netns", "add", probe)
    except RuntimeError as exc:
        return f"ip netns add is not permitted here ({exc})"
    ip("netns", "del", probe)
    return None


@dataclass
class Device:
    """A namespace with one simulated unit at 192.168.7.1."""

    ns: str
    devid: str
    process: subprocess.Popen[str]


@dataclass
class Lab:
    prefix: str
    station: str
    data_dir: Path
    timing: str = "fast"
    devices: list[Device] = field(default_factory=list)
    spares: list[Device] = field(default_factory=list)
    namespaces: list[str] = field(default_factory=list)
    processes: list[subprocess.Popen[str]] = field(default_factory=list)

    @classmethod
    def build(
        cls, *, units: int, spares: int, data_dir: Path, prefix: str | None = None, timing: str = "fast"
    ) -> Lab:
        prefix = prefix or f"pst{os.getpid() % 100000}"
        reason = can_create_namespaces(prefix)
        if reason is not None:
            missing(reason)
        lab = cls(prefix, f"{prefix}-station", data_dir, timing)
        try:
            lab._add_namespace(lab.station)
            lab.set_rp_filter(2)
            names = [f"{prefix}-d{i}" for i in range(units)] + [f"{prefix}-s{i}" for i in range(spares)]
            for name in names:
                lab._add_namespace(name)
                ip("-n", name, "addr", "add", f"{UNIT_ADDRESS}/32", "dev", "lo")  # the unit's own address
            for i, name in enumerate(names[:units]):
                lab.plug(f"fx{i}", name, station_address(i))
            spawned = [(name, lab._spawn_unit(name)) for name in names]  # all at once: they start in parallel
            started = [
                Device(name, _first_line(process, name)["devid"], process) for name, process in spawned
            ]
            lab.devices, lab.spares = started[:units], started[units:]
        except BaseException:
            lab.close()
            raise
        return lab

    def __enter__(self) -> Lab:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def plug(self, interface: str, device_ns: str, address: str) -> None:
        """A veth link from ``interface`` in the station namespace to ``usb0`` in the device's namespace."""
        ip(
            "-n",
            self.station,
            "link",
            "add",
            interface,
            "type",
            "veth",
            "peer",
            "name",
            "usb0",
            "netns",
            device_ns,
        )
        ip("-n", device_ns, "addr", "add", f"{UNIT_ADDRESS}/24", "dev", "usb0")
        ip("-n", device_ns, "link", "set", "usb0", "up")
        ip("-n", self.station, "addr", "add", address, "dev", interface)
        ip("-n", self.station, "link", "set", interface, "up")

    def set_rp_filter(self, value: int) -> None:
        self.run_in_station(["sh", "-c", f"echo {value} > /proc/sys/net/ipv4/conf/all/rp_filter"], check=True)

    def run_in_station(
        self,
        command: list[str],
        *,
        check: bool = False,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [ip_binary(), "netns", "exec", self.station, *command],
            capture_output=True,
            text=True,
            check=check,
            env=env,
            cwd=cwd,
            timeout=600,
        )

    def close(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stdout is not None:
                process.stdout.close()
        self.processes = []
        for name in reversed(self.namespaces):
            subprocess.run([ip_binary(), "netns", "del", name], capture_output=True, check=False)
        self.namespaces = []

    def _add_namespace(self, name: str) -> None:
        ip("netns", "add", name)
        self.namespaces.append(name)
        ip("-n", name, "link", "set", "lo", "up")

    def _spawn_unit(self, ns: str) -> subprocess.Popen[str]:
        command = [
            ip_binary(), "netns", "exec", ns, str(BIN / "station"), "sim", "ppa", "--count", "1",
            "--host", UNIT_ADDRESS, "--http-port", "80", "--https-port", "443", "--data", str(self.data_dir),
            "--timing", self.timing, "--link", "usb0",
        ]  # fmt: skip
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=self.data_dir
        )
        self.processes.append(process)
        return process


def later_lines(device: Device, wait: float = 0.5) -> list[dict[str, object]]:
    """The JSON lines the device's simulator printed after its first one (``--link`` changes), so far.

    Read from the pipe itself: the text wrapper's buffer would hide lines from ``select``.
    """
    assert device.process.stdout is not None
    fd, data = device.process.stdout.fileno(), b""
    while select.select([fd], [], [], wait)[0]:
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        data += chunk
    return [json.loads(line) for line in data.decode().splitlines() if line.strip()]


def station_address(slot: int) -> str:
    """The address a unit's DHCP server gives the station's end: 192.168.7.10 to .12, as on a real line."""
    return f"192.168.7.{10 + slot % 3}/24"


def _first_line(process: subprocess.Popen[str], ns: str) -> dict[str, str]:
    assert process.stdout is not None
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], 0.5)
        if ready:
            line = process.stdout.readline()
            if not line:
                break
            return dict(json.loads(line))
        if process.poll() is not None:
            break
    raise RuntimeError(f"the simulated unit in namespace {ns} did not start (exit {process.poll()})")

"""``station doctor`` on a real interface: a network namespace holding ``fx1``, first without an address,
then with the 192.168.7.x address a unit's DHCP server hands out (``tests/netns.py`` helpers).

The doctor runs under ``ip netns exec``, which gives it the namespace's own ``/sys``: the interface, its
state and its address are read from the kernel as on a station PC. Needs root (skipped with the reason
elsewhere; under CI that skip is a failure, as for tests/test_netns.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from station.core.codec import x25519_public_b64
from tests.netns import can_create_namespaces, ip, ip_binary
from tests.requirements import missing

REPO = Path(__file__).resolve().parents[1]
PROFILE = f'[profile.default]\nescrow_public_key = "{x25519_public_b64(bytes(range(32)))}"\n'


def station_toml(folder: Path, interface: str) -> Path:
    path = folder / "station.toml"
    slot = f'[[fixture]]\nslot = "A1"\nkind = "usbnet"\ninterface = "{interface}"\n'
    path.write_text(f'[station]\nid = "st01"\n\n{PROFILE}\n{slot}')
    return path


@pytest.fixture
def namespace() -> Iterator[str]:
    name = f"pdr{os.getpid() % 100000}"
    reason = can_create_namespaces(name)
    if reason is not None:
        missing(reason)
    ip("netns", "add", name)
    try:
        ip("-n", name, "link", "add", "fx1", "type", "veth", "peer", "name", "fx1-unit")
        for link in ("lo", "fx1", "fx1-unit"):
            ip("-n", name, "link", "set", link, "up")
        yield name
    finally:
        ip("netns", "del", name)


def doctor(namespace: str, config: Path) -> dict[str, Any]:

    command = [ip_binary(), "netns", "exec", namespace, sys.executable, "-m", "station.cli.main"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [*command, "doctor", "--json", "--config", str(config)],
        capture_output=True,
        text=True,
        env=env,
        cwd=config.parent,
        check=False,
        timeout=120,
    )
    assert done.returncode in (0, 1), done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    assert report["ok"] is (done.returncode == 0)
    return {check["name"]: check for check in report["checks"]}


def test_the_interface_without_then_with_its_address(namespace: str, tmp_path: Path) -> None:
    config = station_toml(tmp_path, "fx1")
    ip("netns", "exec", namespace, "sh", "-c", "echo 2 > /proc/sys/net/ipv4/conf/all/rp_filter")
    before = doctor(namespace, config)
    assert before["slot A1 interface"]["ok"] is True
    assert before["slot A1 address"]["ok"] is False
    assert before["slot A1 address"]["detail"] == "fx1 has no IPv4 address, not 192.168.7.x"
    assert before["slot A1 rp_filter"]["ok"] is True
    ip("-n", namespace, "addr", "add", "192.168.7.10/24", "dev", "fx1")
    after = doctor(namespace, config)
    assert after["slot A1 address"] == {
        "name": "slot A1 address",
        "ok": True,
        "detail": "fx1 has 192.168.7.10",
        "fix": "",
    }
    ip("netns", "exec", namespace, "sh", "-c", "echo 1 > /proc/sys/net/ipv4/conf/all/rp_filter")
    strict = doctor(namespace, config)
    assert strict["slot A1 rp_filter"]["ok"] is False
    assert "rp_filter=2" in strict["slot A1 rp_filter"]["fix"]


def test_an_interface_that_is_not_there(namespace: str, tmp_path: Path) -> None:
    config = station_toml(tmp_path, "fx9")
    report = doctor(namespace, config)
    assert report["slot A1 interface"]["ok"] is False
    assert "slot A1 address" not in report  # nothing to ask of an interface that is not there

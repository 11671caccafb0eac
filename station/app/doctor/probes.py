"""The two facts the doctor asks the kernel for directly: an interface's IPv4 address and NTP sync.

>>> interface_ipv4("no-such-interface")
[]
>>> ntp_synchronised()[0] in (True, False, None)         # None: neither timedatectl nor adjtimex answered
True
"""

from __future__ import annotations

import ctypes
import ctypes.util
import fcntl
import shutil
import socket
import struct
import subprocess

SIOCGIFADDR = 0x8915  # linux/sockios.h: the interface's (first) IPv4 address
TIME_ERROR = 5  # adjtimex's return value while the kernel clock is not synchronised (STA_UNSYNC)
_TIMEX_SIZE = 512  # struct timex is 208 bytes on 64-bit Linux; a larger zeroed buffer is safe (modes = 0)


def interface_ipv4(name: str) -> list[str]:
    """The IPv4 address of interface ``name`` in this network namespace; [] when it has none or is absent."""
    request = struct.pack("256s", name.encode("utf-8")[:15])
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            reply = fcntl.ioctl(probe.fileno(), SIOCGIFADDR, request)
        except OSError:  # EADDRNOTAVAIL: no address; ENODEV: no such interface
            return []
    return [socket.inet_ntoa(reply[20:24])]


def ntp_synchronised() -> tuple[bool | None, str]:
    """(synchronised?, how we know): timedatectl (systemd) first, else the kernel's adjtimex status."""
    answer = _timedatectl()
    if answer is not None:
        return answer == "yes", "timedatectl NTPSynchronized=" + answer
    state = _adjtimex()
    if state is None:
        return None, "neither timedatectl nor adjtimex could be asked"
    if state == TIME_ERROR:
        return False, "the kernel clock is not synchronised (adjtimex)"
    return True, "the kernel clock is synchronised (adjtimex)"


def _timedatectl() -> str | None:
    program = shutil.which("timedatectl")
    if program is None:
        return None
    try:
        done = subprocess.run(  # noqa: S603 - a fixed command
            [program, "show", "--property=NTPSynchronized", "--value"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    value = done.stdout.strip()
    return value if done.returncode == 0 and value in ("yes", "no") else None


def _adjtimex() -> int | None:
    """adjtimex(2) with modes = 0 (read only, no privilege needed); None where it cannot be called."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name, use_errno=True)
        call = libc.adjtimex
    except (OSError, AttributeError, TypeError):
        return None
    buffer = ctypes.create_string_buffer(_TIMEX_SIZE)
    state = int(call(buffer))
    return None if state < 0 else state

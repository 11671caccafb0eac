"""The unit's audit log (reference §7.4, §18.10): one file per boot, per-line truncated HMACs.

>>> from station.devices.ppa.auditlog import verify_audit_log
>>> eid_sign = ed25519.Ed25519PrivateKey.generate(); log = AuditLog("Encedo nGINE FW v1.2.2")
>>> log.start_file(boot_counter=1, signer=eid_sign, device_time=0); log.append(5, Event.RTC_SET, Result.OK)
>>> records = verify_audit_log(log.text("00000001"), eid_sign.public_key().public_bytes_raw())
>>> [record.type for record in records]             # KEY_INIT (the log key, signed), STARTUP, RTC_SET
[0, 1, 19]
"""

from __future__ import annotations

import os
from enum import IntEnum

from cryptography.hazmat.primitives.asymmetric import ed25519

from station.core.codec import b64url_encode
from station.devices.ppa.auditlog import log_line_mac


class Event(IntEnum):
    """Event codes of reference §7.5 that the simulator emits."""

    KEY_INIT = 0
    STARTUP = 1
    REBOOT = 2
    SHUTDOWN = 3
    UPGRADE = 4
    SELFTEST_PASSED = 7
    LOGGER_LIST_LOG = 9
    LOGGER_READ_LOG = 11
    FAILED_SCOPE_CHECK = 12
    AUTH_SUCCESS_INTERNAL = 13
    CONFIG_UPDATED = 18
    RTC_SET = 19
    DEVICE_INITED = 29


class Result(IntEnum):
    OK = 0
    FAILED = 1
    ERROR = 2


class AuditLog:
    """All log files of one unit, oldest first, and the open file of the current boot."""

    def __init__(self, header: str) -> None:
        self.header = header
        self.files: dict[str, list[str]] = {}
        self.current_id = ""
        self._key = b""

    def start_file(self, boot_counter: int, signer: ed25519.Ed25519PrivateKey, device_time: int) -> None:
        """Open the file of a new boot: new log key, KEY_INIT signed by ``eid_sign``, then STARTUP."""
        self.current_id = f"{boot_counter:08x}"
        self._key = os.urandom(32)
        self.files[self.current_id] = [f"# {self.header}"]
        self._append(device_time, Event.KEY_INIT, Result.OK, b64url_encode(self._key), signer.sign(self._key))
        self.append(device_time, Event.STARTUP, Result.OK)

    def append(
        self, device_time: int, event: Event, result: Result, subject: str = "", data: bytes = b""
    ) -> None:
        self._append(device_time, event, result, subject, data)

    def _append(self, device_time: int, event: Event, result: Result, subject: str, data: bytes) -> None:
        lines = self.files[self.current_id]
        seq = len(lines) - 1  # line 0 is the header comment
        prefix = f"{seq:x}|{device_time:x}|{int(event):x}|{int(result)}|{subject}|{b64url_encode(data)}|"
        lines.append(prefix + log_line_mac(self._key, prefix))

    def clear(self) -> None:
        """Wipeout erases every file (reference §18.9); the next boot starts a new one."""
        self.files.clear()
        self.current_id = ""

    def ids(self) -> list[str]:
        return list(self.files)

    def text(self, file_id: str) -> str:
        return "\n".join(self.files[file_id]) + "\n"

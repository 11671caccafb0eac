r"""Codes the operator scans for a slot (a reader's inventory label), handed to the flow that waits for one.

>>> scans = ScanBox()
>>> scans.put("R1", "RDR-000416"); scans.put("R1", "RDR-000417\n")    # the last label scanned counts
>>> scans.take("R1", RunContext("run-1", "R1", "readers", journal=None))    # waits, cancellable, if none
'RDR-000417'
"""

from __future__ import annotations

import threading

from station.pipeline.engine import RunContext

POLL = 0.1


class ScanBox:
    """The latest unclaimed scanned code per slot; thread-safe."""

    def __init__(self) -> None:
        self._codes: dict[str, str] = {}
        self._lock = threading.Lock()

    def put(self, slot: str, code: str) -> None:
        with self._lock:
            self._codes[slot] = code.strip()

    def take(self, slot: str, ctx: RunContext) -> str:
        """The slot's code, waiting for the operator to scan one (the step's timeout bounds the wait)."""
        asked = False
        while True:
            with self._lock:
                code = self._codes.pop(slot, "")
            if code:
                return code
            if not asked:
                ctx.log(f"scan the inventory label of the reader in slot {slot}")
                asked = True
            ctx.sleep(POLL)

"""The unit's own self-test (reference §2.5): a known-answer test (KAT) that runs a few seconds per boot.

>>> kat = KatRun()
>>> kat.start(10.0, seconds=5.0, fails=False)
>>> kat.busy(12.0), kat.busy(15.0)           # ``kat_busy`` for its first 5 s, then the verdict
(True, False)
"""

from __future__ import annotations

from dataclasses import dataclass

from station.sim.ppa.timing import TimingProfile

KAT_CRYPTO_OPS = 20  # the KAT lasts about 20 crypto operations: ~5 s at realistic timing (C SDK measured 5 s)
KAT_MIN = 0.02  # seconds: on the fast profile too, the first self-test of a boot answers kat_busy once
FLS_KAT, FLS_ENTROPY = 0x01, 0x02  # fls_state bits the self-test latches (reference §2.1)
SE_FAULTY = 1  # se_state under the se_fault fault; 0 is a healthy secure element


@dataclass
class KatRun:
    """This boot's KAT: started by the first self-test call, then done for the rest of the boot."""

    started: float | None = None  # device monotonic time
    seconds: float = 0.0
    fails: bool = False
    finished_ts: int | None = None  # the unit's clock when it finished (``last_kat_ts``)

    def start(self, now: float, *, seconds: float, fails: bool) -> None:
        self.started, self.seconds, self.fails = now, seconds, fails

    def busy(self, now: float) -> bool:
        return self.started is not None and now - self.started < self.seconds


def kat_seconds(timing: TimingProfile) -> float:
    return max(KAT_MIN, KAT_CRYPTO_OPS * timing.crypto)

"""The unit's own self-test (reference §2.5), asked again until its known-answer tests are done.

>>> SELFTEST_WAIT, [round(pause, 1) for pause in _pauses(6)]    # seconds: the deadline; the polls' back-off
(60.0, [0.1, 0.2, 0.4, 0.8, 1.6, 2.0])
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from station.devices.ppa.client import PpaClient
from station.devices.ppa.replies import SelfTest
from station.pipeline.engine import RunContext, StepFailed

# A real unit's KAT takes about 5 s (C SDK, fw 1.2.2); Encedo's own end-of-line script allows minutes. A
# minute is ample, and inside the final check's step deadline, so the verdict names the self-test.
SELFTEST_WAIT = 60.0
FIRST_POLL, MAX_POLL = 0.1, 2.0  # seconds: quick on a simulator, every 2 s on a real unit (no hammering)


def await_selftest(client: PpaClient, token: str, ctx: RunContext) -> SelfTest:
    """The self-test's result once ``kat_busy`` is gone; StepFailed ``selftest`` when it never goes."""
    deadline = time.monotonic() + SELFTEST_WAIT
    result = client.selftest(token)
    for pause in _pauses():
        if not result.kat_busy:
            return result
        if time.monotonic() + pause > deadline:
            break
        ctx.sleep(pause)
        result = client.selftest(token)
    raise StepFailed(
        "selftest",
        f"the unit's own self-test was still running after {SELFTEST_WAIT:g} s (kat_busy); "
        "set the unit aside for QA",
    )


def _pauses(count: int | None = None) -> Iterator[float]:
    pause, given = FIRST_POLL, 0
    while count is None or given < count:
        yield pause
        pause, given = min(pause * 2, MAX_POLL), given + 1

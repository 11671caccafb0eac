"""The passphrase box between window and RMA flow: answered, declined, unanswered, withdrawn (Qt-free).

The flow asks from its worker thread; here a thread plays the flow and the test plays the window. The
test waits on the box's own question callback (a threading.Event), never on time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest

from station.gui.model.passphrases import PassphraseBox
from station.pipeline.engine import StepFailed
from station.pipeline.modes.rma.wipe import ReturnedUnit

UNIT = ReturnedUnit("A1", "eid-public-text", "Alice's PPA")
SECRET = "correct horse battery staple"
DEADLINE_S = 60.0


class Flow:
    """Asks ``box`` in a thread, as the RMA flow's identify step does; keeps the answer or the failure."""

    def __init__(self, box: PassphraseBox) -> None:
        self.answer: str | None = None
        self.failure: StepFailed | None = None
        self.thread = threading.Thread(target=self._ask, args=(box,))

    def _ask(self, box: PassphraseBox) -> None:
        try:
            self.answer = box(UNIT)
        except StepFailed as exc:
            self.failure = exc

    def run(self) -> Flow:
        self.thread.start()
        return self

    def join(self) -> None:
        self.thread.join(DEADLINE_S)
        assert not self.thread.is_alive()


def asking_box(wait: float = DEADLINE_S) -> tuple[PassphraseBox, threading.Event]:
    asked = threading.Event()

    def notice(unit: ReturnedUnit) -> None:
        asked.set()

    return PassphraseBox(wait=wait, on_question=notice), asked


def wait_for(event: threading.Event) -> None:
    assert event.wait(DEADLINE_S)


@pytest.mark.parametrize(("typed", "expected"), [(SECRET, SECRET), (None, None), ("", None)])
def test_the_operators_answer_reaches_the_flow(typed: str | None, expected: str | None) -> None:
    box, asked = asking_box()
    flow = Flow(box).run()
    wait_for(asked)
    assert box.open_questions() == {"A1": UNIT}
    assert SECRET not in repr(box)
    assert box.answer("A1", typed)
    flow.join()
    assert (flow.answer, flow.failure) == (expected, None)  # None: no passphrase, wipe through the backend
    assert box.open_questions() == {}


def test_an_answer_without_an_open_question_is_refused_so_it_cannot_reach_the_next_unit() -> None:
    box, _ = asking_box()
    assert not box.answer("A1", SECRET)
    assert box.open_questions() == {}


@pytest.mark.parametrize("end", ["withdraw", "close"])
def test_a_withdrawn_question_fails_the_step_without_a_wipe(end: str) -> None:
    box, asked = asking_box()
    flow = Flow(box).run()
    wait_for(asked)
    ending: Callable[[], None] = getattr(box, end)
    ending()
    flow.join()
    assert flow.failure is not None and flow.failure.code == "no-passphrase-answer"
    assert "nothing was written to the unit" in flow.failure.message


def test_an_unanswered_question_fails_after_the_wait_and_a_closed_box_asks_no_more() -> None:
    box, _ = asking_box(wait=0.0)
    flow = Flow(box).run()
    flow.join()
    assert flow.failure is not None and "nobody answered within 0 s" in flow.failure.message
    box.close()
    with pytest.raises(StepFailed, match="the window was closing"):
        box(UNIT)

"""Customer passphrases for returned units, from the operator's window to the RMA flow that asks for them.

Example::

    box = PassphraseBox(on_question=relay.asked.emit)      # the window shows a masked field for the slot
    policy = RmaPolicy(customer_passphrase=box)              # Station.open(..., rma=policy)
    box.answer("A1", typed)                                  # the operator's answer (None: no passphrase,
                                                             # wipe through the backend)
    box.withdraw()                                           # a mode switch or logout: questions end
    box.close()                                              # the window closes: no question waits again

The RMA flow calls the box from the slot's worker thread while it identifies a personalised unit
(``rmawipe.Wiper.open``): the box tells the window (``on_question``, from that thread: the window's relay
re-emits it as a Qt signal) and waits for the answer. An unanswered question is not a "no": after
``wait`` seconds (inside the identify step's own timeout), or when withdrawn, the step fails with code
``no-passphrase-answer`` and nothing has been written to the unit, so waiting never leads to a wipe the
operator did not choose. Answers are accepted only for a question that is open, so a passphrase typed for
one unit is never used for the next. The passphrase is held only until the flow takes it; ``repr`` shows
the slots, never a passphrase.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from station.pipeline.engine import StepFailed
from station.pipeline.modes.rma.wipe import ReturnedUnit

ANSWER_WAIT = 100.0  # seconds; the identify step that asks allows 120


@dataclass(frozen=True)
class _Answer:
    passphrase: str | None  # None: the operator chose "no passphrase"


class PassphraseBox:
    """Open questions by slot and their answers; thread-safe; an ``AskPassphrase`` for ``RmaPolicy``."""

    def __init__(
        self, *, wait: float = ANSWER_WAIT, on_question: Callable[[ReturnedUnit], None] | None = None
    ) -> None:
        self.wait = wait
        self.on_question = on_question
        self._questions: dict[str, ReturnedUnit] = {}
        self._answers: dict[str, _Answer] = {}
        self._withdrawn = 0  # bumped by ``withdraw``: every question open then ends
        self._closed = False
        self._changed = threading.Condition()

    def __repr__(self) -> str:
        return f"PassphraseBox(open={sorted(self.open_questions())})"

    def __call__(self, unit: ReturnedUnit) -> str | None:
        """Ask the operator for ``unit``'s passphrase and wait; None when they chose not to give one."""
        with self._changed:
            if self._closed:
                raise StepFailed(
                    "no-passphrase-answer", "the window was closing; nothing was written to the unit"
                )
            self._questions[unit.slot] = unit
            self._answers.pop(unit.slot, None)
            round_ = self._withdrawn
        if self.on_question is not None:
            self.on_question(unit)
        answer = self._await(unit.slot, round_)
        if answer is None:
            raise StepFailed("no-passphrase-answer", self._unanswered(round_))
        return answer.passphrase

    def answer(self, slot: str, passphrase: str | None) -> bool:
        """The operator's answer for ``slot``'s open question; False when no question is open there."""
        with self._changed:
            if slot not in self._questions:
                return False
            del self._questions[slot]
            self._answers[slot] = _Answer(passphrase or None)
            self._changed.notify_all()
        return True

    def withdraw(self) -> None:
        """End every open question (the station is switching or the operator logged out)."""
        with self._changed:
            self._withdrawn += 1
            self._questions.clear()
            self._changed.notify_all()

    def close(self) -> None:
        """Withdraw every question and refuse new ones (the window is closing)."""
        with self._changed:
            self._closed = True
        self.withdraw()

    def open_questions(self) -> dict[str, ReturnedUnit]:
        with self._changed:
            return dict(self._questions)

    def _await(self, slot: str, round_: int) -> _Answer | None:
        deadline = time.monotonic() + self.wait
        with self._changed:
            while slot not in self._answers and self._withdrawn == round_:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._changed.wait(left)
            self._questions.pop(slot, None)
            return self._answers.pop(slot, None)

    def _unanswered(self, round_: int) -> str:
        with self._changed:
            withdrawn = self._withdrawn != round_
        why = (
            "the question was withdrawn (mode switch or logout)"
            if withdrawn
            else f"nobody answered within {self.wait:g} s"
        )
        return (
            f"the station asked for the customer's passphrase and {why}; nothing was written to the unit. "
            "Run it again and answer the question (or choose to wipe it through the backend)"
        )

"""Customer passphrases for returned units, from the operator's window to the RMA flow that asks for them.

>>> box = PassphraseBox(wait=0.01)          # RmaPolicy(customer_passphrase=box); the window answers it
>>> box(ReturnedUnit("R1", eid="f00dfeed", label="ACME-0042"))        # the flow asks; nobody answers
Traceback (most recent call last):
station.pipeline.engine.StepFailed: ... nobody answered within 0.01 s; nothing was written to the unit. ...
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

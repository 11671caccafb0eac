"""What the station check view shows: a list of results, each a name, ok or not, what was found and the fix.

The checks themselves are ``station doctor``'s (``app/doctor/``); the window only runs the callable the
app hands it and shows what comes back, so it depends on this small protocol, not on the checks.

>>> from dataclasses import dataclass
>>> @dataclass
... class Found:
...     name: str; ok: bool; detail: str; fix: str = ""
>>> summary([Found("records disk", True, "12 GB free"), Found("printer", False, "refused", "switch it on")])
'1 of 2 checks failed: printer'
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol


class CheckResult(Protocol):
    """One check's answer (``station doctor``'s results have these attributes)."""

    @property
    def name(self) -> str: ...

    @property
    def ok(self) -> bool: ...

    @property
    def detail(self) -> str: ...

    @property
    def fix(self) -> str: ...


CheckSource = Callable[[], Sequence[CheckResult]]  # runs every check; may take seconds (run off the GUI)


def failing(results: Sequence[CheckResult]) -> list[CheckResult]:
    return [result for result in results if not result.ok]


def summary(results: Sequence[CheckResult]) -> str:
    """One sentence for the top of the view."""
    failed = failing(results)
    if not results:
        return "No checks ran."
    if not failed:
        return f"All {len(results)} checks pass ✔"
    names = ", ".join(result.name for result in failed)
    return f"{len(failed)} of {len(results)} checks failed: {names}"

"""The station check view's protocol: a name, ok, what was found and the fix (``station doctor``'s results).

>>> from types import SimpleNamespace as Found
>>> summary([Found(name="disk", ok=True), Found(name="printer", ok=False)])
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
    def ok(self) -> bool | None: ...  # None: the check could not tell (shown as not passing, marked "?")

    @property
    def detail(self) -> str: ...

    @property
    def fix(self) -> str: ...


CheckSource = Callable[[], Sequence[CheckResult]]  # runs every check; may take seconds (run off the GUI)


def mark(result: CheckResult) -> str:
    """✔ passed, ✖ failed, ? could not tell (``station doctor`` counts it as not passing too)."""
    return "?" if result.ok is None else "✔" if result.ok else "✖"


def failing(results: Sequence[CheckResult]) -> list[CheckResult]:
    return [result for result in results if result.ok is not True]


def summary(results: Sequence[CheckResult]) -> str:
    """One sentence for the top of the view."""
    failed = failing(results)
    if not results:
        return "No checks ran."
    if not failed:
        return f"All {len(results)} checks pass ✔"
    names = ", ".join(result.name for result in failed)
    return f"{len(failed)} of {len(results)} checks failed: {names}"

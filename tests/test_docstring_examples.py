"""Module docstrings: their ``>>>`` examples run, and in the ``CHECKED`` folders they are short and have one.

An example nothing runs drifts (a constructor renamed, an argument dropped) and then teaches the wrong
thing; long design notes belong in docs/architecture.md, not at the top of a module. An example sees the
module's own names, as under ``doctest.testmod``; what it needs from elsewhere, it imports.
"""

from __future__ import annotations

import doctest
import gc
import importlib
import re
import sys
import time
import types
from pathlib import Path

import pytest

from tests.gui.conftest import QT_PROBLEM
from tests.requirements import in_ci

ROOT = Path(__file__).resolve().parent.parent / "station"

# Folders whose module docstrings are held to the short form; more are added as they are rewritten.
CHECKED = (
    "station.gui",
    "station.pipeline",
    "station.access",
    "station.fixtures",
    "station.factory",
    "station.labels",
    "station.core",
    "station.devices",
    "station.records",
    "station.app",
    "station.cli",
    "station.sim",
    "station.dashboard",
)
# Modules inside CHECKED that are not rewritten yet; this set only shrinks.
NOT_YET: frozenset[str] = frozenset()
MAX_LINES = 8
MAX_SECONDS = 2.0  # an example is a quick illustration (aim: < 0.2 s); this only catches a stray wait
OPTIONS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
# The repository stands alone: no pointer to the design workspace outside it.
OUTSIDE = re.compile(r"\.\./shared|DESIGN(\.md)?\s*§")


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = sorted(
    _module_name(path) for path in ROOT.rglob("*.py") if path.name != "__main__.py"
)  # runs on import


def _in(name: str, folders: tuple[str, ...]) -> bool:
    return any(name == folder or name.startswith(folder + ".") for folder in folders)


def _import(name: str) -> types.ModuleType:
    """The module; the window's modules are skipped where Qt cannot load (a failure under CI)."""
    if _in(name, ("station.gui",)) and QT_PROBLEM is not None and not in_ci():
        try:
            return importlib.import_module(name)
        except ImportError:
            pytest.skip(QT_PROBLEM)
    return importlib.import_module(name)


CHECKED_MODULES = [name for name in MODULES if _in(name, CHECKED) and name not in NOT_YET]


def _qt_objects_die_now() -> None:
    """Delete the Qt objects an example made now, in this thread (as tests/gui/conftest.py does after each
    test): left to the garbage collector at exit, a widget could outlive the application and crash it."""
    from PySide6.QtCore import QCoreApplication, QEvent

    gc.collect()
    if QCoreApplication.instance() is not None:
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        gc.collect()


def run_module_examples(module: types.ModuleType) -> tuple[int, list[str]]:
    """Run the ``>>>`` examples of ``module``'s own docstring (not its functions' or classes').

    Returns how many examples ran and one report per failing example (the module, the example's
    source, what it printed or raised).
    """
    finder = doctest.DocTestFinder(recurse=False)
    runner = doctest.DocTestRunner(optionflags=OPTIONS)
    output: list[str] = []
    ran = 0
    for test in finder.find(module, module.__name__):
        result = runner.run(test, out=output.append, clear_globs=True)
        ran += result.attempted
    failures = [f"{module.__name__}:\n{text}" for text in output if text.strip()]
    if runner.failures and not failures:  # a failure must never pass silently
        failures.append(f"{module.__name__}: {runner.failures} example(s) failed")
    return ran, failures


@pytest.mark.parametrize("name", MODULES)
def test_module_examples_run(name: str) -> None:
    module = _import(name)
    started = time.perf_counter()
    _, failures = run_module_examples(module)
    elapsed = time.perf_counter() - started
    if _in(name, ("station.gui",)):
        _qt_objects_die_now()
    if failures:
        pytest.fail("\n".join(failures), pytrace=False)
    assert elapsed < MAX_SECONDS, f"{name}: the module docstring's examples took {elapsed:.2f} s"


def shape_problems(name: str, doc: str | None) -> list[str]:
    """What keeps ``doc`` from the short form: at most ``MAX_LINES`` lines, a ``>>>`` example, no pointer
    outside the repository."""
    if not doc or not doc.strip():
        return [f"{name}: no module docstring"]
    problems = []
    lines = doc.strip().splitlines()
    if len(lines) > MAX_LINES:
        problems.append(
            f"{name}: module docstring has {len(lines)} lines (at most {MAX_LINES}: a summary line, a few "
            "lines, an example; design notes go to docs/architecture.md)"
        )
    if ">>>" not in doc:
        problems.append(f"{name}: module docstring has no >>> example")
    if OUTSIDE.search(doc):
        problems.append(f"{name}: module docstring points outside the repository; use docs/architecture.md")
    return problems


@pytest.mark.parametrize("name", CHECKED_MODULES)
def test_checked_docstring_is_short_with_an_example(name: str) -> None:
    problems = shape_problems(name, _import(name).__doc__)
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


def test_not_yet_lists_only_real_modules() -> None:
    """An exemption for a module that was renamed or removed would hide nothing but still read as one."""
    assert set(NOT_YET) <= set(MODULES)


# The runner itself: a planted bad example must fail, a good one must pass.


def _planted(doc: str, name: str = "planted") -> types.ModuleType:
    module = types.ModuleType(name, doc)
    module.double = lambda x: 2 * x  # type: ignore[attr-defined]
    return module


def test_runner_reports_a_wrong_result() -> None:
    ran, failures = run_module_examples(_planted("Doubles.\n\n>>> double(2)\n5\n"))
    assert ran == 1
    assert len(failures) == 1
    assert "planted" in failures[0]
    assert "double(2)" in failures[0]
    assert "Expected:\n    5\nGot:\n    4" in failures[0]


def test_runner_reports_an_exception() -> None:
    ran, failures = run_module_examples(_planted("Doubles.\n\n>>> Double(2)\n4\n"))
    assert ran == 1
    assert len(failures) == 1
    assert "NameError" in failures[0]
    assert "Double(2)" in failures[0]


def test_runner_passes_a_good_example() -> None:
    assert run_module_examples(_planted("Doubles.\n\n>>> double(2)\n4\n")) == (1, [])


def test_runner_fails_the_test_for_a_bad_example(monkeypatch: pytest.MonkeyPatch) -> None:
    """Through the test function itself, not just the helper: a bad example makes it fail."""
    monkeypatch.setitem(sys.modules, "planted_bad", _planted("Doubles.\n\n>>> double(2)\n5\n", "planted_bad"))
    with pytest.raises(pytest.fail.Exception, match=r"planted_bad:(.|\n)*double\(2\)"):
        test_module_examples_run("planted_bad")


def test_shape_check_refuses_long_exampleless_and_outside_docstrings() -> None:
    long_doc = "Summary.\n\n" + "More.\n" * MAX_LINES + ">>> 1\n1\n"
    assert "lines" in shape_problems("m", long_doc)[0]
    assert shape_problems("m", "Summary.\n\nNo example.\n") == ["m: module docstring has no >>> example"]
    assert "outside" in shape_problems("m", "As ../" + "shared/DESIGN.md says.\n\n>>> 1\n1\n")[0]
    assert shape_problems("m", None) == ["m: no module docstring"]
    assert shape_problems("m", "Summary.\n\n>>> 1\n1\n") == []

"""The Qt runtime loads: without it the window tests are not collected, and this test says why."""

from __future__ import annotations

from tests.gui.conftest import QT_PROBLEM
from tests.requirements import require


def test_qt_runtime_is_available() -> None:
    require(QT_PROBLEM is None, QT_PROBLEM or "")

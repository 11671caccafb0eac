"""The pictures of docs/operator.md are made by the program: every scene renders (``station.gui.gallery``)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot

from station.gui.gallery import SCENES, SIZE, render


def test_every_scene_renders_at_the_bench_size(qtbot: QtBot, tmp_path: Path) -> None:
    written = render(tmp_path)
    assert [path.name for path in written] == [f"operator-{name}.png" for name in SCENES]
    for path in written:
        image = QImage(str(path))
        assert not image.isNull(), path
        if path.name != "operator-station-check.png":  # a dialog, not the window
            assert (image.width(), image.height()) == SIZE, path

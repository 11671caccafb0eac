"""The window's look: Qt's Fusion style with a dark, quiet palette built from ``palette.py``'s colours.

>>> from PySide6.QtWidgets import QApplication; app = QApplication.instance() or QApplication([])
>>> apply_theme(app); apply_theme(app)             # once per application; a second call changes nothing
>>> app.style().name()
'fusion'
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QLineEdit

from station.gui.model import palette

_APPLIED = "station-theme-applied"
HIGHLIGHT = palette.HIGHLIGHT


def apply_theme(app: QApplication) -> None:
    """Once per application: replacing the style deletes the old one under widgets that still use it."""
    if app.property(_APPLIED):
        return
    app.setProperty(_APPLIED, True)
    app.setStyle("Fusion")
    colours = QPalette()
    role = QPalette.ColorRole
    for name, value in (
        (role.Window, palette.WINDOW_BACKGROUND),
        (role.WindowText, palette.WINDOW_TEXT),
        (role.Base, palette.HEADER_BACKGROUND),
        (role.AlternateBase, palette.BUTTON),
        (role.Text, palette.WINDOW_TEXT),
        (role.Button, palette.BUTTON),
        (role.ButtonText, palette.WINDOW_TEXT),
        (role.Highlight, HIGHLIGHT),
        (role.HighlightedText, "#FFFFFF"),
        (role.ToolTipBase, palette.FIELD_BACKGROUND),
        (role.ToolTipText, palette.FIELD_TEXT),
        (role.PlaceholderText, palette.MUTED_TEXT),
        (role.BrightText, "#FFFFFF"),
    ):
        colours.setColor(name, QColor(value))
    colours.setColor(QPalette.ColorGroup.Disabled, role.Text, QColor(palette.MUTED_TEXT))
    colours.setColor(QPalette.ColorGroup.Disabled, role.ButtonText, QColor(palette.MUTED_TEXT))
    app.setPalette(colours)


def light_field(field: QLineEdit) -> None:
    """A field the operator must find at a glance (the badge): light, like paper, on the dark header."""
    colours = field.palette()
    colours.setColor(QPalette.ColorRole.Base, QColor(palette.FIELD_BACKGROUND))
    colours.setColor(QPalette.ColorRole.Text, QColor(palette.FIELD_TEXT))
    colours.setColor(QPalette.ColorRole.PlaceholderText, QColor(palette.FIELD_PLACEHOLDER))
    field.setPalette(colours)

"""The login screen: scan the badge, type the PIN; big plain errors; what to do on a station without accounts.

>>> from PySide6.QtWidgets import QApplication; app = QApplication.instance() or QApplication([])
>>> panel = LoginPanel(); panel.pin.setText("905172")
>>> panel.show_refusal("Wrong PIN for B0042 (4 attempts left before a lock).")
>>> panel.error.text(), panel.pin.text()                   # the typed PIN does not stay in the field
('Wrong PIN for B0042 (4 attempts left before a lock).', '')
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from station.access.pins import Pin
from station.core.errors import AccessError
from station.gui.model import palette
from station.gui.widgets.theme import light_field


class DemoButton(QPushButton):
    """One demo role's login button (a bound slot re-emits its role: no lambdas on signals)."""

    chosen = Signal(str)

    def __init__(self, role: str, parent: QWidget | None = None) -> None:
        super().__init__(f"Demo {role}", parent)
        self.role = role
        self.setObjectName(f"demo-{role}")
        self.setFont(_font(22, bold=True))
        self.setMinimumHeight(64)
        self.clicked.connect(self._clicked)

    def _clicked(self) -> None:
        self.chosen.emit(self.role)


class LoginPanel(QWidget):
    login_requested = Signal(str, object)  # badge, Pin
    demo_requested = Signal(str)  # role
    back_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("login")
        self.title = _label("Log in to start", 34, bold=True)
        self.hint = _label("Scan your badge, then type your PIN and press Enter.", 20)
        self.badge = _field("badge", "scan badge")
        self.pin = _field("pin", "PIN")
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.submit = QPushButton("Log in")
        self.back = QPushButton("Back to the station")
        self.error = _label("", 22, bold=True, colour=palette.UNVERIFIED_TEXT)
        self.info = _label("", 18, colour=palette.MUTED_TEXT)
        self.info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.demo_row = QHBoxLayout()
        self.demo_buttons: list[DemoButton] = []
        self._build()
        self.badge.returnPressed.connect(self._badge_entered)
        self.pin.returnPressed.connect(self._submit)
        self.submit.clicked.connect(self._submit)
        self.back.clicked.connect(self.back_requested)
        self.back.hide()
        for button in (self.submit, self.back):  # gloved hands, a metre away: large targets
            button.setFont(_font(24, bold=True))
            button.setMinimumHeight(64)
            button.setMinimumWidth(260)

    def _build(self) -> None:
        form = QGridLayout()
        form.addWidget(_label("Badge", 22), 0, 0)
        form.addWidget(self.badge, 0, 1)
        form.addWidget(_label("PIN", 22), 1, 0)
        form.addWidget(self.pin, 1, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.submit)
        buttons.addWidget(self.back)
        buttons.addStretch(1)
        column = QVBoxLayout()
        for widget in (self.title, self.hint):
            column.addWidget(widget)
        column.addSpacing(16)
        column.addLayout(form)
        column.addLayout(buttons)
        column.addSpacing(12)
        column.addWidget(self.error)
        column.addWidget(self.info)
        column.addLayout(self.demo_row)
        column.addStretch(1)
        outer = QHBoxLayout(self)
        outer.addStretch(1)
        outer.addLayout(column, 3)
        outer.addStretch(1)

    # --- what the panel shows ----------------------------------------------------------------------------

    def reset(self, *, badge: str = "", taking_over: bool = False, info: str = "") -> None:
        """Ready for a login; ``badge`` prefilled (a scanned badge); ``taking_over``: someone is logged in."""
        self.badge.setText(badge)
        self.pin.clear()
        self.error.clear()
        self.info.setText(info)
        self._enable(True)
        self.back.setVisible(taking_over)
        (self.pin if badge else self.badge).setFocus(Qt.FocusReason.OtherFocusReason)

    def show_refusal(self, text: str) -> None:
        self.error.setText(text)
        self._enable(True)
        self.pin.clear()
        self.pin.setFocus(Qt.FocusReason.OtherFocusReason)

    def show_no_accounts(self, text: str) -> None:
        """No account exists: nobody can log in; say who creates the first one and how."""
        self.title.setText("No operator accounts yet")
        self.hint.setText("Production cannot start until an admin has created the accounts.")
        self.info.setText(text)
        self._enable(False)

    def offer_demo(self, roles: list[str]) -> None:
        for role in roles:
            button = DemoButton(role, self)
            button.chosen.connect(self.demo_requested)
            self.demo_row.addWidget(button)
            self.demo_buttons.append(button)
        self.demo_row.addStretch(1)
        self.hint.setText("Demo station: log in with one of the demo accounts below (one per role).")

    def checking(self) -> None:
        self.error.clear()
        self.info.setText("Checking…")
        self._enable(False)

    # --- input -------------------------------------------------------------------------------------------

    def _badge_entered(self) -> None:
        if self.badge.text().strip():
            self.pin.setFocus(Qt.FocusReason.OtherFocusReason)

    def _submit(self) -> None:
        badge, typed = self.badge.text().strip(), self.pin.text()
        self.pin.clear()  # the PIN's text lives no longer than this call
        if not badge:
            self.show_refusal("Scan your badge first.")
            return
        try:
            pin = Pin(typed)
        except AccessError:
            self.show_refusal("A PIN is digits only. Type it again.")
            return
        self.checking()
        self.login_requested.emit(badge, pin)

    def _enable(self, enabled: bool) -> None:
        for widget in (self.badge, self.pin, self.submit):
            widget.setEnabled(enabled)


def _field(name: str, placeholder: str) -> QLineEdit:
    field = QLineEdit()
    field.setObjectName(name)
    field.setPlaceholderText(placeholder)
    field.setMinimumWidth(320)
    field.setFont(_font(26))
    light_field(field)
    return field


def _label(text: str, pixels: int, *, bold: bool = False, colour: str | None = None) -> QLabel:
    label = QLabel(text)
    label.setFont(_font(pixels, bold=bold))
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    if colour is not None:
        colours = label.palette()
        colours.setColor(QPalette.ColorRole.WindowText, QColor(colour))
        label.setPalette(colours)
    return label


def _font(pixels: int, *, bold: bool = False) -> QFont:
    font = QFont()
    font.setPixelSize(pixels)
    font.setBold(bold)
    return font

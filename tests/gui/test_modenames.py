"""Which modes a role may run, where a login starts, and the refusal sentence (Qt-free)."""

from __future__ import annotations

from station.core.operator import Operator
from station.gui.model.modes import allowed_modes, refusal, start_mode


def test_modes_follow_the_role_table() -> None:
    assert allowed_modes("operator") == ("production",)
    assert allowed_modes("qa") == ("qa",)
    assert allowed_modes("rma") == ("qa", "rma")
    assert allowed_modes("admin") == ("production", "qa", "rma")
    assert allowed_modes("visitor") == ()


def test_a_login_keeps_the_mode_if_allowed_else_starts_in_the_roles_own_mode() -> None:
    assert start_mode("rma") == "rma"
    assert start_mode("rma", previous="qa") == "qa"  # a takeover keeps the bench's mode when it may
    assert start_mode("qa", previous="production") == "qa"
    assert start_mode("admin") == "production"
    assert start_mode("operator", previous="rma") == "production"
    assert start_mode("visitor") is None


def test_a_refusal_names_who_and_who_may() -> None:
    text = refusal(Operator("B0042", "operator"), "rma")
    assert text.startswith("B0042 (operator) may not switch to RMA: only an RMA engineer or an admin may.")
    assert refusal(None, "qa") == "Log in first: only a QA inspector, an RMA engineer or an admin may run QA."

"""The PC around the slots: udev rules in place and filled in, fixture controllers answering, the clock
synchronised (records carry times QA reads for years).

>>> "XXXX" in PLACEHOLDERS and "YYYY" in PLACEHOLDERS
True
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from station.app.doctor.result import Check
from station.core.config import FixtureConfig, FixturesSection
from station.core.errors import StationError
from station.core.text import printable
from station.fixtures.controller import FixtureController

RULES_FILE = "udev/rules.d/70-ppa-station.rules"
PLACEHOLDERS = ("XXXX", "YYYY")
FIX_RULES = (
    "Run install.sh with the PPA's USB ids in station.toml ([fixtures] usb_vendor and usb_product; "
    "lsusb shows them), or put them in /etc/udev/rules.d/70-ppa-station.rules yourself."
)
FIX_CONTROLLER = (
    "Check the controller's cable and its controller URL in station.toml, and that the station user "
    "may open the port (group ppa-station, set by the udev rule)."
)
FIX_CLOCK = "Enable time synchronisation (timedatectl set-ntp true) and let it reach an NTP server."
FIX_CLOCK_UNKNOWN = "Check the clock by hand (timedatectl, chronyc tracking) before the first unit."


def udev_rules(etc_root: Path, ids: FixturesSection) -> Check:
    """The station's udev rules are installed, hold no placeholder id and name the configured ids."""
    name = "udev rules"
    path = etc_root / RULES_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return Check(name, False, f"{path} is not installed", FIX_RULES)
    rules = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    placeholders = [word for word in PLACEHOLDERS if any(word in line for line in rules)]
    if placeholders:
        return Check(name, False, f"{path} still holds the placeholder {'/'.join(placeholders)}", FIX_RULES)
    if ids.usb_vendor is not None and ids.usb_product is not None:
        body = "\n".join(rules).lower()
        wanted = (f'"{ids.usb_vendor:04x}"', f'"{ids.usb_product:04x}"')
        if not all(word in body for word in wanted):
            return Check(
                name,
                False,
                f"{path} does not name the PPA's ids {ids.usb_vendor:04x}:{ids.usb_product:04x} "
                "from station.toml",
                FIX_RULES,
            )
    return Check(name, True, f"{path} is installed and names the PPA's ids")


def controllers(
    fixtures: Iterable[FixtureConfig],
    timeout: float,
    opener: Callable[[str, float], FixtureController] = FixtureController.open,
) -> Iterator[Check]:
    """Each fixture controller opens and answers ``*IDN?``."""
    for url in sorted({fixture.controller for fixture in fixtures if fixture.controller}):
        name = f"controller {url}"
        try:
            board = opener(url, timeout)
            try:
                answer = board.identify()
            finally:
                board.close()
        except (StationError, OSError, ValueError) as exc:
            yield Check(name, False, printable(exc), FIX_CONTROLLER)
            continue
        yield Check(name, True, f"answers *IDN? with {printable(answer)}")


def clock(read: Callable[[], tuple[bool | None, str]]) -> Check:
    """NTP synchronised; "unknown" (not a pass) where the PC cannot say."""
    synchronised, how = read()
    if synchronised is None:
        return Check("clock", None, f"unknown: {how}", FIX_CLOCK_UNKNOWN)
    if not synchronised:
        return Check("clock", False, f"not NTP-synchronised ({how})", FIX_CLOCK)
    return Check("clock", True, f"NTP-synchronised ({how})")

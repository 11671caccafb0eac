"""The unit a run writes to is the unit it identified: after any reconnect, identity is re-read first.

>>> from station.devices.transport import Transport
>>> client = GuardedClient(Transport("http://192.168.7.1"), epoch=lambda: 0)  # the link's losses
>>> client.replaced()                # no reconnect since the run began: the same unit, nothing to ask
False
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from station.core.errors import DeviceError
from station.devices.ppa.client import PpaClient
from station.devices.ppa.replies import Attestation, CheckinResult, ConfigUpdate, InitChallenge, InitResult
from station.devices.transport import Transport
from station.pipeline.engine import StepFailed
from station.pipeline.modes.production import genuine_id_of


class GuardedClient(PpaClient):
    """A ``PpaClient`` whose writes are fenced by an identity check after every reconnect."""

    def __init__(self, transport: Transport, *, epoch: Callable[[], int], timeout: float = 10.0) -> None:
        super().__init__(transport, timeout=timeout)
        self._epoch = epoch
        self._confirmed = epoch()
        self.genuine_id: str | None = None
        self.eid: str | None = None
        self.other_unit: str | None = None  # what another unit in the slot identified as, once seen

    # --- identity as the flow reads it -------------------------------------------------------------------

    def attestation(self, token: str | None = None) -> Attestation:
        attestation = super().attestation(token)
        self._seen("secure element", "genuine_id", genuine_id_of(attestation))
        return attestation

    def init_challenge(self) -> InitChallenge:
        challenge = super().init_challenge()
        if self.eid is None:
            self.eid = challenge.eid  # the identity this run gives the unit when it personalises it
        return challenge

    # --- writes: confirm first -------------------------------------------------------------------------

    def checkin(self, checked: str) -> CheckinResult:
        self._fence()
        return super().checkin(checked)

    def provision(self, crt_b64: str, genuine: str) -> None:
        self._fence()
        super().provision(crt_b64, genuine)

    def init(self, init_jwt: str) -> InitResult:
        self._fence()
        return super().init(init_jwt)

    def update_config(self, fields: Mapping[str, Any], token: str | None = None) -> ConfigUpdate:
        self._fence()
        return super().update_config(fields, token)

    def upload_firmware(self, image: bytes, filename: str = "firmware.bin", token: str | None = None) -> None:
        self._fence()
        super().upload_firmware(image, filename, token)

    def install_firmware(self, token: str | None = None) -> None:
        self._fence()
        super().install_firmware(token)

    def reboot(self, token: str | None = None) -> None:
        self._fence()
        super().reboot(token)

    # --- after the run ------------------------------------------------------------------------------------

    def replaced(self) -> bool:
        """Whether the slot now holds another unit than this run's (so it needs no removal to start)."""
        if self.other_unit is not None:
            return True
        if self._epoch() == self._confirmed or (self.genuine_id is None and self.eid is None):
            return False
        try:
            self.confirm()
        except StepFailed:
            return True
        except DeviceError:
            return False  # cannot tell (gone, or rebooting): wait for the slot to be emptied
        return False

    # --- the check -----------------------------------------------------------------------------------------

    def confirm(self) -> None:
        """Read the identity the unit has now and compare; StepFailed ``unit-changed`` if it differs."""
        epoch = self._epoch()
        if not self.status().inited:
            self.attestation()
        elif self.eid is not None:
            self._seen("instance", "eid", self.token_challenge().eid)
        else:  # this run found the unit fresh and has not personalised it: a personalised unit is another
            self._seen("unit", "eid", "a personalised unit", known="a fresh unit")
        self._confirmed = epoch

    def _fence(self) -> None:
        if self._epoch() != self._confirmed:
            self.confirm()  # pins the identity if the flow has not read it yet (no extra reads otherwise)

    def _seen(self, what: str, name: str, value: str, known: str | None = None) -> None:
        known = known or getattr(self, name)
        if known is None:
            setattr(self, name, value)
            return
        if value != known:
            self.other_unit = value
            raise StepFailed(
                "unit-changed",
                f"the unit in the slot is no longer the one this run identified ({what} {known}, now "
                f"{value}): it was swapped while the link was down; nothing more was written, and the new "
                "unit gets a run of its own",
            )

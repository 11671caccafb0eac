"""``ReplyBody``: the strict reader of the unit's JSON replies, with the PPA's own ``genuine`` token.

>>> body = ReplyBody.decode("GET", "/api/auth/init", b'{"exp": 1700000060, "genuine": "no.token"}')
>>> body.integer("exp")
1700000060
>>> body.genuine()                # checked to be well-formed here; verified against a key later
Traceback (most recent call last):
station.core.errors.DeviceProtocolError: GET /api/auth/init: reply field 'genuine' is not a genuine token ...
"""

from __future__ import annotations

from station.core.errors import ProtocolError
from station.devices.http import JsonReply
from station.devices.ppa.protocol import parse_genuine


class ReplyBody(JsonReply):
    """A reply of the PPA: a ``JsonReply`` that also reads ``genuine`` attestation tokens."""

    def genuine(self, name: str = "genuine") -> str:
        """A ``genuine`` token (reference §3.5): three base64 parts; verified later, against a key."""
        token = self.text(name)
        try:
            parse_genuine(token)
        except ProtocolError as exc:
            raise self.error(name, f"is not a genuine token ({exc})") from None
        return token

    def opt_genuine(self, name: str = "genuine") -> str | None:
        return None if name not in self.data else self.genuine(name)

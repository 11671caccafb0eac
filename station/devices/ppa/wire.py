"""``ReplyBody``: the strict reader of the unit's JSON replies, with the PPA's own ``genuine`` token.

Example::

    body = ReplyBody.decode("GET", "/api/auth/init", response.content)  # not a JSON object: raises
    body.integer("exp")      # DeviceProtocolError(status=200, field="exp") if missing or not an integer
    body.base64("eid", 32)   # the text as sent, checked to decode to 32 bytes
    body.genuine()           # a well-formed ``genuine`` token, not yet verified against a key

The typed accessors are ``devices.http.JsonReply``'s, shared with the Companion client; this module adds
what only the PPA sends. Values the unit sends as base64 stay the text it sent (the typed replies in
``ppa/replies.py`` say why).
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

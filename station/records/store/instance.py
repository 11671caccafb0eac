"""A unit's records by the instance it is now (its ``eid``), found inside the signed text itself.

>>> from station.records.canonical import canonical_json
>>> text = b64url_encode(canonical_json({"unit": {"devid": "d1", "eid": "f00d+/="}}))   # a JWS payload
>>> [needle in text for needle in eid_needles("f00d+/=")], any(n in text for n in eid_needles("f00e+/="))
([False, False, True], False)
"""

from __future__ import annotations

from station.core.codec import b64url_encode
from station.records.canonical import canonical_json
from station.records.entries import StoredRecord


def eid_needles(eid: str) -> tuple[str, str, str]:
    """The base64url text ``"eid":"<eid>"`` shows in a JWS payload, at each of the three byte alignments.

    A personalised unit shows only its token challenge (``eid``, ``lbl``) before a login, and ``eid`` has
    no column of its own, so the stores search the signed text for these spellings. Each needle starts at
    a base64 group boundary and keeps only whole groups, so it is exactly what the payload's encoding
    holds wherever the member falls; a match is a candidate (``holds_eid`` decides).
    """
    member = canonical_json({"eid": eid})[1:-1]  # "eid":"..." spelled as the signed payload spells it
    needles = []
    for skip in range(3):
        part = member[skip:]
        whole = len(part) // 3 * 3
        needles.append(b64url_encode(part[:whole]))
    return needles[0], needles[1], needles[2]


def holds_eid(stored: StoredRecord, eid: str) -> bool:
    """Whether the record's (unverified) payload names ``eid`` as its unit's instance."""
    unit = stored.payload.get("unit")  # an undecodable JWS reads as an empty payload
    return isinstance(unit, dict) and unit.get("eid") == eid

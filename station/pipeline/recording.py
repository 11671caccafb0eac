"""From an interrupted run's journal back to what it wrote to its unit (drafts of records: ``drafts.py``).

>>> intent = JournalEntry("run-1", 3, "personalize", "intent", {"eid": "f00dfeed"}, "2025-03-04T05:06:07Z")
>>> prior_from_journal([intent]).personalised_eid            # a resumed run checks the unit for this
'f00dfeed'
"""

from __future__ import annotations

from collections.abc import Iterable

from station.core import codec
from station.pipeline.modes.production import Prior
from station.records.entries import JournalEntry


def prior_from_journal(entries: Iterable[JournalEntry]) -> Prior:
    """What an interrupted run had announced it would write (``intent`` entries), in journal order."""
    prior = Prior()
    for entry in entries:
        if entry.phase != "intent":
            continue
        detail = entry.detail
        if entry.step == "provision":
            prior.crt_sha256 = str(detail.get("crt_sha256"))
            prior.crt_der = codec.b64decode(str(detail.get("crt", "")))
            prior.genuine_id = str(detail.get("genuine_id")) if detail.get("genuine_id") else prior.genuine_id
        elif entry.step == "personalize":
            prior.personalised_eid = str(detail.get("eid"))
            personalization = detail.get("personalization")
            prior.personalization = dict(personalization) if isinstance(personalization, dict) else None
    return prior

"""From an interrupted run's journal back to what it wrote to its unit (drafts of records: ``drafts.py``).

>>> intent = JournalEntry("run-1", 3, "personalize", "intent", {"eid": "f00dfeed"}, "2025-03-04T05:06:07Z")
>>> prior_from_journal([intent]).personalised_eid            # a resumed run checks the unit for this
'f00dfeed'
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from station.core import codec
from station.pipeline.modes.production import Prior, issued_evidence
from station.records.entries import JournalEntry
from station.records.model import ProvisioningEvidence


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


def journal_evidence(entries: Iterable[JournalEntry]) -> ProvisioningEvidence | None:
    """What the record of an interrupted run closed without its unit says of the certificate it sent.

    The provisioning intent holds the certificate itself. It was read back from the unit only if the
    journal shows ``verify-lock`` passing (that step ends well only after a read-back and a 406); else
    the block says "issued, not confirmed". None when the run never announced a provisioning.
    """
    entries = list(entries)
    prior = prior_from_journal(entries)
    if not prior.crt_der or hashlib.sha256(prior.crt_der).hexdigest() != prior.crt_sha256:
        return None
    try:
        evidence = issued_evidence(prior.crt_der)
    except ValueError:  # not a certificate: the record says nothing rather than something unreadable
        return None
    confirmed = any(
        entry.step == "verify-lock" and entry.phase == "end" and entry.detail.get("outcome") == "pass"
        for entry in entries
    )
    if not confirmed:
        return evidence
    return ProvisioningEvidence(evidence.crt, evidence.crt_sha256, evidence.attestation_key_sha1, 406)


def journal_simulated(entries: Iterable[JournalEntry]) -> bool:
    """Whether the interrupted run's unit had declared itself simulated (noted in its provisioning intent)."""
    return any(entry.phase == "intent" and entry.detail.get("simulated_unit") is True for entry in entries)

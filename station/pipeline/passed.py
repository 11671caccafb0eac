"""Whether the unit in a slot already passed here and is unchanged: PASS again, no run, no record.

What a personalised unit shows without a login is compared with its latest records (docs/architecture.md).

>>> check = PassedCheck(records_of_instance=lambda eid: [], sources=(), ca_certificate=lambda: None)
>>> check.match(Shown(eid="f00dfeed", hwv="PPA", fwv="Encedo nGINE FW v1.2.3", blv=None)) is None
True
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from cryptography import x509

from station.core.errors import RecordError
from station.devices.ppa.client import PpaClient
from station.pipeline.modes.qa.record import (
    FoundRecord,
    RecordMissing,
    RecordSource,
    check_found,
    find_unit_record,
    unit_records,
)
from station.records.entries import StoredRecord
from station.records.history import STATE_MODES

# Production refusals of a unit that is not factory-fresh: they judge the unit's state, not its health,
# so they do not undo an earlier pass (a restarted station wrote such records before it knew better).
NOT_FRESH = ("already-personalised", "already-provisioned")


@dataclass(frozen=True)
class Shown:
    """What a personalised unit shows without a login: its token challenge's ``eid``, its versions."""

    eid: str
    hwv: str
    fwv: str
    blv: str | None


@dataclass(frozen=True)
class PassedUnit:
    """The unit's current passing record (production, or the RMA that superseded it) and where it is."""

    record: StoredRecord
    where: str  # the record source's name, for the slot log

    @property
    def unit_id(self) -> str | None:
        return self.record.devid or self.record.genuine_id


def personalised(client: PpaClient) -> bool:
    """Whether the unit is personalised and not in a fail state (only such a unit can have passed)."""
    status = client.status()
    return status.inited and not status.fls_state


def shown_by(client: PpaClient) -> Shown | None:
    """What the unit shows; None when it is not personalised or reports a fail state."""
    if not personalised(client):
        return None
    eid = client.token_challenge().eid
    version = client.version()
    return Shown(eid, version.hwv, version.fwv, version.blv)


def newest_known(records: Iterable[StoredRecord]) -> StoredRecord | None:
    """Of the records of one ``eid``, the newest that names the unit (a devid first, else a genuine_id)."""
    named = [record for record in records if record.devid or record.genuine_id]
    return max(named, key=lambda record: (record.devid is not None, record.finished), default=None)


class PassedCheck:
    """``check(client)``: the unit's passing record when the unit is unchanged since, else None.

    A restarted station must not start a unit it passed again: a personalised unit is never
    factory-fresh, so the run would fail it and send a good unit to the QA bin. Unchanged means: its
    current record (production, or the RMA that superseded it) is a pass that verifies (signature,
    certificate from the factory CA, unit registry), names the ``eid`` the unit shows and its versions,
    and no later record speaks against it. Only a factory reset replaces the ``eid``, and the secure
    element takes one certificate, so such a unit still holds what its record says it was given.

    ``records_of_instance`` finds this station's records that name an ``eid`` (``RecordStore``); ``sources``
    are the stores the unit's history is read from (this station's first, then the line database's);
    ``warn`` hears when the line database could not be asked (the comparison then uses this station's
    records only).
    """

    def __init__(
        self,
        records_of_instance: Callable[[str], list[StoredRecord]],
        sources: tuple[RecordSource, ...],
        ca_certificate: Callable[[], x509.Certificate | None],
        warn: Callable[[str], None] | None = None,
    ) -> None:
        self.records_of_instance = records_of_instance
        self.sources = sources
        self.ca_certificate = ca_certificate
        self.warn = warn

    def __call__(self, client: PpaClient) -> PassedUnit | None:
        shown = shown_by(client)
        return None if shown is None else self.match(shown)

    def match(self, shown: Shown) -> PassedUnit | None:
        """The passing record that still describes a unit showing ``shown``, or None."""
        named = newest_known(self.records_of_instance(shown.eid))
        if named is None:
            return None
        history = self._history(named.devid, named.genuine_id)
        if history is None:
            return None
        found, records = history
        current = found.latest
        if not _describes(current.stored, shown) or _spoken_against(records, current.stored):
            return None
        if check_found(found, self.ca_certificate()) is not None:
            return None  # a record that does not verify proves nothing: the unit runs, and is refused
        return PassedUnit(current.stored, current.source.name)

    def _history(
        self, devid: str | None, genuine_id: str | None
    ) -> tuple[FoundRecord, list[StoredRecord]] | None:
        """The unit's record history and all its records; this station's only if the line cannot answer."""
        sources = self.sources
        while True:
            try:
                found = find_unit_record(sources, devid=devid, genuine_id=genuine_id)
                if found is None:
                    return None
                return found, unit_records(sources, devid=devid, genuine_id=genuine_id)
            except RecordMissing:
                return None  # the registry names a record nobody holds: not a pass to rely on
            except RecordError as exc:
                if len(sources) <= 1:
                    raise
                if self.warn is not None:
                    self.warn(f"compared the unit with this station's records only: {exc}")
                sources = sources[:1]


def _describes(record: StoredRecord, shown: Shown) -> bool:
    """Whether ``record`` is a readable pass that names the unit's ``eid`` and its versions now."""
    parsed = record.readable
    unit = parsed.ppa_unit if parsed is not None else None
    if parsed is None or unit is None or parsed.provisioning is None:
        return False
    if record.outcome != "pass" or record.mode not in STATE_MODES:
        return False
    return (unit.eid, unit.hwv, unit.fwv) == (shown.eid, shown.hwv, shown.fwv) and unit.blv in (
        None,
        shown.blv,
    )


def _spoken_against(records: list[StoredRecord], current: StoredRecord) -> bool:
    """Whether a record after ``current`` judged the unit otherwise (a failed QA, an aborted repair...)."""
    for record in records:
        if record.record_id == current.record_id or record.finished <= current.finished:
            continue
        if record.outcome == "pass":
            continue
        parsed = record.readable
        failure = parsed.failure if parsed is not None else None
        if record.mode == "production" and failure is not None and failure.code in NOT_FRESH:
            continue
        return True
    return False
